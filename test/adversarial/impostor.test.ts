/**
 * Impostors and downgrades. The phone pins the car's static key (Noise KX pre-message), so a
 * device advertising as the car — even one that knows the phone's public key and claims the real
 * car's public key — can neither read the phone's identity or command nor forge a result. An
 * unknown phone is denied `unknown-key`. Editing the offer or the selection (a downgrade) breaks
 * the handshake through the prologue binding.
 */
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  BodyKind,
  buildPrologue,
  decodeMessage,
  DeniedError,
  encodeBody,
  encodeMessage,
  generateP256KeyPair,
  deterministicRandom,
  MessageType,
  noise,
  SUITES,
  toHex,
  type KeyCustody,
  type PhoneSession,
  type SuiteId,
} from '../../src/index.js';
import {
  Actuator,
  asNoiseKey,
  carReceive,
  craftHandshake,
  crypto,
  errorsOf,
  eventTypes,
  keyFromSeed,
  makeWorld,
  newCar,
  newPhone,
  Recorded,
  type World,
} from '../helpers/adversary.js';

const hex = toHex;
const contains = (hay: Uint8Array, needle: Uint8Array) => hex(hay).includes(hex(needle)) && needle.length > 0;

/** An 8-byte window common to both (beyond `skip` header bytes), if any. */
function commonWindow(a: Uint8Array, b: Uint8Array, skip: number, n = 8): string | undefined {
  const seen = new Set<string>();
  for (let i = skip; i + n <= a.length; i++) seen.add(hex(a.subarray(i, i + n)));
  for (let i = skip; i + n <= b.length; i++) if (seen.has(hex(b.subarray(i, i + n)))) return hex(b.subarray(i, i + n));
  return undefined;
}

