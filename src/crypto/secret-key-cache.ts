/**
 * Native providers (node:crypto, WebCrypto) must import a raw secret scalar into a key object
 * before every use, which costs as much as the operation itself. The {@link CryptoProvider}
 * interface passes raw bytes, but callers pass the same array again and again (the array a
 * provider returned from `p256KeyPairFromSecret`, held by key custody or a Noise key), so the
 * imported object is cached against that array's identity.
 *
 * An entry is only used while the array still holds the bytes it was created for (compared in
 * constant time): a wiped or overwritten array misses, and its entry is dropped and its copy
 * wiped. Entries die with their array (WeakMap).
 */
import { copyOf, equalBytes } from '../bytes.js';

export class SecretKeyCache<V> {
  readonly #entries = new WeakMap<Uint8Array, { readonly copy: Uint8Array; readonly value: V }>();

  /** The value stored for this array, if the array still holds the same secret. */
  get(secretKey: Uint8Array): V | undefined {
    const entry = this.#entries.get(secretKey);
    if (entry === undefined) return undefined;
    if (equalBytes(entry.copy, secretKey)) return entry.value;
    this.#entries.delete(secretKey);
    entry.copy.fill(0);
    return undefined;
  }

  set(secretKey: Uint8Array, value: V): V {
    this.#entries.set(secretKey, { copy: copyOf(secretKey), value });
    return value;
  }
}
