/** Loading whichever noble is installed, bound to the configured HCI controller (through the shared BLE loader). */
import { NOBLE_FAMILY, loadBleStack, type PackageOf } from '../ble-stack-loader.js';
import type { HciOptions } from '../common.js';
import type { NobleLike } from './types.js';

/** Options of {@link loadNoble}: the HCI controller, and optionally which package. */
export interface LoadNobleOptions extends HciOptions {
  /** Use this package (default: the first installed of `@stoprocent/noble`, `@abandonware/noble`). */
  readonly package?: PackageOf<typeof NOBLE_FAMILY>;
}

/**
 * Load whichever noble is installed and bind it to the HCI controller.
 *
 * `@abandonware/noble` is configured through the environment (its `bluetooth-hci-socket` reads
 * `BLUETOOTH_HCI_SOCKET_UART_PORT` / `NOBLE_HCI_DEVICE_ID` when loaded): one controller per
 * process, and UART needs the `@abandonware/bluetooth-hci-socket` →
 * `npm:@stoprocent/bluetooth-hci-socket` override (see docs/BLE.md).
 * @param options the HCI controller (`uart` or `deviceId`; default: the stack's, hci0 on Linux) and optionally the package.
 * @returns the noble instance to pass to `findCar` / `connectToCar`.
 * @throws {BleUnavailableError} when no noble is installed (the hint names both packages) or it cannot load.
 */
export async function loadNoble(options: LoadNobleOptions = {}): Promise<NobleLike> {
  return (await loadBleStack<NobleLike>(NOBLE_FAMILY, options)).stack;
}
