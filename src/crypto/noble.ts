/**
 * The default {@link CryptoProvider}: pure JavaScript on the audited @noble libraries.
 * Runs anywhere (Node, browsers, React Native); no Node built-ins.
 */
import { gcm } from '@noble/ciphers/aes.js';
import { chacha20poly1305, xchacha20poly1305 } from '@noble/ciphers/chacha.js';
import { p256 } from '@noble/curves/nist.js';
import { hkdf } from '@noble/hashes/hkdf.js';
import { hmac } from '@noble/hashes/hmac.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { RemoteError, assertBytes } from '../errors.js';
import { assertAeadArguments, assertAeadCiphertext, assertHkdfArguments } from './arguments.js';
import { assertP256PublicKey, assertP256SecretKey as assertSecretKey, isVerifiableSignature, p256SecretKeySnapshot } from './p256.js';
import type { AeadAlgorithm, CryptoProvider, P256KeyPair } from './provider.js';

function aead(alg: AeadAlgorithm, key: Uint8Array, nonce: Uint8Array, ad: Uint8Array) {
  switch (assertAeadArguments(alg, key, nonce, ad)) {
    case 'aes-256-gcm':
      return gcm(key, nonce, ad);
    case 'chacha20-poly1305':
      return chacha20poly1305(key, nonce, ad);
    case 'xchacha20-poly1305':
      return xchacha20poly1305(key, nonce, ad);
  }
}

/** The pure-JS provider on @noble/curves, @noble/hashes and @noble/ciphers (the default everywhere). */
export const nobleCrypto: CryptoProvider = Object.freeze({
  name: 'noble',

  async p256KeyPairFromSecret(secretKey: Uint8Array): Promise<P256KeyPair> {
    const copy = p256SecretKeySnapshot(secretKey); // read once: the pair is of the bytes that were checked
    return { secretKey: copy, publicKey: p256.getPublicKey(copy, false) };
  },

  async p256Ecdh(secretKey: Uint8Array, publicKey: Uint8Array): Promise<Uint8Array> {
    assertSecretKey(secretKey);
    assertP256PublicKey(publicKey);
    // Compressed shared point: 1 prefix byte then X (SEC 1 §3.3.1 uses X only).
    return p256.getSharedSecret(secretKey, publicKey, true).subarray(1);
  },

  async p256Sign(secretKey: Uint8Array, message: Uint8Array): Promise<Uint8Array> {
    assertSecretKey(secretKey);
    assertBytes(message, 'message');
    // RFC 6979 deterministic k, hedged with fresh entropy (noble's extraEntropy).
    return p256.sign(message, secretKey, { prehash: true, lowS: false, format: 'compact', extraEntropy: true });
  },

  async p256Verify(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): Promise<boolean> {
    if (!isVerifiableSignature(publicKey, message, signature)) return false;
    try {
      // lowS: false — hardware keystores (Secure Enclave, StrongBox) emit high-S half the time.
      return p256.verify(signature, message, publicKey, { prehash: true, lowS: false, format: 'compact' });
    } catch {
      return false;
    }
  },

  sha256(data: Uint8Array): Uint8Array {
    assertBytes(data, 'data');
    return sha256(data);
  },

  hmacSha256(key: Uint8Array, data: Uint8Array): Uint8Array {
    assertBytes(key, 'hmac key');
    assertBytes(data, 'data');
    return hmac(sha256, key, data);
  },

  hkdfSha256(ikm: Uint8Array, salt: Uint8Array, info: Uint8Array, length: number): Uint8Array {
    assertHkdfArguments(ikm, salt, info, length);
    return hkdf(sha256, ikm, salt, info, length);
  },

  async aeadSeal(alg: AeadAlgorithm, key: Uint8Array, nonce: Uint8Array, plaintext: Uint8Array, ad: Uint8Array): Promise<Uint8Array> {
    assertBytes(plaintext, 'plaintext');
    return aead(alg, key, nonce, ad).encrypt(plaintext);
  },

  async aeadOpen(alg: AeadAlgorithm, key: Uint8Array, nonce: Uint8Array, ciphertext: Uint8Array, ad: Uint8Array): Promise<Uint8Array> {
    assertBytes(ciphertext, 'ciphertext');
    const cipher = aead(alg, key, nonce, ad);
    assertAeadCiphertext(ciphertext);
    try {
      return cipher.decrypt(ciphertext);
    } catch (cause) {
      throw new RemoteError('ERR_DECRYPT', 'authentication tag mismatch', { cause });
    }
  },
});
