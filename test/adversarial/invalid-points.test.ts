/**
 * Invalid-curve defences: every public key proxkey receives or is configured with is validated
 * before use. Invalid points come from Wycheproof (ecdh_secp256r1_ecpoint_test.json, every case
 * with result "invalid": off-curve points, twist points, a bad compressed point, the empty
 * encoding) plus the identity, zero and off-curve points, hybrid and non-canonical encodings.
 * Each is used as: the car's ephemeral in a challenge, the phone's ephemeral and the phone's
 * (encrypted) static key in a handshake, the vehicle key pinned by PhoneSession, and a phone key
 * enrolled in MemoryKeyRegistry.
 */
import { readFileSync } from 'node:fs';
import { p256 } from '@noble/curves/nist.js';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  concatBytes,
  deterministicRandom,
  fromHex,
  isP256PublicKey,
  LocalError,
  MemoryKeyRegistry,
  noise,
  PhoneSession,
  ProxkeyError,
  toHex,
} from '../../src/index.js';
import { Actuator, asNoiseKey, craftHandshake, carReceive, crypto, errorsOf, eventTypes, makeWorld, Recorded, type World } from '../helpers/adversary.js';

interface Bad {
  readonly name: string;
  readonly bytes: Uint8Array;
}

function wycheproofInvalid(): Bad[] {
  const file = JSON.parse(readFileSync(new URL('../vectors/wycheproof/ecdh_secp256r1_ecpoint_test.json', import.meta.url), 'utf8')) as {
    testGroups: { tests: { tcId: number; comment: string; public: string; result: string }[] }[];
  };
  const seen = new Set<string>();
  const out: Bad[] = [];
  for (const g of file.testGroups)
    for (const t of g.tests)
      if (t.result === 'invalid' && !seen.has(t.public)) {
        seen.add(t.public);
        out.push({ name: `wycheproof tcId ${t.tcId} (${t.comment || 'empty'})`, bytes: fromHex(t.public) });
      }
  return out;
}

const P = p256.Point.Fp.ORDER;
const be32 = (n: bigint) => fromHex(n.toString(16).padStart(64, '0'));
const G = p256.Point.BASE.toBytes(false);
const Gx = G.slice(1, 33);
const Gy = G.slice(33);
/** (0, y) is on P-256: re-encoded with x + p (non-canonical coordinate) it must be rejected. */
const y0 = p256.Point.Fp.sqrt(p256.Point.CURVE().b);

function extraInvalid(): Bad[] {
  const rnd = deterministicRandom('off-curve');
  const offCurve = Array.from({ length: 4 }, (_, i) => ({ name: `random off-curve #${i}`, bytes: concatBytes(Uint8Array.of(4), rnd(64)) }));
  return [
    { name: 'identity (SEC1 0x00)', bytes: Uint8Array.of(0) },
    { name: 'all-zero 65 bytes', bytes: new Uint8Array(65) },
    { name: 'uncompressed (0, 0)', bytes: concatBytes(Uint8Array.of(4), new Uint8Array(64)) },
    { name: 'compressed x = 0 with 0x00 prefix', bytes: new Uint8Array(33) },
    { name: 'G with y + 1 (off curve)', bytes: concatBytes(Uint8Array.of(4), Gx, be32(BigInt(`0x${toHex(Gy)}`) + 1n)) },
    { name: 'G with x and y swapped', bytes: concatBytes(Uint8Array.of(4), Gy, Gx) },
    { name: 'G in hybrid form (0x06)', bytes: concatBytes(Uint8Array.of(6), Gx, Gy) },
    { name: 'G in hybrid form (0x07)', bytes: concatBytes(Uint8Array.of(7), Gx, Gy) },
    { name: '(p, y0): x not reduced mod p', bytes: concatBytes(Uint8Array.of(4), be32(P), be32(y0)) },
    { name: 'compressed x = p', bytes: concatBytes(Uint8Array.of(2), be32(P)) },
    { name: 'coordinates all ones', bytes: concatBytes(Uint8Array.of(4), new Uint8Array(64).fill(0xff)) },
    { name: 'G truncated to 64 bytes', bytes: G.slice(0, 64) },
    { name: 'G with a trailing byte', bytes: concatBytes(G, Uint8Array.of(0)) },
    ...offCurve,
  ];
}

const WYCHEPROOF = wycheproofInvalid();
const EXTRA = extraInvalid();
const ALL = [...WYCHEPROOF, ...EXTRA];
const FULL_LENGTH = ALL.filter((b) => b.bytes.length === 65);

const codeOf = (e: unknown) => (e instanceof ProxkeyError ? e.code : `untyped: ${String(e)}`);

