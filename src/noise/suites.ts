/**
 * Noise function implementations (Noise spec §12) and protocol-name parsing (§8).
 *
 * - `P256`: unofficial but established (snow): 65-byte uncompressed public keys, DH output =
 *   32-byte X coordinate. Every received key is validated (on curve, not identity).
 * - `AESGCM`: nonce = 4 zero bytes ‖ u64 big-endian counter. `ChaChaPoly`: 4 zero bytes ‖ u64
 *   little-endian. `XChaChaPoly` (snow): 16 zero bytes ‖ u64 little-endian.
 */
import { x25519, x448, blake2b, blake2s, hmac, sha256, sha512 } from '../crypto/extra.js';
import { assertP256PublicKey } from '../crypto/p256.js';
import { generateP256KeyPair } from '../crypto/keygen.js';
import type { AeadAlgorithm, CryptoProvider } from '../crypto/provider.js';
import { LocalError, RemoteError } from '../errors.js';
import type { NoiseCipher, NoiseDH, NoiseHash, NoiseKey, NoiseSuite } from './functions.js';
import { getPattern, type HandshakePattern } from './patterns.js';

/** P-256 with the given provider. */
export function p256Dh(crypto: CryptoProvider): NoiseDH {
  const keyFrom = (secretKey: Uint8Array, publicKey: Uint8Array): NoiseKey => ({
    publicKey,
    dh: (remote) => crypto.p256Ecdh(secretKey, remote),
    wipe: () => secretKey.fill(0),
  });
  return {
    name: 'P256',
    publicKeyLength: 65,
    dhLength: 32,
    async generateKeyPair(random) {
      const kp = await generateP256KeyPair(crypto, random);
      return keyFrom(kp.secretKey, kp.publicKey);
    },
    async keyFromSecret(secret) {
      const kp = await crypto.p256KeyPairFromSecret(secret);
      return keyFrom(kp.secretKey, kp.publicKey);
    },
    validatePublicKey(publicKey) {
      if (publicKey.length !== 65) throw new RemoteError('ERR_INVALID_POINT', 'invalid P-256 public key length');
      assertP256PublicKey(publicKey);
    },
  };
}

function montgomeryDh(name: string, len: number, curve: typeof x25519): NoiseDH {
  const keyFrom = (secret: Uint8Array): NoiseKey => {
    const secretKey = secret.slice();
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

function aeadCipher(crypto: CryptoProvider, name: string, alg: AeadAlgorithm, nonceOf: (n: number) => Uint8Array): NoiseCipher {
  return {
    name,
    encrypt: (k, n, ad, pt) => crypto.aeadSeal(alg, k, nonceOf(n), pt, ad),
    decrypt: (k, n, ad, ct) => crypto.aeadOpen(alg, k, nonceOf(n), ct, ad),
  };
}

function nonce(size: number, counterOffset: number, littleEndian: boolean) {
  return (n: number): Uint8Array => {
    const out = new Uint8Array(size);
    new DataView(out.buffer).setBigUint64(counterOffset, BigInt.asUintN(64, BigInt(n)), littleEndian);
    return out;
  };
}

export const aesGcmCipher = (crypto: CryptoProvider): NoiseCipher => aeadCipher(crypto, 'AESGCM', 'aes-256-gcm', nonce(12, 4, false));
export const chaChaPolyCipher = (crypto: CryptoProvider): NoiseCipher => aeadCipher(crypto, 'ChaChaPoly', 'chacha20-poly1305', nonce(12, 4, true));
export const xChaChaPolyCipher = (crypto: CryptoProvider): NoiseCipher => aeadCipher(crypto, 'XChaChaPoly', 'xchacha20-poly1305', nonce(24, 16, true));

type NobleHash = ((data: Uint8Array) => Uint8Array) & { outputLen: number; blockLen: number; create(): unknown };
function nobleHash(name: string, h: NobleHash): NoiseHash {
  return {
    name,
    hashLength: h.outputLen,
    hash: (data) => h(data),
    hmac: (key, data) => hmac(h as typeof sha256, key, data),
  };
}

export const sha256Hash: NoiseHash = /* @__PURE__ */ nobleHash('SHA256', sha256);
/** SHA-256 (and its HMAC) through the provider, native where the provider is: proxkey's own suites use this one. */
export const providerSha256Hash = (crypto: CryptoProvider): NoiseHash => ({
  name: 'SHA256',
  hashLength: 32,
  hash: (data) => crypto.sha256(data),
  hmac: (key, data) => crypto.hmacSha256(key, data),
  // Noise's HKDF is RFC 5869 HKDF(salt = ck, info = empty): one native call instead of three HMACs
  hkdf: (chainingKey, ikm, outputs) => {
    const okm = crypto.hkdfSha256(ikm, chainingKey, NO_INFO, 32 * outputs);
    const out = Array.from({ length: outputs }, (_, i) => okm.slice(32 * i, 32 * (i + 1)));
    okm.fill(0);
    return out;
  },
});
const NO_INFO = new Uint8Array(0);
export const sha512Hash: NoiseHash = /* @__PURE__ */ nobleHash('SHA512', sha512);
export const blake2sHash: NoiseHash = /* @__PURE__ */ nobleHash('BLAKE2s', blake2s);
export const blake2bHash: NoiseHash = /* @__PURE__ */ nobleHash('BLAKE2b', blake2b);

export interface NoiseProtocol extends NoiseSuite {
  readonly name: string;
  readonly pattern: HandshakePattern;
}

/**
 * Parse `Noise_<pattern>_<dh>_<cipher>_<hash>` into a pattern and functions backed by `crypto`.
 * Throws `LocalError('ERR_INVALID_ARGUMENT')` for anything unsupported.
 */
export function parseProtocolName(name: string, crypto: CryptoProvider): NoiseProtocol {
  const parts = name.split('_');
  if (parts.length !== 5 || parts[0] !== 'Noise') throw new LocalError('ERR_INVALID_ARGUMENT', `not a Noise protocol name: ${name}`);
  const [, patternName, dhName, cipherName, hashName] = parts as [string, string, string, string, string];
  const dhs: Record<string, () => NoiseDH> = { P256: () => p256Dh(crypto), '25519': () => x25519Dh, '448': () => x448Dh };
  const dh = dhs[dhName]?.();
  const ciphers: Record<string, () => NoiseCipher> = {
    AESGCM: () => aesGcmCipher(crypto),
    ChaChaPoly: () => chaChaPolyCipher(crypto),
    XChaChaPoly: () => xChaChaPolyCipher(crypto),
  };
  const cipher = ciphers[cipherName]?.();
  const hashes: Record<string, NoiseHash> = { SHA256: providerSha256Hash(crypto), SHA512: sha512Hash, BLAKE2s: blake2sHash, BLAKE2b: blake2bHash };
  const hash = hashes[hashName];
  if (!dh || !cipher || !hash) throw new LocalError('ERR_INVALID_ARGUMENT', `unsupported Noise functions in ${name}`);
  return { name, pattern: getPattern(patternName), dh, cipher, hash };
}
