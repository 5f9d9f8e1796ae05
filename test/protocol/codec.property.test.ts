/**
 * The wire codec, by property: every message and body round-trips exactly; decoders fed
 * arbitrary bytes only ever throw RemoteError ERR_DECODE / ERR_UNSUPPORTED; and decoding is
 * canonical — every byte string that decodes re-encodes to itself (one documented exception:
 * an ALERT with an unknown reason code reads as `malformed`, docs/PROTOCOL.md §3.3).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  BodyKind,
  concatBytes,
  decodeBody,
  decodeMessage,
  DENY_REASONS,
  encodeBody,
  encodeMessage,
  equalBytes,
  Extensions,
  LIMITS,
  MessageType,
  reasonFromCode,
  RemoteError,
  toHex,
  type Body,
  type Command,
  type DenyReason,
  type WireMessage,
} from '../../src/index.js';
// The owner-pairing codec is internal (not re-exported by the package entry).
import {
  decodeCarInfo,
  decodePairing,
  decodePhoneInfo,
  encodeCarInfo,
  encodePairing,
  encodePhoneInfo,
  PAIRING_SCRYPT_BOUNDS,
  scryptWithinBounds,
  type CarInfo,
  type PairingMessage,
  type PhoneInfo,
} from '../../src/protocol/pairing.js';

const RUNS = Number(process.env.PROXKEY_FC_RUNS ?? 1000);
const REASONS = Object.keys(DENY_REASONS) as DenyReason[];

// ------------------------------------------------------------------ arbitraries: valid values

const bytes = (min: number, max: number) => fc.uint8Array({ minLength: min, maxLength: max });
/** fc.record builds null-prototype objects; decoders return plain ones (toStrictEqual compares prototypes). */
const plain = <T extends object>(a: fc.Arbitrary<T>): fc.Arbitrary<T> => a.map((r) => ({ ...r }));

const challengeArb = plain(
  fc.record({
    type: fc.constant(MessageType.Challenge),
    versions: fc.integer({ min: 1, max: 255 }),
    suites: fc.integer({ min: 1, max: 255 }),
    ephemeral: bytes(65, 65),
  }),
);
const handshakeArb = plain(
  fc.record({
    type: fc.constant(MessageType.Handshake),
    version: fc.integer({ min: 0, max: 255 }),
    suite: fc.integer({ min: 0, max: 255 }),
    noise: bytes(65 + 81 + 16, LIMITS.maxMessage - 3),
  }),
);
const recordArb = plain(fc.record({ type: fc.constant(MessageType.Record), ciphertext: bytes(LIMITS.tag + 1, LIMITS.maxMessage - 1) }));
const alertArb = plain(fc.record({ type: fc.constant(MessageType.Alert), reason: fc.constantFrom(...REASONS) }));
const messageArb: fc.Arbitrary<WireMessage> = fc.oneof(challengeArb, handshakeArb, recordArb, alertArb);

const commandArb: fc.Arbitrary<Command> = fc.oneof(
  fc.constantFrom<Command>({ kind: 'unlock' }, { kind: 'lock' }, { kind: 'start' }, { kind: 'trunk' }),
  fc.integer({ min: 0, max: 255 }).map<Command>((page) => (page ? { kind: 'list-keys', page } : { kind: 'list-keys' })),
  fc.oneof(bytes(8, 8), bytes(16, 16)).map<Command>((t) => ({ kind: 'revoke', target: toHex(t) })),
  fc
    .tuple(fc.integer({ min: 0x80, max: 0xff }), bytes(0, LIMITS.maxArgs))
    .map<Command>(([code, args]) => (args.length ? { kind: 'custom', code, args } : { kind: 'custom', code })),
);
/** Version 1 knows one extension (a grant); the extension area is at most 512 bytes. */
const extensionsArb = fc.oneof(
  fc.constant([]).map(() => []),
  bytes(0, LIMITS.maxExtensions - 3).map((value) => [{ type: Extensions.Grant, value }]),
);
const statusArb = fc.constantFrom<'ok' | DenyReason>('ok', ...REASONS);
const bodyArb: fc.Arbitrary<Body> = fc.oneof(
  plain(fc.record({ kind: fc.constant(BodyKind.Command), command: commandArb, intent: fc.boolean(), extensions: extensionsArb })),
  plain(fc.record({ kind: fc.constant(BodyKind.Result), status: statusArb, data: bytes(0, LIMITS.maxResultData) })),
  plain(fc.record({ kind: fc.constant(BodyKind.Close), reason: statusArb })),
);