describe('invalid P-256 points', () => {
  let w: World;
  let rec: Recorded;
  beforeAll(async () => {
    w = await makeWorld({ carSeed: 'points-car', phoneSeed: 'points-phone' });
    rec = await Recorded.record(w);
  });

  it('the sample: 24 Wycheproof invalid public keys and the extra cases, all invalid, the controls valid', () => {
    expect(WYCHEPROOF).toHaveLength(24);
    for (const b of ALL) expect(isP256PublicKey(b.bytes), b.name).toBe(false);
    // Controls: the same constructions from valid coordinates are accepted.
    expect(isP256PublicKey(G)).toBe(true);
    expect(isP256PublicKey(concatBytes(Uint8Array.of(4), be32(0n), be32(y0)))).toBe(true);
    expect(FULL_LENGTH.length).toBeGreaterThanOrEqual(16 + 10);
  });

  it('as the car’s ephemeral in a challenge: the phone rejects it, sends nothing, and is unchanged', async () => {
    const phone = rec.phoneAwaitingChallenge();
    const header = rec.t.challenge.slice(0, 3);
    for (const b of ALL) {
      const o = await phone.receive(concatBytes(header, b.bytes));
      const expected = b.bytes.length === 65 ? 'ERR_INVALID_POINT' : 'ERR_DECODE';
      expect(errorsOf(o).map(codeOf), b.name).toEqual([expected]);
      expect(o.send, b.name).toEqual([]);
      expect(phone.state).toBe('awaiting-challenge');
    }
    // Not even randomness was consumed: the genuine challenge yields the recorded handshake.
    expect((await phone.receive(rec.t.challenge)).send).toEqual([rec.t.handshake]);
  });

  it('as the phone’s ephemeral in a handshake: the car rejects it and executes nothing', async () => {
    const car = await rec.carChallenged();
    const act = new Actuator();
    const h = rec.t.handshake;
    for (const b of ALL) {
      const forged = concatBytes(h.slice(0, 3), b.bytes, h.slice(3 + 65));
      const o = await carReceive(car, forged, act);
      expect(eventTypes(o), b.name).toEqual(['error']);
      // Other lengths shift the framing: the car reads some other 65 bytes as the key (for "G with
      // a trailing byte" that is G itself, and the shifted ciphertext then fails to decrypt).
      const allowed = b.bytes.length === 65 ? ['ERR_INVALID_POINT'] : ['ERR_INVALID_POINT', 'ERR_DECODE', 'ERR_DECRYPT'];
      expect(allowed, b.name).toContain(codeOf(errorsOf(o)[0]));
      expect(car.state).toBe('challenged');
      expect(act.count).toBe(0);
    }
    expect((await carReceive(car, h, act)).send).toEqual([rec.t.result]);
  });

  /**
   * A phone (or attacker) that runs the real handshake but claims an invalid static key: the
   * point arrives encrypted and authenticated, and must still be validated after decryption.
   */
  const craft = (staticKey: noise.NoiseKey) => craftHandshake({ challenge: rec.t.challenge, staticKey, vehicleKey: w.carKey.publicKey });

  it('control: a hand-crafted handshake with the real phone key is accepted', async () => {
    const car = await rec.carChallenged();
    const act = new Actuator();
    const o = await carReceive(car, await craft(asNoiseKey(w.phoneKey)), act);
    expect(eventTypes(o)).toEqual(['authenticated', 'execute', 'decision']);
    expect(act.calls).toEqual([{ kind: 'unlock' }]);
  });

  it('as the phone’s static key inside an authenticated handshake: the car rejects it after decryption', async () => {
    const car = await rec.carChallenged();
    const act = new Actuator();
    for (const b of FULL_LENGTH) {
      const fake: noise.NoiseKey = { publicKey: b.bytes, dh: async () => new Uint8Array(32).fill(7) };
      const o = await carReceive(car, await craft(fake), act);
      expect(errorsOf(o).map(codeOf), b.name).toEqual(['ERR_INVALID_POINT']);
      expect(eventTypes(o), b.name).toEqual(['error']);
      expect(car.state).toBe('challenged');
      expect(car.keyId).toBeUndefined();
      expect(act.count).toBe(0);
    }
    expect((await carReceive(car, rec.t.handshake, act)).send).toEqual([rec.t.result]);
  });

  it('as the vehicle key pinned by a PhoneSession: the constructor rejects it', () => {
    for (const b of ALL) {
      let err: unknown;
      try {
        new PhoneSession({ crypto, random: deterministicRandom('x'), now: () => 0, identity: w.phoneKey, vehicleKey: b.bytes });
      } catch (e) {
        err = e;
      }
      // The pinned key is local configuration: a misuse error whatever is wrong with it.
      expect(err, b.name).toBeInstanceOf(LocalError);
      expect(codeOf(err), b.name).toBe('ERR_INVALID_ARGUMENT');
    }
  });

  it('as a phone key given to MemoryKeyRegistry.enroll: rejected, nothing stored', async () => {
    const keys = new MemoryKeyRegistry(crypto);
    for (const b of ALL) {
      const err = await keys.enroll(b.bytes, { label: b.name }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(codeOf(err), b.name).toBe('ERR_INVALID_POINT');
    }
    expect(await keys.list()).toEqual([]);
    // Control: a valid compressed key is accepted (stored uncompressed).
    const rec2 = await keys.enroll(w.phoneKey.publicKey.length === 65 ? p256.Point.fromBytes(w.phoneKey.publicKey).toBytes(true) : w.phoneKey.publicKey);
    expect(rec2.publicKey).toEqual(w.phoneKey.publicKey);
  });

  it('as a peer key for the key custody ECDH (defence in depth): rejected', async () => {
    for (const b of ALL) {
      const err = await w.carKey.ecdh(b.bytes).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(codeOf(err), b.name).toBe('ERR_INVALID_POINT');
    }
  });
});
