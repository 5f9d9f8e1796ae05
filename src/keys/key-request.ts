/**
 * A friend's key request: the public key (and a label) the friend's phone hands to the owner,
 * as a portable string `pkreq1.<base64url(u8 version ‖ 65-byte key ‖ u8 len ‖ label)>`.
 * It carries no secret; possession of the key is proven later, in the friend's handshake.
 */
import { concatBytes, fromBase64Url, toBase64Url, utf8 } from '../bytes.js';
import { assertP256PublicKey } from '../crypto/p256.js';
import { assertArg, RemoteError } from '../errors.js';
import { ByteReader } from '../protocol/reader.js';

const PREFIX = 'pkreq1.';

/** A friend's key request: their public key and an optional label. */
export interface KeyRequest {
  readonly publicKey: Uint8Array;
  readonly label: string;
}

/** The portable `pkreq1.…` string of a key request. */
export function keyRequestToString(req: KeyRequest): string {
  assertP256PublicKey(req.publicKey, 'key request public key');
  assertArg(req.publicKey.length === 65, 'key request: 65-byte public key');
  const label = utf8(req.label);
  assertArg(label.length <= 32, 'key request label: at most 32 bytes');
  return PREFIX + toBase64Url(concatBytes(Uint8Array.of(1), req.publicKey, Uint8Array.of(label.length), label));
}

/**
 * A `pkreq1.…` string read back (surrounding whitespace ignored).
 * @throws {RemoteError} `ERR_DECODE` when it is not a valid key request.
 */
export function keyRequestFromString(s: string): KeyRequest {
  const t = s.trim();
  if (!t.startsWith(PREFIX)) throw new RemoteError('ERR_DECODE', `key request: expected a string starting with ${PREFIX}`);
  let bytes: Uint8Array;
  try {
    bytes = fromBase64Url(t.slice(PREFIX.length));
  } catch {
    throw new RemoteError('ERR_DECODE', 'key request: invalid base64url');
  }
  const r = new ByteReader(bytes, 'key request');
  if (r.u8() !== 1) throw new RemoteError('ERR_UNSUPPORTED', 'key request: unknown version');
  const publicKey = r.take(65);
  assertP256PublicKey(publicKey, 'key request public key');
  const n = r.u8();
  if (n > 32) r.fail('label too long');
  const raw = r.take(n);
  r.end();
  let label: string;
  try {
    label = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(raw);
  } catch {
    return r.fail('label is not UTF-8');
  }
  return { publicKey, label };
}