// ------------------------------------------------------------------ arbitraries: hostile bytes

/** A valid encoding, then a few random edits (flip, set, insert, delete, truncate, append). */
function mutated(valid: fc.Arbitrary<Uint8Array>): fc.Arbitrary<Uint8Array> {
  const edit = fc.oneof(
    fc.record({ op: fc.constant('flip' as const), at: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }),
    fc.record({ op: fc.constant('set' as const), at: fc.nat(), v: fc.integer({ min: 0, max: 255 }) }),
    fc.record({ op: fc.constant('insert' as const), at: fc.nat(), v: fc.integer({ min: 0, max: 255 }) }),
    fc.record({ op: fc.constant('delete' as const), at: fc.nat() }),
    fc.record({ op: fc.constant('truncate' as const), at: fc.nat() }),
    fc.record({ op: fc.constant('append' as const), tail: bytes(1, 8) }),
  );
  return fc.tuple(valid, fc.array(edit, { minLength: 1, maxLength: 3 })).map(([b, edits]) => {
    let out = Array.from(b);
    for (const e of edits) {
      const at = out.length ? ('at' in e ? e.at % out.length : 0) : 0;
      if (e.op === 'flip' && out.length) out[at]! ^= 1 << e.bit;
      else if (e.op === 'set' && out.length) out[at] = e.v;
      else if (e.op === 'insert') out.splice(at, 0, e.v);
      else if (e.op === 'delete') out.splice(at, 1);
      else if (e.op === 'truncate') out = out.slice(0, at);
      else if (e.op === 'append') out.push(...e.tail);
    }
    return Uint8Array.from(out);
  });
}

const anyBytes = fc.uint8Array({ maxLength: 1100 });
/** Random bytes behind a known type byte, so the decoders get past the first switch. */
const typedBytes = (types: number[]) => fc.tuple(fc.constantFrom(...types), fc.uint8Array({ maxLength: 1100 })).map(([t, rest]) => Uint8Array.of(t, ...rest));
const messageBytes = fc.oneof(
  anyBytes,
  typedBytes([1, 2, 3, 0x0f]),
  mutated(messageArb.map(encodeMessage)),
  // Near the size limit.
  fc.tuple(fc.constantFrom(2, 3), fc.integer({ min: 1015, max: 1030 })).map(([t, n]) => Uint8Array.of(t, ...new Uint8Array(n - 1))),
);
const bodyBytes = fc.oneof(anyBytes, typedBytes([0x10, 0x11, 0x12]), mutated(bodyArb.map(encodeBody)));

// ------------------------------------------------------------------ oracles

/** Structural form for comparisons: bytes as hex, and the prototype of every object recorded. */
function norm(x: unknown): unknown {
  if (x instanceof Uint8Array) return `bytes:${x.constructor.name}:${toHex(x)}`;
  if (Array.isArray(x)) return x.map(norm);
  if (x && typeof x === 'object') {
    const proto = Object.getPrototypeOf(x) === Object.prototype ? 'plain' : 'OTHER-PROTOTYPE';
    return { __proto: proto, ...Object.fromEntries(Object.entries(x).map(([k, v]) => [k, norm(v)])) };
  }
  return x;
}
const expectSame = (actual: unknown, expected: unknown): void => {
  expect(norm(actual)).toStrictEqual(norm(expected));
};

/** Errors thrown by the million rejections below need no stack traces. */
function quietly<T>(f: () => T): T {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  try {
    return f();
  } finally {
    Error.stackTraceLimit = limit;
  }
}

type Outcome = { ok: true; value: unknown } | { ok: false; error: unknown };
function attempt(f: () => unknown): Outcome {
  try {
    return { ok: true, value: f() };
  } catch (error) {
    return { ok: false, error };
  }
}

/** The only acceptable failure of a decoder. */
function expectDecodeError(error: unknown, input: Uint8Array): void {
  if (!(error instanceof RemoteError) || !['ERR_DECODE', 'ERR_UNSUPPORTED'].includes(error.code))
    throw new Error(
      `decoder threw ${error instanceof Error ? `${error.name}(${(error as { code?: string }).code}): ${error.message}` : String(error)} on ${toHex(input)}`,
    );
}

/** The one documented non-canonical input: an ALERT whose reason code is unknown. */
const isUnknownAlert = (b: Uint8Array) => b.length === 2 && b[0] === MessageType.Alert && reasonFromCode(b[1]!) === undefined;

