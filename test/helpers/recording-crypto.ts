/**
 * A CryptoProvider that records every call it serves, with copies of the bytes that went in and
 * came out (callers wipe their buffers after): what the published vectors derive the Noise
 * intermediates from (scripts/noise-intermediates.ts) and what the bench replays as a role's crypto
 * floor (bench/unlock/measure.ts). A record is named by the provider method it stands for.
 */
import { copyOf } from '../../src/bytes.js';
import type { AeadAlgorithm, CryptoProvider } from '../../src/index.js';

export type CryptoCall =
  | { readonly method: 'p256KeyPairFromSecret' | 'p256Sign' | 'p256Verify' }
  | { readonly method: 'p256Ecdh'; readonly output: Uint8Array }
  | { readonly method: 'sha256'; readonly input: Uint8Array; readonly output: Uint8Array }
  | { readonly method: 'hmacSha256'; readonly key: Uint8Array; readonly data: Uint8Array }
  | { readonly method: 'hkdfSha256'; readonly ikm: Uint8Array; readonly salt: Uint8Array; readonly info: Uint8Array; readonly output: Uint8Array }
  | {
      readonly method: 'aeadSeal';
      readonly alg: AeadAlgorithm;
      readonly key: Uint8Array;
      readonly nonce: Uint8Array;
      readonly ad: Uint8Array;
      readonly plaintext: Uint8Array;
    }
  | {
      readonly method: 'aeadOpen';
      readonly alg: AeadAlgorithm;
      readonly key: Uint8Array;
      readonly nonce: Uint8Array;
      readonly ad: Uint8Array;
      readonly ciphertext: Uint8Array;
      readonly plaintext: Uint8Array;
    };

/** `inner` with every call appended to `calls` (a seal when it is made, every other call once it has its result). */
export function recordingCrypto(inner: CryptoProvider, calls: CryptoCall[]): CryptoProvider {
  const c = copyOf;
  return {
    ...inner,
    name: `${inner.name}+recording`,
    p256KeyPairFromSecret: async (sk) => {
      const pair = await inner.p256KeyPairFromSecret(sk);
      calls.push({ method: 'p256KeyPairFromSecret' });
      return pair;
    },
    p256Ecdh: async (sk, pk) => {
      const output = await inner.p256Ecdh(sk, pk);
      calls.push({ method: 'p256Ecdh', output: c(output) });
      return output;
    },
    p256Sign: async (sk, message) => {
      const signature = await inner.p256Sign(sk, message);
      calls.push({ method: 'p256Sign' });
      return signature;
    },
    p256Verify: async (pk, message, signature) => {
      const ok = await inner.p256Verify(pk, message, signature);
      calls.push({ method: 'p256Verify' });
      return ok;
    },
    sha256: (data) => {
      const output = inner.sha256(data);
      calls.push({ method: 'sha256', input: c(data), output: c(output) });
      return output;
    },
    hmacSha256: (key, data) => {
      const output = inner.hmacSha256(key, data);
      calls.push({ method: 'hmacSha256', key: c(key), data: c(data) });
      return output;
    },
    hkdfSha256: (ikm, salt, info, length) => {
      const output = inner.hkdfSha256(ikm, salt, info, length);
      calls.push({ method: 'hkdfSha256', ikm: c(ikm), salt: c(salt), info: c(info), output: c(output) });
      return output;
    },
    aeadSeal: async (alg, key, nonce, plaintext, ad) => {
      calls.push({ method: 'aeadSeal', alg, key: c(key), nonce: c(nonce), ad: c(ad), plaintext: c(plaintext) });
      return inner.aeadSeal(alg, key, nonce, plaintext, ad);
    },
    aeadOpen: async (alg, key, nonce, ciphertext, ad) => {
      const plaintext = await inner.aeadOpen(alg, key, nonce, ciphertext, ad);
      calls.push({ method: 'aeadOpen', alg, key: c(key), nonce: c(nonce), ad: c(ad), ciphertext: c(ciphertext), plaintext: c(plaintext) });
      return plaintext;
    },
  };
}
