/**
 * `webCryptoProvider()`: a {@link CryptoProvider} on WebCrypto (`crypto.subtle`) for P-256
 * (keygen, ECDH, ECDSA) and AES-256-GCM, with @noble for what WebCrypto lacks — ChaCha20-Poly1305
 * and XChaCha20-Poly1305 (not in WebCrypto), and SHA-256 / HMAC / HKDF, which the interface wants
 * synchronous (WebCrypto's digest and deriveBits are async). For browsers and the phone adapters;
 * no Node built-ins. Behaves exactly like `nobleCrypto` on every input.
 *
 * - Public keys are validated by proxkey before import; a native import failure that still
 *   happens is `RemoteError('ERR_INVALID_POINT')`, a failed decrypt is `RemoteError('ERR_DECRYPT')`.
 * - Secret scalars are imported as DER PKCS#8 (fixed prefix, {@link p256SecretKeyToPkcs8});
 *   imported keys are cached per secret array ({@link SecretKeyCache}).
 * - WebCrypto's ECDSA signatures are already IEEE P1363 (`r ‖ s`), randomized, and not low-S
 *   normalised; every provider's verify accepts high-S.
 */
import { copyOf } from '../bytes.js';
import { LocalError, RemoteError, assertBytes } from '../errors.js';
import { assertAeadArguments, assertAeadCiphertext } from './arguments.js';
import { nobleCrypto } from './noble.js';
import { assertP256PublicKey, assertP256SecretKey, isVerifiableSignature, p256Uncompressed } from './p256.js';
import { p256SecretKeyToPkcs8 } from './pkcs8.js';
import type { AeadAlgorithm, CryptoProvider, P256KeyPair } from './provider.js';
import { SecretKeyCache } from './secret-key-cache.js';

type Bytes = Uint8Array<ArrayBuffer>;
type EcAlgorithm = { name: 'ECDH' | 'ECDSA'; namedCurve: 'P-256' };
type KeyFormat = 'raw' | 'pkcs8';

/** The subset of WebCrypto's `SubtleCrypto` this provider calls (the global one satisfies it). */
export interface WebCryptoSubtle {
  importKey(format: KeyFormat, keyData: Bytes, algorithm: EcAlgorithm | 'AES-GCM', extractable: boolean, usages: KeyUsage[]): Promise<CryptoKey>;
  exportKey(format: 'raw', key: CryptoKey): Promise<ArrayBuffer>;
  exportKey(format: 'jwk', key: CryptoKey): Promise<JsonWebKey>;
  deriveBits(algorithm: { name: 'ECDH'; public: CryptoKey }, baseKey: CryptoKey, length: number): Promise<ArrayBuffer>;
  sign(algorithm: { name: 'ECDSA'; hash: 'SHA-256' }, key: CryptoKey, data: Bytes): Promise<ArrayBuffer>;
  verify(algorithm: { name: 'ECDSA'; hash: 'SHA-256' }, key: CryptoKey, signature: Bytes, data: Bytes): Promise<boolean>;
  encrypt(algorithm: { name: 'AES-GCM'; iv: Bytes; additionalData: Bytes; tagLength: 128 }, key: CryptoKey, data: Bytes): Promise<ArrayBuffer>;
  decrypt(algorithm: { name: 'AES-GCM'; iv: Bytes; additionalData: Bytes; tagLength: 128 }, key: CryptoKey, data: Bytes): Promise<ArrayBuffer>;
}

const ECDH: EcAlgorithm = { name: 'ECDH', namedCurve: 'P-256' };
const ECDSA: EcAlgorithm = { name: 'ECDSA', namedCurve: 'P-256' };
const SHA256_ECDSA = { name: 'ECDSA', hash: 'SHA-256' } as const;

/** A copy on its own ArrayBuffer (what WebCrypto's BufferSource wants; never a shared view). */
const own = (b: Uint8Array): Bytes => new Uint8Array(b);

function base64UrlToBytes(s: string | undefined): Uint8Array {
  if (typeof s !== 'string') throw new LocalError('ERR_INVALID_STATE', 'WebCrypto exported a JWK without coordinates');
  const b64 = s.replace(/-/g, '+').replace(/_/g, '/');
  const bin = atob(b64.padEnd(b64.length + ((4 - (b64.length % 4)) % 4), '='));
  return Uint8Array.from(bin, (c) => c.charCodeAt(0));
}

/** A {@link CryptoProvider} on `subtle` (default: `globalThis.crypto.subtle`). */
export function webCryptoProvider(subtle?: WebCryptoSubtle): CryptoProvider {
  const s: WebCryptoSubtle | undefined = subtle ?? globalThis.crypto?.subtle;
  if (!s) throw new LocalError('ERR_INVALID_ARGUMENT', 'webCryptoProvider: no WebCrypto subtle available');
  const keys = new WebCryptoKeys(s);
  return Object.freeze({
    name: 'webcrypto',
    ...p256Operations(s, keys),
    sha256: (data: Uint8Array) => nobleCrypto.sha256(data),
    hmacSha256: (key: Uint8Array, data: Uint8Array) => nobleCrypto.hmacSha256(key, data),
    hkdfSha256: (ikm: Uint8Array, salt: Uint8Array, info: Uint8Array, length: number) => nobleCrypto.hkdfSha256(ikm, salt, info, length),
    ...aeadOperations(s, keys),
  });
}

/** Key objects for one provider: secret scalars imported once per array (cached), public keys and AES keys per use. */
class WebCryptoKeys {
  readonly #ecdh = new SecretKeyCache<Promise<CryptoKey>>();
  readonly #signing = new SecretKeyCache<Promise<CryptoKey>>();

  constructor(private readonly s: WebCryptoSubtle) {}