describe('an impostor car', () => {
  let w: World;
  let impostorKey: KeyCustody;
  /** The impostor world: its own identity, and it even knows (has "enrolled") the phone's public key. */
  let iw: World;
  beforeAll(async () => {
    w = await makeWorld({ carSeed: 'real-car', phoneSeed: 'victim-phone' });
    impostorKey = await keyFromSeed('impostor-car');
    iw = await makeWorld({ carSeed: 'impostor-car', phoneSeed: 'victim-phone' });
    expect(iw.carKey.publicKey).toEqual(impostorKey.publicKey);
  });

  /** The victim phone (pins the real car) answering the impostor's challenge. */
  async function victimAnswers(challenge: Uint8Array, seed = 'victim'): Promise<{ phone: PhoneSession; handshake: Uint8Array }> {
    const phone = newPhone(w, seed);
    phone.begin('unlock');
    const o = await phone.receive(challenge);
    expect(o.send).toHaveLength(1);
    return { phone, handshake: o.send[0]! };
  }

  it('running the real VehicleSession code with its own key: cannot read message 2, learns no key id, executes nothing', async () => {
    const impostor = newCar(iw, 'impostor');
    const act = new Actuator();
    const { handshake } = await victimAnswers((await impostor.start()).send[0]!);
    const o = await carReceive(impostor, handshake, act);
    expect(eventTypes(o)).toEqual(['error']);
    expect(errorsOf(o)[0]?.code).toBe('ERR_DECRYPT');
    expect(impostor.keyId).toBeUndefined();
    expect(impostor.state).toBe('challenged');
    expect(act.count).toBe(0);
  });

  it('with its own key material by hand (Noise readMessage), claiming the real car’s public key: readMessage fails', async () => {
    for (const suite of [1, 2] as SuiteId[]) {
      // The impostor's ephemeral (it knows the secret), in a challenge offering both suites.
      const eph = await generateP256KeyPair(crypto, deterministicRandom(`impostor-eph-${suite}`));
      const challenge = encodeMessage({ type: MessageType.Challenge, versions: 1, suites: 3, ephemeral: eph.publicKey });
      const phone = newPhone(w, `victim-${suite}`, { suites: [suite] });
      phone.begin('unlock');
      const handshake = (await phone.receive(challenge)).send[0]!;
      const m = decodeMessage(handshake);
      expect(m).toMatchObject({ type: MessageType.Handshake, version: 1, suite });
      if (m.type !== MessageType.Handshake) throw new Error('unreachable');
      const proto = noise.parseProtocolName(SUITES[suite], crypto);
      // Three guesses at the static the phone expects: its own public key, and the real car's
      // public key (correct transcript hash) with the impostor's own DH.
      const claims: [string, noise.NoiseKey][] = [
        ['own key', asNoiseKey(impostorKey)],
        ['real car public key + own DH', { publicKey: w.carKey.publicKey, dh: (r) => impostorKey.ecdh(r) }],
      ];
      for (const [name, s] of claims) {
        const hs = new noise.HandshakeState({
          ...proto,
          protocolName: proto.name,
          initiator: true,
          prologue: buildPrologue(challenge.slice(0, 3), handshake.slice(0, 3)),
          s,
          e: { publicKey: eph.publicKey, dh: (r) => crypto.p256Ecdh(eph.secretKey, r) },
          random: deterministicRandom('unused'),
        });
        expect(await hs.writeMessage(new Uint8Array(0))).toEqual(eph.publicKey); // message 1 = the challenge's e
        const err = await hs.readMessage(m.noise).then(
          () => undefined,
          (e: unknown) => e,
        );
        expect((err as { code?: string } | undefined)?.code, `${name}, suite ${suite}`).toBe('ERR_DECRYPT');
        expect(hs.remoteStatic, name).toBeUndefined(); // the phone's identity stays hidden
      }
    }
  });

  it('sees neither the phone’s static key nor the command in clear, and cannot link two handshakes', async () => {
    const impostor1 = newCar(iw, 'link-1');
    const impostor2 = newCar(iw, 'link-2');
    const { handshake: h1 } = await victimAnswers((await impostor1.start()).send[0]!, 'link-1');
    const { handshake: h2 } = await victimAnswers((await impostor2.start()).send[0]!, 'link-2');
    const pub = w.phoneKey.publicKey;
    const body = encodeBody({ kind: BodyKind.Command, command: { kind: 'unlock' }, intent: false, extensions: [] });
    for (const h of [h1, h2]) {
      expect(contains(h, pub)).toBe(false);
      expect(contains(h, pub.slice(1, 33))).toBe(false); // X
      expect(contains(h, pub.slice(33))).toBe(false); // Y
      expect(contains(h, body)).toBe(false);
    }
    // Apart from the 3-byte header the two handshakes share no 8-byte window.
    expect(commonWindow(h1, h2, 3)).toBeUndefined();
  });

  describe('results the impostor makes', () => {
    let phone: PhoneSession;
    let challenge: Uint8Array;
    beforeAll(async () => {
      const impostor = newCar(iw, 'forger');
      challenge = (await impostor.start()).send[0]!;
      phone = (await victimAnswers(challenge, 'forger')).phone;
    });

    const expectRejected = async (bytes: Uint8Array) => {
      const o = await phone.receive(bytes);
      expect(o.events.some((e) => e.type === 'result')).toBe(false);
      expect(eventTypes(o)).toEqual(['error']);
      expect(o.send).toEqual([]);
      expect(phone.state).toBe('awaiting-result');
      return errorsOf(o)[0]!;
    };

    it('arbitrary bytes (except alerts) are rejected with typed errors; the phone keeps waiting', async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.uint8Array({ maxLength: 300 }).filter((b) => b[0] !== MessageType.Alert),
          async (b) => {
            const err = await expectRejected(b);
            expect(['ERR_DECODE', 'ERR_DECRYPT', 'ERR_UNEXPECTED_MESSAGE']).toContain(err.code);
          },
        ),
        { numRuns: 300 },
      );
    });

    it('well-formed records with arbitrary ciphertexts fail authentication', async () => {
      await fc.assert(
        fc.asyncProperty(fc.uint8Array({ minLength: 17, maxLength: 200 }), async (ct) => {
          const err = await expectRejected(encodeMessage({ type: MessageType.Record, ciphertext: ct }));
          expect(err.code).toBe('ERR_DECRYPT');
        }),
        { numRuns: 300 },
      );
    });

    it('results sealed with session keys the impostor really has (its own full handshake) fail at every nonce', async () => {
      // The impostor completes a genuine handshake with a sock-puppet phone that pins the impostor.
      const puppetKey = await keyFromSeed('sock-puppet');
      const craftedMsg2 = await craftHandshake({ challenge, staticKey: asNoiseKey(puppetKey), vehicleKey: impostorKey.publicKey, seed: 'puppet' });
      const proto = noise.parseProtocolName(SUITES[1], crypto);
      // Rebuild the impostor's initiator state for that challenge (same seed ⇒ same ephemeral).
      const eph = await generateP256KeyPair(crypto, deterministicRandom('car-eph:forger'));
      expect(challenge.slice(3)).toEqual(eph.publicKey);
      const hs = new noise.HandshakeState({
        ...proto,
        protocolName: proto.name,
        initiator: true,
        prologue: buildPrologue(challenge.slice(0, 3), craftedMsg2.slice(0, 3)),
        s: asNoiseKey(impostorKey),
        e: { publicKey: eph.publicKey, dh: (r) => crypto.p256Ecdh(eph.secretKey, r) },
        random: deterministicRandom('unused'),
      });
      await hs.writeMessage(new Uint8Array(0));
      await hs.readMessage(craftedMsg2.slice(3));
      const { send } = hs.result;
      const ad = Uint8Array.of(MessageType.Record);
      const bodies = [encodeBody({ kind: BodyKind.Result, status: 'ok', data: new Uint8Array(0) }), encodeBody({ kind: BodyKind.Close, reason: 'ok' })];
      for (let n = 0; n < 4; n++) {
        for (const body of bodies) {
          send.setNonce(n);
          const ciphertext = await send.encryptWithAd(ad, body);
          const err = await expectRejected(encodeMessage({ type: MessageType.Record, ciphertext }));
          expect(err.code).toBe('ERR_DECRYPT');
        }
      }
    });

    it('a genuine result of the real car from another session is rejected', async () => {
      const rec = await Recorded.record(w);
      expect((await expectRejected(rec.t.result)).code).toBe('ERR_DECRYPT');
      expect((await expectRejected(rec.t.lockResult)).code).toBe('ERR_DECRYPT');
    });

    it('all the impostor can do is abort with an unauthenticated alert: a typed denial, never a result', async () => {
      const o = await phone.receive(encodeMessage({ type: MessageType.Alert, reason: 'busy' }));
      expect(o.events).toHaveLength(2);
      const [e] = o.events;
      expect(e?.type === 'error' && e.error instanceof DeniedError).toBe(true);
      if (e?.type === 'error' && e.error instanceof DeniedError) {
        expect(e.error.code).toBe('ERR_ALERT');
        expect(e.error.authenticated).toBe(false);
        expect(e.error.reason).toBe('busy');
      }
      expect(phone.state).toBe('closed');
    });
  });
});

