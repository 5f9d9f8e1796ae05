/**
 * PROTOCOL.md §12 recomputed from its own text: a real pairing between the two roles (with
 * scripted randomness), then every derivation of §12.2 redone here with @noble primitives only —
 * the scrypt input, w0/w1, x, shareP, Context, TT, the confirmations, the HKDF argument order and
 * the sealing — plus the message layouts of §12.1, the random draws of §2.2 and the QR example.
 */
import { gcm } from '@noble/ciphers/aes.js';
import { p256 } from '@noble/curves/nist.js';
import { hkdf } from '@noble/hashes/hkdf.js';
import { hmac } from '@noble/hashes/hmac.js';
import { scrypt } from '@noble/hashes/scrypt.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { describe, expect, it } from 'vitest';
import {
  concatBytes,
  createMemoryLinkPair,
  encodeMessage,
  fromHex,
  nobleCrypto,
  MemoryPhoneStore,
  MemoryVehicleStore,
  PairingMode,
  PhonePairingSession,
  PhoneWallet,
  softwareKey,
  systemRandom,
  toHex,
  VehiclePairingSession,
  VehicleService,
  type RandomSource,
} from '../../src/index.js';
import { section, specDoc, tableRows } from './spec-text.js';

const doc = specDoc('PROTOCOL.md');
const n = p256.Point.Fn.ORDER;
const G = p256.Point.BASE;
const M = p256.Point.fromHex('02886e2f97ace46e55ba9dd7242579f2993b64e16ef3dcab95afd497333d8fa12f'); // RFC 9383 §4
const N = p256.Point.fromHex('03d8bbd6c639c62937b04d997f38c3770719c629d7014d49a24b4f98baa1292b49');
const ascii = (s: string) => new TextEncoder().encode(s);
const be = (b: Uint8Array) => BigInt(`0x${toHex(b) || '0'}`);
const u64le = (v: number) => Uint8Array.from({ length: 8 }, (_, i) => (i === 0 ? v : 0));
const lengthPrefixed = (...parts: Uint8Array[]) => concatBytes(...parts.flatMap((p) => [u64le(p.length), p]));

/** Yields the given draws in order, recording the sizes asked for. */
function scripted(...draws: Uint8Array[]): { random: RandomSource; asked: number[] } {
  const asked: number[] = [];
  return {
    asked,
    random: (size) => {
      asked.push(size);
      const d = draws.shift();
      if (!d || d.length !== size) throw new Error(`unexpected draw of ${size} bytes`);
      return d.slice();
    },
  };
}

const CODE_DRAW = fromHex('00bc614e'); // 12 345 678
const SALT = new Uint8Array(16).fill(0x5a);
const X = new Uint8Array(40).fill(0x07);
const Y = new Uint8Array(40).fill(0x09);
const SCRYPT = { log2N: 8, r: 1, p: 1 };

/** The car's pairing role with every step at time 0 (its steps take a monotonic `now`). */
function atTimeZero(session: VehiclePairingSession) {
  return {
    receive: (bytes: Uint8Array) => session.receive(bytes, 0),
    complete: (car: Parameters<VehiclePairingSession['complete']>[0]) => session.complete(car, 0),
  };
}

