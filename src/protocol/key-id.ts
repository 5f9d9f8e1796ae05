import { toHex } from '../bytes.js';
import type { CryptoProvider } from '../crypto/provider.js';

/** A key's id: hex of the first 8 bytes of SHA-256(65-byte public key). A label, not a secret. */
export function keyIdOf(crypto: CryptoProvider, publicKey: Uint8Array): string {
  return toHex(crypto.sha256(publicKey).subarray(0, 8));
}
