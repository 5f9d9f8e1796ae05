/** Scanning for a car advertising the proxkey service (bounded, with an optional filter). */
import { PROXKEY_SERVICE_UUID } from '../../transport/gatt-profile.js';
import { chooseCar } from '../car-advertising.js';
import { stackUuid, waitPoweredOn, withRadioDeadline } from '../common.js';
import type { NoblePeripheral, ScanOptions } from './types.js';

/**
 * Scan until a car advertising the proxkey service (and passing `filter`) is seen.
 * @returns the chosen peripheral (not connected).
 * @throws {TimeoutError} when none is seen within `scanTimeoutMs`; `BleUnavailableError` when the adapter does not power on;
 *   `AbortedError` on `signal`.
 */
export async function findCar(options: ScanOptions): Promise<NoblePeripheral> {
  const { noble, signal } = options;
  const service = stackUuid(options.serviceUuid ?? PROXKEY_SERVICE_UUID);
  await waitPoweredOn(noble, 'noble', { timeoutMs: options.powerOnTimeoutMs ?? 5000, signal });
  const choice = chooseCar(options);
  const onDiscover = (p: NoblePeripheral) => {
    const uuids = (p.advertisement?.serviceUuids ?? []).map(stackUuid);
    if (uuids.includes(service)) choice.offer(p);
  };
  noble.on('discover', onDiscover);
  try {
    const allowDuplicates = options.allowDuplicates ?? options.filter !== undefined;
    await withRadioDeadline('start scanning', noble.startScanningAsync([service], allowDuplicates), { timeoutMs: 5000, signal });
    return await withRadioDeadline('scan for a car', choice.chosen, { timeoutMs: options.scanTimeoutMs ?? 10_000, signal });
  } finally {
    choice.dispose();
    noble.removeListener('discover', onDiscover);
    await withRadioDeadline('stop scanning', noble.stopScanningAsync(), { timeoutMs: 2000 }).catch(() => {});
  }
}