  /** Imports a validated scalar for one algorithm (PKCS#8 DER, wiped after import). */
  async importSecret(secretKey: Uint8Array, algorithm: EcAlgorithm, extractable: boolean): Promise<CryptoKey> {
    const der = own(p256SecretKeyToPkcs8(secretKey));
    try {
      return await this.s.importKey('pkcs8', der, algorithm, extractable, algorithm.name === 'ECDH' ? ['deriveBits'] : ['sign']);
    } finally {
      der.fill(0);
    }
  }

  /** Remember an ECDH key object made for `secretKey` (the array the caller keeps using). */
  rememberEcdh(secretKey: Uint8Array, key: Promise<CryptoKey>): Promise<CryptoKey> {
    return this.#ecdh.set(secretKey, key);
  }

  ecdh(secretKey: Uint8Array): Promise<CryptoKey> {
    return this.#ecdh.get(secretKey) ?? this.#ecdh.set(secretKey, this.importSecret(secretKey, ECDH, false));
  }

  signing(secretKey: Uint8Array): Promise<CryptoKey> {
    return this.#signing.get(secretKey) ?? this.#signing.set(secretKey, this.importSecret(secretKey, ECDSA, false));
  }

  publicKey(publicKey: Uint8Array, algorithm: EcAlgorithm): Promise<CryptoKey> {
    return this.s.importKey('raw', own(p256Uncompressed(publicKey)), algorithm, true, algorithm.name === 'ECDH' ? [] : ['verify']);
  }

  aes(key: Uint8Array, usage: 'encrypt' | 'decrypt'): Promise<CryptoKey> {
    return this.s.importKey('raw', own(key), 'AES-GCM', false, [usage]);
  }
}

function p256Operations(s: WebCryptoSubtle, keys: WebCryptoKeys): Pick<CryptoProvider, 'p256KeyPairFromSecret' | 'p256Ecdh' | 'p256Sign' | 'p256Verify'> {
  return {
    async p256KeyPairFromSecret(secretKey: Uint8Array): Promise<P256KeyPair> {
      assertP256SecretKey(secretKey);
      const copy = copyOf(secretKey);
      // Extractable so the public coordinates can be read back (JWK x, y). The key object never
      // leaves this provider; it is cached for the ECDHs that follow (the same array comes back).
      const key = keys.rememberEcdh(copy, keys.importSecret(copy, ECDH, true));
      const jwk = await s.exportKey('jwk', await key);
      const publicKey = new Uint8Array(65);
      publicKey[0] = 0x04;
      publicKey.set(base64UrlToBytes(jwk.x), 1);
      publicKey.set(base64UrlToBytes(jwk.y), 33);
      assertP256PublicKey(publicKey, 'WebCrypto public key');
      return { secretKey: copy, publicKey };
    },

    async p256Ecdh(secretKey: Uint8Array, publicKey: Uint8Array): Promise<Uint8Array> {
      assertP256SecretKey(secretKey);
      assertP256PublicKey(publicKey);
      const base = await keys.ecdh(secretKey);
      try {
        return new Uint8Array(await s.deriveBits({ name: 'ECDH', public: await keys.publicKey(publicKey, ECDH) }, base, 256));
      } catch (cause) {
        throw new RemoteError('ERR_INVALID_POINT', 'invalid P-256 public key', { cause });
      }
    },

    async p256Sign(secretKey: Uint8Array, message: Uint8Array): Promise<Uint8Array> {
      assertP256SecretKey(secretKey);
      assertBytes(message, 'message');
      return new Uint8Array(await s.sign(SHA256_ECDSA, await keys.signing(secretKey), own(message)));
    },

    async p256Verify(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): Promise<boolean> {
      if (!isVerifiableSignature(publicKey, message, signature)) return false;
      try {
        return await s.verify(SHA256_ECDSA, await keys.publicKey(publicKey, ECDSA), own(signature), own(message));
      } catch {
        return false;
      }
    },
  };
}

/** AES-256-GCM on subtle; ChaCha20-Poly1305 (which WebCrypto lacks) on @noble. */
function aeadOperations(s: WebCryptoSubtle, keys: WebCryptoKeys): Pick<CryptoProvider, 'aeadSeal' | 'aeadOpen'> {
  const gcmParams = (nonce: Uint8Array, ad: Uint8Array) => ({ name: 'AES-GCM', iv: own(nonce), additionalData: own(ad), tagLength: 128 }) as const;
  return {
    async aeadSeal(alg: AeadAlgorithm, key: Uint8Array, nonce: Uint8Array, plaintext: Uint8Array, ad: Uint8Array): Promise<Uint8Array> {
      assertBytes(plaintext, 'plaintext');
      if (assertAeadArguments(alg, key, nonce, ad) !== 'aes-256-gcm') return nobleCrypto.aeadSeal(alg, key, nonce, plaintext, ad);
      return new Uint8Array(await s.encrypt(gcmParams(nonce, ad), await keys.aes(key, 'encrypt'), own(plaintext)));
    },

    async aeadOpen(alg: AeadAlgorithm, key: Uint8Array, nonce: Uint8Array, ciphertext: Uint8Array, ad: Uint8Array): Promise<Uint8Array> {
      assertBytes(ciphertext, 'ciphertext');
      if (assertAeadArguments(alg, key, nonce, ad) !== 'aes-256-gcm') return nobleCrypto.aeadOpen(alg, key, nonce, ciphertext, ad);
      assertAeadCiphertext(ciphertext);
      const cryptoKey = await keys.aes(key, 'decrypt');
      try {
        return new Uint8Array(await s.decrypt(gcmParams(nonce, ad), cryptoKey, own(ciphertext)));
      } catch (cause) {
        throw new RemoteError('ERR_DECRYPT', 'authentication tag mismatch', { cause });
      }
    },
  };
}
