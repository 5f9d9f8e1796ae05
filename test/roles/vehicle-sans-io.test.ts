/**
 * The vehicle role is sans-IO: it asks (find-key, redeem-grant, authorize, execute) and resumes
 * with answers, takes `now` as an argument, never reads a clock, exposes its timers as data, and
 * checks every answer fail-closed. The connection-level role decides pairing vs session.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  createMemoryLinkPair,
  decodeMessage,
  MessageType,
  openPhoneSession,
  PairingMode,
  SESSION_DEFAULTS,
  VehicleConnection,
  VehicleSession,
  type RoleOutput,
  type VehicleRequest,
  type VehicleSessionEvent,
} from '../../src/index.js';
import { crypto, keyFromSeed, makeWorld, newPhone, T0, type World } from '../helpers/adversary.js';
import { deterministicRandom, LocalError } from '../../src/index.js';
import { makeCar, phoneOptions } from '../helpers/fixture.js';
import { PHONE_RESULT_TIMEOUT_MS } from '../../src/roles/phone-session.js';
import { ACTUATION_WAIT_MS, ACTUATOR_TIMEOUT_MS } from '../../src/transport/actuation.js';
import { POLICY_TIMEOUT_MS, PROXIMITY_HOOK_TIMEOUT_MS, RANGING_HOOK_TIMEOUT_MS } from '../../src/transport/bounded-callbacks.js';
import { KEY_DIRECTORY_TIMEOUT_MS, KEY_RECHECK_TIMEOUT_MS } from '../../src/transport/vehicle-answers.js';

type Out = RoleOutput<VehicleSessionEvent, VehicleRequest>;

async function challengedPair(w: World, seed: string, extra: Partial<ConstructorParameters<typeof VehicleSession>[0]> = {}) {
  const car = new VehicleSession({ crypto, random: deterministicRandom(`car:${seed}`), identity: w.carKey, ...extra });
  const phone = newPhone(w, seed);
  phone.begin('unlock');
  const challenge = (await car.start(T0)).send[0]!;
  const handshake = (await phone.receive(challenge)).send[0]!;
  return { car, phone, handshake };
}

const types = (o: Out) => o.events.map((e) => e.type);

afterEach(() => vi.restoreAllMocks());

describe('vehicle role: requests and answers', () => {
  it('a handshake asks find-key once, then authorize, then execute; the RESULT carries the outcome', async () => {
    const w = await makeWorld();
    const { car, phone, handshake } = await challengedPair(w, 'flow');
    const o1 = await car.receive(handshake, T0 + 10);
    expect(o1.send).toEqual([]);
    expect(o1.request).toMatchObject({ type: 'find-key', publicKey: w.phoneKey.publicKey, keyId: w.record!.id });
    expect(car.state).toBe('finding-key');
    const o2 = await car.answer({ type: 'find-key', found: 'known' }, T0 + 11);
    expect(types(o2)).toEqual(['authenticated']);
    expect(o2.request).toEqual({ type: 'authorize', command: { kind: 'unlock' }, intent: false, rttMs: 10, sessionAgeMs: 0 }); // the handshake's command: age 0, however long the lookup took
    const o3 = await car.answer({ type: 'authorize', decision: 'allow', proximity: { zone: 'near' } }, T0 + 12);
    expect(o3.request).toEqual({ type: 'execute', command: { kind: 'unlock' }, intent: false, rttMs: 10 });
    const o4 = await car.answer({ type: 'execute', outcome: { ok: true } }, T0 + 13);
    expect(o4.request).toBeUndefined();
    expect(o4.events).toEqual([expect.objectContaining({ type: 'decision', result: 'ok', proximity: { zone: 'near' } })]);
    expect(o4.events[0]).not.toHaveProperty('at'); // the driver stamps wall-clock time
    expect(car.state).toBe('ready');
    const r = await phone.receive(o4.send[0]!);
    expect(r.events).toEqual([expect.objectContaining({ type: 'result', status: 'ok' })]);
  });

  it('a grant that is not bytes is refused at begin(), as a local error, and the session is still new', async () => {
    const w = await makeWorld({ enrolled: false });
    const phone = newPhone(w, 'bad grant');
    expect(() => phone.begin('unlock', { grant: 'pkg1.abc' as unknown as Uint8Array })).toThrow(LocalError);
    expect(phone.state).toBe('new');
  });

  it('an unknown key with a grant asks redeem-grant; a refused redemption is an authenticated denial that ends the session', async () => {
    const w = await makeWorld({ enrolled: false });
    const car = new VehicleSession({ crypto, random: deterministicRandom('car:grant'), identity: w.carKey });
    const phone = newPhone(w, 'grant');
    phone.begin('unlock', { grant: Uint8Array.of(1, 2, 3) });
    const handshake = (await phone.receive((await car.start(T0)).send[0]!)).send[0]!;
    await car.receive(handshake, T0 + 5);
    const o = await car.answer({ type: 'find-key', found: 'unknown' }, T0 + 6);
    expect(o.request).toEqual({ type: 'redeem-grant', grant: Uint8Array.of(1, 2, 3), presenter: w.phoneKey.publicKey });
    const denied = await car.answer({ type: 'redeem-grant', result: 'invalid-grant' }, T0 + 7);
    expect(types(denied)).toEqual(['decision', 'closed']);
    expect(denied.send).toHaveLength(2); // RESULT(invalid-grant), CLOSE
    expect(denied.done).toBe(true);
  });

  it('answers are checked fail-closed: garbage lookups, decisions and outcomes never allow', async () => {
    const w = await makeWorld();
    const cases: [string, (car: VehicleSession) => Promise<Out>, string][] = [
      ['lookup says "yes"', (car) => car.answer({ type: 'find-key', found: 'yes' as never }, T0 + 2), 'internal-error'],
      ['decision "ALLOW"', async (car) => car.answer({ type: 'authorize', decision: 'ALLOW' as never }, T0 + 3), 'internal-error'],
      ['decision "nope"', async (car) => car.answer({ type: 'authorize', decision: 'nope' as never }, T0 + 3), 'internal-error'],
    ];
    for (const [what, step, reason] of cases) {
      const { car, handshake } = await challengedPair(w, what);
      await car.receive(handshake, T0 + 1);
      if (what.startsWith('decision')) await car.answer({ type: 'find-key', found: 'known' }, T0 + 2);
      const o = await step(car);
      expect(o.request, what).toBeUndefined();
      expect(
        o.events.find((e) => e.type === 'decision'),
        what,
      ).toMatchObject({ result: reason });
    }
    const { car, handshake } = await challengedPair(w, 'outcome');
    await car.receive(handshake, T0 + 1);
    await car.answer({ type: 'find-key', found: 'known' }, T0 + 2);
    await car.answer({ type: 'authorize', decision: 'allow' }, T0 + 3);
    const o = await car.answer({ type: 'execute', outcome: 'ok' as never }, T0 + 4);
    expect(o.events[0]).toMatchObject({ type: 'decision', result: 'actuator-failed' });
  });

  it('an answer of the wrong kind, or with nothing pending, is a local state error and changes nothing', async () => {
    const w = await makeWorld();
    const { car, handshake } = await challengedPair(w, 'wrong');
    await expect(car.answer({ type: 'find-key', found: 'known' }, T0)).rejects.toMatchObject({ code: 'ERR_INVALID_STATE' });
    await car.receive(handshake, T0 + 1);
    await expect(car.answer({ type: 'authorize', decision: 'allow' }, T0 + 2)).rejects.toMatchObject({ code: 'ERR_INVALID_STATE' });
    expect(car.state).toBe('finding-key');
    const o = await car.answer({ type: 'find-key', found: 'known' }, T0 + 2);
    expect(o.request?.type).toBe('authorize');
  });

  it('a message while the role waits on an answer is rejected without changing its state', async () => {
    const w = await makeWorld();
    const { car, handshake } = await challengedPair(w, 'busy');
    await car.receive(handshake, T0 + 1);
    const o = await car.receive(handshake, T0 + 2);
    expect(types(o)).toEqual(['error']);
    expect(decodeMessage(o.send[0]!).type).toBe(MessageType.Alert);
    expect(car.state).toBe('finding-key');
  });

  it('never reads a clock: a whole transaction runs with Date.now and performance.now throwing', async () => {
    const w = await makeWorld();
    const { car, phone, handshake } = await challengedPair(w, 'no-clock');
    vi.spyOn(Date, 'now').mockImplementation(() => {
      throw new Error('the role read Date.now');
    });
    vi.spyOn(performance, 'now').mockImplementation(() => {
      throw new Error('the role read performance.now');
    });
    await car.receive(handshake, T0 + 40);
    await car.answer({ type: 'find-key', found: 'known' }, T0 + 41);
    await car.answer({ type: 'authorize', decision: 'allow' }, T0 + 42);
    const done = await car.answer({ type: 'execute', outcome: { ok: true } }, T0 + 43);
    vi.restoreAllMocks();
    expect(done.events[0]).toMatchObject({ type: 'decision', result: 'ok', rttMs: 40 });
    expect((await phone.receive(done.send[0]!)).events[0]).toMatchObject({ type: 'result', status: 'ok' });
  });
});

describe('vehicle role: timers are data', () => {
  it('challenged: the handshake deadline; tick before it does nothing, at it the session ends quietly', async () => {
    const w = await makeWorld();
    const car = new VehicleSession({ crypto, random: deterministicRandom('car:t'), identity: w.carKey, handshakeTimeoutMs: 700 });
    expect(car.nextDeadline()).toBeUndefined();
    await car.start(T0);
    expect(car.nextDeadline()).toBe(T0 + 700);
    expect(await car.tick(T0 + 699)).toMatchObject({ send: [], events: [], done: false });
    const o = await car.tick(T0 + 700);
    expect(o).toMatchObject({ send: [], done: true });
    expect(o.events).toEqual([{ type: 'closed', reason: 'session-expired' }]);
  });

  it('ready: the idle deadline counts from the last answer; waiting on an answer has no deadline; at it an authenticated CLOSE', async () => {
    const w = await makeWorld();
    const { car, phone, handshake } = await challengedPair(w, 'idle', { idleTimeoutMs: 1_000 });
    expect(car.nextDeadline()).toBe(T0 + SESSION_DEFAULTS.handshakeTimeoutMs);
    await car.receive(handshake, T0 + 5);
    expect(car.nextDeadline()).toBeUndefined();
    await car.answer({ type: 'find-key', found: 'known' }, T0 + 6);
    await car.answer({ type: 'authorize', decision: 'allow' }, T0 + 7);
    const result = await car.answer({ type: 'execute', outcome: { ok: true } }, T0 + 50);
    await phone.receive(result.send[0]!);
    expect(car.nextDeadline()).toBe(T0 + 1_050);
    const o = await car.tick(T0 + 1_050);
    expect(o.done).toBe(true);
    const closed = await phone.receive(o.send[0]!);
    expect(closed.events).toEqual([{ type: 'closed', reason: 'session-expired' }]);
  });

  it('a denial of the handshake’s own command after a slow lookup: the idle deadline counts from the RESULT, the age from the arrival', async () => {
    const w = await makeWorld();
    const { car, handshake } = await challengedPair(w, 'idle-deny', { idleTimeoutMs: 1_000, sessionMaxAgeMs: 5_000 });
    await car.receive(handshake, T0 + 5);
    const denied = await car.answer({ type: 'find-key', found: 'failed' }, T0 + 9_000); // the directory answered late (past the session's age)
    expect(denied.events).toMatchObject([{ type: 'authenticated' }, { type: 'decision', result: 'internal-error' }]); // judged at arrival: not session-expired
    expect(car.nextDeadline()).toBe(T0 + 10_000);
  });
});

describe('vehicle connection: the phone’s first answer decides session or pairing', () => {
  it('PAIR_START turns the connection into pairing (told closed when not in pairing mode); a HANDSHAKE stays a session', async () => {
    const w = await makeWorld();
    const conn = new VehicleConnection({ crypto, random: deterministicRandom('conn'), identity: w.carKey });
    await conn.start(T0);
    expect(conn.mode).toBe('session');
    const o = await conn.receive(Uint8Array.of(MessageType.PairStart, 1), T0 + 1);
    expect(conn.mode).toBe('pairing');
    expect(o.done).toBe(true);
    expect(decodeMessage(o.send[0]!)).toMatchObject({ type: MessageType.Alert, reason: 'pairing-closed' });
    expect(conn.session.state).toBe('closed'); // the session's ephemeral is wiped

    const conn2 = new VehicleConnection({ crypto, random: deterministicRandom('conn2'), identity: w.carKey });
    const phone = newPhone(w, 'conn2');
    phone.begin('unlock');
    const hs = (await phone.receive((await conn2.start(T0)).send[0]!)).send[0]!;
    const o2 = await conn2.receive(hs, T0 + 3);
    expect(conn2.mode).toBe('session');
    expect(o2.request?.type).toBe('find-key');
  });
});

describe('vehicle pairing role: sans-IO', () => {
  it('the step deadline counts from the phone’s last message; past it pairing ends quietly', async () => {
    const w = await makeWorld();
    const { mode } = await PairingMode.open({ crypto, random: deterministicRandom('pm'), now: () => T0, carName: 'car', carId: '00'.repeat(16) });
    const conn = new VehicleConnection({
      crypto,
      random: deterministicRandom('pair-deadline'),
      identity: w.carKey,
      pairingAuthority: () => mode,
      pairingStepTimeoutMs: 2_000,
    });
    await conn.start(T0);
    const params = await conn.receive(Uint8Array.of(MessageType.PairStart, 1), T0 + 100);
    expect(conn.mode).toBe('pairing');
    expect(params.send).toHaveLength(1);
    expect(params.request).toBeUndefined();
    expect(conn.nextDeadline()).toBe(T0 + 2_100);
    expect((await conn.tick(T0 + 2_099)).done).toBe(false);
    const o = await conn.tick(T0 + 2_100);
    expect(o).toMatchObject({ send: [], done: true });
    expect(o.events).toEqual([{ type: 'closed', reason: 'session-expired' }]);
    expect(conn.closed).toBe(true);
  });
});

describe('vehicle driver: answers from the car', () => {
  it('one key lookup per handshake (plus the pre-actuation re-check), and the hooks get the link as the connection', async () => {
    const car = await makeCar('driver-answers');
    const phoneKey = await keyFromSeed('driver-answers-phone');
    await car.keys.enroll(phoneKey.publicKey);
    const lookups = vi.spyOn(car.keys, 'findKey');
    const seen: unknown[] = [];
    const [phoneLink, carLink] = createMemoryLinkPair();
    const served = car.serve(carLink, {
      hooks: {
        proximity: (_keyId, connection) => {
          seen.push(connection);
          return { zone: 'near' };
        },
      },
    });
    const { result, connection } = await openPhoneSession(phoneLink, phoneOptions(phoneKey, car.identity.publicKey), 'unlock');
    expect(result.status).toBe('ok');
    await connection.close();
    await served;
    expect(lookups).toHaveBeenCalledTimes(2); // the handshake's lookup + the re-check before driving
    expect(seen).toEqual([carLink]);
  });
});

describe('vehicle driver: the car answers within the phone’s wait', () => {
  it('a key directory that hangs on the re-check: internal-error after its 1 s bound, nothing driven', async () => {
    const car = await makeCar('driver-recheck');
    const phoneKey = await keyFromSeed('driver-recheck-phone');
    await car.keys.enroll(phoneKey.publicKey);
    const findKey = car.keys.findKey.bind(car.keys);
    let calls = 0;
    vi.spyOn(car.keys, 'findKey').mockImplementation((k) => (++calls === 1 ? findKey(k) : new Promise(() => undefined)));
    const [phoneLink, carLink] = createMemoryLinkPair();
    const served = car.serve(carLink);
    const t = performance.now();
    const { result, connection } = await openPhoneSession(phoneLink, phoneOptions(phoneKey, car.identity.publicKey), 'unlock');
    expect(result.status).toBe('internal-error');
    expect(performance.now() - t).toBeLessThan(KEY_DIRECTORY_TIMEOUT_MS); // the re-check's own bound, not the lookup's
    expect(car.executed).toEqual([]);
    await connection.close();
    await served;
  });

  it('every bound of a physical command adds up to less than the phone’s default wait for its RESULT', () => {
    const carWorstCaseMs =
      KEY_DIRECTORY_TIMEOUT_MS +
      PROXIMITY_HOOK_TIMEOUT_MS +
      RANGING_HOOK_TIMEOUT_MS +
      POLICY_TIMEOUT_MS +
      ACTUATION_WAIT_MS +
      KEY_RECHECK_TIMEOUT_MS +
      ACTUATOR_TIMEOUT_MS;
    expect(carWorstCaseMs).toBe(24_000); // as PROTOCOL.md §6 adds them up
    expect(carWorstCaseMs).toBeLessThan(PHONE_RESULT_TIMEOUT_MS);
  });
});

describe('vehicle driver: deadlines run on the monotonic clock', () => {
  it('a wall clock that stands still (or steps back) does not stretch the handshake timeout', async () => {
    const car = await makeCar('frozen-wall');
    const [phoneLink, carLink] = createMemoryLinkPair();
    const frozen = () => T0; // the car's trusted time never moves
    const summary = await car.serve(carLink, { now: frozen, handshakeTimeoutMs: 200 });
    expect(summary.end).toBe('timeout');
    phoneLink.close();
  });
});
