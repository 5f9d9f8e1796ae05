/**
 * A share: what an owner's phone sends a friend — the owner-signed grant plus what the friend's
 * phone needs to reach the car (its static key, name, advertising secret) — sealed to the friend's
 * key, so only the friend's phone can read it. Portable string `pkshare1.<base64url>`:
 *
 *   ephemeral P-256 key 65 ‖ AES-256-GCM(k, 0¹², ad = ephemeral, payload)
 *   k = HKDF-SHA256(ECDH(ephemeral, friend), salt = ephemeral ‖ friend, info = "proxkey share v1")
 *   payload = u8 1 ‖ car key 65 ‖ advertising secret 32 ‖ u8 n ‖ car name n ‖ grant
 */
import { concatBytes, fromBase64Url, toBase64Url, utf8 } from '../bytes.js';
import type { KeyCustody } from '../crypto/custody.js';
import { generateP256KeyPair } from '../crypto/keygen.js';
import { assertP256PublicKey } from '../crypto/p256.js';
import type { CryptoProvider, RandomSource } from '../crypto/provider.js';
import { assertArg, RemoteError } from '../errors.js';
import { ByteReader } from '../protocol/reader.js';
import { decodeGrant, type Grant } from './grant.js';

const PREFIX = 'pkshare1.';
const INFO = utf8('proxkey share v1');
const NONCE = new Uint8Array(12);

/** A share opened by the friend's phone: the car's key, name and advertising secret, and the owner's grant. */
export interface Share {
  readonly vehicleKey: Uint8Array;
  readonly advertisingSecret: Uint8Array;
  readonly carName: string;
  readonly grant: Grant;
}

function shareKey(crypto: CryptoProvider, shared: Uint8Array, eph: Uint8Array, friend: Uint8Array): Uint8Array {
  return crypto.hkdfSha256(shared, concatBytes(eph, friend), INFO, 32);
}

/** Seal a share to the grant's subject (the friend's key). */
export async function sealShare(crypto: CryptoProvider, random: RandomSource, share: Share): Promise<string> {
  const name = utf8(share.carName);
  assertArg(name.length <= 64, 'car name: at most 64 bytes');
  assertArg(share.advertisingSecret.length === 32, 'advertising secret: 32 bytes');
  const payload = concatBytes(Uint8Array.of(1), share.vehicleKey, share.advertisingSecret, Uint8Array.of(name.length), name, share.grant.bytes);
  const eph = await generateP256KeyPair(crypto, random);
  const shared = await crypto.p256Ecdh(eph.secretKey, share.grant.subject);
  eph.secretKey.fill(0);
  const k = shareKey(crypto, shared, eph.publicKey, share.grant.subject);
  shared.fill(0);
  const sealed = await crypto.aeadSeal('aes-256-gcm', k, NONCE, payload, eph.publicKey);
  k.fill(0);
  return PREFIX + toBase64Url(concatBytes(eph.publicKey, sealed));
}

/** Open a share with the friend's key custody. Typed errors: ERR_DECODE, ERR_DECRYPT, ERR_INVALID_POINT. */
export async function openShare(crypto: CryptoProvider, custody: KeyCustody, s: string): Promise<Share> {
  const t = s.trim();
  if (!t.startsWith(PREFIX)) throw new RemoteError('ERR_DECODE', `share: expected a string starting with ${PREFIX}`);
  let bytes: Uint8Array;
  try {
    bytes = fromBase64Url(t.slice(PREFIX.length));
  } catch {
    throw new RemoteError('ERR_DECODE', 'share: invalid base64url');
  }
  if (bytes.length < 65 + 16) throw new RemoteError('ERR_DECODE', 'share: truncated');
  const eph = bytes.slice(0, 65);
  assertP256PublicKey(eph, 'share ephemeral key');
  const shared = await custody.ecdh(eph);
  const k = shareKey(crypto, shared, eph, custody.publicKey);
  shared.fill(0);
  let payload: Uint8Array;
  try {
    payload = await crypto.aeadOpen('aes-256-gcm', k, NONCE, bytes.subarray(65), eph);
  } catch {
    throw new RemoteError('ERR_DECRYPT', 'share: not addressed to this phone, or corrupted');
  } finally {
    k.fill(0);
  }
  const r = new ByteReader(payload, 'share');
  if (r.u8() !== 1) throw new RemoteError('ERR_UNSUPPORTED', 'share: unknown version');
  const vehicleKey = r.take(65);
  assertP256PublicKey(vehicleKey, 'share car key');
  const advertisingSecret = r.take(32);
  const nameLength = r.u8();
  if (nameLength > 64) r.fail('car name: at most 64 bytes');
  const nameBytes = r.take(nameLength);
  let carName: string;
  try {
    carName = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(nameBytes);
  } catch {
    return r.fail('car name is not UTF-8');
  }
  const grant = decodeGrant(r.rest());
  return { vehicleKey, advertisingSecret, carName, grant };
}
