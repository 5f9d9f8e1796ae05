/**
 * `proxkey/web-bluetooth` — the phone in a browser: Web Bluetooth (GATT client), the phone's state
 * and its non-extractable WebCrypto key in IndexedDB. No Node built-ins: bundles for the browser.
 *
 * ```ts
 * import { PhoneWallet } from 'proxkey';
 * import { connectToCar, openPhoneDatabase, IndexedDbPhoneStore, webCryptoIdentity } from 'proxkey/web-bluetooth';
 * const db = await openPhoneDatabase();
 * const id = await webCryptoIdentity(db);
 * const wallet = await PhoneWallet.open({ store: new IndexedDbPhoneStore(db), identity: id.custody, signingKey: id.signingKey });
 * button.onclick = async () => {
 *   const link = await connectToCar({ bluetooth: navigator.bluetooth }); // the chooser needs this click
 *   const result = await wallet.command(link, 'unlock');
 * };
 * ```
 *
 * See docs/phone-web.md for what the browser allows (chooser, MTU, no scanning) and how to host it.
 */
export { connectToCar, webValueSize, DEFAULT_WEB_VALUE_SIZE, type WebConnectOptions, type WebCarLink } from './connect.js';
export { chooseCar, chooserError, BROWSER_HINT, type ChooseCarOptions } from './choose.js';
export type { CarRequestOptions, BluetoothLike, BluetoothDeviceLike, GattServerLike, GattServiceLike, GattCharacteristicLike } from './types.js';
export { openPhoneDatabase, PhoneDatabase, DEFAULT_PHONE_DATABASE, type PhoneDatabaseOptions, type PhoneObjectStore } from './indexeddb.js';
export { IndexedDbPhoneStore } from './indexeddb-phone-store.js';
export { webCryptoIdentity, type WebCryptoIdentity } from './webcrypto-identity.js';
export { BleUnavailableError } from '../common.js';
export { PROXKEY_SERVICE_UUID, PROXKEY_WRITE_CHAR_UUID, PROXKEY_NOTIFY_CHAR_UUID, PROXKEY_INFO_CHAR_UUID, type GattInfo } from '../../transport/framing.js';
