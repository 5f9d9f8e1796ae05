/**
 * Owner-pairing messages (docs/PROTOCOL.md §12). After the car's CHALLENGE, a phone that wants
 * to pair answers PAIR_START instead of a handshake; the car (only in pairing mode) runs
 * SPAKE2+ (RFC 9383) with the 8-digit code, then both exchange their long-term keys sealed under
 * the PAKE's shared key.
 *
 *   PAIR_START    phone→car  20 ‖ version u8
 *   PAIR_PARAMS   car→phone  21 ‖ saltLen u8 ‖ salt ‖ log2N u8 ‖ r u8 ‖ p u8
 *   PAIR_SHARE    phone→car  22 ‖ shareP 65
 *   PAIR_RESPONSE car→phone  23 ‖ shareV 65 ‖ confirmV 32
 *   PAIR_CONFIRM  phone→car  24 ‖ confirmP 32 ‖ AES-GCM(k_pc, 0, ad=24, phone info)
 *   PAIR_DONE     car→phone  25 ‖ AES-GCM(k_cp, 0, ad=25, car info)
 *   phone info = u8 1 ‖ static key 65 ‖ u8 hasSigning ‖ [signing key 65] ‖ u8 n ‖ label n
 *   car info   = u8 1 ‖ static key 65 ‖ advertising secret 32 ‖ key id 8 ‖ u8 n ‖ name n
 */
import { concatBytes, fromHex, toHex, utf8 } from '../bytes.js';
import { LocalError, RemoteError } from '../errors.js';
import { MessageType } from './constants.js';
import { ByteReader } from './reader.js';

export const PAIRING_VERSION = 1;
/**
 * What a phone agrees to spend on the scrypt parameters of a car it has not authenticated yet,
 * and what a car may ask (one constant for both sides and the spec, docs/PROTOCOL.md §12).
 * Besides each range: memory 128·r·N ≤ 64 MiB and work N·r·p ≤ 4 × the default (2^15·8·1), so
 * an impostor car can make a phone spend at most ≈ 64 MiB and ≈ 4× a normal pairing's CPU
 * (measured here with @noble: default 0.12 s, the ceiling ≈ 0.4..0.5 s). The floor (N = 2^8,
 * r = 1: 32 KiB) lets a microcontroller car run its own scrypt (docs/MCU.md): the code is
 * single-use and lives 120 s, so scrypt only slows down someone who reads the car's verifier
 * record during that window; online guessing is bounded by SPAKE2+ whatever the parameters.
 */
export const PAIRING_SCRYPT_BOUNDS = {
  log2N: [8, 17],
  r: [1, 16],
  p: [1, 4],
  salt: [16, 64],
  maxMemoryBytes: 64 * 1024 * 1024,
  maxWork: 4 * 2 ** 15 * 8,
} as const;

/** True when scrypt(log2N, r, p) is within {@link PAIRING_SCRYPT_BOUNDS}. */
export function scryptWithinBounds(log2N: number, r: number, p: number): boolean {
  const b = PAIRING_SCRYPT_BOUNDS;
  const inRange = (v: number, [lo, hi]: readonly [number, number]) => Number.isInteger(v) && v >= lo && v <= hi;
  if (!inRange(log2N, b.log2N) || !inRange(r, b.r) || !inRange(p, b.p)) return false;
  const N = 2 ** log2N;
  return 128 * r * N <= b.maxMemoryBytes && N * r * p <= b.maxWork;
}

export type PairingMessage =
  | { readonly type: typeof MessageType.PairStart; readonly version: number }
  | {
      readonly type: typeof MessageType.PairParams;
      readonly salt: Uint8Array;
      readonly log2N: number;
      readonly r: number;
      readonly p: number;
    }
  | { readonly type: typeof MessageType.PairShare; readonly shareP: Uint8Array }
  | { readonly type: typeof MessageType.PairResponse; readonly shareV: Uint8Array; readonly confirmV: Uint8Array }
  | { readonly type: typeof MessageType.PairConfirm; readonly confirmP: Uint8Array; readonly sealed: Uint8Array }
  | { readonly type: typeof MessageType.PairDone; readonly sealed: Uint8Array };

export function isPairingType(type: number | undefined): boolean {
  return type !== undefined && type >= MessageType.PairStart && type <= MessageType.PairDone;
}