describe('an impostor phone', () => {
  it('an unknown phone is denied unknown-key (authenticated), the car closes, nothing executes', async () => {
    const w = await makeWorld({ carSeed: 'car', phoneSeed: 'stranger', enrolled: false });
    const car = newCar(w, 'unknown');
    const phone = newPhone(w, 'unknown');
    const act = new Actuator();
    phone.begin('unlock');
    const hs = (await phone.receive((await car.start()).send[0]!)).send[0]!;
    const o = await carReceive(car, hs, act);
    expect(o.events[0]).toMatchObject({ type: 'authenticated', known: false });
    expect(o.events.find((e) => e.type === 'decision')).toMatchObject({ result: 'unknown-key', command: { kind: 'unlock' } });
    expect(car.state).toBe('closed');
    expect(o.send).toHaveLength(2); // RESULT(unknown-key), then CLOSE
    const r = await phone.receive(o.send[0]!);
    expect(r.events).toMatchObject([{ type: 'result', status: 'unknown-key' }]);
    expect(eventTypes(await phone.receive(o.send[1]!))).toEqual(['closed']);
    expect(act.count).toBe(0);
  });

  it('a revoked phone is denied revoked, the car closes, nothing executes', async () => {
    // A shared key (the car refuses to revoke its last owner).
    const w = await makeWorld({ carSeed: 'car', phoneSeed: 'revoked-phone', role: 'shared' });
    await w.keys.revoke(w.record!.id);
    const car = newCar(w, 'revoked');
    const phone = newPhone(w, 'revoked');
    const act = new Actuator();
    phone.begin('unlock');
    const hs = (await phone.receive((await car.start()).send[0]!)).send[0]!;
    const o = await carReceive(car, hs, act);
    expect(o.events.find((e) => e.type === 'decision')).toMatchObject({ result: 'revoked' });
    expect(car.state).toBe('closed');
    expect(act.count).toBe(0);
  });

  it('a stolen car key does not let an attacker impersonate an enrolled phone (key-compromise impersonation)', async () => {
    const w = await makeWorld({ carSeed: 'kci-car', phoneSeed: 'kci-phone' });
    const car = newCar(w, 'kci');
    const act = new Actuator();
    const challenge = (await car.start()).send[0]!;
    // The attacker holds the car's long-term key and the phone's public key, not the phone's secret.
    const attackerSecret = await keyFromSeed('kci-attacker');
    const claim: noise.NoiseKey = { publicKey: w.phoneKey.publicKey, dh: (r) => attackerSecret.ecdh(r) };
    const forged = await craftHandshake({ challenge, staticKey: claim, vehicleKey: w.carKey.publicKey, seed: 'kci' });
    const o = await carReceive(car, forged, act);
    expect(eventTypes(o)).toEqual(['error']);
    expect(errorsOf(o)[0]?.code).toBe('ERR_DECRYPT');
    expect(car.keyId).toBeUndefined();
    expect(act.count).toBe(0);
    // Control: the same construction with the phone's real key is accepted.
    const genuine = await craftHandshake({ challenge, staticKey: asNoiseKey(w.phoneKey), vehicleKey: w.carKey.publicKey, seed: 'kci' });
    expect(eventTypes(await carReceive(car, genuine, act))).toEqual(['authenticated', 'execute', 'decision']);
  });
});

