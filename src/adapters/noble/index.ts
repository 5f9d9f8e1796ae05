/**
 * `proxkey/noble` — the phone side over Bluetooth LE (GATT central) on noble.
 *
 * ```ts
 * import { loadNoble, connectToCar } from 'proxkey/noble';
 * import { openPhoneSession } from 'proxkey';
 * const noble = await loadNoble();                 // @stoprocent/noble or @abandonware/noble
 * const link = await connectToCar({ noble });      // scan, connect, discover, read info, subscribe
 * const { result, connection } = await openPhoneSession(link, phoneOptions, 'unlock');
 * ```
 *
 * To pick one's own car among several proxkey advertisers, pass `filter: advertisingFilter({ cars })`:
 * it resolves each car's rotating advertising identifier (docs/PRIVACY.md) with the secrets the
 * phone received at pairing (or in a share).
 *
 * Works with an injected noble instance from either family (`@stoprocent/noble` 2.x with its
 * async API, `@abandonware/noble` 1.9); the differences are handled here. Importing this module
 * never touches Bluetooth: the stack is loaded by `loadNoble()`, and errors say what to install
 * or configure. Every wait on the radio is bounded (noble itself has no ATT timeout, so a car
 * that vanishes would otherwise hang a write forever).
 *
 * One concept per module: `loader.ts` (loadNoble, through the shared `../ble-stack-loader.ts`),
 * `types.ts` (the parts of noble used, options, the car link), `filters.ts` (recognising one's own
 * car), `scan.ts` (findCar), `car-connection.ts` (one connection's lifetime), `connect.ts` (connectToCar).
 */
export { BleUnavailableError, COMPANY_ID_ADVERTISING_ID_LENGTH, type HciOptions } from '../common.js';
export { AdvertisingIdResolver, type AdvertisingCar, type AdvertisingMatch } from '../../protocol/advertising-id.js';
export { advertisingCarOf, type AdvertisementView, type AdvertisingPlacement } from '../car-advertising.js';
export { PROXKEY_SERVICE_UUID, PROXKEY_WRITE_CHAR_UUID, PROXKEY_NOTIFY_CHAR_UUID, PROXKEY_INFO_CHAR_UUID } from '../../transport/gatt-profile.js';
export type { GattInfo } from '../../transport/gatt-info.js';
export { loadNoble, type LoadNobleOptions } from './loader.js';
export { advertisingFilter, advertisingIdOf, carFilter, type AdvertisingFilterOptions } from './filters.js';
export { findCar } from './scan.js';
export { connectToCar } from './connect.js';
export type { CarLink, ConnectToCarOptions, NobleAdvertisement, NobleCharacteristic, NobleLike, NoblePeripheral, ScanOptions } from './types.js';
