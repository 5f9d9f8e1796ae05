/**
 * Canonical binary encoding of proxkey messages and bodies (docs/PROTOCOL.md §3).
 * Decoders accept exactly one encoding per value (no trailing bytes, reserved bits zero, lengths
 * within limits) and throw only `RemoteError('ERR_DECODE' | 'ERR_UNSUPPORTED')`.
 */
import { concatBytes } from '../bytes.js';
import { LocalError, RemoteError } from '../errors.js';
import { commandArgs, commandCode, commandFromWire, isKnownCommandCode, type Command } from './commands.js';
import { BodyKind, LIMITS, MessageType, SUITE_IDS, type SuiteId } from './constants.js';
import { reasonCode, reasonFromCode, type DenyReason } from './reasons.js';
import { ByteReader } from './reader.js';

// ---------------------------------------------------------------- messages

/** CHALLENGE (car → phone, first): the versions and suites the car offers and its fresh ephemeral key. */
export interface ChallengeMessage {
  readonly type: typeof MessageType.Challenge;
  /** Bit v-1 set ⇔ version v offered. */
  readonly versions: number;
  /** Bit id-1 set ⇔ suite id offered. */
  readonly suites: number;
  /** The car's fresh ephemeral P-256 key (65 bytes): the transaction's challenge. */
  readonly ephemeral: Uint8Array;
}

/** HANDSHAKE (phone → car): the chosen version and suite, and Noise KX message 2. */
export interface HandshakeMessage {
  readonly type: typeof MessageType.Handshake;
  readonly version: number;
  readonly suite: number;
  /** Noise KX message 2: e ‖ enc(s) ‖ enc(payload). */
  readonly noise: Uint8Array;
}

/** RECORD: an encrypted body (COMMAND, RESULT or CLOSE) inside the session. */
export interface RecordMessage {
  readonly type: typeof MessageType.Record;
  /** AEAD ciphertext ‖ tag; the associated data is the type byte. */
  readonly ciphertext: Uint8Array;
}

/** ALERT: a plaintext denial before the session is open (or of a record that did not decrypt). */
export interface AlertMessage {
  readonly type: typeof MessageType.Alert;
  readonly reason: DenyReason;
}

/** Any message on the link (docs/PROTOCOL.md §3). */
export type WireMessage = ChallengeMessage | HandshakeMessage | RecordMessage | AlertMessage;

/** Header bytes of a challenge (bound into the prologue). */
export const CHALLENGE_HEADER_LENGTH = 3;
/** Header bytes of a handshake message (bound into the prologue). */
export const HANDSHAKE_HEADER_LENGTH = 3;
/** Smallest Noise KX message 2: e (65) + enc(s) (65+16) + empty payload tag (16). */
const MIN_NOISE_MSG2 = 65 + 65 + 16 + 16;

/**
 * The wire bytes of a message.
 * @throws {LocalError} `ERR_INVALID_ARGUMENT` when it would exceed `LIMITS.maxMessage` or a field is out of range.
 */
export function encodeMessage(m: WireMessage): Uint8Array {
  const bytes = encodeMessageUnchecked(m);
  if (bytes.length > LIMITS.maxMessage) throw new LocalError('ERR_INVALID_ARGUMENT', `message: at most ${LIMITS.maxMessage} bytes`);
  return bytes;
}

function encodeMessageUnchecked(m: WireMessage): Uint8Array {
  switch (m.type) {
    case MessageType.Challenge:
      return concatBytes(Uint8Array.of(m.type, m.versions, m.suites), m.ephemeral);
    case MessageType.Handshake:
      return concatBytes(Uint8Array.of(m.type, m.version, m.suite), m.noise);
    case MessageType.Record:
      return concatBytes(Uint8Array.of(m.type), m.ciphertext);
    case MessageType.Alert:
      return Uint8Array.of(m.type, reasonCode(m.reason));
  }
}

