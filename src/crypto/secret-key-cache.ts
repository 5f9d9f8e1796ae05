/**
 * Native providers (node:crypto, WebCrypto) must import a raw secret scalar into a key object
 * before every use, which costs as much as the operation itself. The {@link CryptoProvider}
 * interface passes raw bytes, but callers pass the same array again and again (the array a
 * provider returned from `p256KeyPairFromSecret`, held by key custody or a Noise key), so the
 * imported object is cached against that array's identity.
 *
 * An entry is only used while the array still holds the bytes it was created for (compared in
 * constant time): a wiped or overwritten array misses, and its entry is dropped and its copy
 * wiped. Entries die with their array (WeakMap). Wiping the array alone leaves the copy in
 * memory until then: `forget` (a provider's `forgetSecret`) drops it at once.
 */
import { equalBytes } from '../bytes.js';

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

  /**
   * Remember `value`, made from `snapshot`: the one copy of `secretKey` the caller took, checked
   * and imported (never `secretKey` read again, which a shared array could have changed). The
   * cache keeps `snapshot` itself as its comparison copy and wipes it when the entry goes.
   */
  set(secretKey: Uint8Array, snapshot: Uint8Array, value: V): V {
    const old = this.#entries.get(secretKey);
    if (old !== undefined && old.copy !== snapshot) old.copy.fill(0);
    this.#entries.set(secretKey, { copy: snapshot, value });
    return value;
  }

  /** Drop the entry of `secretKey` and wipe its copy; with `onlyIf`, only while the entry still holds that value. */
  forget(secretKey: Uint8Array, onlyIf?: V): void {
    const entry = this.#entries.get(secretKey);
    if (entry === undefined || (onlyIf !== undefined && entry.value !== onlyIf)) return;
    this.#entries.delete(secretKey);
    entry.copy.fill(0);
  }
}
