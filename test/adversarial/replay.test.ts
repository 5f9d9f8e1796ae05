/**
 * Replay, duplication, splicing and reordering. Freshness comes from the car's ephemeral per
 * connection and from the strict implicit nonces of each session: a recorded message is
 * worthless anywhere but at its one place in its one session.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import {
  decodeMessage,
  deterministicRandom,
  issueGrant,
  MemoryKeyRegistry,
  createMemoryLinkPair,
  serveVehicleSession,
  systemRandom,
  type Command,
} from '../../src/index.js';
import {
  Actuator,
  carReceive,
  crypto,
  errorsOf,
  eventTypes,
  expectFreshUnlock,
  keyFromSeed,
  makeWorld,
  newCar,
  newPhone,
  Recorded,
  type TestCar,
  type World,
} from '../helpers/adversary.js';

const kinds = (calls: readonly Command[]) => calls.map((c) => c.kind).join(',');

/** The car rejected `bytes`: one typed error, nothing executed, nothing authenticated, state unchanged. */
async function expectCarRejects(car: TestCar, bytes: Uint8Array, act: Actuator, code: string): Promise<void> {
  const before = car.state;
  const executed = act.count;
  const o = await carReceive(car, bytes, act);
  expect(eventTypes(o)).toEqual(['error']);
  expect(errorsOf(o)[0]?.code).toBe(code);
  expect(car.state).toBe(before);
  expect(act.count).toBe(executed);
  expect(o.send.map((m) => decodeMessage(m).type)).toEqual([0x0f]);
}

/** A full session between a new car and a new phone of `w` (seed ⇒ ephemerals): unlock, then lock. */
async function session(w: World, seed: string) {
  const car = newCar(w, seed);
  const phone = newPhone(w, seed);
  const act = new Actuator();
  phone.begin('unlock');
  const challenge = (await car.start()).send[0]!;
  const handshake = (await phone.receive(challenge)).send[0]!;
  const result = (await carReceive(car, handshake, act)).send[0]!;
  expect((await phone.receive(result)).events).toMatchObject([{ type: 'result', status: 'ok' }]);
  const lock = (await phone.command('lock')).send[0]!;
  const lockResult = (await carReceive(car, lock, act)).send[0]!;
  expect((await phone.receive(lockResult)).events).toMatchObject([{ type: 'result', status: 'ok' }]);
  expect(kinds(act.calls)).toBe('unlock,lock');
  return { car, phone, act, challenge, handshake, result, lock, lockResult };
}