/**
 * Parse one message from the link; strict (no trailing bytes, no unknown type).
 * @throws {RemoteError} `ERR_DECODE` for anything malformed, `ERR_UNSUPPORTED` for what this version does not speak.
 */
export function decodeMessage(bytes: Uint8Array): WireMessage {
  if (!(bytes instanceof Uint8Array)) throw new RemoteError('ERR_DECODE', 'message: not bytes');
  if (bytes.length > LIMITS.maxMessage) throw new RemoteError('ERR_DECODE', 'message: too large');
  const r = new ByteReader(bytes, 'message');
  const type = r.u8();
  switch (type) {
    case MessageType.Challenge: {
      const versions = r.u8();
      const suites = r.u8();
      if (versions === 0 || suites === 0) r.fail('empty offer');
      const ephemeral = r.take(LIMITS.publicKey);
      r.end();
      return { type, versions, suites, ephemeral };
    }
    case MessageType.Handshake: {
      const version = r.u8();
      const suite = r.u8();
      if (r.remaining < MIN_NOISE_MSG2) r.fail('truncated');
      return { type, version, suite, noise: r.rest() };
    }
    case MessageType.Record: {
      if (r.remaining < LIMITS.tag + 1) r.fail('truncated');
      return { type, ciphertext: r.rest() };
    }
    case MessageType.Alert: {
      const code = r.u8();
      r.end();
      // An unknown reason in an alert is still an alert: report it as malformed.
      return { type, reason: reasonFromCode(code) ?? 'malformed' };
    }
    default:
      return r.fail(`unknown type 0x${type.toString(16)}`);
  }
}

// ---------------------------------------------------------------- bodies

/** COMMAND (phone → car, in a RECORD): the command, the intent flag, and extensions. */
export interface CommandBody {
  readonly kind: typeof BodyKind.Command;
  readonly command: Command;
  /** The phone asserts its user confirmed this action (unlocked the phone, pressed a button). */
  readonly intent: boolean;
  /** Extensions (TLV, ascending types): see `Extensions`. */
  readonly extensions: readonly Extension[];
}

export interface Extension {
  readonly type: number;
  readonly value: Uint8Array;
}

/** RESULT (car → phone, in a RECORD): the outcome of one command and optional data. */
export interface ResultBody {
  readonly kind: typeof BodyKind.Result;
  /** `ok`, or the reason the command was denied. */
  readonly status: 'ok' | DenyReason;
  /** Optional result data (a custom command's answer, the key list, the advertising secret), at most `LIMITS.maxResultData` (255) bytes. */
  readonly data: Uint8Array;
}

/** CLOSE (either side, in a RECORD): the session ends, with a reason. */
export interface CloseBody {
  readonly kind: typeof BodyKind.Close;
  readonly reason: 'ok' | DenyReason;
}

/** The plaintext of a RECORD. */
export type Body = CommandBody | ResultBody | CloseBody;

/** A command code this implementation does not know (the car answers `unknown-command`). */
export class UnknownCommandError extends RemoteError {
  constructor(code: number) {
    super('ERR_UNSUPPORTED', `body: unknown command 0x${code.toString(16)}`);
  }
}

const FLAG_INTENT = 0x01;
/** Command extension types. */
export const Extensions = {
  /** An owner-signed grant (keys/grant.ts), presented in the first handshake of a shared key. */
  Grant: 0x01,
} as const;
const KNOWN_EXTENSIONS = new Set<number>(Object.values(Extensions));

const statusCode = (s: 'ok' | DenyReason) => (s === 'ok' ? 0 : reasonCode(s));

/**
 * The plaintext bytes of a body (before encryption).
 * @throws {LocalError} `ERR_INVALID_ARGUMENT` for args over `LIMITS.maxArgs` or result data over `LIMITS.maxResultData` bytes.
 */
