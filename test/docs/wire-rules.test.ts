/**
 * Rules of PROTOCOL.md that an implementer used to have to guess, checked against the roles:
 * selection (§3.1), the extension limit (§3.2), error precedence (§3.4, its example table parsed
 * and replayed), what counts toward maxCommands (§5), the phone's close() (§6) and the random
 * draws of a session (§2.2).
 */
import { describe, expect, it } from 'vitest';
import {
  buildPrologue,
  concatBytes,
  decodeBody,
  encodeBody,
  defaultPolicy,
  MemoryKeyRegistry,
  noise,
  nobleCrypto,
  PhoneSession,
  softwareKey,
  systemRandom,
  type KeyCustody,
  type RandomSource,
  type SuiteId,
} from '../../src/index.js';
import { TestCar } from '../helpers/test-car.js';
import { hexBytes, section, specDoc, tableRows } from './spec-text.js';

const crypto = nobleCrypto;
const doc = specDoc('PROTOCOL.md');
const RECORD_AD = Uint8Array.of(0x03);

/** A random source that records the size of every draw. */
function recording(): { random: RandomSource; draws: number[] } {
  const draws: number[] = [];
  return { draws, random: (n) => (draws.push(n), systemRandom(n)) };
}

async function carAndPhoneKeys() {
  const car = await softwareKey(crypto, systemRandom(32).fill(0x11));
  const phone = await softwareKey(crypto, systemRandom(32).fill(0x33));
  return { car, phone };
}

/**
 * A phone that speaks raw bodies: a Noise KX responder (suite 1) built from the spec, so a test
 * can send bodies no PhoneSession would encode.
 */
async function rawSession(options: { maxCommands?: number; sessionMaxAgeMs?: number; enrolled?: boolean } = {}) {
  const { car: carKey, phone: phoneKey } = await carAndPhoneKeys();
  const keys = new MemoryKeyRegistry(crypto);
  if (options.enrolled !== false) await keys.enroll(phoneKey.publicKey, { role: 'owner' });
  let t = 1_000;
  const car = new TestCar({
    crypto,
    random: systemRandom,
    now: () => t,
    identity: carKey,
    keys,
    policy: defaultPolicy({ maxRttMs: Infinity }),
    ...(options.maxCommands !== undefined && { maxCommands: options.maxCommands }),
    ...(options.sessionMaxAgeMs !== undefined && { sessionMaxAgeMs: options.sessionMaxAgeMs }),
  });
  const challenge = (await car.start()).send[0]!;
  const header = Uint8Array.of(0x02, 0x01, 0x01);
  const hs = new noise.HandshakeState({
    protocolName: 'Noise_KX_P256_AESGCM_SHA256',
    pattern: noise.getPattern('KX'),
    dh: noise.p256Dh(crypto),
    cipher: noise.aesGcmCipher(crypto),
    hash: noise.providerSha256Hash(crypto),
    initiator: false,
    prologue: buildPrologue(challenge.subarray(0, 3), header),
    s: custody(phoneKey),
    rs: carKey.publicKey,
    random: systemRandom,
  });
  await hs.readMessage(challenge.subarray(3));
  let channel: noise.HandshakeResult | undefined;
  /** Feed one car step's output; returns the bodies the car sent (RESULT, CLOSE) as hex, or 'alert:<code>'. */
  const answers = async (o: { send: Uint8Array[]; events: readonly { type: string }[] }): Promise<string[]> => {
    let out = o;
    if (o.events.some((e) => e.type === 'execute')) out = await car.complete({ ok: true });
    const sent = o === out ? out.send : [...o.send, ...out.send];
    const bodies: string[] = [];
    for (const m of sent) bodies.push(m[0] === 0x0f ? `alert:${m[1]}` : bodyName(await channel!.receive.decryptWithAd(RECORD_AD, m.subarray(1))));
    return bodies;
  };
  return {
    /** The first body rides in the HANDSHAKE. */
    handshake: async (body: Uint8Array) => {
      const message = await hs.writeMessage(body);
      channel = hs.result;
      return answers(await car.receive(concatBytes(header, message), t));
    },
    record: async (body: Uint8Array, arrivedAt = t) => {
      t = arrivedAt;
      const ct = await channel!.send.encryptWithAd(RECORD_AD, body);
      return answers(await car.receive(concatBytes(RECORD_AD, ct), arrivedAt));
    },
  };
}

function custody(k: KeyCustody) {
  return { publicKey: k.publicKey, dh: (remote: Uint8Array) => k.ecdh(remote) };
}

/** `result:<status>` or `close:<reason>` for a body the car sent. */
function bodyName(plain: Uint8Array): string {
  const b = decodeBody(plain);
  if (b.kind === 0x11) return `result:${b.status}`;
  if (b.kind === 0x12) return `close:${b.reason}`;
  return 'command';
}

