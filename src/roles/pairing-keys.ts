import { concatBytes, utf8 } from '../bytes.js';
import type { CryptoProvider } from '../crypto/provider.js';

const CONTEXT_LABEL = utf8('proxkey pairing v1');
const KEYS_INFO = utf8('proxkey pairing v1 keys');
const EMPTY = new Uint8Array(0);
/** AEAD nonce for the two sealed pairing payloads: each key seals exactly one message. */
export const PAIRING_NONCE = new Uint8Array(12);

/** SPAKE2+ context: binds the run to this connection's challenge and the car's parameters. */
export function pairingContext(challenge: Uint8Array, params: Uint8Array): Uint8Array {
  return concatBytes(CONTEXT_LABEL, challenge, params);
}

/** Two one-use AES-256-GCM keys from the SPAKE2+ shared key: phone→car, car→phone. */
export function pairingKeys(crypto: CryptoProvider, sharedKey: Uint8Array): { phoneToCar: Uint8Array; carToPhone: Uint8Array } {
  const okm = crypto.hkdfSha256(sharedKey, EMPTY, KEYS_INFO, 64);
  return { phoneToCar: okm.slice(0, 32), carToPhone: okm.slice(32) };
}