async function pairOnce() {
  const car = scripted(CODE_DRAW, SALT, Y);
  const phone = scripted(X);
  const now = () => 0;
  const { mode, code, payload } = await PairingMode.open({ crypto: nobleCrypto, random: car.random, now, scrypt: SCRYPT, carName: 'My car', carId: 'a1b2c3d4e5f60718293a4b5c6d7e8f90' });
  const openDraws = [...car.asked];
  const carKey = await softwareKey(nobleCrypto, new Uint8Array(32).fill(0x11));
  const phoneKey = await softwareKey(nobleCrypto, new Uint8Array(32).fill(0x33));
  const ephemeral = await softwareKey(nobleCrypto, new Uint8Array(32).fill(0x22));
  const challenge = encodeMessage({ type: 0x01, versions: 0x01, suites: 0x03, ephemeral: ephemeral.publicKey });
  const v = atTimeZero(new VehiclePairingSession({ crypto: nobleCrypto, random: car.random, authority: mode, challenge }));
  const p = new PhonePairingSession({ crypto: nobleCrypto, random: phone.random, now, code, identity: phoneKey, label: 'phone' });
  const start = (await p.receive(challenge)).send[0]!;
  const params = (await v.receive(start)).send[0]!;
  const share = (await p.receive(params)).send[0]!;
  const phoneDrawsAtShare = [...phone.asked];
  const response = (await v.receive(share)).send[0]!;
  const confirm = (await p.receive(response)).send[0]!;
  const enroll = await v.receive(confirm);
  expect(enroll.request?.type).toBe('enroll-owner');
  const done = (await v.complete({ publicKey: carKey.publicKey, advertisingSecret: new Uint8Array(32).fill(0xad), keyId: '0123456789abcdef', name: 'My car' })).send[0]!;
  const paired = await p.receive(done);
  expect(paired.events.map((e) => e.type)).toContain('paired');
  return { code, payload, openDraws, carDraws: car.asked.slice(openDraws.length), phoneDrawsAtShare, challenge, start, params, share, response, confirm, done, phoneKey, carKey };
}

describe('PROTOCOL.md §12, recomputed from the text', () => {
  it('§12.1 layouts, §12.2 derivations, §2.2 draws and the §12 QR example', async () => {
    const t = await pairOnce();

    // §2.2: opening pairing mode draws 4 (the code) then 16 (the salt); the car 40 on PAIR_SHARE; the phone 40 on PAIR_PARAMS
    const draws = tableRows(section(doc, '### 2.2'), 'role');
    const bytesFor = (role: string, when: string) => Number(draws.find(([r, w]) => r === role && w!.startsWith(when))![2]);
    expect(t.openDraws).toEqual([bytesFor('car', 'opening pairing mode'), bytesFor('car', 'opening pairing mode, after the code')]);
    expect(t.phoneDrawsAtShare).toEqual([bytesFor('phone (pairing)', 'on PAIR_PARAMS')]);
    expect(t.carDraws).toEqual([bytesFor('car (pairing)', 'on PAIR_SHARE')]);
    expect(t.code).toBe('12345678');

    // §12: the QR payload, exactly the example
    expect(section(doc, '## 12.')).toContain(`Example: \`${t.payload}\``);

    // §12.1 layouts
    expect([...t.start]).toEqual([0x20, 0x01]);
    expect([...t.params]).toEqual([0x21, 16, ...SALT, SCRYPT.log2N, SCRYPT.r, SCRYPT.p]);
    expect([t.share.length, t.response.length, t.share[0], t.response[0], t.confirm[0], t.done[0]]).toEqual([66, 98, 0x22, 0x23, 0x24, 0x25]);

    // §12.2: password, PBKDF input, scrypt, w0, w1
    const password = ascii(t.code);
    const input = concatBytes(u64le(8), password, u64le(0), u64le(0));
    expect(input.length).toBe(32);
    const out = scrypt(input, SALT, { N: 2 ** SCRYPT.log2N, r: SCRYPT.r, p: SCRYPT.p, dkLen: 80 });
    const w0 = be(out.subarray(0, 40)) % n;
    const w1 = be(out.subarray(40, 80)) % n;
    const x = (be(X) % (n - 1n)) + 1n;
    const shareP = G.multiply(x).add(M.multiply(w0)).toBytes(false);
    expect(toHex(t.share.subarray(1))).toBe(toHex(shareP));

    // Context, TT, confirmations (RFC 9383 with empty identities)
    const shareV = t.response.subarray(1, 66);
    const base = p256.Point.fromBytes(shareV).subtract(N.multiply(w0));
    const Z = base.multiply(x).toBytes(false);
    const V = base.multiply(w1).toBytes(false);
    const context = concatBytes(ascii('proxkey pairing v1'), t.challenge, t.params);
    expect(context.length).toBe(18 + 68 + 21);
    const w0Bytes = fromHex(w0.toString(16).padStart(64, '0'));
    const TT = lengthPrefixed(context, new Uint8Array(0), new Uint8Array(0), M.toBytes(false), N.toBytes(false), shareP, shareV, Z, V, w0Bytes);
    expect(TT.length).toBe(609); // MCU.md §4
    const K_main = sha256(TT);
    const confirmation = hkdf(sha256, K_main, new Uint8Array(0), ascii('ConfirmationKeys'), 64);
    const K_shared = hkdf(sha256, K_main, new Uint8Array(0), ascii('SharedKey'), 32);
    expect(toHex(t.response.subarray(66))).toBe(toHex(hmac(sha256, confirmation.subarray(32), shareP))); // confirmV
    expect(toHex(t.confirm.subarray(1, 33))).toBe(toHex(hmac(sha256, confirmation.subarray(0, 32), shareV))); // confirmP

    // HKDF(salt = empty, IKM = K_shared, info = "proxkey pairing v1 keys", 64): k_pc first, then k_cp
    const okm = hkdf(sha256, K_shared, new Uint8Array(0), ascii('proxkey pairing v1 keys'), 64);
    expect(toHex(okm)).toBe(toHex(hkdf(sha256, K_shared, new Uint8Array(32), ascii('proxkey pairing v1 keys'), 64))); // empty salt = 32 zero bytes
    const zero = new Uint8Array(12);
    const phoneInfo = gcm(okm.subarray(0, 32), zero, Uint8Array.of(0x24)).decrypt(t.confirm.subarray(33));
    const carInfo = gcm(okm.subarray(32, 64), zero, Uint8Array.of(0x25)).decrypt(t.done.subarray(1));

    // phone info = u8 1 ‖ static key 65 ‖ u8 hasSigning ‖ u8 n ‖ label; car info = u8 1 ‖ key 65 ‖ secret 32 ‖ key id 8 ‖ u8 n ‖ name
    expect(toHex(phoneInfo)).toBe(toHex(concatBytes(Uint8Array.of(1), t.phoneKey.publicKey, Uint8Array.of(0, 5), ascii('phone'))));
    expect(toHex(carInfo)).toBe(
      toHex(concatBytes(Uint8Array.of(1), t.carKey.publicKey, new Uint8Array(32).fill(0xad), fromHex('0123456789abcdef'), Uint8Array.of(6), ascii('My car'))),
    );
  });

  it('§2.2: a code draw of 4 200 000 000 or more is drawn again; the code keeps its leading zeros', async () => {
    const { random, asked } = scripted(fromHex('fa56ea00'), fromHex('00000005'), new Uint8Array(16));
    const { code } = await PairingMode.open({ crypto: nobleCrypto, random, now: () => 0, scrypt: SCRYPT });
    expect(0xfa56ea00).toBe(4_200_000_000);
    expect([code, asked]).toEqual(['00000005', [4, 4, 16]]);
  });
});