const UNLOCK = Uint8Array.of(0x10, 0x01, 0x00, 0x00);

describe('§3.1 selection: ids on the wire, the phone’s preference wins', () => {
  async function handshakeHeader(carSuites: SuiteId[], phoneSuites: SuiteId[]): Promise<Uint8Array> {
    const { car: carKey, phone: phoneKey } = await carAndPhoneKeys();
    const car = new TestCar({ crypto, random: systemRandom, now: () => 0, identity: carKey, keys: new MemoryKeyRegistry(crypto), policy: defaultPolicy(), suites: carSuites });
    const phone = new PhoneSession({ crypto, random: systemRandom, now: () => 0, identity: phoneKey, vehicleKey: carKey.publicKey, suites: phoneSuites });
    phone.begin('unlock');
    const challenge = (await car.start()).send[0]!;
    expect(challenge[2]).toBe(carSuites.reduce((m, id) => m | (1 << (id - 1)), 0)); // the offer: a mask
    return (await phone.receive(challenge)).send[0]!.subarray(0, 3);
  }

  it('the phone takes its own first choice among the offered; the bytes are the ids', async () => {
    expect([...(await handshakeHeader([1, 2], [2, 1]))]).toEqual([0x02, 0x01, 0x02]);
    expect([...(await handshakeHeader([2, 1], [1, 2]))]).toEqual([0x02, 0x01, 0x01]);
    expect([...(await handshakeHeader([2], [1, 2]))]).toEqual([0x02, 0x01, 0x02]);
  });

  it('nothing in common: the phone sends ALERT(unsupported); a selection not offered gets the same from the car', async () => {
    expect([...(await handshakeHeader([2], [1]))]).toEqual([0x0f, 0x0c]);
    const { car: carKey } = await carAndPhoneKeys();
    const car = new TestCar({ crypto, random: systemRandom, now: () => 0, identity: carKey, keys: new MemoryKeyRegistry(crypto), policy: defaultPolicy(), suites: [1] });
    await car.start();
    // suite byte 0x03 (a mask for "1 and 2") is no suite id
    const o = await car.receive(concatBytes(Uint8Array.of(0x02, 0x01, 0x03), new Uint8Array(162)));
    expect([...o.send[0]!]).toEqual([0x0f, 0x0c]);
  });
});

describe('§3.2 the extension limit counts the 3-byte headers', () => {
  const withExtension = (valueLength: number) => concatBytes(UNLOCK, Uint8Array.of(0x01, valueLength >> 8, valueLength & 0xff), new Uint8Array(valueLength));
  it('509 bytes of value (512 with its header) decode; 510 do not', () => {
    expect(decodeBody(withExtension(509))).toMatchObject({ kind: 0x10, extensions: [{ type: 1 }] });
    expect(() => decodeBody(withExtension(510))).toThrow(/extensions too long/);
  });

  it('so the largest valid HANDSHAKE is 745 bytes (BLE.md, MCU.md §5): 64 bytes of args and 512 of extensions', () => {
    const body = encodeBody({ kind: 0x10, command: { kind: 'custom', code: 0x80, args: new Uint8Array(64) }, intent: false, extensions: [{ type: 1, value: new Uint8Array(509) }] });
    expect(3 + 65 + 81 + body.length + 16).toBe(745);
    expect(() => encodeBody({ kind: 0x10, command: { kind: 'unlock' }, intent: false, extensions: [{ type: 1, value: new Uint8Array(510) }] })).toThrow(/at most 512/);
    for (const name of ['BLE.md', 'MCU.md'] as const) expect(specDoc(name)).toContain('745');
  });
});

