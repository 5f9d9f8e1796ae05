/**
 * P-256 public-key validation (SEC 1 v2 §3.2.2.1 "partial public-key validation" plus the
 * cofactor-1 shortcut: on the curve ⇒ in the prime-order group). Every public key proxkey
 * receives passes through here before it is used.
 */
import { p256 } from '@noble/curves/nist.js';
import { copyOf, equalBytes } from '../bytes.js';
import { LocalError, RemoteError, assertBytes } from '../errors.js';

/**
 * Arrays already found valid, each with a copy of the bytes it held then. One transaction hands
 * the same received key to several checks (Noise on receipt, then every ECDH that uses it); only
 * the first decodes the point. A hit needs the array to still hold exactly those bytes, so an
 * array changed since is validated again. Entries die with their array.
 */
const validated = new WeakMap<Uint8Array, Uint8Array>();

/**
 * A copy of what `bytes` holds now, if that is a valid P-256 public key (else undefined). The
 * array is read once: the copy is what is decoded, remembered and returned, so an array another
 * thread changes meanwhile (a SharedArrayBuffer view) cannot pair a validation with other bytes.
 */
function validatedCopy(bytes: unknown): Uint8Array<ArrayBuffer> | undefined {
  if (!(bytes instanceof Uint8Array)) return undefined;
  const copy = copyOf(bytes);
  const ok = (copy.length === 65 && copy[0] === 0x04) || (copy.length === 33 && (copy[0] === 0x02 || copy[0] === 0x03));
  if (!ok) return undefined;
  const seen = validated.get(bytes);
  if (seen !== undefined && equalBytes(seen, copy)) return copy;
  try {
    // fromBytes decodes and runs assertValidity(): coordinates < p, on the curve, not the identity.
    p256.Point.fromBytes(copy);
  } catch {
    return undefined;
  }
  validated.set(bytes, copyOf(copy));
  return copy;
}

/** Accepted encodings: SEC1 uncompressed (65 B, `04‖X‖Y`) and compressed (33 B, `02|03‖X`). */
export function isP256PublicKey(bytes: Uint8Array): boolean {
  return validatedCopy(bytes) !== undefined;
}

/** Throws `RemoteError('ERR_INVALID_POINT')` unless `bytes` is a valid P-256 public key. */
export function assertP256PublicKey(bytes: Uint8Array, what = 'public key'): void {
  if (!isP256PublicKey(bytes)) throw new RemoteError('ERR_INVALID_POINT', `invalid P-256 ${what}`);
}

/**
 * A validated copy of the public key `bytes` holds (same encoding, 65 or 33 bytes): use it instead
 * of `bytes`, which could change after the check. Throws like {@link assertP256PublicKey}.
 */
export function p256PublicKeySnapshot(bytes: Uint8Array, what = 'public key'): Uint8Array<ArrayBuffer> {
  const copy = validatedCopy(bytes);
  if (copy === undefined) throw new RemoteError('ERR_INVALID_POINT', `invalid P-256 ${what}`);
  return copy;
}

/** Re-encode a valid P-256 public key (33 or 65 bytes) in the 65-byte uncompressed form (always a new array). */
export function p256Uncompressed(bytes: Uint8Array): Uint8Array {
  const copy = p256PublicKeySnapshot(bytes);
  return copy.length === 65 ? copy : p256.Point.fromBytes(copy).toBytes(false);
}

/** Throws `LocalError('ERR_INVALID_ARGUMENT')` unless `secretKey` is 32 bytes holding a scalar in [1, n-1]. */
export function assertP256SecretKey(secretKey: Uint8Array): void {
  assertBytes(secretKey, 'P-256 secret key', 32);
  if (!p256.utils.isValidSecretKey(secretKey)) throw new LocalError('ERR_INVALID_ARGUMENT', 'P-256 secret key: scalar out of range [1, n-1]');
}

/**
 * A range-checked copy of the scalar `secretKey` holds, read once: check, import and cache that
 * copy, never `secretKey` again (another thread may change a shared array in between). Throws like
 * {@link assertP256SecretKey} (the copy wiped).
 */
export function p256SecretKeySnapshot(secretKey: Uint8Array): Uint8Array<ArrayBuffer> {
  assertBytes(secretKey, 'P-256 secret key', 32);
  const copy = copyOf(secretKey);
  try {
    assertP256SecretKey(copy);
  } catch (e) {
    copy.fill(0);
    throw e;
  }
  return copy;
}

/**
 * The argument check every provider's `p256Verify` runs before any curve work: a 64-byte
 * signature, a byte message and a valid public key. `false` means "answer false, do not throw".
 */
export function isVerifiableSignature(publicKey: unknown, message: unknown, signature: unknown): boolean {
  if (!(signature instanceof Uint8Array) || signature.length !== 64) return false;
  if (!(message instanceof Uint8Array)) return false;
  return publicKey instanceof Uint8Array && isP256PublicKey(publicKey);
}
