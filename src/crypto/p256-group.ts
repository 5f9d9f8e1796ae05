/**
 * The few P-256 prime-order-group operations SPAKE2+ (RFC 9383) needs, on `p256.Point` from
 * @noble/curves. P-256 has cofactor h = 1, so "on the curve" ⇔ "in the group" and the RFC's
 * `h*` multiplications are no-ops.
 *
 * Rules enforced here:
 * - Received elements are decoded only from the 65-byte SEC1 uncompressed form (RFC 9383 §4:
 *   P-256 elements are encoded uncompressed) and validated (coordinates < p, on the curve, not
 *   the identity); anything else throws `RemoteError('ERR_INVALID_POINT')`.
 * - The identity is never encoded: {@link encodePoint} refuses it, so it can never be sent or
 *   hashed into a transcript.
 * - Secret scalars are multiplied with noble's constant-time `multiply` (scalars in [1, n-1]).
 */
import { p256 } from '@noble/curves/nist.js';
import { bytesToNumberBE, numberToBytesBE } from '@noble/curves/utils.js';
import { LocalError, RemoteError, assertBytes } from '../errors.js';
import type { RandomSource } from './provider.js';

/** A P-256 group element (projective, immutable). */
export type P256Point = typeof p256.Point.BASE;

/** The prime order n of the P-256 group (the RFC's `p`). */
export const P256_ORDER: bigint = p256.Point.Fn.ORDER;
/** Byte length of an encoded scalar (big-endian, fixed width). */
export const P256_SCALAR_BYTES = 32;
/** Byte length of an encoded element (SEC1 uncompressed `04 ‖ X ‖ Y`). */
export const P256_POINT_BYTES = 65;

/** The generator G (the RFC's `P`). */
export const P256_GENERATOR: P256Point = p256.Point.BASE;

/**
 * SPAKE2+ constant M for P-256 (RFC 9383 §4; same as RFC 9382 §6): SEC1 compressed encoding as
 * printed in the RFC. Generated from the seed `1.2.840.10045.3.1.7 point generation seed (M)`.
 */
export const SPAKE2PLUS_P256_M_COMPRESSED = '02886e2f97ace46e55ba9dd7242579f2993b64e16ef3dcab95afd497333d8fa12f';
/** SPAKE2+ constant N for P-256 (RFC 9383 §4), seed `1.2.840.10045.3.1.7 point generation seed (N)`. */
export const SPAKE2PLUS_P256_N_COMPRESSED = '03d8bbd6c639c62937b04d997f38c3770719c629d7014d49a24b4f98baa1292b49';

/** M as a group element. */
export const SPAKE2PLUS_P256_M: P256Point = p256.Point.fromHex(SPAKE2PLUS_P256_M_COMPRESSED);
/** N as a group element. */
export const SPAKE2PLUS_P256_N: P256Point = p256.Point.fromHex(SPAKE2PLUS_P256_N_COMPRESSED);

/**
 * Decode and validate a received element: exactly 65 bytes, prefix 0x04, coordinates < p, on the
 * curve, not the identity. Anything else → `RemoteError('ERR_INVALID_POINT')`.
 */
export function decodePoint(bytes: Uint8Array, what = 'point'): P256Point {
  if (!(bytes instanceof Uint8Array)) throw new LocalError('ERR_INVALID_ARGUMENT', `${what}: expected Uint8Array`);
  if (bytes.length !== P256_POINT_BYTES || bytes[0] !== 0x04)
    throw new RemoteError('ERR_INVALID_POINT', `${what}: expected a 65-byte SEC1 uncompressed P-256 point`);
  let point: P256Point;
  try {
    // fromBytes runs assertValidity(): coordinates in range, on the curve, not the identity.
    point = p256.Point.fromBytes(bytes);
  } catch (cause) {
    throw new RemoteError('ERR_INVALID_POINT', `${what}: not a valid P-256 point`, { cause });
  }
  if (point.is0()) throw new RemoteError('ERR_INVALID_POINT', `${what}: identity element`);
  return point;
}

/** True iff `point` is the identity (point at infinity). */
export function isIdentity(point: P256Point): boolean {
  return point.is0();
}

/**
 * Encode a non-identity element as 65-byte SEC1 uncompressed. The identity has no encoding here:
 * callers must check {@link isIdentity} first; reaching this with it is a bug (ERR_INVALID_STATE).
 */
export function encodePoint(point: P256Point): Uint8Array {
  if (point.is0()) throw new LocalError('ERR_INVALID_STATE', 'refusing to encode the identity element');
  return point.toBytes(false);
}

/** a + b. */
export function pointAdd(a: P256Point, b: P256Point): P256Point {
  return a.add(b);
}

/** a − b. */
export function pointSubtract(a: P256Point, b: P256Point): P256Point {
  return a.subtract(b);
}

/** k · point, constant-time in k. `k` must be in [1, n-1]. */
export function scalarMultiply(point: P256Point, k: bigint): P256Point {
  assertScalarInRange(k);
  return point.multiply(k);
}

/** k · G, constant-time in k. `k` must be in [1, n-1]. */
export function baseMultiply(k: bigint): P256Point {
  assertScalarInRange(k);
  return P256_GENERATOR.multiply(k);
}

function assertScalarInRange(k: bigint): void {
  if (typeof k !== 'bigint' || k <= 0n || k >= P256_ORDER) throw new LocalError('ERR_INVALID_ARGUMENT', 'P-256 scalar out of range [1, n-1]');
}

/** Interpret `bytes` (any length) as a big-endian integer and reduce it mod n (RFC 9383 §3.2: `w = ws mod p`). */
export function reduceScalar(bytes: Uint8Array): bigint {
  assertBytes(bytes, 'scalar bytes');
  if (bytes.length === 0) return 0n;
  return bytesToNumberBE(bytes) % P256_ORDER;
}

/**
 * Decode a fixed-width 32-byte big-endian scalar, which must be in [1, n-1] (no silent reduction).
 * Misuse → `LocalError('ERR_INVALID_ARGUMENT')`.
 */
export function scalarFromBytes(bytes: Uint8Array, what = 'scalar'): bigint {
  assertBytes(bytes, what, P256_SCALAR_BYTES);
  const k = bytesToNumberBE(bytes);
  if (k <= 0n || k >= P256_ORDER) throw new LocalError('ERR_INVALID_ARGUMENT', `${what}: out of range [1, n-1]`);
  return k;
}

/** Encode a scalar in [0, n-1] as 32 bytes big-endian. */
export function scalarToBytes(k: bigint): Uint8Array {
  if (typeof k !== 'bigint' || k < 0n || k >= P256_ORDER) throw new LocalError('ERR_INVALID_ARGUMENT', 'P-256 scalar out of range [0, n-1]');
  return numberToBytesBE(k, P256_SCALAR_BYTES);
}

/**
 * A uniformly random scalar in [1, n-1]: 40 random bytes (n's length + 64 bits, bias ≤ 2^-64,
 * FIPS 186-5 A.2.1 style) reduced mod (n − 1), plus 1.
 */
export function randomScalar(random: RandomSource): bigint {
  const len = P256_SCALAR_BYTES + 8;
  const bytes = random(len);
  if (!(bytes instanceof Uint8Array) || bytes.length !== len)
    throw new LocalError('ERR_INVALID_ARGUMENT', `random source returned ${bytes?.length} bytes, wanted ${len}`);
  const k = (bytesToNumberBE(bytes) % (P256_ORDER - 1n)) + 1n;
  bytes.fill(0);
  return k;
}
