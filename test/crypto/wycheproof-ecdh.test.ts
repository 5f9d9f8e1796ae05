/**
 * Wycheproof ECDH P-256 against `crypto.p256Ecdh`, in both public-key encodings:
 * raw SEC1 points (ecdh_secp256r1_ecpoint_test.json) and DER SubjectPublicKeyInfo decoded by
 * `p256PublicKeyFromSpki` (ecdh_secp256r1_test.json).
 *
 * Harness note: Wycheproof private keys are big-endian integers of variable length (33 bytes with
 * a 00 sign byte, or fewer than 32); they are re-encoded to our fixed 32-byte form (`scalar32`).
 * A private key outside [1, n-1] would be expected to throw LocalError; the files contain none.
 *
 * Policy for `acceptable` cases, per flag (a case is accepted only if all its flags say accept):
 * - CompressedPublic / CompressedPoint: ACCEPT. proxkey accepts SEC1 compressed points (33 B, and
 *   inside SPKI) and must then produce the correct shared secret.
 * - InvalidAsn: REJECT. The SPKI parser is strict DER; BER leniency buys nothing here. Error is
 *   ERR_DECODE, or ERR_INVALID_POINT where the DER is well-formed but the BIT STRING does not hold
 *   a valid point (e.g. bytes appended or removed inside it).
 * - UnnamedCurve / UnusedParam / ModifiedGenerator / ModifiedCofactor / NoCofactor /
 *   ModifiedCurveParameter / WrongOrder: REJECT with ERR_DECODE. Explicit curve parameters are not
 *   supported at all (named curve P-256 only, RFC 5480 §2.1.1), even when they equal P-256's.
 */
import { describe, expect, it } from 'vitest';
import { equalBytes, toHex } from '../../src/bytes.js';
import type { CryptoProvider } from '../../src/crypto/provider.js';
import { p256PublicKeyFromSpki } from '../../src/crypto/spki.js';
import { LocalError, RemoteError, type ErrorCode } from '../../src/errors.js';
import { P256_N, Tally, cases, describeError, hex, loadWycheproof, scalar32, thrown, type EcdhCase, type EcdhGroup } from './wycheproof.js';
import { PROVIDERS } from './providers.js';

type Policy = { accept: true } | { accept: false; codes: ErrorCode[] };

const ACCEPT: Policy = { accept: true };
const rejectWith = (...codes: ErrorCode[]): Policy => ({ accept: false, codes });

const ECPOINT_ACCEPTABLE: Record<string, Policy> = {
  CompressedPublic: ACCEPT,
  CompressedPoint: ACCEPT,
};

const SPKI_ACCEPTABLE: Record<string, Policy> = {
  CompressedPublic: ACCEPT,
  CompressedPoint: ACCEPT,
  InvalidAsn: rejectWith('ERR_DECODE', 'ERR_INVALID_POINT'),
  UnnamedCurve: rejectWith('ERR_DECODE'),
  UnusedParam: rejectWith('ERR_DECODE'),
  ModifiedGenerator: rejectWith('ERR_DECODE'),
  ModifiedCofactor: rejectWith('ERR_DECODE'),
  NoCofactor: rejectWith('ERR_DECODE'),
  ModifiedCurveParameter: rejectWith('ERR_DECODE'),
  WrongOrder: rejectWith('ERR_DECODE'),
};

/** Combined policy of an acceptable case; throws on a flag without a documented policy. */
function policyFor(table: Record<string, Policy>, t: EcdhCase): Policy {
  let codes: ErrorCode[] | undefined;
  for (const flag of t.flags) {
    const p = table[flag];
    if (p === undefined) throw new Error(`tcId ${t.tcId}: no documented policy for acceptable flag ${flag}`);
    if (!p.accept) codes = codes ? codes.filter((c) => p.codes.includes(c)) : p.codes;
  }
  return codes ? { accept: false, codes } : ACCEPT;
}

/** Expected error code of an `invalid` SPKI case (the decoder or the point check rejects it). */
function spkiInvalidCodes(t: EcdhCase): ErrorCode[] {
  const f = new Set(t.flags);
  // Explicit parameters, or another curve's OID: the decoder refuses the structure.
  if (f.has('UnnamedCurve') || ((f.has('WrongCurve') || f.has('ModifiedGroup')) && !f.has('CompressedPoint'))) return ['ERR_DECODE'];
  // Named curve P-256 but the point is bad (off curve, on the twist, (0,0), empty, no square root).
  return ['ERR_INVALID_POINT'];
}

interface Replay {
  tally: Tally;
  numberOfTests: number;
}

