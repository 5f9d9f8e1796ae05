/**
 * The crypto suite proxkey needs, behind one small interface, so a native provider
 * (node:crypto, WebCrypto, a secure element) can replace the pure-JS @noble one without touching
 * the protocol. Public-key operations and AEAD are async (WebCrypto and hardware keystores are);
 * hashing is sync.
 *
 * Encodings (all fixed, all validated by implementations):
 * - P-256 public key: 65-byte SEC1 uncompressed point `04 ‖ X ‖ Y` (SEC 1 v2, 2.3.3).
 * - P-256 secret key: 32-byte big-endian scalar in [1, n-1].
 * - ECDH output: the 32-byte X coordinate of the shared point (SEC 1 v2, 3.3.1; RFC 5903).
 * - ECDSA signature: 64-byte IEEE P1363 `r ‖ s` over SHA-256(message) (FIPS 186-5).
 */

/** Fills `n` cryptographically secure random bytes. Injected everywhere for determinism in tests. */
export type RandomSource = (n: number) => Uint8Array;

/** Milliseconds since some epoch (monotonic where the platform allows). Injected everywhere. */
export type Clock = () => number;

/** AEAD algorithms of the suite. Key 32 bytes; nonce 12 (AES-GCM, ChaCha20-Poly1305) or 24 (XChaCha20-Poly1305); tag 16. */
export type AeadAlgorithm = 'aes-256-gcm' | 'chacha20-poly1305' | 'xchacha20-poly1305';

/** A P-256 key pair: 32-byte big-endian scalar and 65-byte uncompressed public key. */
export interface P256KeyPair {
  /** 32-byte secret scalar. Wipe it when done. */
  readonly secretKey: Uint8Array;
  /** 65-byte uncompressed public key. */
  readonly publicKey: Uint8Array;
}

/** The primitives every layer uses (P-256, SHA-256, HMAC, HKDF, AEAD); `nobleCrypto`, `nodeCrypto` and `webCryptoProvider()` implement it. Public-key ops and AEAD are async, hashing is sync. */
export interface CryptoProvider {
  /** Human-readable name, e.g. `noble` or `node`. */
  readonly name: string;

  /**
   * Derive a key pair from 32 random bytes; rejects (ERR_INVALID_ARGUMENT) a scalar outside
   * [1, n-1]. The returned `secretKey` must be the provider's own copy: callers wipe their input.
   */
  p256KeyPairFromSecret(secretKey: Uint8Array): Promise<P256KeyPair>;
  /**
   * ECDH: X coordinate of `secretKey · publicKey`. `publicKey` is validated first (length,
   * on-curve, not identity); an invalid one throws `RemoteError('ERR_INVALID_POINT')`.
   */
  p256Ecdh(secretKey: Uint8Array, publicKey: Uint8Array): Promise<Uint8Array>;
  /** ECDSA P-256 / SHA-256 signature in 64-byte P1363 form. Deterministic (RFC 6979) or randomized. */
  p256Sign(secretKey: Uint8Array, message: Uint8Array): Promise<Uint8Array>;
  /** Verify a 64-byte P1363 ECDSA P-256 / SHA-256 signature. Never throws on bad input: returns false. */
  p256Verify(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): Promise<boolean>;

  sha256(data: Uint8Array): Uint8Array;
  hmacSha256(key: Uint8Array, data: Uint8Array): Uint8Array;
  /** HKDF-SHA256 (RFC 5869), `length` ≤ 255·32. */
  hkdfSha256(ikm: Uint8Array, salt: Uint8Array, info: Uint8Array, length: number): Uint8Array;

  /** Seal: returns ciphertext ‖ 16-byte tag. */
  aeadSeal(alg: AeadAlgorithm, key: Uint8Array, nonce: Uint8Array, plaintext: Uint8Array, ad: Uint8Array): Promise<Uint8Array>;
  /** Open: returns the plaintext, or throws `RemoteError('ERR_DECRYPT')` on any authentication failure. */
  aeadOpen(alg: AeadAlgorithm, key: Uint8Array, nonce: Uint8Array, ciphertext: Uint8Array, ad: Uint8Array): Promise<Uint8Array>;

  /**
   * Optional (providers that cache imported keys: node, webcrypto): drop what is cached for this
   * secret array and wipe the provider's copy of it. Call it just before wiping the array; without
   * it the copy stays until the array is next used or collected. A native key object the platform
   * already holds keeps the scalar until it is garbage-collected: that cannot be wiped.
   */
  forgetSecret?(secretKey: Uint8Array): void;
}

/** Byte lengths of the suite's encodings. */
export const P256_PUBLIC_KEY_LENGTH = 65;
/** Bytes of a P-256 secret scalar. */
export const P256_SECRET_KEY_LENGTH = 32;
/** Bytes of a P-256 ECDSA signature in IEEE P1363 form (r ‖ s). */
export const P256_SIGNATURE_LENGTH = 64;
/** AEAD tag length in bytes (AES-256-GCM and ChaCha20-Poly1305). */
export const AEAD_TAG_LENGTH = 16;
