/** Loading whichever bleno is installed, bound to the configured HCI controller. */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { importFirst, type HciOptions, type LoadedStack } from '../common.js';
import { recordBlenoRelease } from './private-fields.js';
import type { BlenoLike } from './types.js';

export interface LoadBlenoOptions extends HciOptions {
  /** Use this package (default: the first installed of `@stoprocent/bleno`, `@abandonware/bleno`). */
  readonly package?: '@stoprocent/bleno' | '@abandonware/bleno';
}

const BLENO_PACKAGES = ['@stoprocent/bleno', '@abandonware/bleno'] as const;

/**
 * Load whichever bleno is installed and bind it to the HCI controller. Throws
 * `BleUnavailableError` (with a hint) when none is installed or it cannot load.
 * `@abandonware/bleno` is configured through the environment, once per process (see `loadNoble`).
 */
export async function loadBleno(options: LoadBlenoOptions = {}): Promise<BlenoLike> {
  const { name, module } = await importFirst(options.package ? [options.package] : BLENO_PACKAGES, 'bleno', (pkg) => {
    if (pkg !== '@abandonware/bleno') return;
    if (options.uart) {
      process.env.BLUETOOTH_HCI_SOCKET_UART_PORT = options.uart.port;
      if (options.uart.baudRate) process.env.BLUETOOTH_HCI_SOCKET_UART_BAUDRATE = String(options.uart.baudRate);
    }
    if (options.deviceId !== undefined) process.env.BLENO_HCI_DEVICE_ID = String(options.deviceId);
  });
  const bleno = bindController(name, module, options);
  recordBlenoRelease(bleno, name, packageVersion(name));
  return bleno;
}

function bindController(name: string, module: LoadedStack, options: HciOptions): BlenoLike {
  const bind = module.withBindings;
  if (name === '@stoprocent/bleno' && typeof bind === 'function') {
    if (options.uart) {
      return bind('hci', { hciDriver: 'uart', bindParams: { uart: { port: options.uart.port, baudRate: options.uart.baudRate ?? 1_000_000 } } }) as BlenoLike;
    }
    if (options.deviceId !== undefined) return bind('hci', { deviceId: options.deviceId }) as BlenoLike;
  }
  return module as BlenoLike;
}

/** The installed release of `name` (its package.json, resolved as `import` would), or undefined when it cannot be read. */
function packageVersion(name: string): string | undefined {
  try {
    const path = createRequire(import.meta.url).resolve(`${name}/package.json`);
    const version = (JSON.parse(readFileSync(path, 'utf8')) as { version?: unknown }).version;
    return typeof version === 'string' ? version : undefined;
  } catch {
    return undefined;
  }
}
