/**
 * Argument checks shared by every {@link CryptoProvider}, so each provider refuses the same
 * inputs with the same `LocalError` messages in the same order (AEAD: key, algorithm, nonce,
 * associated data; HKDF: ikm, salt, info, length), and a short ciphertext with the same
 * `RemoteError`.
 */
import { LocalError, RemoteError, assertArg, assertBytes } from '../errors.js';
import type { AeadAlgorithm } from './provider.js';

const NONCE_LENGTH: Record<AeadAlgorithm, number> = {
  'aes-256-gcm': 12,
  'chacha20-poly1305': 12,
  'xchacha20-poly1305': 24,
};

/** Validates key (32 B), algorithm, nonce (its length) and associated data; returns the algorithm. */
export function assertAeadArguments(alg: AeadAlgorithm, key: Uint8Array, nonce: Uint8Array, ad: Uint8Array): AeadAlgorithm {
  assertBytes(key, 'aead key', 32);
  // A string only: `hasOwn` would stringify `['aes-256-gcm']` or `new String(…)` and let it through.
  if (typeof alg !== 'string') throw new LocalError('ERR_INVALID_ARGUMENT', 'AEAD algorithm: expected a string');
  const nlen = Object.hasOwn(NONCE_LENGTH, alg) ? NONCE_LENGTH[alg] : undefined;
  if (nlen === undefined) throw new LocalError('ERR_INVALID_ARGUMENT', `unknown AEAD algorithm: ${String(alg)}`);
  assertBytes(nonce, 'aead nonce', nlen);
  assertBytes(ad, 'aead associated data');
  return alg;
}

/** A ciphertext must at least hold the 16-byte tag: anything shorter is `RemoteError('ERR_DECRYPT')`. */
export function assertAeadCiphertext(ciphertext: Uint8Array): void {
  if (ciphertext.length < 16) throw new RemoteError('ERR_DECRYPT', 'ciphertext shorter than the tag');
}

/** HKDF-SHA256 inputs: byte arrays and an output length in 0..255·32. */
export function assertHkdfArguments(ikm: Uint8Array, salt: Uint8Array, info: Uint8Array, length: number): void {
  assertBytes(ikm, 'ikm');
  assertBytes(salt, 'salt');
  assertBytes(info, 'info');
  assertArg(Number.isInteger(length) && length >= 0 && length <= 255 * 32, 'hkdf length: 0..8160');
}
