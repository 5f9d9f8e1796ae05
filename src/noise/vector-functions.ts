/**
 * Noise functions outside proxkey's suites (X25519, X448, SHA-256 and SHA-512 on @noble, BLAKE2s,
 * BLAKE2b). They exist so the generic Noise layer can be proven against the full standard vector
 * sets: pass {@link VECTOR_FUNCTIONS} to `parseProtocolName` to name them. Nothing in proxkey's
 * roles refers to this module, so a bundle of the roles leaves it (and its curves) out.
 */
import { copyOf } from '../bytes.js';
import { x25519, x448, blake2b, blake2s, hmac, sha256, sha512 } from '../crypto/extra.js';
import { RemoteError } from '../errors.js';
import type { NoiseDH, NoiseHash, NoiseKey } from './functions.js';
import type { NoiseFunctionTable } from './suites.js';

function montgomeryDh(name: string, len: number, curve: typeof x25519): NoiseDH {
  const keyFrom = (secret: Uint8Array): NoiseKey => {
    const secretKey = copyOf(secret);
    return {
      publicKey: curve.getPublicKey(secretKey),
      async dh(remote) {
        try {
          return curve.getSharedSecret(secretKey, remote);
        } catch (cause) {
          throw new RemoteError('ERR_INVALID_POINT', `invalid ${name} public key`, { cause });
        }
      },
      wipe: () => secretKey.fill(0),
    };
  };
  return {
    name,
    publicKeyLength: len,
    dhLength: len,
    async generateKeyPair(random) {
      return keyFrom(random(len));
    },
    async keyFromSecret(secret) {
      return keyFrom(secret);
    },
    validatePublicKey(publicKey) {
      if (publicKey.length !== len) throw new RemoteError('ERR_INVALID_POINT', `invalid ${name} public key length`);
    },
  };
}

export const x25519Dh: NoiseDH = /* @__PURE__ */ montgomeryDh('25519', 32, x25519);
export const x448Dh: NoiseDH = /* @__PURE__ */ montgomeryDh('448', 56, x448);

type NobleHash = ((data: Uint8Array) => Uint8Array) & { outputLen: number; blockLen: number; create(): unknown };
function nobleHash(name: string, h: NobleHash): NoiseHash {
  return {
    name,
    hashLength: h.outputLen,
    hash: (data) => h(data),
    hmac: (key, data) => hmac(h as typeof sha256, key, data),
  };
}

/** SHA-256 on @noble (proxkey's suites use the provider's SHA-256, `providerSha256Hash`). */
export const sha256Hash: NoiseHash = /* @__PURE__ */ nobleHash('SHA256', sha256);
export const sha512Hash: NoiseHash = /* @__PURE__ */ nobleHash('SHA512', sha512);
export const blake2sHash: NoiseHash = /* @__PURE__ */ nobleHash('BLAKE2s', blake2s);
export const blake2bHash: NoiseHash = /* @__PURE__ */ nobleHash('BLAKE2b', blake2b);

/** The vector-only functions by protocol-name token, for `parseProtocolName(name, crypto, VECTOR_FUNCTIONS)`. */
export const VECTOR_FUNCTIONS: NoiseFunctionTable = {
  dh: { '25519': () => x25519Dh, '448': () => x448Dh },
  hash: { SHA512: () => sha512Hash, BLAKE2s: () => blake2sHash, BLAKE2b: () => blake2bHash },
};
