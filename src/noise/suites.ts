/**
 * Noise function implementations (Noise spec §12) and protocol-name parsing (§8).
 *
 * - `P256`: unofficial but established (snow): 65-byte uncompressed public keys, DH output =
 *   32-byte X coordinate. Every received key is validated (on curve, not identity).
 * - Only the functions proxkey's suites can use live here (P-256, the three AEADs, SHA-256 through
 *   the provider); the vector-only ones (X25519, X448, SHA-512, BLAKE2) are in `vector-functions.ts`,
 *   named by `parseProtocolName` only when the caller passes them.
 * - `AESGCM`: nonce = 4 zero bytes ‖ u64 big-endian counter. `ChaChaPoly`: 4 zero bytes ‖ u64
 *   little-endian. `XChaChaPoly` (snow): 16 zero bytes ‖ u64 little-endian.
 */
import { copyOf } from '../bytes.js';
import { assertP256PublicKey } from '../crypto/p256.js';
import { generateP256KeyPair } from '../crypto/keygen.js';
import type { AeadAlgorithm, CryptoProvider } from '../crypto/provider.js';
import { LocalError, RemoteError } from '../errors.js';
import type { NoiseCipher, NoiseDH, NoiseHash, NoiseKey, NoiseSuite } from './functions.js';
import { getPattern, type HandshakePattern } from './patterns.js';

/**
 * One frozen instance per provider: the functions hold no state, and a handshake asks for them
 * every time (building them anew cost more than some of the operations they wrap).
 */
export function perProvider<T extends object>(build: (crypto: CryptoProvider) => T): (crypto: CryptoProvider) => T {
  const built = new WeakMap<CryptoProvider, T>();
  return (crypto) => {
    let functions = built.get(crypto);
    if (!functions) built.set(crypto, (functions = Object.freeze(build(crypto))));
    return functions;
  };
}

function p256Key(crypto: CryptoProvider, secretKey: Uint8Array, publicKey: Uint8Array): NoiseKey {
  return {
    publicKey,
    dh: (remote) => crypto.p256Ecdh(secretKey, remote),
    wipe: () => {
      crypto.forgetSecret?.(secretKey); // the provider's cached copy, before the array itself
      secretKey.fill(0);
    },
  };
}

/** P-256 with the given provider. */
export const p256Dh = perProvider((crypto): NoiseDH => ({
  name: 'P256',
  publicKeyLength: 65,
  dhLength: 32,
  async generateKeyPair(random) {
    const kp = await generateP256KeyPair(crypto, random);
    return p256Key(crypto, kp.secretKey, kp.publicKey);
  },
  async keyFromSecret(secret) {
    const kp = await crypto.p256KeyPairFromSecret(secret);
    return p256Key(crypto, kp.secretKey, kp.publicKey);
  },
  validatePublicKey(publicKey) {
    if (publicKey.length !== 65) throw new RemoteError('ERR_INVALID_POINT', 'invalid P-256 public key length');
    assertP256PublicKey(publicKey);
  },
}));

function aeadCipher(crypto: CryptoProvider, name: string, alg: AeadAlgorithm, nonceOf: (n: number) => Uint8Array): NoiseCipher {
  return {
    name,
    encrypt: (k, n, ad, pt) => crypto.aeadSeal(alg, k, nonceOf(n), pt, ad),
    decrypt: (k, n, ad, ct) => crypto.aeadOpen(alg, k, nonceOf(n), ct, ad),
  };
}

/** The nonce of counter `n` (-1 for 2^64-1) at `counterOffset` of `size` zero bytes; 64-bit, either byte order. */
function nonce(size: number, counterOffset: number, littleEndian: boolean) {
  return (n: number): Uint8Array => {
    const out = new Uint8Array(size);
    if (n === -1) out.fill(0xff, counterOffset, counterOffset + 8);
    else {
      // n < 2^53: two 32-bit halves, no BigInt per record.
      const view = new DataView(out.buffer);
      view.setUint32(counterOffset + (littleEndian ? 0 : 4), n >>> 0, littleEndian);
      view.setUint32(counterOffset + (littleEndian ? 4 : 0), Math.floor(n / 2 ** 32), littleEndian);
    }
    return out;
  };
}

