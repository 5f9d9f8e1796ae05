/**
 * `webCryptoProvider()`: a {@link CryptoProvider} on WebCrypto (`crypto.subtle`) for P-256
 * (keygen, ECDH, ECDSA) and AES-256-GCM, with @noble for what WebCrypto lacks — ChaCha20-Poly1305
 * and XChaCha20-Poly1305 (not in WebCrypto), and SHA-256 / HMAC / HKDF, which the interface wants
 * synchronous (WebCrypto's digest and deriveBits are async). For browsers and the phone adapters;
 * no Node built-ins. Behaves exactly like `nobleCrypto` on every input.
 *
 * - Public keys are validated by proxkey before import; a native import failure that still
 *   happens is `RemoteError('ERR_INVALID_POINT')`, a failed decrypt is `RemoteError('ERR_DECRYPT')`;
 *   any other native failure (on inputs proxkey validated) is `ERR_INTERNAL`, never a DOMException.
 * - Every input is read (copied) before the first await, as in the synchronous providers.
 * - Secret scalars are copied once, range-checked and imported as DER PKCS#8 (fixed prefix,
 *   {@link p256SecretKeyToPkcs8}); imported keys are cached per secret array ({@link SecretKeyCache}),
 *   a failed import is not, and `forgetSecret` drops them.
 * - WebCrypto's ECDSA signatures are already IEEE P1363 (`r ‖ s`), randomized, and not low-S
 *   normalised; every provider's verify accepts high-S.
 */
import { copyOf } from '../bytes.js';
import { LocalError, ProxkeyError, RemoteError, assertBytes } from '../errors.js';
import { assertAeadArguments, assertAeadCiphertext } from './arguments.js';
import { nobleCrypto } from './noble.js';
import { assertP256PublicKey, isVerifiableSignature, p256SecretKeySnapshot, p256Uncompressed } from './p256.js';
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
    forgetSecret: (secretKey: Uint8Array) => keys.forget(secretKey),
  });
}

/**
 * A native failure on an input proxkey already validated is the platform's (an engine that lacks
 * P-256, a transient fault): `ERR_INTERNAL`, never the raw DOMException.
 */