describe('replay', () => {
  let w: World;
  let rec: Recorded;
  beforeAll(async () => {
    w = await makeWorld({ carSeed: 'replay-car', phoneSeed: 'replay-phone' });
    rec = await Recorded.record(w);
  });

  it('a recorded handshake replayed on new connections (new challenges) is rejected and executes nothing', async () => {
    for (let i = 0; i < 8; i++) {
      const car = newCar(w, `new-connection-${i}`);
      const challenge = (await car.start()).send[0]!;
      expect(challenge).not.toEqual(rec.t.challenge);
      const act = new Actuator();
      await expectCarRejects(car, rec.t.handshake, act, 'ERR_DECRYPT');
      expect(car.keyId).toBeUndefined(); // not even authenticated: no key id learned
      expect(act.count).toBe(0);
    }
  });

  it('a recorded handshake replayed through the vehicle driver (RollJam-style) executes nothing', async () => {
    const [attacker, carLink] = createMemoryLinkPair();
    const calls: Command[] = [];
    const served = serveVehicleSession(carLink, {
      crypto,
      random: systemRandom,
      now: () => performance.now(),
      identity: w.carKey,
      keys: w.keys,
      policy: w.policy,
      actuator: (c) => {
        calls.push(c);
      },
    });
    const challenge = await attacker.receive({ timeoutMs: 2_000 });
    expect(challenge.length).toBe(68);
    await attacker.send(rec.t.handshake);
    const alert = await attacker.receive({ timeoutMs: 2_000 });
    expect(decodeMessage(alert)).toEqual({ type: 0x0f, reason: 'malformed' });
    const summary = await served;
    expect(summary).toMatchObject({ executed: 0, end: 'rejected-input', keyId: undefined });
    expect(calls).toEqual([]);
  });

  it('the recorded handshake replayed to the same car session after it was accepted is rejected', async () => {
    const act = new Actuator();
    const car = await rec.carReady(act);
    await expectCarRejects(car, rec.t.handshake, act, 'ERR_UNEXPECTED_MESSAGE');
    expect(kinds(act.calls)).toBe('unlock');
  });

  it('a duplicated command record on the same session is rejected (before and after it was answered)', async () => {
    const act = new Actuator();
    const car = await rec.carReady(act);
    // Duplicate while the first copy is executing: not accepted in that state.
    const o = await car.receive(rec.t.lockCommand);
    expect(eventTypes(o)).toEqual(['execute']);
    const dup = await car.receive(rec.t.lockCommand);
    expect(errorsOf(dup).map((e) => e.code)).toEqual(['ERR_UNEXPECTED_MESSAGE']);
    expect(car.state).toBe('executing');
    expect((await car.complete({ ok: true })).send).toEqual([rec.t.lockResult]);
    // Duplicate after: the receive counter moved on.
    for (let i = 0; i < 3; i++) await expectCarRejects(car, rec.t.lockCommand, new Actuator(), 'ERR_DECRYPT');
    expect(car.state).toBe('ready');
  });

  it('a duplicated result on the same session is rejected by the phone', async () => {
    const phone = await rec.phoneAwaitingLockResult();
    expect((await phone.receive(rec.t.result)).events.map((e) => (e.type === 'error' ? e.error.code : e.type))).toEqual(['ERR_DECRYPT']);
    expect(phone.state).toBe('awaiting-result');
    expect((await phone.receive(rec.t.lockResult)).events).toMatchObject([{ type: 'result', command: { kind: 'lock' } }]);
    const again = await phone.receive(rec.t.lockResult);
    expect(errorsOf(again).map((e) => e.code)).toEqual(['ERR_DECRYPT']);
    expect(again.events.some((e) => e.type === 'result')).toBe(false);
    expect(phone.state).toBe('ready');
  });

  it('a command record replayed on another session of the same car and phone is rejected', async () => {
    const b = await session(w, 'session-b');
    // Session B's car is at receive nonce 2; A's lock was nonce 1. Try it, and B's own lock again.
    await expectCarRejects(b.car, rec.t.lockCommand, b.act, 'ERR_DECRYPT');
    await expectCarRejects(b.car, b.lock, b.act, 'ERR_DECRYPT');
    // And at the very position it had in A (nonce 1): a fresh session C right after its handshake.
    const c = await session(w, 'session-c');
    const act = new Actuator();
    const cCar = newCar(w, 'session-c');
    await cCar.start();
    await carReceive(cCar, c.handshake, act); // rebuild C's car at the same point (deterministic)
    await expectCarRejects(cCar, rec.t.lockCommand, act, 'ERR_DECRYPT');
    expect(kinds(act.calls)).toBe('unlock');
  });

  it('records of session A spliced into session B are rejected in both directions, at every position', async () => {
    const a = await session(w, 'splice-a');
    const bCar = newCar(w, 'splice-b');
    const bPhone = newPhone(w, 'splice-b');
    const act = new Actuator();
    bPhone.begin('unlock');
    const hs = (await bPhone.receive((await bCar.start()).send[0]!)).send[0]!;
    // B's car awaits a handshake: A's handshake (bound to A's challenge) fails.
    await expectCarRejects(bCar, a.handshake, act, 'ERR_DECRYPT');
    const result = (await carReceive(bCar, hs, act)).send[0]!;
    // B's phone awaits its unlock result: A's results fail.
    for (const m of [a.result, a.lockResult]) {
      const o = await bPhone.receive(m);
      expect(errorsOf(o).map((e) => e.code)).toEqual(['ERR_DECRYPT']);
      expect(bPhone.state).toBe('awaiting-result');
    }
    await bPhone.receive(result);
    // B's car awaits its first record: A's records fail.
    for (const m of [a.lock, a.result, a.lockResult]) await expectCarRejects(bCar, m, act, 'ERR_DECRYPT');
    expect(kinds(act.calls)).toBe('unlock');
    // B itself still works.
    const lock = (await bPhone.command('lock')).send[0]!;
    const lockResult = (await carReceive(bCar, lock, act)).send[0]!;
    expect((await bPhone.receive(lockResult)).events).toMatchObject([{ type: 'result', status: 'ok' }]);
  });

  it('records of one direction reflected back in the other are rejected', async () => {
    const act = new Actuator();
    const car = await rec.carReady(act);
    await expectCarRejects(car, rec.t.result, act, 'ERR_DECRYPT'); // the car's own result reflected
    const phone = await rec.phoneAwaitingLockResult();
    expect(errorsOf(await phone.receive(rec.t.lockCommand)).map((e) => e.code)).toEqual(['ERR_DECRYPT']);
  });

  it('reordering two phone records (command, close) is rejected', async () => {
    const act = new Actuator();
    const car = await rec.carReady(act);
    const phone = await rec.phoneAwaitingResult();
    await phone.receive(rec.t.result);
    const lock = (await phone.command('lock')).send[0]!;
    const close = (await phone.close()).send[0]!;
    // The close (nonce 2) delivered before the command (nonce 1): rejected, nothing changes.
    await expectCarRejects(car, close, act, 'ERR_DECRYPT');
    expect(kinds(act.calls)).toBe('unlock');
    // In order, both are accepted.
    expect(eventTypes(await carReceive(car, lock, act))).toEqual(['execute', 'decision']);
    expect(eventTypes(await car.receive(close))).toEqual(['closed']);
  });

  it('reordering two car records (result, close) is rejected by the phone', async () => {
    const act = new Actuator();
    const car = await rec.carReady(act);
    await carReceive(car, rec.t.lockCommand, act);
    const close = (await car.close('ok')).send[0]!;
    const phone = await rec.phoneAwaitingLockResult();
    // The car's close (nonce 2) before its lock result (nonce 1).
    const o = await phone.receive(close);
    expect(errorsOf(o).map((e) => e.code)).toEqual(['ERR_DECRYPT']);
    expect(phone.state).toBe('awaiting-result');
    expect((await phone.receive(rec.t.lockResult)).events).toMatchObject([{ type: 'result', status: 'ok' }]);
    expect(eventTypes(await phone.receive(close))).toEqual(['closed']);
  });

  it('reordering the two records of a terminal denial (result, close) is rejected', async () => {
    // maxCommands 1: the lock is refused `rate-limited`, then the car closes: two records.
    const act = new Actuator();
    const car = newCar(w, 'recorded', { maxCommands: 1 });
    await car.start();
    await carReceive(car, rec.t.handshake, act);
    const o = await carReceive(car, rec.t.lockCommand, act);
    expect(o.send).toHaveLength(2);
    const [denial, close] = o.send as [Uint8Array, Uint8Array];
    const phone = await rec.phoneAwaitingLockResult();
    expect(errorsOf(await phone.receive(close)).map((e) => e.code)).toEqual(['ERR_DECRYPT']);
    expect((await phone.receive(denial)).events).toMatchObject([{ type: 'result', status: 'rate-limited' }]);
    expect(kinds(act.calls)).toBe('unlock');
  });

  it('a captured challenge replayed to the phone yields a handshake the real car (new challenge) rejects', async () => {
    // The attacker captured the recorded challenge; the real car has since moved on.
    for (let i = 0; i < 4; i++) {
      const realCar = newCar(w, `moved-on-${i}`);
      await realCar.start();
      const phone = newPhone(w, `victim-${i}`);
      phone.begin('unlock');
      const o = await phone.receive(rec.t.challenge); // the phone cannot tell
      expect(o.send).toHaveLength(1);
      const act = new Actuator();
      await expectCarRejects(realCar, o.send[0]!, act, 'ERR_DECRYPT');
      expect(act.count).toBe(0);
    }
    await expectFreshUnlock(w, 'after-replays');
  });

  it('a captured grant-carrying handshake (a shared key’s first use) replayed on a new connection enrolls nothing', async () => {
    const base = await makeWorld({ carSeed: 'replay-grant-car', phoneSeed: 'replay-grant-friend', enrolled: false });
    const owner = await keyFromSeed('replay-grant-owner');
    const keys = new MemoryKeyRegistry(crypto, base.carKey.publicKey);
    const ownerRecord = await keys.enroll(owner.publicKey, { role: 'owner' });
    const gw: World = { ...base, keys };
    const grant = await issueGrant({
      crypto,
      random: deterministicRandom('replay-grant'),
      issuer: owner,
      issuerKeyId: ownerRecord.id,
      vehicleKey: gw.carKey.publicKey,
      subject: gw.phoneKey.publicKey,
      permissions: ['unlock'],
    });
    const first = newCar(gw, 'grant-first');
    const phone = newPhone(gw, 'grant-first');
    phone.begin('unlock', { grant: grant.bytes });
    const captured = (await phone.receive((await first.start()).send[0]!)).send[0]!;
    // The victim's handshake never reached the car (jammed); the attacker replays it later.
    for (let i = 0; i < 3; i++) {
      const car = newCar(gw, `grant-later-${i}`);
      await car.start();
      await expectCarRejects(car, captured, new Actuator(), 'ERR_DECRYPT');
    }
    expect((await keys.list()).map((k) => k.role)).toEqual(['owner']);
  });

  it('a captured challenge cannot be answered again on a car session that has moved on', async () => {
    const act = new Actuator();
    const car = await rec.carReady(act);
    const phone = newPhone(w, 'second-phone-run');
    phone.begin('trunk');
    const hs = (await phone.receive(rec.t.challenge)).send[0]!;
    await expectCarRejects(car, hs, act, 'ERR_UNEXPECTED_MESSAGE');
    expect(kinds(act.calls)).toBe('unlock');
  });
});