/** What a decoded message must look like (docs/PROTOCOL.md §3.1): fixed sizes, minimums, known reasons. */
function messageShapeError(m: WireMessage): string | undefined {
  switch (m.type) {
    case MessageType.Challenge:
      return m.ephemeral.length !== 65 || !m.versions || !m.suites ? 'challenge shape' : undefined;
    case MessageType.Handshake:
      return m.noise.length < 65 + 81 + 16 ? 'handshake shape' : undefined;
    case MessageType.Record:
      return m.ciphertext.length < LIMITS.tag + 1 ? 'record shape' : undefined;
    case MessageType.Alert:
      return REASONS.includes(m.reason) ? undefined : 'alert reason';
    default:
      return 'unknown type';
  }
}

/** What a decoded body must look like (§3.2): limits on args, data and extensions. */
function bodyShapeError(b: Body): string | undefined {
  if (b.kind === BodyKind.Command) {
    const ext = b.extensions.reduce((n, e) => n + 3 + e.value.length, 0);
    if (ext > LIMITS.maxExtensions) return 'extensions too long';
    if (b.command.kind === 'custom' && (b.command.args?.length ?? 0) > LIMITS.maxArgs) return 'args too long';
    return undefined;
  }
  if (b.kind === BodyKind.Result) return b.data.length > LIMITS.maxResultData ? 'data too long' : undefined;
  return undefined;
}

/** Checks one input; true when it decoded. */
function checkMessageBytes(b: Uint8Array): boolean {
  const r = attempt(() => decodeMessage(b));
  if (!r.ok) {
    expectDecodeError(r.error, b);
    return false;
  }
  const m = r.value as WireMessage;
  const shape = messageShapeError(m);
  if (shape) throw new Error(`decoded an ill-formed message (${shape}) from ${toHex(b)}`);
  const again = encodeMessage(m);
  if (isUnknownAlert(b)) {
    expect(m).toEqual({ type: MessageType.Alert, reason: 'malformed' });
    return true;
  }
  if (!equalBytes(again, b)) throw new Error(`non-canonical message accepted: ${toHex(b)} re-encodes as ${toHex(again)}`);
  expectSame(decodeMessage(again), m);
  return true;
}

/** Checks one input; true when it decoded. */
function checkBodyBytes(b: Uint8Array): boolean {
  const r = attempt(() => decodeBody(b));
  if (!r.ok) {
    expectDecodeError(r.error, b);
    return false;
  }
  const body = r.value as Body;
  const shape = bodyShapeError(body);
  if (shape) throw new Error(`decoded an ill-formed body (${shape}) from ${toHex(b)}`);
  const again = encodeBody(body);
  if (!equalBytes(again, b)) throw new Error(`non-canonical body accepted: ${toHex(b)} re-encodes as ${toHex(again)}`);
  expectSame(decodeBody(again), body);
  return true;
}

// ------------------------------------------------------------------ properties

