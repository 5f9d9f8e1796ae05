/**
 * SPAKE2+ (RFC 9383): the Appendix C vector byte for byte, end-to-end runs, and every rejection.
 */
import { createHash, createHmac, hkdfSync, scryptSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { p256 } from '@noble/curves/nist.js';
import { describe, expect, it } from 'vitest';
import { concatBytes, fromHex, toHex, utf8 } from '../../src/bytes.js';
import {
  P256_ORDER,
  SPAKE2PLUS_P256_M,
  SPAKE2PLUS_P256_M_COMPRESSED,
  SPAKE2PLUS_P256_N,
  SPAKE2PLUS_P256_N_COMPRESSED,
  decodePoint,
  encodePoint,
  scalarFromBytes,
  scalarToBytes,
} from '../../src/crypto/p256-group.js';
import { nobleCrypto } from '../../src/crypto/noble.js';
import type { CryptoProvider } from '../../src/crypto/provider.js';
import { deterministicRandom, systemRandom } from '../../src/crypto/random.js';
import { LocalError, RemoteError } from '../../src/errors.js';
import {
  SPAKE2PLUS_SCRYPT_DEFAULTS,
  SPAKE2PLUS_SUITE,
  Spake2PlusProver,
  Spake2PlusVerifier,
  computeVerifierRecord,
  deriveSpake2PlusSecrets,
  deriveSpake2PlusSecretsAsync,
  parseVerifierRecord,
  spake2PlusKeySchedule,
  spake2PlusTranscript,
  type ScryptParams,
} from '../../src/pake/index.js';
import { spake2PlusProverZV, spake2PlusVerifierZV } from '../../src/pake/spake2plus.js';

interface Rfc9383Vector {
  Context: string;
  idProver: string;
  idVerifier: string;
  [hexField: string]: string;
}

const vec: Rfc9383Vector = JSON.parse(readFileSync(new URL('../vectors/spake2plus/rfc9383-p256-sha256.json', import.meta.url), 'utf8'));
const h = (k: string): Uint8Array => {
  const v = vec[k];
  if (typeof v !== 'string') throw new Error(`vector has no ${k}`);
  return fromHex(v);
};

const noRandom = () => {
  throw new Error('the vector fixes every scalar');
};

const FAST_SCRYPT: ScryptParams = { N: 2 ** 10, r: 8, p: 1 };
const SALT = fromHex('000102030405060708090a0b0c0d0e0f');
const CONTEXT = utf8('proxkey owner pairing v1');
const ID_PHONE = utf8('phone-1');
const ID_CAR = utf8('car-VIN123');

/** XOR one byte in place. */
function flip(bytes: Uint8Array, i: number, mask: number): void {
  bytes[i] = bytes[i]! ^ mask;
}

function expectCode(fn: () => unknown, cls: typeof LocalError | typeof RemoteError, code: string): void {
  let caught: unknown;
  try {
    fn();
  } catch (err) {
    caught = err;
  }
  expect(caught).toBeInstanceOf(cls);
  expect((caught as RemoteError).code).toBe(code);
}

function vectorParties() {
  const common = {
    context: utf8(vec.Context),
    idProver: utf8(vec.idProver),
    idVerifier: utf8(vec.idVerifier),
    crypto: nobleCrypto,
    random: noRandom,
  };
  const prover = new Spake2PlusProver({ ...common, w0: h('w0'), w1: h('w1'), x: h('x') });
  const verifier = new Spake2PlusVerifier({ ...common, w0: h('w0'), L: h('L'), y: h('y') });
  return { prover, verifier };
}

describe('RFC 9383 Appendix C vector (SPAKE2+-P256-SHA256-HKDF-SHA256-HMAC-SHA256)', () => {
  it('uses the RFC §4 M and N constants', () => {
    expect(SPAKE2PLUS_P256_M_COMPRESSED).toBe(vec.M);
    expect(SPAKE2PLUS_P256_N_COMPRESSED).toBe(vec.N);
    expect(toHex(SPAKE2PLUS_P256_M.toBytes(true))).toBe(vec.M);
    expect(toHex(SPAKE2PLUS_P256_N.toBytes(true))).toBe(vec.N);
    expect(vec.Context).toBe(`${SPAKE2PLUS_SUITE} Test Vectors`);
  });

  it('computes the registration record L = w1·G', () => {
    const record = computeVerifierRecord({ w0: h('w0'), w1: h('w1') });
    expect(toHex(record.w0)).toBe(vec.w0);
    expect(toHex(record.L)).toBe(vec.L);
  });

  it('reproduces Z and V from both sides', () => {
    const x = scalarFromBytes(h('x'));
    const y = scalarFromBytes(h('y'));
    const w0 = scalarFromBytes(h('w0'));
    const w1 = scalarFromBytes(h('w1'));
    const fromProver = spake2PlusProverZV(x, w0, w1, decodePoint(h('shareV')));
    const fromVerifier = spake2PlusVerifierZV(y, w0, decodePoint(h('L')), decodePoint(h('shareP')));
    expect(toHex(fromProver.Z)).toBe(vec.Z);
    expect(toHex(fromProver.V)).toBe(vec.V);
    expect(toHex(fromVerifier.Z)).toBe(vec.Z);
    expect(toHex(fromVerifier.V)).toBe(vec.V);
  });

  it('reproduces TT and the whole key schedule', () => {
    const TT = spake2PlusTranscript({
      context: utf8(vec.Context),
      idProver: utf8(vec.idProver),
      idVerifier: utf8(vec.idVerifier),
      shareP: h('shareP'),
      shareV: h('shareV'),
      Z: h('Z'),
      V: h('V'),
      w0: h('w0'),
    });
    expect(toHex(TT)).toBe(vec.TT);
    const ks = spake2PlusKeySchedule(nobleCrypto, TT, h('shareP'), h('shareV'));
    expect(toHex(ks.K_main)).toBe(vec.K_main);
    expect(toHex(ks.K_confirmP)).toBe(vec.K_confirmP);
    expect(toHex(ks.K_confirmV)).toBe(vec.K_confirmV);
    expect(toHex(ks.confirmP)).toBe(vec.confirmP);
    expect(toHex(ks.confirmV)).toBe(vec.confirmV);
    expect(toHex(ks.K_shared)).toBe(vec.K_shared);
  });

  it('runs the Prover and Verifier state machines to the vector bytes', () => {
    const { prover, verifier } = vectorParties();
    const shareP = prover.start();
    expect(toHex(shareP)).toBe(vec.shareP);
    const { shareV, confirmV } = verifier.respond(shareP);
    expect(toHex(shareV)).toBe(vec.shareV);
    expect(toHex(confirmV)).toBe(vec.confirmV);
    const p = prover.finish(shareV, confirmV);
    expect(toHex(p.confirmP)).toBe(vec.confirmP);
    expect(toHex(p.sharedKey)).toBe(vec.K_shared);
    const v = verifier.finish(p.confirmP);
    expect(toHex(v.sharedKey)).toBe(vec.K_shared);
    expect(prover.state).toBe('done');
    expect(verifier.state).toBe('done');
  });
});

describe('registration (RFC 9383 §3.2, scrypt)', () => {
  const base = { password: utf8('correct horse'), salt: SALT, idProver: ID_PHONE, idVerifier: ID_CAR, scrypt: FAST_SCRYPT };

  it('matches an independent scrypt (node:crypto) computation of w0s ‖ w1s mod n', () => {
    const le64 = (n: number) => {
      const b = new Uint8Array(8);
      new DataView(b.buffer).setBigUint64(0, BigInt(n), true);
      return b;
    };
    const input = concatBytes(le64(base.password.length), base.password, le64(ID_PHONE.length), ID_PHONE, le64(ID_CAR.length), ID_CAR);
    const ws = new Uint8Array(scryptSync(input, SALT, 80, { N: FAST_SCRYPT.N, r: FAST_SCRYPT.r, p: FAST_SCRYPT.p }));
    const mod = (b: Uint8Array) => BigInt(`0x${toHex(b)}`) % P256_ORDER;
    const { w0, w1 } = deriveSpake2PlusSecrets(base);
    expect(toHex(w0)).toBe(toHex(scalarToBytes(mod(ws.subarray(0, 40)))));
    expect(toHex(w1)).toBe(toHex(scalarToBytes(mod(ws.subarray(40, 80)))));
  });

  it('is deterministic, and depends on salt, password and both identities', async () => {
    const a = deriveSpake2PlusSecrets(base);
    const b = deriveSpake2PlusSecrets(base);
    expect(a.w0).toHaveLength(32);
    expect(a.w1).toHaveLength(32);
    expect(toHex(a.w0)).toBe(toHex(b.w0));
    expect(toHex(a.w1)).toBe(toHex(b.w1));
    expect(toHex(a.w0)).not.toBe(toHex(a.w1));
    const c = await deriveSpake2PlusSecretsAsync(base);
    expect(toHex(c.w0)).toBe(toHex(a.w0));
    expect(toHex(c.w1)).toBe(toHex(a.w1));
    const variants = [
      { ...base, salt: fromHex('ff0102030405060708090a0b0c0d0e0f') },
      { ...base, password: utf8('correct horsf') },
      { ...base, idProver: utf8('phone-2') },
      { ...base, idVerifier: new Uint8Array(0) },
      { ...base, scrypt: { ...FAST_SCRYPT, r: 4 } },
    ];
    for (const v of variants) {
      const d = deriveSpake2PlusSecrets(v);
      expect(toHex(d.w0)).not.toBe(toHex(a.w0));
      expect(toHex(d.w1)).not.toBe(toHex(a.w1));
    }
  });

  it('rejects bad arguments with LocalError', () => {
    const bad = [
      { ...base, salt: new Uint8Array(15) },
      { ...base, password: new Uint8Array(0) },
      { ...base, scrypt: { N: 1000, r: 8, p: 1 } },
      { ...base, scrypt: { N: 1024, r: 0, p: 1 } },
      { ...base, idProver: 'phone' as unknown as Uint8Array },
    ];
    for (const opts of bad) expectCode(() => deriveSpake2PlusSecrets(opts), LocalError, 'ERR_INVALID_ARGUMENT');
  });

  it('documents production defaults', () => {
    expect(SPAKE2PLUS_SCRYPT_DEFAULTS).toEqual({ N: 2 ** 15, r: 8, p: 1 });
  });

  it('parseVerifierRecord validates a record received from the peer', () => {
    const rec = parseVerifierRecord(h('w0'), h('L'));
    expect(toHex(rec.L)).toBe(vec.L);
    expectCode(() => parseVerifierRecord(new Uint8Array(32), h('L')), RemoteError, 'ERR_DECODE');
    expectCode(() => parseVerifierRecord(scalarToBytes(0n).fill(0xff), h('L')), RemoteError, 'ERR_DECODE');
    const offCurve = h('L');
    flip(offCurve, 64, 0x01);
    expectCode(() => parseVerifierRecord(h('w0'), offCurve), RemoteError, 'ERR_INVALID_POINT');
  });
});

// One registration shared by the protocol tests (scrypt is the slow part).
const secrets = deriveSpake2PlusSecrets({
  password: utf8('123456'),
  salt: SALT,
  idProver: ID_PHONE,
  idVerifier: ID_CAR,
  scrypt: FAST_SCRYPT,
});
const record = computeVerifierRecord(secrets);

function parties(opts: { password?: string; random?: typeof systemRandom } = {}) {
  const random = opts.random ?? systemRandom;
  const proverSecrets =
    opts.password === undefined
      ? secrets
      : deriveSpake2PlusSecrets({ password: utf8(opts.password), salt: SALT, idProver: ID_PHONE, idVerifier: ID_CAR, scrypt: FAST_SCRYPT });
  const common = { context: CONTEXT, idProver: ID_PHONE, idVerifier: ID_CAR, crypto: nobleCrypto, random };
  return {
    prover: new Spake2PlusProver({ ...common, ...proverSecrets }),
    verifier: new Spake2PlusVerifier({ ...common, w0: record.w0, L: record.L }),
    proverSecrets,
  };
}

describe('end to end with random scalars', () => {
  it('same password → same 32-byte shared key on both sides, fresh per run', () => {
    const keys = new Set<string>();
    for (const random of [systemRandom, deterministicRandom('spake2+ e2e'), systemRandom]) {
      const { prover, verifier } = parties({ random });
      const shareP = prover.start();
      expect(shareP).toHaveLength(65);
      const { shareV, confirmV } = verifier.respond(shareP);
      const p = prover.finish(shareV, confirmV);
      const v = verifier.finish(p.confirmP);
      expect(p.sharedKey).toHaveLength(32);
      expect(toHex(p.sharedKey)).toBe(toHex(v.sharedKey));
      keys.add(toHex(p.sharedKey));
    }
    expect(keys.size).toBe(3);
  });

  it('mismatched context or identities → confirmation fails', () => {
    const common = { idProver: ID_PHONE, idVerifier: ID_CAR, crypto: nobleCrypto, random: systemRandom };
    const prover = new Spake2PlusProver({ ...common, context: utf8('other context'), ...secrets });
    const verifier = new Spake2PlusVerifier({ ...common, context: CONTEXT, w0: record.w0, L: record.L });
    const { shareV, confirmV } = verifier.respond(prover.start());
    expectCode(() => prover.finish(shareV, confirmV), RemoteError, 'ERR_DECRYPT');
  });
});

describe('wrong password', () => {
  it('the Prover rejects confirmV; no shared key, session aborted', () => {
    const { prover, verifier } = parties({ password: '654321' });
    const { shareV, confirmV } = verifier.respond(prover.start());
    expectCode(() => prover.finish(shareV, confirmV), RemoteError, 'ERR_DECRYPT');
    expect(prover.state).toBe('failed');
    expectCode(() => prover.finish(shareV, confirmV), LocalError, 'ERR_INVALID_STATE');
  });

  it('the Verifier rejects a confirmP computed per RFC from the wrong password', () => {
    const { verifier, proverSecrets } = parties({ password: '654321' });
    // A Prover that skips checking confirmV and answers anyway (x fixed so we can redo its math).
    const xBytes = scalarToBytes(123456789n);
    const attacker = new Spake2PlusProver({
      context: CONTEXT,
      idProver: ID_PHONE,
      idVerifier: ID_CAR,
      crypto: nobleCrypto,
      random: noRandom,
      ...proverSecrets,
      x: xBytes,
    });
    const shareP = attacker.start();
    const { shareV } = verifier.respond(shareP);
    const w0 = scalarFromBytes(proverSecrets.w0);
    const { Z, V } = spake2PlusProverZV(123456789n, w0, scalarFromBytes(proverSecrets.w1), decodePoint(shareV));
    const TT = spake2PlusTranscript({ context: CONTEXT, idProver: ID_PHONE, idVerifier: ID_CAR, shareP, shareV, Z, V, w0: proverSecrets.w0 });
    const { confirmP } = spake2PlusKeySchedule(nobleCrypto, TT, shareP, shareV);
    expectCode(() => verifier.finish(confirmP), RemoteError, 'ERR_DECRYPT');
    expect(verifier.state).toBe('failed');
    expectCode(() => verifier.finish(confirmP), LocalError, 'ERR_INVALID_STATE');
  });
});

describe('invalid points', () => {
  const valid = h('shareP');
  const offCurve = valid.slice();
  flip(offCurve, 64, 0x01);
  const xTooBig = concatBytes(Uint8Array.of(0x04), new Uint8Array(32).fill(0xff), valid.subarray(33));
  const badPrefix = valid.slice();
  badPrefix[0] = 0x05;
  const invalid: [string, Uint8Array][] = [
    ['off-curve', offCurve],
    ['identity, 65 zero bytes after 04', concatBytes(Uint8Array.of(0x04), new Uint8Array(64))],
    ['identity, SEC1 single 00 byte', Uint8Array.of(0x00)],
    ['all zero', new Uint8Array(65)],
    ['empty', new Uint8Array(0)],
    ['truncated (64 bytes)', valid.subarray(0, 64)],
    ['too long (66 bytes)', concatBytes(valid, Uint8Array.of(0))],
    ['compressed (33 bytes, valid point)', decodePoint(valid).toBytes(true)],
    ['x ≥ p', xTooBig],
    ['bad prefix', badPrefix],
  ];

  it.each(invalid)('Verifier rejects shareP: %s, and stays usable', (_name, bytes) => {
    const { prover, verifier } = parties();
    expectCode(() => verifier.respond(bytes), RemoteError, 'ERR_INVALID_POINT');
    expect(verifier.state).toBe('initial');
    const { shareV, confirmV } = verifier.respond(prover.start());
    const p = prover.finish(shareV, confirmV);
    expect(toHex(verifier.finish(p.confirmP).sharedKey)).toBe(toHex(p.sharedKey));
  });

  it.each(invalid)('Prover rejects shareV: %s, and stays usable', (_name, bytes) => {
    const { prover, verifier } = parties();
    const shareP = prover.start();
    const { shareV, confirmV } = verifier.respond(shareP);
    expectCode(() => prover.finish(bytes, confirmV), RemoteError, 'ERR_INVALID_POINT');
    expect(prover.state).toBe('started');
    const p = prover.finish(shareV, confirmV);
    expect(toHex(verifier.finish(p.confirmP).sharedKey)).toBe(toHex(p.sharedKey));
  });

  it('shareP = w0·M (so Z would be the identity) aborts the Verifier', () => {
    const { verifier } = parties();
    const evil = encodePoint(SPAKE2PLUS_P256_M.multiply(scalarFromBytes(record.w0)));
    expectCode(() => verifier.respond(evil), RemoteError, 'ERR_INVALID_POINT');
    expect(verifier.state).toBe('failed');
  });

  it('shareV = w0·N (so Z and V would be the identity) aborts the Prover', () => {
    const { prover } = parties();
    prover.start();
    const evil = encodePoint(SPAKE2PLUS_P256_N.multiply(scalarFromBytes(secrets.w0)));
    expectCode(() => prover.finish(evil, new Uint8Array(32)), RemoteError, 'ERR_INVALID_POINT');
    expect(prover.state).toBe('failed');
  });

  it('encodePoint never produces the identity', () => {
    expectCode(() => encodePoint(p256.Point.ZERO), LocalError, 'ERR_INVALID_STATE');
  });
});

describe('tampered confirmations', () => {
  it('flipped bit in confirmV → Prover rejects', () => {
    const { prover, verifier } = parties();
    const { shareV, confirmV } = verifier.respond(prover.start());
    const bad = confirmV.slice();
    flip(bad, 0, 0x80);
    expectCode(() => prover.finish(shareV, bad), RemoteError, 'ERR_DECRYPT');
  });

  it('truncated confirmV → Prover rejects', () => {
    const { prover, verifier } = parties();
    const { shareV, confirmV } = verifier.respond(prover.start());
    expectCode(() => prover.finish(shareV, confirmV.subarray(0, 31)), RemoteError, 'ERR_DECRYPT');
  });

  it('shareV replaced by another valid point → Prover rejects', () => {
    const { prover, verifier } = parties();
    const { confirmV } = verifier.respond(prover.start());
    expectCode(() => prover.finish(h('shareV'), confirmV), RemoteError, 'ERR_DECRYPT');
  });

  it('flipped bit / wrong length in confirmP → Verifier rejects, no key', () => {
    for (const mutate of [
      (c: Uint8Array) => {
        const b = c.slice();
        flip(b, 31, 0x01);
        return b;
      },
      (c: Uint8Array) => concatBytes(c, Uint8Array.of(0)),
      () => new Uint8Array(0),
    ]) {
      const { prover, verifier } = parties();
      const { shareV, confirmV } = verifier.respond(prover.start());
      const { confirmP } = prover.finish(shareV, confirmV);
      expectCode(() => verifier.finish(mutate(confirmP)), RemoteError, 'ERR_DECRYPT');
      expect(verifier.state).toBe('failed');
      expectCode(() => verifier.finish(confirmP), LocalError, 'ERR_INVALID_STATE');
    }
  });
});

describe('illegal call order and misuse', () => {
  it('Prover: finish before start, start twice, anything after done', () => {
    const { prover, verifier } = parties();
    expectCode(() => prover.finish(h('shareV'), new Uint8Array(32)), LocalError, 'ERR_INVALID_STATE');
    const shareP = prover.start();
    expectCode(() => prover.start(), LocalError, 'ERR_INVALID_STATE');
    const { shareV, confirmV } = verifier.respond(shareP);
    prover.finish(shareV, confirmV);
    expectCode(() => prover.start(), LocalError, 'ERR_INVALID_STATE');
    expectCode(() => prover.finish(shareV, confirmV), LocalError, 'ERR_INVALID_STATE');
  });

  it('Verifier: finish before respond, respond twice, anything after done', () => {
    const { prover, verifier } = parties();
    expectCode(() => verifier.finish(new Uint8Array(32)), LocalError, 'ERR_INVALID_STATE');
    const shareP = prover.start();
    const { shareV, confirmV } = verifier.respond(shareP);
    expectCode(() => verifier.respond(shareP), LocalError, 'ERR_INVALID_STATE');
    const { confirmP } = prover.finish(shareV, confirmV);
    verifier.finish(confirmP);
    expectCode(() => verifier.finish(confirmP), LocalError, 'ERR_INVALID_STATE');
    expectCode(() => verifier.respond(shareP), LocalError, 'ERR_INVALID_STATE');
  });

  it('constructors reject bad scalars and records', () => {
    const common = { context: CONTEXT, idProver: ID_PHONE, idVerifier: ID_CAR, crypto: nobleCrypto, random: systemRandom };
    const nBytes = scalarToBytes(P256_ORDER - 1n);
    nBytes[31] = nBytes[31]! + 1; // = n
    for (const w of [new Uint8Array(32), nBytes, new Uint8Array(31)]) {
      expectCode(() => new Spake2PlusProver({ ...common, w0: w, w1: secrets.w1 }), LocalError, 'ERR_INVALID_ARGUMENT');
      expectCode(() => new Spake2PlusProver({ ...common, w0: secrets.w0, w1: w }), LocalError, 'ERR_INVALID_ARGUMENT');
      expectCode(() => new Spake2PlusVerifier({ ...common, w0: w, L: record.L }), LocalError, 'ERR_INVALID_ARGUMENT');
    }
    const badL = record.L.slice();
    flip(badL, 64, 0x01);
    expectCode(() => new Spake2PlusVerifier({ ...common, w0: record.w0, L: badL }), LocalError, 'ERR_INVALID_ARGUMENT');
    expectCode(() => new Spake2PlusProver({ ...common, ...secrets, x: new Uint8Array(32) }), LocalError, 'ERR_INVALID_ARGUMENT');
  });

  it('does not alias caller buffers', () => {
    const w0 = secrets.w0.slice();
    const { verifier } = parties();
    const common = { context: CONTEXT, idProver: ID_PHONE, idVerifier: ID_CAR, crypto: nobleCrypto, random: systemRandom };
    const prover = new Spake2PlusProver({ ...common, w0, w1: secrets.w1 });
    w0.fill(0); // caller wipes its copy right away
    const { shareV, confirmV } = verifier.respond(prover.start());
    const { confirmP, sharedKey } = prover.finish(shareV, confirmV);
    expect(toHex(verifier.finish(confirmP).sharedKey)).toBe(toHex(sharedKey));
    expect(toHex(secrets.w0)).not.toBe(toHex(new Uint8Array(32)));
  });
});

describe('a provider that returns Node Buffers (whose slice is a view)', () => {
  // The key schedule wipes its temporaries: what it keeps must be real copies, or the confirmation
  // keys are zeros on both sides and any password confirms.
  const buffers: CryptoProvider = {
    ...nobleCrypto,
    name: 'buffers',
    sha256: (d) => createHash('sha256').update(d).digest(),
    hmacSha256: (k, d) => createHmac('sha256', k).update(d).digest(),
    hkdfSha256: (ikm, salt, info, length) => Buffer.from(hkdfSync('sha256', ikm, salt, info, length)),
  };
  const on = (password: string) => {
    const p = parties({ password });
    const common = { context: CONTEXT, idProver: ID_PHONE, idVerifier: ID_CAR, crypto: buffers, random: systemRandom };
    return { prover: new Spake2PlusProver({ ...common, ...p.proverSecrets }), verifier: new Spake2PlusVerifier({ ...common, w0: record.w0, L: record.L }) };
  };

  it('a wrong password still fails', () => {
    const { prover, verifier } = on('654321');
    const { shareV, confirmV } = verifier.respond(prover.start());
    expectCode(() => prover.finish(shareV, confirmV), RemoteError, 'ERR_DECRYPT');
  });

  it('the right password gives both sides the same non-zero key', () => {
    const { prover, verifier } = on('123456');
    const { shareV, confirmV } = verifier.respond(prover.start());
    const p = prover.finish(shareV, confirmV);
    const v = verifier.finish(p.confirmP);
    expect(toHex(v.sharedKey)).toBe(toHex(p.sharedKey));
    expect(p.sharedKey.some((b) => b !== 0)).toBe(true);
  });
});