describe('§3.4 error precedence: the table of bodies with two faults', () => {
  const rows = tableRows(section(doc, '### 3.4'), 'body');
  it.each(rows.map(([body, , answer]) => [body!, answer!] as const))('%s → %s', async (cell, answer) => {
    const body = hexBytes(/`([0-9a-f ]+)`/.exec(cell)![1]!);
    const want = `result:${answer.replace(/`/g, '')}`;
    if (cell.includes('after `maxCommands`')) {
      const s = await rawSession({ maxCommands: 1 });
      expect(await s.handshake(UNLOCK)).toEqual(['result:ok']);
      expect((await s.record(body))[0]).toBe(want);
    } else {
      const s = await rawSession();
      expect(await s.handshake(body)).toEqual([want]);
    }
  });

  it('the table has every example the text promises', () => expect(rows.length).toBe(6));
});

describe('§5 maxCommands counts the HANDSHAKE’s command; the age limit is strictly above', () => {
  it('with maxCommands 3: the HANDSHAKE and 2 RECORDs are answered, the 3rd RECORD is rate-limited and closed', async () => {
    const s = await rawSession({ maxCommands: 3 });
    expect(await s.handshake(UNLOCK)).toEqual(['result:ok']);
    expect(await s.record(UNLOCK)).toEqual(['result:ok']);
    expect(await s.record(Uint8Array.of(0x10, 0x05, 0x00, 0x00))).toEqual(['result:unknown-command']); // counted too
    expect(await s.record(UNLOCK)).toEqual(['result:rate-limited', 'close:rate-limited']);
  });

  it('a body at exactly sessionMaxAgeMs is served; 1 ms later it is session-expired, before rate-limited', async () => {
    const late = await rawSession({ maxCommands: 2, sessionMaxAgeMs: 500 });
    expect(await late.handshake(UNLOCK)).toEqual(['result:ok']); // arrived at t = 1000
    expect(await late.record(UNLOCK, 1_500)).toEqual(['result:ok']);
    expect(await late.record(UNLOCK, 1_501)).toEqual(['result:session-expired', 'close:session-expired']);
  });
});

describe('§6 the phone’s close()', () => {
  it('before a channel exists it sends nothing; with a command in flight it sends RECORD{CLOSE} and reads no result', async () => {
    const { car: carKey, phone: phoneKey } = await carAndPhoneKeys();
    const early = new PhoneSession({ crypto, random: systemRandom, now: () => 0, identity: phoneKey, vehicleKey: carKey.publicKey });
    early.begin('unlock');
    expect((await early.close()).send).toEqual([]);

    const keys = new MemoryKeyRegistry(crypto);
    await keys.enroll(phoneKey.publicKey, { role: 'owner' });
    const car = new TestCar({ crypto, random: systemRandom, now: () => 0, identity: carKey, keys, policy: defaultPolicy() });
    const phone = new PhoneSession({ crypto, random: systemRandom, now: () => 0, identity: phoneKey, vehicleKey: carKey.publicKey });
    phone.begin('unlock');
    const handshake = (await phone.receive((await car.start()).send[0]!)).send[0]!;
    expect(phone.state).toBe('awaiting-result');
    const closing = await phone.close();
    expect(closing.send.map((m) => m.length)).toEqual([19]); // type ‖ CLOSE body 2 ‖ tag 16
    // the car still executes the command in flight, answers it, and only then reads the CLOSE
    const o = await car.receive(handshake, 0);
    expect(o.events.some((e) => e.type === 'execute')).toBe(true);
    const result = (await car.complete({ ok: true })).send[0]!;
    await expect(phone.receive(result)).rejects.toMatchObject({ code: 'ERR_INVALID_STATE' });
    expect((await car.receive(closing.send[0]!, 0)).done).toBe(true);
  });
});

describe('§2.2 random draws of a session', () => {
  const rows = tableRows(section(doc, '### 2.2'), 'role');
  const drawOf = (role: string, when: string) => rows.find(([r, w]) => r === role && w!.startsWith(when))?.[2];

  it('the car draws 32 bytes per connection, before its CHALLENGE; the phone 32, on the CHALLENGE', async () => {
    const { car: carKey, phone: phoneKey } = await carAndPhoneKeys();
    const carRandom = recording();
    const phoneRandom = recording();
    const car = new TestCar({ crypto, random: carRandom.random, now: () => 0, identity: carKey, keys: new MemoryKeyRegistry(crypto), policy: defaultPolicy() });
    const phone = new PhoneSession({ crypto, random: phoneRandom.random, now: () => 0, identity: phoneKey, vehicleKey: carKey.publicKey });
    phone.begin('unlock');
    const challenge = (await car.start()).send[0]!;
    expect(carRandom.draws.join()).toBe(drawOf('car', 'each connection'));
    expect(phoneRandom.draws).toEqual([]);
    await car.receive((await phone.receive(challenge)).send[0]!, 0);
    expect(phoneRandom.draws.join()).toBe(drawOf('phone', 'on the CHALLENGE'));
    expect(carRandom.draws).toEqual([32]); // nothing more for the handshake
  });

  it('an invalid 32-byte draw (0 or ≥ n) is discarded and drawn again, never reduced', async () => {
    const n = Uint8Array.from(Buffer.from('ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551', 'hex'));
    const valid = new Uint8Array(32).fill(0x22);
    const pool = [new Uint8Array(32), n, valid];
    const { car: carKey } = await carAndPhoneKeys();
    const car = new TestCar({ crypto, random: () => pool.shift()!, now: () => 0, identity: carKey, keys: new MemoryKeyRegistry(crypto), policy: defaultPolicy() });
    const challenge = (await car.start()).send[0]!;
    expect(pool).toEqual([]);
    expect(challenge.subarray(3)).toEqual((await crypto.p256KeyPairFromSecret(new Uint8Array(32).fill(0x22))).publicKey);
    await expect(softwareKey(crypto, n)).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT' });
  });
});