describe('codec properties', () => {
  it('every valid message round-trips exactly: decode(encode(m)) = m, and its size is as documented', () => {
    fc.assert(
      fc.property(messageArb, (m) => {
        const b = encodeMessage(m);
        expect(messageShapeError(m)).toBeUndefined();
        expectSame(decodeMessage(b), m);
        expect(equalBytes(encodeMessage(decodeMessage(b)), b)).toBe(true);
        const size = { 1: 68, 2: 3 + (m.type === 2 ? m.noise.length : 0), 3: 1 + (m.type === 3 ? m.ciphertext.length : 0), 15: 2 }[m.type];
        expect(b.length).toBe(size);
      }),
      { numRuns: RUNS },
    );
  });

  it('every valid body round-trips exactly: decode(encode(b)) = b', () => {
    fc.assert(
      fc.property(bodyArb, (body) => {
        const b = encodeBody(body);
        expectSame(decodeBody(b), body);
        expect(equalBytes(encodeBody(decodeBody(b)), b)).toBe(true);
      }),
      { numRuns: RUNS },
    );
  });

  it('decodeMessage on arbitrary bytes throws only ERR_DECODE/ERR_UNSUPPORTED, and what decodes is canonical', () => {
    fc.assert(
      fc.property(messageBytes, (b) => void checkMessageBytes(b)),
      { numRuns: RUNS * 2 },
    );
  });

  it('decodeBody on arbitrary bytes throws only ERR_DECODE/ERR_UNSUPPORTED, and what decodes is canonical', () => {
    fc.assert(
      fc.property(bodyBytes, (b) => void checkBodyBytes(b)),
      { numRuns: RUNS * 2 },
    );
  });

  it('exhaustively: every message and body of 0, 1 or 2 bytes', () => {
    let decodedMessages = 0;
    let decodedBodies = 0;
    const all: Uint8Array[] = [new Uint8Array(0)];
    for (let a = 0; a < 256; a++) {
      all.push(Uint8Array.of(a));
      for (let b = 0; b < 256; b++) all.push(Uint8Array.of(a, b));
    }
    quietly(() => {
      for (const b of all) {
        if (checkMessageBytes(b)) decodedMessages++;
        if (checkBodyBytes(b)) decodedBodies++;
      }
    });
    expect(all.length).toBe(1 + 256 + 65536);
    expect(decodedMessages).toBe(256); // the 256 two-byte alerts
    expect(decodedBodies).toBe(1 + REASONS.length); // CLOSE with ok or a known reason
  });

  it('exhaustively: every 4-byte command header (code × flags × argLen 0)', () => {
    let ok = 0;
    quietly(() => {
      for (let code = 0; code < 256; code++)
        for (let flags = 0; flags < 256; flags++) if (checkBodyBytes(Uint8Array.of(BodyKind.Command, code, flags, 0))) ok++;
    });
    // Accepted: 4 standard + list-keys + advertising-secret + 128 custom codes, each with intent 0 or 1.
    expect(ok).toBe((4 + 2 + 128) * 2);
  });

  it('size limits: messages over 1024 bytes are refused; bodies refuse oversized args, data and extensions', () => {
    expect(() => decodeMessage(Uint8Array.of(3, ...new Uint8Array(1024)))).toThrow(expect.objectContaining({ code: 'ERR_DECODE' }));
    expect(decodeMessage(Uint8Array.of(3, ...new Uint8Array(1023)))).toMatchObject({ type: 3 });
    expect(() => decodeBody(Uint8Array.of(0x10, 0x80, 0, 65, ...new Uint8Array(65)))).toThrow(expect.objectContaining({ code: 'ERR_DECODE' }));
    const ext = (n: number) => Uint8Array.of(0x10, 0x01, 0, 0, Extensions.Grant, n >> 8, n & 0xff, ...new Uint8Array(n));
    expect(decodeBody(ext(LIMITS.maxExtensions - 3))).toMatchObject({ kind: 0x10 });
    expect(() => decodeBody(ext(LIMITS.maxExtensions - 2))).toThrow(expect.objectContaining({ code: 'ERR_DECODE' }));
    expect(() => decodeBody(Uint8Array.of(0x10, 0x01, 0, 0, 0x02, 0, 0))).toThrow(expect.objectContaining({ code: 'ERR_UNSUPPORTED' }));
  });

  it('the documented exception: an ALERT with an unknown reason code is read as malformed', () => {
    for (let code = 0; code < 256; code++) {
      const m = decodeMessage(Uint8Array.of(MessageType.Alert, code));
      expect(m).toEqual({ type: MessageType.Alert, reason: reasonFromCode(code) ?? 'malformed' });
    }
  });
});

// ------------------------------------------------------------------ owner-pairing messages