describe('downgrade attempts (a man in the middle edits the offer or the selection)', () => {
  let w: World;
  beforeAll(async () => {
    w = await makeWorld({ carSeed: 'downgrade-car', phoneSeed: 'downgrade-phone' });
  });

  /**
   * One connection with the car offering `carSuites`, the phone preferring `phoneSuites`, and a MITM
   * editing the challenge (bytes 1..2) and/or the handshake (bytes 1..2).
   */
  async function run(
    seed: string,
    edit: { challenge?: (c: Uint8Array) => void; handshake?: (h: Uint8Array) => void },
    carSuites: SuiteId[] = [1, 2],
    phoneSuites: SuiteId[] = [1, 2],
  ) {
    const car = newCar(w, seed, { suites: carSuites });
    const phone = newPhone(w, seed, { suites: phoneSuites });
    const act = new Actuator();
    phone.begin('unlock');
    const challenge = (await car.start()).send[0]!.slice();
    edit.challenge?.(challenge);
    const po = await phone.receive(challenge);
    const handshake = po.send[0]!.slice();
    edit.handshake?.(handshake);
    const co = await carReceive(car, handshake, act);
    return { car, phone, act, po, co, selected: decodeMessage(po.send[0]!) };
  }

  it('control: without a MITM the phone’s first preference among the offered suites is used', async () => {
    for (const [carSuites, phoneSuites, expected] of [
      [[1, 2], [1, 2], 1],
      [[1, 2], [2, 1], 2],
      [[1], [2, 1], 1],
      [[2], [1, 2], 2],
    ] as [SuiteId[], SuiteId[], SuiteId][]) {
      const r = await run(`control-${carSuites.join(',')}-${phoneSuites.join(',')}`, {}, carSuites, phoneSuites);
      expect(r.selected).toMatchObject({ suite: expected });
      expect(r.act.count).toBe(1);
    }
  });

  const cases: { name: string; edit: Parameters<typeof run>[1]; carSuites?: SuiteId[]; phoneSuites?: SuiteId[]; code: string }[] = [
    { name: 'challenge suites mask 0x03 → 0x02 (force ChaCha)', edit: { challenge: (c) => void (c[2] = 0x02) }, code: 'ERR_DECRYPT' },
    { name: 'challenge suites mask 0x03 → 0x01 (drop ChaCha)', edit: { challenge: (c) => void (c[2] = 0x01) }, phoneSuites: [2, 1], code: 'ERR_DECRYPT' },
    { name: 'challenge suites mask 0x03 → 0xff (extra bits)', edit: { challenge: (c) => void (c[2] = 0xff) }, code: 'ERR_DECRYPT' },
    { name: 'challenge versions mask 0x01 → 0x03', edit: { challenge: (c) => void (c[1] = 0x03) }, code: 'ERR_DECRYPT' },
    { name: 'challenge versions mask 0x01 → 0x81', edit: { challenge: (c) => void (c[1] = 0x81) }, code: 'ERR_DECRYPT' },
    { name: 'handshake suite byte 1 → 2', edit: { handshake: (h) => void (h[2] = 2) }, code: 'ERR_DECRYPT' },
    { name: 'handshake suite byte 2 → 1', edit: { handshake: (h) => void (h[2] = 1) }, phoneSuites: [2, 1], code: 'ERR_DECRYPT' },
    {
      name: 'challenge mask → 0x02 and the handshake suite rewritten back to 1',
      edit: { challenge: (c) => void (c[2] = 0x02), handshake: (h) => void (h[2] = 1) },
      code: 'ERR_DECRYPT',
    },
    {
      name: 'challenge mask → 0x02 with the car offering only suite 1',
      edit: { challenge: (c) => void (c[2] = 0x02) },
      carSuites: [1],
      code: 'ERR_UNSUPPORTED',
    },
    { name: 'handshake suite byte → 3 (unknown)', edit: { handshake: (h) => void (h[2] = 3) }, code: 'ERR_UNSUPPORTED' },
    { name: 'handshake suite byte → 0', edit: { handshake: (h) => void (h[2] = 0) }, code: 'ERR_UNSUPPORTED' },
    { name: 'handshake version byte → 2', edit: { handshake: (h) => void (h[1] = 2) }, code: 'ERR_UNSUPPORTED' },
    { name: 'handshake version byte → 0', edit: { handshake: (h) => void (h[1] = 0) }, code: 'ERR_UNSUPPORTED' },
  ];

  it.each(cases)('$name: the car rejects ($code) and executes nothing', async ({ name, edit, carSuites, phoneSuites, code }) => {
    const r = await run(`dg-${name}`, edit, carSuites, phoneSuites);
    expect(eventTypes(r.co)).toEqual(['error']);
    expect(errorsOf(r.co)[0]?.code).toBe(code);
    expect(r.car.state).toBe('challenged');
    expect(r.car.keyId).toBeUndefined();
    expect(r.act.count).toBe(0);
    // The car's alert ends the phone's attempt with a typed, unauthenticated denial.
    const back = await r.phone.receive(r.co.send[0]!);
    expect(back.events[0]).toMatchObject({ type: 'error', error: { code: 'ERR_ALERT' } });
  });

  it('a MITM that removes every suite the phone supports only makes the phone give up (ERR_UNSUPPORTED)', async () => {
    const car = newCar(w, 'strip');
    const phone = newPhone(w, 'strip', { suites: [1] });
    phone.begin('unlock');
    const c = (await car.start()).send[0]!.slice();
    c[2] = 0x02;
    const o = await phone.receive(c);
    expect(errorsOf(o)[0]?.code).toBe('ERR_UNSUPPORTED');
    expect(o.send.map((m) => decodeMessage(m))).toEqual([{ type: MessageType.Alert, reason: 'unsupported' }]);
    expect(phone.state).toBe('closed');
  });
});
