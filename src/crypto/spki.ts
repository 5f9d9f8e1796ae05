/**
 * P-256 public keys in X.509 SubjectPublicKeyInfo form (RFC 5280 §4.1.2.7, RFC 5480 §2), the
 * format Android KeyStore (`getEncoded()`), WebCrypto (`exportKey('spki')`) and OpenSSL emit:
 *
 * ```
 * SEQUENCE {
 *   SEQUENCE { OID 1.2.840.10045.2.1 (id-ecPublicKey), OID 1.2.840.10045.3.1.7 (prime256v1) }
 *   BIT STRING (0 unused bits) { SEC1 point: 04‖X‖Y or 02|03‖X }
 * }
 * ```
 *
 * The parser is strict DER and accepts nothing else: named curve P-256 only (no explicit
 * `specifiedCurve` parameters, no `implicitlyCA` NULL — RFC 5480 §2.1.1 forbids both), minimal
 * definite lengths, no trailing bytes at any level, no extra elements.
 */
import { concatBytes, equalBytes } from '../bytes.js';
import { LocalError, RemoteError, assertBytes } from '../errors.js';
import { isP256PublicKey, p256Uncompressed } from './p256.js';

const TAG_SEQUENCE = 0x30;
const TAG_OID = 0x06;
const TAG_BIT_STRING = 0x03;
const TAG_NULL = 0x05;

/** DER content bytes of OID 1.2.840.10045.2.1 (id-ecPublicKey). */
const OID_EC_PUBLIC_KEY = Uint8Array.of(0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01);
/** DER content bytes of OID 1.2.840.10045.3.1.7 (prime256v1 / secp256r1). */
const OID_P256 = Uint8Array.of(0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07);

/** Everything before the 65-byte point in the (unique) DER encoding of an uncompressed P-256 SPKI. */
const SPKI_UNCOMPRESSED_PREFIX = Uint8Array.of(
  0x30,
  0x59, // SEQUENCE, 89 bytes
  0x30,
  0x13, // SEQUENCE, 19 bytes
  0x06,
  0x07,
  ...OID_EC_PUBLIC_KEY,
  0x06,
  0x08,
  ...OID_P256,
  0x03,
  0x42,
  0x00, // BIT STRING, 66 bytes, 0 unused bits
);

function decodeError(message: string): RemoteError {
  return new RemoteError('ERR_DECODE', `SubjectPublicKeyInfo: ${message}`);
}

interface Tlv {
  /** Offset of the first content byte. */
  readonly start: number;
  /** Offset just past the last content byte. */
  readonly end: number;
}

/** Reads one DER TLV with the expected tag inside `der[pos, limit)`. */
function readTlv(der: Uint8Array, pos: number, limit: number, tag: number, what: string): Tlv {
  if (pos >= limit) throw decodeError(`${what}: missing`);
  if (der[pos] !== tag) throw decodeError(`${what}: expected tag 0x${tag.toString(16)}, got 0x${der[pos]!.toString(16)}`);
  pos++;
  if (pos >= limit) throw decodeError(`${what}: truncated length`);
  const first = der[pos++]!;
  let length: number;
  if (first < 0x80) {
    length = first;
  } else if (first === 0x80) {
    throw decodeError(`${what}: indefinite length is not DER`);
  } else {
    const n = first & 0x7f;
    // Nothing in a P-256 SPKI needs more than one length byte; allow two for the error message's sake.
    if (n > 2) throw decodeError(`${what}: length field too long`);
    if (pos + n > limit) throw decodeError(`${what}: truncated length`);
    if (der[pos] === 0) throw decodeError(`${what}: non-minimal length (leading zero)`);
    length = 0;
    for (let i = 0; i < n; i++) length = (length << 8) | der[pos++]!;
    if (length < 0x80) throw decodeError(`${what}: non-minimal length (long form for < 128)`);
  }
  if (length > limit - pos) throw decodeError(`${what}: length ${length} exceeds the enclosing data`);
  return { start: pos, end: pos + length };
}

/**
 * Decode a DER SubjectPublicKeyInfo holding a P-256 key; returns the 65-byte uncompressed point.
 * A compressed point inside is accepted (and decompressed).
 *
 * Throws `RemoteError('ERR_DECODE')` on any DER or structure error (wrong algorithm or curve OID,
 * explicit or implicit curve parameters, non-minimal lengths, trailing bytes, unused bits), and
 * `RemoteError('ERR_INVALID_POINT')` when the structure is right but the point is not a valid
 * P-256 public key (bad length or prefix, off the curve, identity, coordinate ≥ p).
 */
export function p256PublicKeyFromSpki(der: Uint8Array): Uint8Array {
  assertBytes(der, 'SubjectPublicKeyInfo');
  const spki = readTlv(der, 0, der.length, TAG_SEQUENCE, 'outer SEQUENCE');
  if (spki.end !== der.length) throw decodeError('trailing bytes after the outer SEQUENCE');

  const alg = readTlv(der, spki.start, spki.end, TAG_SEQUENCE, 'AlgorithmIdentifier');
  const algOid = readTlv(der, alg.start, alg.end, TAG_OID, 'algorithm');
  if (!equalBytes(der.subarray(algOid.start, algOid.end), OID_EC_PUBLIC_KEY)) throw decodeError('algorithm is not id-ecPublicKey');
  if (algOid.end < alg.end && der[algOid.end] === TAG_SEQUENCE) throw decodeError('explicit curve parameters are not supported (named curve P-256 only)');
  if (algOid.end < alg.end && der[algOid.end] === TAG_NULL) throw decodeError('implicit curve parameters are not supported (named curve P-256 only)');
  const curveOid = readTlv(der, algOid.end, alg.end, TAG_OID, 'namedCurve');
  if (!equalBytes(der.subarray(curveOid.start, curveOid.end), OID_P256)) throw decodeError('curve is not P-256');
  if (curveOid.end !== alg.end) throw decodeError('trailing bytes in AlgorithmIdentifier');

  const bits = readTlv(der, alg.end, spki.end, TAG_BIT_STRING, 'subjectPublicKey');
  if (bits.end !== spki.end) throw decodeError('trailing bytes after subjectPublicKey');
  if (bits.end === bits.start) throw decodeError('subjectPublicKey: empty BIT STRING');
  if (der[bits.start] !== 0) throw decodeError('subjectPublicKey: unused bits must be 0');

  const point = der.subarray(bits.start + 1, bits.end);
  if (!isP256PublicKey(point)) throw new RemoteError('ERR_INVALID_POINT', 'invalid P-256 public key in SubjectPublicKeyInfo');
  return p256Uncompressed(point);
}

/** Encode a 65-byte uncompressed P-256 public key as DER SubjectPublicKeyInfo (91 bytes). */
export function p256PublicKeyToSpki(publicKey: Uint8Array): Uint8Array {
  assertBytes(publicKey, 'P-256 public key', 65);
  if (!isP256PublicKey(publicKey)) throw new LocalError('ERR_INVALID_ARGUMENT', 'P-256 public key: not a valid uncompressed point');
  return concatBytes(SPKI_UNCOMPRESSED_PREFIX, publicKey);
}
