/**
 * `nodeCrypto`: the {@link CryptoProvider} on node:crypto (OpenSSL), ≈ 15–20× faster P-256 than
 * pure JavaScript — the default of the car daemon and the CLI. It behaves exactly like
 * `nobleCrypto` on every input (same accepted encodings, same errors, same messages); the
 * provider test suites run both on the same vectors.
 *
 * How the native API's differences are absorbed:
 * - Every public key is validated by proxkey (`assertP256PublicKey`: SEC1 65-byte `04` or 33-byte
 *   compressed, coordinates < p, on the curve, not the identity) *before* OpenSSL sees it; any
 *   native failure that still happens maps to `RemoteError('ERR_INVALID_POINT')`, any AEAD failure
 *   to `RemoteError('ERR_DECRYPT')`.
 * - Secret scalars are copied once, the copy range-checked and imported: ECDH through `createECDH`,
 *   ECDSA through a JWK key object; imported objects are cached per secret array
 *   ({@link SecretKeyCache}), `forgetSecret` drops them.
 * - ECDSA uses `dsaEncoding: 'ieee-p1363'` (64-byte `r ‖ s`). OpenSSL signs with random k and does
 *   not normalise s, so about half its signatures are high-S; every provider's verify accepts both.
 * - XChaCha20-Poly1305 (not in OpenSSL) and nothing else is delegated to `nobleCrypto`.
 * - Node returns `Buffer`s, some of them views into a shared pool: results are plain `Uint8Array`s
 *   (a view when the Buffer owns its memory, else a copy).
 */
import { copyOf } from '../bytes.js';
import {
  createCipheriv,
  createDecipheriv,
  createECDH,
  hash as oneShotHash,
  createHmac,
  createPrivateKey,
  createPublicKey,
  sign as nodeSign,
  verify as nodeVerify,
  type ECDH,
  type KeyObject,
} from 'node:crypto';
import { assertAeadArguments, assertAeadCiphertext, assertHkdfArguments } from '../crypto/arguments.js';
import { nobleCrypto } from '../crypto/noble.js';
import { isVerifiableSignature, p256PublicKeySnapshot, p256SecretKeySnapshot, p256Uncompressed } from '../crypto/p256.js';
import type { AeadAlgorithm, CryptoProvider, P256KeyPair } from '../crypto/provider.js';
import { SecretKeyCache } from '../crypto/secret-key-cache.js';
import { p256PublicKeyToSpki } from '../crypto/spki.js';
import { RemoteError, assertBytes } from '../errors.js';

const TAG_LENGTH = 16;
const ecdhKeys = new SecretKeyCache<ECDH>();
const signingKeys = new SecretKeyCache<KeyObject>();

/**
 * A plain `Uint8Array` for a Node `Buffer`: a view of the same memory when the Buffer owns its
 * whole ArrayBuffer (OpenSSL results do), a copy when it is a slice of Node's shared pool.
 */
const copy = (b: Uint8Array): Uint8Array =>
  b.byteOffset === 0 && b.buffer.byteLength === b.length && b.buffer instanceof ArrayBuffer ? new Uint8Array(b.buffer) : new Uint8Array(b);

/**
 * The OpenSSL ECDH object of a secret scalar; it also yields the public key. On a miss the array
 * is read once ({@link p256SecretKeySnapshot}): that copy is range-checked, imported and kept by
 * the cache, so a hit means the array still holds exactly the bytes that were checked.
 */
function ecdhKey(secretKey: Uint8Array): ECDH {
  return ecdhKeys.get(secretKey) ?? rememberEcdhKey(secretKey, p256SecretKeySnapshot(secretKey));
}

/** Import a range-checked snapshot into an OpenSSL ECDH object, cached against `secretKey` (the cache keeps the snapshot). */
function rememberEcdhKey(secretKey: Uint8Array, snapshot: Uint8Array): ECDH {
  return ecdhKeys.set(secretKey, snapshot, importEcdhKey(snapshot));
}

function importEcdhKey(checkedSecretKey: Uint8Array): ECDH {
  const ecdh = createECDH('prime256v1');
  ecdh.setPrivateKey(checkedSecretKey);
  return ecdh;
}

