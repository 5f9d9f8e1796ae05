/**
 * Grants: an owner's signed statement that a friend's phone key may use this car, with which
 * permissions and for which time window. Portable as a string (`pkgrant1.<base64url>`), presented
 * by the friend's phone inside its first handshake (COMMAND extension 0x01), and redeemed by the
 * car, which enrolls the friend before answering. Layout: docs/PROTOCOL.md §11.
 *
 *   u8 version=1 ‖ grantId 16 ‖ carId 16 ‖ subject 65 ‖ issuerKeyId 8 ‖ permissions (u16 bits,
 *   u8 n, n codes) ‖ notBefore u64 ‖ notAfter u64 ‖ u8 labelLen ‖ label ‖ signature 64
 *
 * signature = ECDSA-P256-SHA256(issuer signing key, "proxkey grant v1" ‖ all preceding bytes).
 */
import { concatBytes, copyOf, fromBase64Url, fromHex, toBase64Url, toHex, utf8 } from '../bytes.js';
import type { KeyCustody } from '../crypto/custody.js';
import { assertP256PublicKey } from '../crypto/p256.js';
import type { CryptoProvider, RandomSource } from '../crypto/provider.js';
import { assertArg, assertBytes, RemoteError } from '../errors.js';
import { ByteReader } from '../protocol/reader.js';
import { decodePermissions, encodePermissions } from './permissions.js';

/** The grant format version this implementation writes and reads. */
export const GRANT_VERSION = 1;
const SIGNING_LABEL = utf8('proxkey grant v1');
const PREFIX = 'pkgrant1.';
const MAX_LABEL = 32;
const MAX_TIME = 2 ** 53 - 1;

/** What an owner grants a friend's key: the car, the key, permissions, the validity window, a label. */
export interface GrantFields {
  /** 16 random bytes, hex: the handle revocation uses. */
  readonly grantId: string;
  /** The car's id: hex(SHA-256(car static public key)[0..16]). */
  readonly carId: string;
  /** The friend's phone static public key (65 bytes). */
  readonly subject: Uint8Array;
  /** The issuing owner's key id. */
  readonly issuerKeyId: string;
  readonly permissions: readonly string[];
  /** Validity window, ms since the Unix epoch, inclusive; 0 = unbounded. */
  readonly notBefore: number;
  readonly notAfter: number;
  readonly label: string;
}

/** A signed grant: its fields, the signed bytes and the owner's signature. */
export interface Grant extends GrantFields {
  /** The signed bytes (everything before the signature). */
  readonly body: Uint8Array;
  readonly signature: Uint8Array;
  /** body ‖ signature: what travels. */
  readonly bytes: Uint8Array;
}

/** A car's id for grants: first 16 bytes of SHA-256 of its static public key, hex. */
export function carIdOf(crypto: CryptoProvider, vehicleKey: Uint8Array): string {
  return toHex(crypto.sha256(vehicleKey).subarray(0, 16));
}

function u64(n: number): Uint8Array {
  const out = new Uint8Array(8);
  new DataView(out.buffer).setBigUint64(0, BigInt(n));
  return out;
}

function encodeBody(f: GrantFields): Uint8Array {
  const label = utf8(f.label);
  return concatBytes(
    Uint8Array.of(GRANT_VERSION),
    fromHex(f.grantId),
    fromHex(f.carId),
    f.subject,
    fromHex(f.issuerKeyId),
    encodePermissions(f.permissions),
    u64(f.notBefore),
    u64(f.notAfter),
    Uint8Array.of(label.length),
    label,
  );
}

