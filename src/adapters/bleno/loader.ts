/** Loading whichever bleno is installed, bound to the configured HCI controller (through the shared BLE loader). */
import { BLENO_FAMILY, installedVersion, loadBleStack, type PackageOf } from '../ble-stack-loader.js';
import type { HciOptions } from '../common.js';
import { recordBlenoRelease } from './private-fields.js';
import type { BlenoLike } from './types.js';

/** Options of {@link loadBleno}: the HCI controller, and optionally which package. */
export interface LoadBlenoOptions extends HciOptions {
  /** Use this package (default: the first installed of `@stoprocent/bleno`, `@abandonware/bleno`). */
  readonly package?: PackageOf<typeof BLENO_FAMILY>;
}

/**
 * Load whichever bleno is installed and bind it to the HCI controller. `@abandonware/bleno` is
 * configured through the environment, once per process (see `loadNoble`). The loaded instance is
 * tagged with its release, so bleno's private fields are read only on releases they were checked on.
 * @param options the HCI controller (`uart` or `deviceId`; default hci0) and optionally the package.
 * @returns the bleno instance to pass to `startCarPeripheral`.
 * @throws {BleUnavailableError} when no bleno is installed (the hint names both packages) or it cannot load.
 */
export async function loadBleno(options: LoadBlenoOptions = {}): Promise<BlenoLike> {
  const { packageName, stack } = await loadBleStack<BlenoLike>(BLENO_FAMILY, options);
  recordBlenoRelease(stack, packageName, installedVersion(packageName));
  return stack;
}
