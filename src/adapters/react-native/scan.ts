/**
 * Scanning for proxkey cars with react-native-ble-plx: the service-UUID scan, the stack-neutral
 * view of a scanned `Device` (base64 service and manufacturer data decoded), and `findCar` with
 * the rotating-id filter and fallback shared with the noble adapter (../car-advertising.ts).
 */
import type { BleError, Device, ScanOptions as PlxScanOptions } from 'react-native-ble-plx';
import { PROXKEY_SERVICE_UUID } from '../../transport/framing.js';
import { advertisingFilterOver, carFilterOver, chooseCar, type AdvertisementView, type AdvertisingFilterOptions } from '../car-advertising.js';
import { stackUuid, withRadioDeadline } from '../common.js';
import type { CarRecord } from '../../keys/state.js';
import { base64ToBytes } from './base64.js';
import { fromBleError, radio, waitPoweredOnPlx, type BlePlxManager } from './manager.js';

/** A scanned advertiser as react-native-ble-plx reports it. */
export type ScannedDevice = Pick<Device, 'id' | 'rssi' | 'mtu' | 'serviceUUIDs' | 'serviceData' | 'manufacturerData' | 'localName' | 'name'>;

/** The advertisement of a scanned device in the form the shared filter reads (malformed base64 entries are skipped). */
export function advertisementOf(device: ScannedDevice): AdvertisementView {
  const serviceData: { uuid: string; data: Uint8Array }[] = [];
  for (const [uuid, value] of Object.entries(device.serviceData ?? {})) {
    const data = decodeOrUndefined(value);
    if (data) serviceData.push({ uuid, data });
  }
  const manufacturerData = device.manufacturerData ? decodeOrUndefined(device.manufacturerData) : undefined;
  return { serviceData, ...(manufacturerData && { manufacturerData }) };
}

function decodeOrUndefined(value: unknown): Uint8Array | undefined {
  if (typeof value !== 'string') return undefined;
  try {
    return base64ToBytes(value, 'advertisement');
  } catch {
    return undefined;
  }
}

/** Whether a scanned device advertises `serviceUuid` (UUIDs compared in any case and dash form). */
export function advertisesService(device: ScannedDevice, serviceUuid: string = PROXKEY_SERVICE_UUID): boolean {
  const wanted = stackUuid(serviceUuid);
  return (device.serviceUUIDs ?? []).some((u) => typeof u === 'string' && stackUuid(u) === wanted);
}

/** A filter accepting only scanned devices whose rotating id resolves to one of `cars` (docs/PRIVACY.md). */
export function advertisingFilter<T extends ScannedDevice = ScannedDevice>(options: AdvertisingFilterOptions<T>): (device: T) => boolean {
  return advertisingFilterOver<T>(advertisementOf, options);
}

/**
 * For a phone's car record (`PhoneWallet.car()`): accept only the device whose rotating id
 * resolves to `car`. Undefined when the record has no usable advertising secret: then take the
 * first proxkey car (safe: the handshake pins the car's key).
 */
export function carFilter(
  car: Pick<CarRecord, 'carId' | 'advertisingSecret'>,
  options: Omit<AdvertisingFilterOptions<ScannedDevice>, 'cars'> = {},
): ((device: ScannedDevice) => boolean) | undefined {
  return carFilterOver(advertisementOf, car, options);
}

export interface ScanBounds {
  /** Bound on power-on (default 5000 ms). */
  readonly powerOnTimeoutMs?: number;
  readonly signal?: AbortSignal | undefined;
}

/** Options of `findCar` / `scanForCars` (and the scanning part of `connectToCar`): the manager, the service, a filter, bounds. */
export interface FindCarOptions extends ScanBounds {
  readonly manager: BlePlxManager;
  /** Service to scan for (default: the proxkey service). */
  readonly serviceUuid?: string;
  /** Choose among advertising cars (default: the first one seen), e.g. `carFilter(car)`. Must not throw. */
  readonly filter?: ((device: ScannedDevice) => boolean) | undefined;
  /**
   * With a `filter`: after this long (ms) without a match, take the proxkey car heard last anyway
   * (its advertising secret may have changed at a revocation; the caller can tell by
   * `!filter(link.device)` and fetch the new one).
   */
  readonly fallbackAfterMs?: number;
  /** Bound on the scan (default 10 000 ms). */
  readonly scanTimeoutMs?: number;
  /** Passed to `startDeviceScan` (default `{ allowDuplicates: true }`, so a car is judged again on each report). */
  readonly scanOptions?: PlxScanOptions;
}

/**
 * One scan session: `startDeviceScan` for the service, every report of a device advertising it
 * passed to `onDevice`, scan errors to `onError`. Resolves once scanning started; `stop()`
 * (bounded, never rejects) ends it.
 */
export async function scanForCars(
  options: Pick<FindCarOptions, 'manager' | 'serviceUuid' | 'scanOptions' | 'signal'>,
  onDevice: (device: Device) => void,
  onError: (err: unknown) => void,
): Promise<{ stop(): Promise<void> }> {
  const { manager } = options;
  const service = options.serviceUuid ?? PROXKEY_SERVICE_UUID;
  let stopped = false;
  const listener = (error: BleError | null, device: Device | null) => {
    if (stopped) return;
    if (error) return onError(fromBleError(error, 'scan'));
    if (device && advertisesService(device, service)) onDevice(device);
  };
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    await radio(manager, 'stop scanning', () => manager.stopDeviceScan(), { timeoutMs: 2000 }).catch(() => {});
  };
  try {
    await radio(manager, 'start scanning', () => manager.startDeviceScan([service], options.scanOptions ?? { allowDuplicates: true }, listener), {
      timeoutMs: 5000,
      signal: options.signal,
    });
  } catch (err) {
    await stop();
    throw err;
  }
  return { stop };
}

/** Scan until a proxkey car is chosen (filter, fallback). `TimeoutError` when none is; scan errors are thrown typed. */
export async function findCar(options: FindCarOptions): Promise<Device> {
  const { manager, signal } = options;
  await waitPoweredOnPlx(manager, { timeoutMs: options.powerOnTimeoutMs ?? 5000, signal });
  const choice = chooseCar<Device>(options);
  let failScan!: (err: unknown) => void;
  const scanFailed = new Promise<never>((_, reject) => (failScan = reject));
  scanFailed.catch(() => {});
  const scan = await scanForCars(options, (device) => choice.offer(device), failScan);
  try {
    const found = Promise.race([choice.chosen, scanFailed]);
    return await withRadioDeadline('scan for a car', found, { timeoutMs: options.scanTimeoutMs ?? 10_000, signal });
  } finally {
    choice.dispose();
    await scan.stop();
  }
}