/** Issue a grant: the owner's custody signs it. */
export async function issueGrant(options: {
  readonly crypto: CryptoProvider;
  readonly random: RandomSource;
  readonly issuer: KeyCustody;
  readonly issuerKeyId: string;
  readonly vehicleKey: Uint8Array;
  readonly subject: Uint8Array;
  readonly permissions: readonly string[];
  readonly notBefore?: number;
  readonly notAfter?: number;
  readonly label?: string;
}): Promise<Grant> {
  assertP256PublicKey(options.subject, 'grant subject key');
  assertBytes(options.subject, 'subject', 65);
  assertArg(/^[0-9a-f]{16}$/.test(options.issuerKeyId), 'issuerKeyId: 16 hex chars');
  const notBefore = options.notBefore ?? 0;
  const notAfter = options.notAfter ?? 0;
  assertArg(Number.isSafeInteger(notBefore) && notBefore >= 0, 'notBefore: ms since epoch');
  assertArg(Number.isSafeInteger(notAfter) && notAfter >= 0, 'notAfter: ms since epoch');
  assertArg(notAfter === 0 || notAfter >= notBefore, 'notAfter must not be before notBefore');
  const label = options.label ?? '';
  assertArg(utf8(label).length <= MAX_LABEL, `label: at most ${MAX_LABEL} bytes`);
  assertArg(options.permissions.length > 0, 'permissions: at least one');
  const fields: GrantFields = {
    grantId: toHex(options.random(16)),
    carId: carIdOf(options.crypto, options.vehicleKey),
    subject: copyOf(options.subject),
    issuerKeyId: options.issuerKeyId,
    permissions: [...options.permissions],
    notBefore,
    notAfter,
    label,
  };
  const body = encodeBody(fields);
  const signature = await options.issuer.sign(concatBytes(SIGNING_LABEL, body));
  return decodeGrant(concatBytes(body, signature)); // canonical form (sorted permissions)
}

/** Parse a grant's bytes (canonical; typed `ERR_DECODE`). Does not verify the signature. */
export function decodeGrant(bytes: Uint8Array): Grant {
  const r = new ByteReader(bytes, 'grant');
  if (r.u8() !== GRANT_VERSION) throw new RemoteError('ERR_UNSUPPORTED', 'grant: unknown version');
  const grantId = toHex(r.take(16));
  const carId = toHex(r.take(16));
  const subject = r.take(65);
  const issuerKeyId = toHex(r.take(8));
  const bits = r.u16();
  const n = r.u8();
  const codes = [...r.take(n)];
  const permissions = decodePermissions(bits, codes);
  if (permissions.length === 0) r.fail('no permissions');
  const notBefore = Number(new DataView(r.take(8).buffer).getBigUint64(0));
  const notAfter = Number(new DataView(r.take(8).buffer).getBigUint64(0));
  if (notBefore > MAX_TIME || notAfter > MAX_TIME || (notAfter !== 0 && notAfter < notBefore)) r.fail('bad window');
  const labelLen = r.u8();
  if (labelLen > MAX_LABEL) r.fail('label too long');
  let label: string;
  try {
    label = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(r.take(labelLen));
  } catch {
    return r.fail('label is not UTF-8');
  }
  const bodyLength = bytes.length - r.remaining;
  const signature = r.take(64);
  r.end();
  const body = bytes.slice(0, bodyLength);
  return { grantId, carId, subject, issuerKeyId, permissions, notBefore, notAfter, label, body, signature, bytes: bytes.slice() };
}

/** True when `grant.signature` is the issuer's ECDSA signature over the grant. */
export function verifyGrantSignature(crypto: CryptoProvider, grant: Grant, issuerSigningKey: Uint8Array): Promise<boolean> {
  return crypto.p256Verify(issuerSigningKey, concatBytes(SIGNING_LABEL, grant.body), grant.signature);
}

/** `pkgrant1.<base64url>`: what the owner sends the friend (message, QR code, …). */
export function grantToString(grant: Grant): string {
  return PREFIX + toBase64Url(grant.bytes);
}

/** Parse a portable grant string; typed `ERR_DECODE` on anything else. */
export function grantFromString(s: string): Grant {
  const t = s.trim();
  if (!t.startsWith(PREFIX)) throw new RemoteError('ERR_DECODE', `grant: expected a string starting with ${PREFIX}`);
  let bytes: Uint8Array;
  try {
    bytes = fromBase64Url(t.slice(PREFIX.length));
  } catch {
    throw new RemoteError('ERR_DECODE', 'grant: invalid base64url');
  }
  return decodeGrant(bytes);
}