/** An ECDSA private key object (JWK import: d plus the public coordinates, no DER parsing), from one snapshot of the array. */
function signingKey(secretKey: Uint8Array): KeyObject {
  const cached = signingKeys.get(secretKey);
  if (cached) return cached;
  const snapshot = p256SecretKeySnapshot(secretKey);
  const publicKey = importEcdhKey(snapshot).getPublicKey();
  const b64 = (bytes: Uint8Array) => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString('base64url');
  const key = createPrivateKey({
    key: { kty: 'EC', crv: 'P-256', d: b64(snapshot), x: b64(publicKey.subarray(1, 33)), y: b64(publicKey.subarray(33)) },
    format: 'jwk',
  });
  return signingKeys.set(secretKey, snapshot, key);
}

/**
 * HKDF-SHA256 (RFC 5869) written out over native HMAC: extract, then one HMAC per 32-byte block.
 * Node's `hkdfSync` fetches OpenSSL's KDF and wraps the key in a KeyObject on every call, which
 * costs ≈ 1.4× the three HMACs of a 64-byte Noise HKDF (measured side by side); it also caps
 * `info` at 1024 bytes and refuses a zero-length output, both of which RFC 5869 allows. An empty
 * salt is HMAC's all-zero key, as the RFC's default salt is.
 */
function hkdfByHmac(ikm: Uint8Array, salt: Uint8Array, info: Uint8Array, length: number): Uint8Array {
  const out = new Uint8Array(length);
  const prk = createHmac('sha256', salt).update(ikm).digest();
  let block: Buffer | undefined;
  const counter = new Uint8Array(1);
  for (let offset = 0; offset < length; offset += 32) {
    const mac = createHmac('sha256', prk);
    if (block) mac.update(block);
    counter[0]!++;
    block?.fill(0);
    block = mac.update(info).update(counter).digest();
    out.set(length - offset < 32 ? block.subarray(0, length - offset) : block, offset);
  }
  block?.fill(0);
  prk.fill(0);
  return out;
}

type NativeAead = 'aes-256-gcm' | 'chacha20-poly1305';

const cipherFor = (alg: NativeAead, key: Uint8Array, nonce: Uint8Array) =>
  alg === 'aes-256-gcm' ? createCipheriv(alg, key, nonce, { authTagLength: TAG_LENGTH }) : createCipheriv(alg, key, nonce, { authTagLength: TAG_LENGTH });
const decipherFor = (alg: NativeAead, key: Uint8Array, nonce: Uint8Array) =>
  alg === 'aes-256-gcm' ? createDecipheriv(alg, key, nonce, { authTagLength: TAG_LENGTH }) : createDecipheriv(alg, key, nonce, { authTagLength: TAG_LENGTH });

function nativeSeal(alg: NativeAead, key: Uint8Array, nonce: Uint8Array, plaintext: Uint8Array, ad: Uint8Array): Uint8Array {
  const cipher = cipherFor(alg, key, nonce);
  cipher.setAAD(ad, { plaintextLength: plaintext.length });
  const head = cipher.update(plaintext);
  const tail = cipher.final();
  const out = new Uint8Array(head.length + tail.length + TAG_LENGTH);
  out.set(head, 0);
  out.set(tail, head.length);
  out.set(cipher.getAuthTag(), head.length + tail.length);
  return out;
}

function nativeOpen(alg: NativeAead, key: Uint8Array, nonce: Uint8Array, sealed: Uint8Array, ad: Uint8Array): Uint8Array {
  const body = sealed.subarray(0, sealed.length - TAG_LENGTH);
  try {
    const decipher = decipherFor(alg, key, nonce);
    decipher.setAAD(ad, { plaintextLength: body.length });
    decipher.setAuthTag(sealed.subarray(body.length));
    const head = decipher.update(body);
    const tail = decipher.final(); // throws on a tag mismatch
    const out = new Uint8Array(head.length + tail.length);
    out.set(head, 0);
    out.set(tail, head.length);
    return out;
  } catch (cause) {
    throw new RemoteError('ERR_DECRYPT', 'authentication tag mismatch', { cause });
  }
}