export function encodeBody(b: Body): Uint8Array {
  switch (b.kind) {
    case BodyKind.Command: {
      const args = commandArgs(b.command);
      if (args.length > LIMITS.maxArgs) throw new LocalError('ERR_INVALID_ARGUMENT', `command args: at most ${LIMITS.maxArgs} bytes`);
      b.extensions.forEach((e, i) => {
        if (i > 0 && e.type <= b.extensions[i - 1]!.type) throw new LocalError('ERR_INVALID_ARGUMENT', 'extensions: strictly ascending types');
      });
      const ext = b.extensions.map((e) => concatBytes(Uint8Array.of(e.type, e.value.length >> 8, e.value.length & 0xff), e.value));
      if (ext.reduce((n, e) => n + e.length, 0) > LIMITS.maxExtensions)
        throw new LocalError('ERR_INVALID_ARGUMENT', `extensions: at most ${LIMITS.maxExtensions} bytes`);
      return concatBytes(Uint8Array.of(b.kind, commandCode(b.command), b.intent ? FLAG_INTENT : 0, args.length), args, ...ext);
    }
    case BodyKind.Result:
      if (b.data.length > LIMITS.maxResultData) throw new LocalError('ERR_INVALID_ARGUMENT', `result data: at most ${LIMITS.maxResultData} bytes`);
      return concatBytes(Uint8Array.of(b.kind, statusCode(b.status), b.data.length), b.data);
    case BodyKind.Close:
      return Uint8Array.of(b.kind, statusCode(b.reason));
  }
}

function decodeStatus(r: ByteReader): 'ok' | DenyReason {
  const code = r.u8();
  if (code === 0) return 'ok';
  return reasonFromCode(code) ?? r.fail(`unknown reason 0x${code.toString(16)}`);
}

/**
 * Parse a decrypted body; strict.
 * @throws {RemoteError} `ERR_DECODE` for anything malformed.
 */
export function decodeBody(bytes: Uint8Array): Body {
  const r = new ByteReader(bytes, 'body');
  const kind = r.u8();
  switch (kind) {
    case BodyKind.Command: {
      const code = r.u8();
      const flags = r.u8();
      if (flags & ~FLAG_INTENT) r.fail('reserved flag bits set');
      const argLen = r.u8();
      if (argLen > LIMITS.maxArgs) r.fail('args too long');
      const args = r.take(argLen);
      if (!isKnownCommandCode(code)) throw new UnknownCommandError(code);
      const command = commandFromWire(code, args) ?? r.fail('invalid args for this command');
      if (r.remaining > LIMITS.maxExtensions) r.fail('extensions too long');
      const extensions: Extension[] = [];
      let last = -1;
      while (r.remaining > 0) {
        const type = r.u8();
        if (type <= last) r.fail('extensions not in ascending order');
        last = type;
        const value = r.take(r.u16());
        if (!KNOWN_EXTENSIONS.has(type)) throw new RemoteError('ERR_UNSUPPORTED', `body: unknown extension ${type}`);
        extensions.push({ type, value });
      }
      return { kind, command, intent: (flags & FLAG_INTENT) !== 0, extensions };
    }
    case BodyKind.Result: {
      const status = decodeStatus(r);
      const len = r.u8();
      if (len > LIMITS.maxResultData) r.fail('result data too long');
      const data = r.take(len);
      r.end();
      return { kind, status, data };
    }
    case BodyKind.Close: {
      const reason = decodeStatus(r);
      r.end();
      return { kind, reason };
    }
    default:
      return r.fail(`unknown body kind 0x${kind.toString(16)}`);
  }
}

/** Bitmask of the given small integers (1-based): [1, 2] → 0b11. */
export function toMask(ids: readonly number[]): number {
  return ids.reduce((m, id) => m | (1 << (id - 1)), 0);
}

/** Whether the offer bitmask `mask` has `id` (1..8; bit id−1). */
export function maskHas(mask: number, id: number): boolean {
  return id >= 1 && id <= 8 && (mask & (1 << (id - 1))) !== 0;
}

/** Whether `id` is a suite id this implementation knows. */
export function isSuiteId(id: number): id is SuiteId {
  return (SUITE_IDS as readonly number[]).includes(id);
}