describe('PROTOCOL.md §12.4: who sends which ALERT', () => {
  const rows = tableRows(section(doc, '### 12.4'), 'situation');
  const row = (start: string) => rows.find(([situation]) => situation!.startsWith(start))!;

  async function upToResponse(phoneCode?: string) {
    const car = scripted(CODE_DRAW, SALT, Y);
    const { mode, code } = await PairingMode.open({ crypto: nobleCrypto, random: car.random, now: () => 0, scrypt: SCRYPT });
    const ephemeral = await softwareKey(nobleCrypto, new Uint8Array(32).fill(0x22));
    const challenge = encodeMessage({ type: 0x01, versions: 0x01, suites: 0x03, ephemeral: ephemeral.publicKey });
    const v = atTimeZero(new VehiclePairingSession({ crypto: nobleCrypto, random: car.random, authority: mode, challenge }));
    const identity = await softwareKey(nobleCrypto, new Uint8Array(32).fill(0x33));
    const p = new PhonePairingSession({ crypto: nobleCrypto, random: scripted(X).random, now: () => 0, code: phoneCode ?? code, identity });
    const params = (await v.receive((await p.receive(challenge)).send[0]!)).send[0]!;
    const share = (await p.receive(params)).send[0]!;
    return { v, p, mode, params, share };
  }

  it('a wrong code: the phone sends ALERT(pairing-failed) on confirmV, the car answers nothing', async () => {
    expect(row('confirmV wrong')).toEqual(expect.arrayContaining(['ALERT(`pairing-failed`)', '**phone**']));
    const t = await upToResponse('87654321');
    const response = (await t.v.receive(t.share)).send[0]!;
    const phoneOut = await t.p.receive(response);
    expect(phoneOut.send.map((m) => [...m])).toEqual([[0x0f, 0x14]]);
    expect(phoneOut.events.find((e) => e.type === 'error')).toMatchObject({ error: { code: 'ERR_PAIRING_FAILED', message: 'wrong pairing code' } });
    const carOut = await t.v.receive(phoneOut.send[0]!);
    expect([carOut.send, carOut.done, t.mode.attempts]).toEqual([[], true, 1]);
  });

  it('a wrong confirmP: the car sends ALERT(pairing-failed)', async () => {
    expect(row('confirmP wrong')).toEqual(expect.arrayContaining(['ALERT(`pairing-failed`)', '**car**']));
    const t = await upToResponse();
    const confirm = (await t.p.receive((await t.v.receive(t.share)).send[0]!)).send[0]!.slice();
    confirm[1]! ^= 0x01;
    expect((await t.v.receive(confirm)).send.map((m) => [...m])).toEqual([[0x0f, 0x14]]);
  });

  it('an invalid shareP: ALERT(malformed), no attempt consumed; PAIR_PARAMS out of bounds: the phone sends nothing', async () => {
    expect(row('shareP not a valid point')[1]).toBe('ALERT(`malformed`)');
    const t = await upToResponse();
    const bad = Uint8Array.of(0x22, 0x04, ...new Uint8Array(64).fill(1));
    expect((await t.v.receive(bad)).send.map((m) => [...m])).toEqual([[0x0f, 0x0b]]);
    expect(t.mode.attempts).toBe(0);

    expect(row('PAIR_PARAMS outside the bounds')[1]).toBe('nothing');
    const identity = await softwareKey(nobleCrypto, new Uint8Array(32).fill(0x33));
    const p = new PhonePairingSession({ crypto: nobleCrypto, random: scripted(X).random, now: () => 0, code: '12345678', identity });
    const ephemeral = await softwareKey(nobleCrypto, new Uint8Array(32).fill(0x22));
    await p.receive(encodeMessage({ type: 0x01, versions: 0x01, suites: 0x03, ephemeral: ephemeral.publicKey }));
    const tooSmall = Uint8Array.of(0x21, 16, ...SALT, 7, 1, 1); // log2N 7: below the floor
    const o = await p.receive(tooSmall);
    expect(o.send).toEqual([]);
    expect(o.events.find((e) => e.type === 'error')).toMatchObject({ error: { code: 'ERR_UNSUPPORTED' } });
  });
});

describe('§2.2: a car consumes its draws in the order events happen', () => {
  it('first start 32 ‖ 32, pairing mode 4 ‖ 16, then the pairing connection 32 (its CHALLENGE) ‖ 40 (y); the phone 40', async () => {
    const carDraws: number[] = [];
    const phoneDraws: number[] = [];
    const car = await VehicleService.open({ store: new MemoryVehicleStore(), random: (k) => (carDraws.push(k), systemRandom(k)), actuator: () => undefined });
    const { code } = await car.openPairing({ scrypt: SCRYPT });
    const phone = await PhoneWallet.open({ store: new MemoryPhoneStore(), identity: await softwareKey(nobleCrypto, new Uint8Array(32).fill(0x33)), random: (k) => (phoneDraws.push(k), systemRandom(k)) });
    const [phoneLink, carLink] = createMemoryLinkPair();
    const served = car.serve(carLink);
    await phone.pair(phoneLink, code, { timeoutMs: 5_000 });
    await served;
    expect(carDraws).toEqual([32, 32, 4, 16, 32, 40]);
    expect(phoneDraws).toEqual([40]);
  });
});