describe('pairing codec properties (src/protocol/pairing.ts)', () => {
  const B = PAIRING_SCRYPT_BOUNDS;
  const pairingArb: fc.Arbitrary<PairingMessage> = fc.oneof(
    plain(fc.record({ type: fc.constant(MessageType.PairStart), version: fc.integer({ min: 0, max: 255 }) })),
    plain(
      fc
        .record({
          type: fc.constant(MessageType.PairParams),
          salt: bytes(B.salt[0], B.salt[1]),
          log2N: fc.integer({ min: B.log2N[0], max: B.log2N[1] }),
          r: fc.integer({ min: B.r[0], max: B.r[1] }),
          p: fc.integer({ min: B.p[0], max: B.p[1] }),
        })
        .filter((m) => scryptWithinBounds(m.log2N, m.r, m.p)),
    ),
    plain(fc.record({ type: fc.constant(MessageType.PairShare), shareP: bytes(65, 65) })),
    plain(fc.record({ type: fc.constant(MessageType.PairResponse), shareV: bytes(65, 65), confirmV: bytes(32, 32) })),
    plain(fc.record({ type: fc.constant(MessageType.PairConfirm), confirmP: bytes(32, 32), sealed: bytes(17, 512 - 33) })),
    plain(fc.record({ type: fc.constant(MessageType.PairDone), sealed: bytes(17, 511) })),
  );
  const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
  /** Labels: any Unicode text of at most 64 UTF-8 bytes (including a leading U+FEFF). */
  const labelArb = fc
    .oneof(
      fc.string({ unit: 'binary', maxLength: 20 }),
      fc.string({ maxLength: 64 }),
      fc.string({ unit: 'binary', maxLength: 8 }).map((t) => `\uFEFF${t}`),
    )
    .filter((t) => new TextEncoder().encode(t).length <= 64 && !LONE_SURROGATE.test(t));
  const phoneInfoArb: fc.Arbitrary<PhoneInfo> = fc
    .tuple(bytes(65, 65), fc.option(bytes(65, 65), { nil: undefined }), labelArb)
    .map(([publicKey, signingKey, label]) => ({ publicKey, ...(signingKey && { signingKey }), label }));
  const carInfoArb: fc.Arbitrary<CarInfo> = fc
    .tuple(bytes(65, 65), bytes(32, 32), bytes(8, 8), labelArb)
    .map(([publicKey, advertisingSecret, id, name]) => ({ publicKey, advertisingSecret, keyId: toHex(id), name }));

  function check<T>(decode: (b: Uint8Array) => T, encode: (v: T) => Uint8Array, b: Uint8Array): void {
    const r = attempt(() => decode(b));
    if (!r.ok) return expectDecodeError(r.error, b);
    const again = attempt(() => encode(r.value as T));
    if (!again.ok) throw new Error(`decoded a value the encoder refuses (${String(again.error)}) from ${toHex(b)}`);
    if (!equalBytes(again.value as Uint8Array, b))
      throw new Error(`non-canonical input accepted: ${toHex(b)} re-encodes as ${toHex(again.value as Uint8Array)}`);
  }

  it('every valid pairing message, phone info and car info round-trips exactly', () => {
    fc.assert(
      fc.property(pairingArb, (m) => void expectSame(decodePairing(encodePairing(m)), m)),
      { numRuns: RUNS },
    );
    fc.assert(
      fc.property(phoneInfoArb, (i) => void expectSame(decodePhoneInfo(encodePhoneInfo(i)), i)),
      { numRuns: RUNS },
    );
    fc.assert(
      fc.property(carInfoArb, (i) => void expectSame(decodeCarInfo(encodeCarInfo(i)), i)),
      { numRuns: RUNS },
    );
  });

  it('decoders on arbitrary bytes throw only ERR_DECODE/ERR_UNSUPPORTED, and what decodes is canonical', () => {
    const near = <T>(arb: fc.Arbitrary<T>, enc: (v: T) => Uint8Array) => mutated(arb.map(enc));
    fc.assert(
      fc.property(fc.oneof(anyBytes, typedBytes([0x20, 0x21, 0x22, 0x23, 0x24, 0x25]), near(pairingArb, encodePairing)), (b) =>
        check(decodePairing, encodePairing, b),
      ),
      { numRuns: RUNS * 2 },
    );
    fc.assert(
      fc.property(fc.oneof(anyBytes, near(phoneInfoArb, encodePhoneInfo)), (b) => check(decodePhoneInfo, encodePhoneInfo, b)),
      { numRuns: RUNS },
    );
    fc.assert(
      fc.property(fc.oneof(anyBytes, near(carInfoArb, encodeCarInfo)), (b) => check(decodeCarInfo, encodeCarInfo, b)),
      { numRuns: RUNS },
    );
  });

  it('labels: a 65-byte label is refused by the decoder as by the encoder; a leading U+FEFF survives', () => {
    const info = (label: Uint8Array) => concatBytes(Uint8Array.of(1), new Uint8Array(65), Uint8Array.of(0, label.length), label);
    expect(decodePhoneInfo(info(new Uint8Array(64).fill(0x61))).label).toBe('a'.repeat(64));
    expect(() => encodePhoneInfo({ publicKey: new Uint8Array(65), label: 'a'.repeat(65) })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }));
    expect(() => decodePhoneInfo(info(new Uint8Array(65).fill(0x61)))).toThrow(expect.objectContaining({ code: 'ERR_DECODE' }));
    const bom = { publicKey: new Uint8Array(65), label: '\uFEFFcar' };
    expect(decodePhoneInfo(encodePhoneInfo(bom)).label).toBe('\uFEFFcar');
  });
});
