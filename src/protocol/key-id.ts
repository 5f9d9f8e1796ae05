import { copyOf, equalBytes, toHex } from '../bytes.js';
import type { CryptoProvider } from '../crypto/provider.js';

/**
 * Ids already computed, per key array (with a copy of the bytes and the provider): one
 * transaction asks for the id of the same received key several times (the session, then each
 * key-directory lookup). A changed array, or another provider, computes it again.
 */
const known = new WeakMap<Uint8Array, { readonly bytes: Uint8Array; readonly crypto: CryptoProvider; readonly id: string }>();

/** A key's id: hex of the first 8 bytes of SHA-256(65-byte public key). A label, not a secret. */
export function keyIdOf(crypto: CryptoProvider, publicKey: Uint8Array): string {
  const seen = known.get(publicKey);
  if (seen !== undefined && seen.crypto === crypto && equalBytes(seen.bytes, publicKey)) return seen.id;
  const id = toHex(crypto.sha256(publicKey).subarray(0, 8));
  known.set(publicKey, { bytes: copyOf(publicKey), crypto, id });
  return id;
}