export const aesGcmCipher = perProvider((crypto): NoiseCipher => aeadCipher(crypto, 'AESGCM', 'aes-256-gcm', nonce(12, 4, false)));
export const chaChaPolyCipher = perProvider((crypto): NoiseCipher => aeadCipher(crypto, 'ChaChaPoly', 'chacha20-poly1305', nonce(12, 4, true)));
export const xChaChaPolyCipher = perProvider((crypto): NoiseCipher => aeadCipher(crypto, 'XChaChaPoly', 'xchacha20-poly1305', nonce(24, 16, true)));

/** SHA-256 (and its HMAC) through the provider, native where the provider is: proxkey's own suites use this one. */
export const providerSha256Hash = perProvider((crypto): NoiseHash => ({
  name: 'SHA256',
  hashLength: 32,
  hash: (data) => crypto.sha256(data),
  hmac: (key, data) => crypto.hmacSha256(key, data),
  // Noise's HKDF is RFC 5869 HKDF(salt = ck, info = empty): one native call instead of three HMACs
  hkdf: (chainingKey, ikm, outputs) => {
    const okm = crypto.hkdfSha256(ikm, chainingKey, NO_INFO, 32 * outputs);
    // Real copies before the wipe, whatever array type the provider returned (a Buffer's slice is a view).
    const out = [copyOf(okm.subarray(0, 32)), copyOf(okm.subarray(32, 64))];
    if (outputs === 3) out.push(copyOf(okm.subarray(64, 96)));
    okm.fill(0);
    return out;
  },
}));
const NO_INFO = new Uint8Array(0);

export interface NoiseProtocol extends NoiseSuite {
  readonly name: string;
  readonly pattern: HandshakePattern;
}

/** More Noise functions by protocol-name token (`25519`, `SHA512`, …), each built for a provider. */
export interface NoiseFunctionTable {
  readonly dh?: Readonly<Record<string, (crypto: CryptoProvider) => NoiseDH>>;
  readonly cipher?: Readonly<Record<string, (crypto: CryptoProvider) => NoiseCipher>>;
  readonly hash?: Readonly<Record<string, (crypto: CryptoProvider) => NoiseHash>>;
}

const PROVIDER_FUNCTIONS = {
  dh: { P256: p256Dh },
  cipher: { AESGCM: aesGcmCipher, ChaChaPoly: chaChaPolyCipher, XChaChaPoly: xChaChaPolyCipher },
  hash: { SHA256: providerSha256Hash },
} as const satisfies NoiseFunctionTable;

function lookUp<T>(
  token: string,
  own: Readonly<Record<string, (crypto: CryptoProvider) => T>>,
  extra: Readonly<Record<string, (crypto: CryptoProvider) => T>> | undefined,
  crypto: CryptoProvider,
): T | undefined {
  const build = Object.hasOwn(own, token) ? own[token] : extra && Object.hasOwn(extra, token) ? extra[token] : undefined;
  return build?.(crypto);
}

/**
 * Parse `Noise_<pattern>_<dh>_<cipher>_<hash>` into a pattern and functions backed by `crypto`.
 * Known without `extra`: P256, AESGCM, ChaChaPoly, XChaChaPoly, SHA256 (through the provider);
 * pass `VECTOR_FUNCTIONS` (or your own table) for more.
 * @throws `LocalError('ERR_INVALID_ARGUMENT')` for a malformed name or functions neither table has.
 */
export function parseProtocolName(name: string, crypto: CryptoProvider, extra: NoiseFunctionTable = {}): NoiseProtocol {
  const parts = name.split('_');
  if (parts.length !== 5 || parts[0] !== 'Noise') throw new LocalError('ERR_INVALID_ARGUMENT', `not a Noise protocol name: ${name}`);
  const [, patternName, dhName, cipherName, hashName] = parts as [string, string, string, string, string];
  const dh = lookUp(dhName, PROVIDER_FUNCTIONS.dh, extra.dh, crypto);
  const cipher = lookUp(cipherName, PROVIDER_FUNCTIONS.cipher, extra.cipher, crypto);
  const hash = lookUp(hashName, PROVIDER_FUNCTIONS.hash, extra.hash, crypto);
  if (!dh || !cipher || !hash) throw new LocalError('ERR_INVALID_ARGUMENT', `unsupported Noise functions in ${name}`);
  return { name, pattern: getPattern(patternName), dh, cipher, hash };
}