async function native<T>(what: string, pending: Promise<T>): Promise<T> {
  try {
    return await pending;
  } catch (cause) {
    if (cause instanceof ProxkeyError) throw cause;
    throw new ProxkeyError('ERR_INTERNAL', `WebCrypto ${what} failed: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
  }
}

/** Key objects for one provider: secret scalars imported once per array (cached), public keys and AES keys per use. */
class WebCryptoKeys {
  readonly #ecdh = new SecretKeyCache<Promise<CryptoKey>>();
  readonly #signing = new SecretKeyCache<Promise<CryptoKey>>();

  constructor(private readonly s: WebCryptoSubtle) {}

  /** Imports a validated scalar for one algorithm (PKCS#8 DER, wiped after import). */
  async #importSecret(checkedSecretKey: Uint8Array, algorithm: EcAlgorithm, extractable: boolean): Promise<CryptoKey> {
    const encoded = p256SecretKeyToPkcs8(checkedSecretKey);
    const der = copyOf(encoded);
    encoded.fill(0);
    try {
      return await native('secret key import', this.s.importKey('pkcs8', der, algorithm, extractable, algorithm.name === 'ECDH' ? ['deriveBits'] : ['sign']));
    } finally {
      der.fill(0);
    }
  }

  /** The cached import of `secretKey` for one algorithm, else a new one from one snapshot of the array. */
  #secret(cache: SecretKeyCache<Promise<CryptoKey>>, secretKey: Uint8Array, algorithm: EcAlgorithm): Promise<CryptoKey> {
    return cache.get(secretKey) ?? this.#remember(cache, secretKey, p256SecretKeySnapshot(secretKey), algorithm, false);
  }

  /**
   * Import `snapshot` (range-checked: the one copy of `secretKey` that was read) and cache the
   * import against `secretKey`; the cache keeps the snapshot. A failed import is dropped from the
   * cache, so the next call tries again.
   */
  #remember(
    cache: SecretKeyCache<Promise<CryptoKey>>,
    secretKey: Uint8Array,
    snapshot: Uint8Array,
    algorithm: EcAlgorithm,
    extractable: boolean,
  ): Promise<CryptoKey> {
    const pending = this.#importSecret(snapshot, algorithm, extractable);
    void pending.catch(() => cache.forget(secretKey, pending));
    return cache.set(secretKey, snapshot, pending);
  }

  /** The ECDH key of a key pair's own fresh, checked copy `secretKey`: extractable, so its public coordinates can be read back. */
  keyPair(secretKey: Uint8Array): Promise<CryptoKey> {
    return this.#remember(this.#ecdh, secretKey, copyOf(secretKey), ECDH, true);
  }

  ecdh(secretKey: Uint8Array): Promise<CryptoKey> {
    return this.#secret(this.#ecdh, secretKey, ECDH);
  }

  signing(secretKey: Uint8Array): Promise<CryptoKey> {
    return this.#secret(this.#signing, secretKey, ECDSA);
  }

  forget(secretKey: Uint8Array): void {
    this.#ecdh.forget(secretKey);
    this.#signing.forget(secretKey);
  }

  /** Import a validated uncompressed public key (a copy of its own, taken by the caller before any await). */
  publicKey(uncompressed: Bytes, algorithm: EcAlgorithm): Promise<CryptoKey> {
    return this.s.importKey('raw', uncompressed, algorithm, true, algorithm.name === 'ECDH' ? [] : ['verify']);
  }

  aes(key: Uint8Array, usage: 'encrypt' | 'decrypt'): Promise<CryptoKey> {
    return native('AES key import', this.s.importKey('raw', copyOf(key), 'AES-GCM', false, [usage]));
  }
}

/**
 * P-256 on subtle. Every caller input is read (and copied) before the first await, as the other
 * providers, which compute synchronously, do: a caller may reuse its buffers once the call returns.
 */
function p256Operations(s: WebCryptoSubtle, keys: WebCryptoKeys): Pick<CryptoProvider, 'p256KeyPairFromSecret' | 'p256Ecdh' | 'p256Sign' | 'p256Verify'> {
  return {
    async p256KeyPairFromSecret(secretKey: Uint8Array): Promise<P256KeyPair> {
      const copy = p256SecretKeySnapshot(secretKey);
      try {
        // The key object never leaves this provider; it is cached for the ECDHs that follow (the
        // same array comes back).
        const jwk = await native('public key export', s.exportKey('jwk', await keys.keyPair(copy)));
        const publicKey = new Uint8Array(65);
        publicKey[0] = 0x04;
        publicKey.set(base64UrlToBytes(jwk.x), 1);
        publicKey.set(base64UrlToBytes(jwk.y), 33);
        assertP256PublicKey(publicKey, 'WebCrypto public key');
        return { secretKey: copy, publicKey };
      } catch (e) {
        keys.forget(copy); // nobody else holds this copy: wipe it and what was cached for it
        copy.fill(0);
        throw e;
      }
    },

    async p256Ecdh(secretKey: Uint8Array, publicKey: Uint8Array): Promise<Uint8Array> {
      const base = keys.ecdh(secretKey);
      const peer = copyOf(p256Uncompressed(publicKey));
      const baseKey = await base;
      try {
        return new Uint8Array(await s.deriveBits({ name: 'ECDH', public: await keys.publicKey(peer, ECDH) }, baseKey, 256));
      } catch (cause) {
        throw new RemoteError('ERR_INVALID_POINT', 'invalid P-256 public key', { cause });
      }
    },

    async p256Sign(secretKey: Uint8Array, message: Uint8Array): Promise<Uint8Array> {
      const key = keys.signing(secretKey);
      assertBytes(message, 'message');
      const data = copyOf(message);
      return new Uint8Array(await native('ECDSA sign', s.sign(SHA256_ECDSA, await key, data)));
    },

    async p256Verify(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): Promise<boolean> {
      if (!isVerifiableSignature(publicKey, message, signature)) return false;
      try {
        // Copies before the first await; inside the try, as the key could change since its check.
        const [peer, sig, data] = [copyOf(p256Uncompressed(publicKey)), copyOf(signature), copyOf(message)];
        return await s.verify(SHA256_ECDSA, await keys.publicKey(peer, ECDSA), sig, data);
      } catch {
        return false;
      }
    },
  };
}

/** AES-256-GCM on subtle (inputs copied before the first await); ChaCha20-Poly1305 (which WebCrypto lacks) on @noble. */
function aeadOperations(s: WebCryptoSubtle, keys: WebCryptoKeys): Pick<CryptoProvider, 'aeadSeal' | 'aeadOpen'> {
  const gcmParams = (nonce: Uint8Array, ad: Uint8Array) => ({ name: 'AES-GCM', iv: copyOf(nonce), additionalData: copyOf(ad), tagLength: 128 }) as const;
  return {
    async aeadSeal(alg: AeadAlgorithm, key: Uint8Array, nonce: Uint8Array, plaintext: Uint8Array, ad: Uint8Array): Promise<Uint8Array> {
      assertBytes(plaintext, 'plaintext');
      if (assertAeadArguments(alg, key, nonce, ad) !== 'aes-256-gcm') return nobleCrypto.aeadSeal(alg, key, nonce, plaintext, ad);
      const [params, data, cryptoKey] = [gcmParams(nonce, ad), copyOf(plaintext), keys.aes(key, 'encrypt')];
      return new Uint8Array(await native('AES-GCM encrypt', s.encrypt(params, await cryptoKey, data)));
    },

    async aeadOpen(alg: AeadAlgorithm, key: Uint8Array, nonce: Uint8Array, ciphertext: Uint8Array, ad: Uint8Array): Promise<Uint8Array> {
      assertBytes(ciphertext, 'ciphertext');
      if (assertAeadArguments(alg, key, nonce, ad) !== 'aes-256-gcm') return nobleCrypto.aeadOpen(alg, key, nonce, ciphertext, ad);
      assertAeadCiphertext(ciphertext);
      const [params, data] = [gcmParams(nonce, ad), copyOf(ciphertext)];
      const cryptoKey = await keys.aes(key, 'decrypt');
      try {
        return new Uint8Array(await s.decrypt(params, cryptoKey, data));
      } catch (cause) {
        throw new RemoteError('ERR_DECRYPT', 'authentication tag mismatch', { cause });
      }
    },
  };
}