export function encodePairing(m: PairingMessage): Uint8Array {
  switch (m.type) {
    case MessageType.PairStart:
      return Uint8Array.of(m.type, m.version);
    case MessageType.PairParams:
      return concatBytes(Uint8Array.of(m.type, m.salt.length), m.salt, Uint8Array.of(m.log2N, m.r, m.p));
    case MessageType.PairShare:
      return concatBytes(Uint8Array.of(m.type), m.shareP);
    case MessageType.PairResponse:
      return concatBytes(Uint8Array.of(m.type), m.shareV, m.confirmV);
    case MessageType.PairConfirm:
      return concatBytes(Uint8Array.of(m.type), m.confirmP, m.sealed);
    case MessageType.PairDone:
      return concatBytes(Uint8Array.of(m.type), m.sealed);
  }
}

const within = (v: number, [lo, hi]: readonly [number, number]) => v >= lo && v <= hi;

export function decodePairing(bytes: Uint8Array): PairingMessage {
  const r = new ByteReader(bytes, 'pairing message');
  if (bytes.length > 512) r.fail('too large');
  const type = r.u8();
  switch (type) {
    case MessageType.PairStart: {
      const version = r.u8();
      r.end();
      return { type, version };
    }
    case MessageType.PairParams: {
      const salt = r.take(r.u8());
      const log2N = r.u8();
      const rr = r.u8();
      const p = r.u8();
      r.end();
      const b = PAIRING_SCRYPT_BOUNDS;
      if (!within(salt.length, b.salt) || !scryptWithinBounds(log2N, rr, p))
        throw new RemoteError('ERR_UNSUPPORTED', 'pairing: scrypt parameters out of the accepted bounds');
      return { type, salt, log2N, r: rr, p };
    }
    case MessageType.PairShare: {
      const shareP = r.take(65);
      r.end();
      return { type, shareP };
    }
    case MessageType.PairResponse: {
      const shareV = r.take(65);
      const confirmV = r.take(32);
      r.end();
      return { type, shareV, confirmV };
    }
    case MessageType.PairConfirm: {
      const confirmP = r.take(32);
      if (r.remaining < 17) r.fail('truncated');
      return { type, confirmP, sealed: r.rest() };
    }
    case MessageType.PairDone: {
      if (r.remaining < 17) r.fail('truncated');
      return { type, sealed: r.rest() };
    }
    default:
      return r.fail(`not a pairing message: 0x${type.toString(16)}`);
  }
}

export interface PhoneInfo {
  readonly publicKey: Uint8Array;
  readonly signingKey?: Uint8Array;
  readonly label: string;
}

export interface CarInfo {
  readonly publicKey: Uint8Array;
  readonly advertisingSecret: Uint8Array;
  /** The phone's key id at this car. */
  readonly keyId: string;
  readonly name: string;
}

function label(s: string, what: string): Uint8Array {
  const b = utf8(s);
  if (b.length > 64) throw new LocalError('ERR_INVALID_ARGUMENT', `${what}: at most 64 bytes`);
  return concatBytes(Uint8Array.of(b.length), b);
}

function readLabel(r: ByteReader): string {
  const n = r.u8();
  if (n > 64) r.fail('label longer than 64 bytes'); // what label() allows: decode only what encodes
  const raw = r.take(n);
  try {
    // ignoreBOM: keep a leading U+FEFF, so decode(encode(label)) = label.
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(raw);
  } catch {
    return r.fail('label is not UTF-8');
  }
}

export function encodePhoneInfo(i: PhoneInfo): Uint8Array {
  return concatBytes(
    Uint8Array.of(1),
    i.publicKey,
    i.signingKey ? concatBytes(Uint8Array.of(1), i.signingKey) : Uint8Array.of(0),
    label(i.label, 'phone label'),
  );
}

export function decodePhoneInfo(bytes: Uint8Array): PhoneInfo {
  const r = new ByteReader(bytes, 'phone info');
  if (r.u8() !== 1) throw new RemoteError('ERR_UNSUPPORTED', 'phone info: unknown version');
  const publicKey = r.take(65);
  const has = r.u8();
  if (has > 1) r.fail('bad flag');
  const signingKey = has ? r.take(65) : undefined;
  const l = readLabel(r);
  r.end();
  return { publicKey, ...(signingKey && { signingKey }), label: l };
}

export function encodeCarInfo(i: CarInfo): Uint8Array {
  return concatBytes(Uint8Array.of(1), i.publicKey, i.advertisingSecret, fromHex(i.keyId), label(i.name, 'car name'));
}

export function decodeCarInfo(bytes: Uint8Array): CarInfo {
  const r = new ByteReader(bytes, 'car info');
  if (r.u8() !== 1) throw new RemoteError('ERR_UNSUPPORTED', 'car info: unknown version');
  const publicKey = r.take(65);
  const advertisingSecret = r.take(32);
  const keyId = toHex(r.take(8));
  const name = readLabel(r);
  r.end();
  return { publicKey, advertisingSecret, keyId, name };
}