async function replay(
  crypto: CryptoProvider,
  file: string,
  decode: (pub: Uint8Array) => Uint8Array,
  acceptable: Record<string, Policy>,
  invalidCodes: (t: EcdhCase) => ErrorCode[],
): Promise<Replay> {
  const f = loadWycheproof<EcdhGroup>(file);
  const tally = new Tally();
  for (const [g, t] of cases(f)) {
    expect(g.curve).toBe('secp256r1');
    const priv = scalar32(t.private);
    const privValid = priv !== null && priv.value >= 1n && priv.value < P256_N;
    let secret: Uint8Array | undefined;
    const err = await thrown(async () => {
      secret = await crypto.p256Ecdh(priv?.bytes ?? hex(t.private), decode(hex(t.public)));
    });

    const expectSecret = (bucket: string) => {
      if (err !== undefined) return tally.fail(t.tcId, `expected shared secret, got ${describeError(err)}`);
      if (!equalBytes(secret!, hex(t.shared))) return tally.fail(t.tcId, `wrong shared secret ${toHex(secret!)} (expected ${t.shared})`);
      tally.add(bucket);
    };
    const expectReject = (bucket: string, codes: ErrorCode[]) => {
      if (!privValid) {
        if (err instanceof LocalError && err.code === 'ERR_INVALID_ARGUMENT') return tally.add(`${bucket}: LocalError (private key)`);
        return tally.fail(t.tcId, `expected LocalError for the private key, got ${describeError(err)}`);
      }
      if (err instanceof RemoteError && codes.includes(err.code)) return tally.add(`${bucket}: ${err.code}`);
      tally.fail(t.tcId, `expected RemoteError(${codes.join('|')}), got ${describeError(err)}`);
    };

    if (t.result === 'valid') {
      if (!privValid) tally.fail(t.tcId, 'valid case with an out-of-range private key');
      else expectSecret('valid: correct secret');
    } else if (t.result === 'invalid') {
      expectReject('invalid: rejected', invalidCodes(t));
    } else {
      const p = policyFor(acceptable, t);
      if (p.accept) expectSecret('acceptable: accepted, correct secret');
      else expectReject('acceptable: rejected', p.codes);
    }
  }
  return { tally, numberOfTests: f.numberOfTests };
}

describe.each(PROVIDERS)('Wycheproof ECDH secp256r1 (%s)', (_name, crypto) => {
  it('raw SEC1 points (ecdh_secp256r1_ecpoint_test.json)', async () => {
    const { tally, numberOfTests } = await replay(
      crypto,
      'ecdh_secp256r1_ecpoint_test.json',
      (pub) => pub,
      ECPOINT_ACCEPTABLE,
      () => ['ERR_INVALID_POINT'],
    );
    expect(tally.failures).toEqual([]);
    expect(tally.total()).toBe(numberOfTests);
    expect(tally.toJSON()).toEqual({
      'valid: correct secret': 330,
      'invalid: rejected: ERR_INVALID_POINT': 24,
      'acceptable: accepted, correct secret': 1,
    });
  });

  it('DER SubjectPublicKeyInfo via p256PublicKeyFromSpki (ecdh_secp256r1_test.json)', async () => {
    const { tally, numberOfTests } = await replay(crypto, 'ecdh_secp256r1_test.json', p256PublicKeyFromSpki, SPKI_ACCEPTABLE, spkiInvalidCodes);
    expect(tally.failures).toEqual([]);
    expect(tally.total()).toBe(numberOfTests);
    expect(tally.toJSON()).toEqual({
      'valid: correct secret': 330,
      // explicit parameters (7) or another curve's OID (19)
      'invalid: rejected: ERR_DECODE': 26,
      // P-256 OID, bad point: off curve (18), compressed x not on P-256 (7), empty point (1)
      'invalid: rejected: ERR_INVALID_POINT': 26,
      'acceptable: accepted, correct secret': 1,
      // 222 InvalidAsn (216 malformed DER + 6 well-formed DER around a malformed point) + 7 explicit-parameter keys.
      'acceptable: rejected: ERR_DECODE': 223,
      'acceptable: rejected: ERR_INVALID_POINT': 6,
    });
  });

  it('has a policy for every acceptable flag in both files', () => {
    for (const [file, table] of [
      ['ecdh_secp256r1_ecpoint_test.json', ECPOINT_ACCEPTABLE],
      ['ecdh_secp256r1_test.json', SPKI_ACCEPTABLE],
    ] as const) {
      for (const [, t] of cases(loadWycheproof<EcdhGroup>(file)))
        if (t.result === 'acceptable') for (const flag of t.flags) expect(table, `${file} ${flag}`).toHaveProperty(flag);
    }
  });
});