/** The `CryptoProvider` on `node:crypto` (OpenSSL): P-256 ≈ 15–20× faster than `nobleCrypto`, same results; XChaCha20-Poly1305 is delegated to `nobleCrypto`. */
export const nodeCrypto: CryptoProvider = Object.freeze({
  name: 'node',

  async p256KeyPairFromSecret(secretKey: Uint8Array): Promise<P256KeyPair> {
    const own = p256SecretKeySnapshot(secretKey); // a real copy: a Buffer's slice would be a view the caller then wipes
    return { secretKey: own, publicKey: copy(rememberEcdhKey(own, copyOf(own)).getPublicKey()) };
  },

  async p256Ecdh(secretKey: Uint8Array, publicKey: Uint8Array): Promise<Uint8Array> {
    const key = ecdhKey(secretKey); // range-checks a scalar it has not imported yet
    // Validation first: OpenSSL would also take (among others) hybrid 06/07 encodings. The
    // validated copy is what OpenSSL gets.
    const peer = p256PublicKeySnapshot(publicKey);
    try {
      return copy(key.computeSecret(peer));
    } catch (cause) {
      throw new RemoteError('ERR_INVALID_POINT', 'invalid P-256 public key', { cause });
    }
  },

  async p256Sign(secretKey: Uint8Array, message: Uint8Array): Promise<Uint8Array> {
    const key = signingKey(secretKey); // range-checks a scalar it has not imported yet
    assertBytes(message, 'message');
    return copy(nodeSign('sha256', message, { key, dsaEncoding: 'ieee-p1363' }));
  },

  /** Drops the cached key objects of `secretKey` and wipes the cache's copies (call before wiping it). */
  forgetSecret(secretKey: Uint8Array): void {
    ecdhKeys.forget(secretKey);
    signingKeys.forget(secretKey);
  },

  async p256Verify(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): Promise<boolean> {
    if (!isVerifiableSignature(publicKey, message, signature)) return false;
    try {
      const spki = p256PublicKeyToSpki(p256Uncompressed(publicKey));
      const key = createPublicKey({ key: Buffer.from(spki), format: 'der', type: 'spki' });
      return nodeVerify('sha256', message, { key, dsaEncoding: 'ieee-p1363' }, signature);
    } catch {
      return false;
    }
  },

  sha256(data: Uint8Array): Uint8Array {
    assertBytes(data, 'data');
    // One-shot hash (Node ≥ 20.12): no Hash object per call, the hot path of Noise's MixHash.
    return copy(oneShotHash('sha256', data, 'buffer'));
  },

  hmacSha256(key: Uint8Array, data: Uint8Array): Uint8Array {
    assertBytes(key, 'hmac key');
    assertBytes(data, 'data');
    return copy(createHmac('sha256', key).update(data).digest());
  },

  hkdfSha256(ikm: Uint8Array, salt: Uint8Array, info: Uint8Array, length: number): Uint8Array {
    assertHkdfArguments(ikm, salt, info, length);
    return hkdfByHmac(ikm, salt, info, length);
  },

  async aeadSeal(alg: AeadAlgorithm, key: Uint8Array, nonce: Uint8Array, plaintext: Uint8Array, ad: Uint8Array): Promise<Uint8Array> {
    assertBytes(plaintext, 'plaintext');
    const checked = assertAeadArguments(alg, key, nonce, ad);
    if (checked === 'xchacha20-poly1305') return nobleCrypto.aeadSeal(alg, key, nonce, plaintext, ad);
    return nativeSeal(checked, key, nonce, plaintext, ad);
  },

  async aeadOpen(alg: AeadAlgorithm, key: Uint8Array, nonce: Uint8Array, ciphertext: Uint8Array, ad: Uint8Array): Promise<Uint8Array> {
    assertBytes(ciphertext, 'ciphertext');
    const checked = assertAeadArguments(alg, key, nonce, ad);
    if (checked === 'xchacha20-poly1305') return nobleCrypto.aeadOpen(alg, key, nonce, ciphertext, ad);
    assertAeadCiphertext(ciphertext);
    return nativeOpen(checked, key, nonce, ciphertext, ad);
  },
});
