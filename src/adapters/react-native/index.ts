/**
 * `proxkey/react-native` — the phone side in a React Native app, over react-native-ble-plx
 * (an optional peer dependency: proxkey never loads it; the app creates its `BleManager` and
 * passes it in, so Metro bundles nothing extra and tests can pass a double).
 *
 * ```ts
 * import 'react-native-get-random-values';          // crypto.getRandomValues for the core
 * import { BleManager } from 'react-native-ble-plx';
 * import { carFilter, connectToCar } from 'proxkey/react-native';
 * const manager = new BleManager();
 * const filter = carFilter(wallet.car());            // resolves the car's rotating id
 * const link = await connectToCar({ manager, ...(filter && { filter, fallbackAfterMs: 4000 }) });
 * await wallet.command(link, 'unlock', { refreshAdvertising: !filter || !filter(link.device) });
 * ```
 *
 * Everything a native app can do that a browser cannot: scan and resolve the rotating
 * advertising id before connecting, negotiate the MTU, read RSSI, and so unlock on approach and
 * lock on walk-away from the phone's side (`PhonePassiveEntry`). See docs/phone-react-native.md.
 */
export { connectToCar, type CarLink, type ConnectToCarOptions } from './connect.js';
export { advertisementOf, advertisesService, advertisingFilter, carFilter, findCar, scanForCars, type FindCarOptions, type ScannedDevice } from './scan.js';
export { PhonePassiveEntry, type PhonePassiveEntryOptions } from './passive-entry.js';
export { hardwareKeyCustody, p1363Signature, type HardwareKeyCustodyOptions, type HardwareP256Module } from './key-custody.js';
export { fromBleError, isBleError, REACT_NATIVE_HINT, type BlePlxManager } from './manager.js';
export { base64ToBytes, bytesToBase64 } from './base64.js';
export { assertRuntime, missingRuntimeFeatures } from './runtime.js';
export { BleUnavailableError } from '../common.js';
export {
  advertisingCarOf,
  advertisingIdIn,
  chooseCar,
  type AdvertisementView,
  type AdvertisingFilterOptions,
  type AdvertisingPlacement,
} from '../car-advertising.js';
export { AdvertisingIdResolver, type AdvertisingCar, type AdvertisingMatch } from '../../protocol/advertising-id.js';
export { PROXKEY_SERVICE_UUID, PROXKEY_WRITE_CHAR_UUID, PROXKEY_NOTIFY_CHAR_UUID, PROXKEY_INFO_CHAR_UUID, type GattInfo } from '../../transport/framing.js';
