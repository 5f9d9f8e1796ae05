/**
 * A `PhoneStore` over any string key-value store an app has: `expo-secure-store` (Keychain /
 * Keystore-encrypted; `{ getItem: getItemAsync, setItem: setItemAsync }`), react-native-keychain,
 * or AsyncStorage (unencrypted: only with a hardware `identity`, so no secret key is in the state).
 *
 * ```ts
 * import * as SecureStore from 'expo-secure-store';
 * const store = keyValuePhoneStore({ getItem: SecureStore.getItemAsync, setItem: SecureStore.setItemAsync });
 * ```
 */
import { phoneStateFromJson, phoneStateToJson, StoreError, type PhoneState, type PhoneStore } from '../../src/index.js';

export interface KeyValueStore {
  getItem(key: string): Promise<string | null>;
  setItem(key: string, value: string): Promise<void>;
}

/** The phone's state as one JSON value under `key` (a single write: old or new state, never a mix). */
export function keyValuePhoneStore(kv: KeyValueStore, key = 'proxkey.phone'): PhoneStore {
  return {
    async load(): Promise<PhoneState | undefined> {
      const text = await kv.getItem(key);
      if (text === null) return undefined;
      let json: unknown;
      try {
        json = JSON.parse(text);
      } catch (err) {
        throw new StoreError('ERR_STORE_CORRUPT', `phone state under ${key} is not JSON`, { cause: err });
      }
      return phoneStateFromJson(json); // StoreError for anything malformed
    },
    async save(state: PhoneState): Promise<void> {
      await kv.setItem(key, JSON.stringify(phoneStateToJson(state)));
    },
  };
}
