/**
 * The phone role's timers are data: `nextDeadline()` says when the answer it waits for is due,
 * `tick(now)` past it ends the session — no timers, no clock read inside a step (the manual clock
 * never moves here: every instant is an argument). Both the session and the pairing role.
 */
import { describe, expect, it } from 'vitest';
import { deterministicRandom, PairingMode, PHONE_ANSWER_TIMEOUT_MS, PhonePairingSession, TimeoutError, VehiclePairingSession } from '../../src/index.js';
import { Actuator, carReceive, crypto, errorsOf, eventTypes, makeWorld, newCar, newPhone } from '../helpers/adversary.js';

describe('phone role deadlines', () => {
  it('waits for the challenge until begin + timeoutMs; a tick at the deadline ends the session, nothing sent, nothing may have run', async () => {
    const w = await makeWorld();
    const phone = newPhone(w, 'd1', { timeoutMs: 300 });
    expect(phone.nextDeadline()).toBeUndefined();
    phone.begin('unlock', {}, 1_000);
    expect(phone.nextDeadline()).toBe(1_300);
    expect(await phone.tick(1_299)).toEqual({ send: [], events: [], done: false });
    expect(phone.state).toBe('awaiting-challenge');
    const o = await phone.tick(1_300);
    expect(o.send).toEqual([]);
    expect(o.done).toBe(true);
    expect(eventTypes(o)).toEqual(['error', 'closed']);
    const [error] = errorsOf(o);
    expect(error).toBeInstanceOf(TimeoutError);
    expect(error).toMatchObject({ mayHaveSucceeded: false, transient: true });
    expect(phone.state).toBe('closed');
    expect(phone.nextDeadline()).toBeUndefined();
  });

  it('waits for each result until its sending step + timeoutMs; elapsedMs is measured between the steps’ instants', async () => {
    const w = await makeWorld();
    const car = newCar(w, 'd2');
    const phone = newPhone(w, 'd2');
    phone.begin('unlock', {}, 0);
    const [handshake] = (await phone.receive((await car.start()).send[0]!, 10)).send;
    expect(phone.nextDeadline()).toBe(10 + PHONE_ANSWER_TIMEOUT_MS);
    const [result] = (await carReceive(car, handshake!, new Actuator())).send;
    const r = await phone.receive(result!, 45);
    expect(r.events).toMatchObject([{ type: 'result', status: 'ok', elapsedMs: 35 }]);
    expect(phone.nextDeadline()).toBeUndefined(); // ready: the phone waits for nothing
    await phone.command('lock', {}, 100);
    expect(phone.nextDeadline()).toBe(100 + PHONE_ANSWER_TIMEOUT_MS);
  });

  it('a result that does not come: the tick sends an authenticated CLOSE the car accepts, and says the command may have run', async () => {
    const w = await makeWorld();
    const car = newCar(w, 'd3');
    const phone = newPhone(w, 'd3', { timeoutMs: 200 });
    phone.begin('unlock', {}, 0);
    const [handshake] = (await phone.receive((await car.start()).send[0]!, 0)).send;
    const executing = await car.receive(handshake!); // the car starts the actuator and never completes
    expect(eventTypes(executing)).toContain('execute');
    const o = await phone.tick(200);
    expect(errorsOf(o)[0]).toMatchObject({ code: 'ERR_TIMEOUT', mayHaveSucceeded: true });
    expect(o.send).toHaveLength(1);
    expect(o.done).toBe(true);
    await car.complete({ ok: true });
    const atCar = await car.receive(o.send[0]!);
    expect(atCar.events).toContainEqual({ type: 'closed', reason: 'ok' });
  });

  it('rejects a negative or non-finite timeoutMs at construction', async () => {
    const w = await makeWorld();
    expect(() => newPhone(w, 'd4', { timeoutMs: -1 })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }));
    expect(() => newPhone(w, 'd4', { timeoutMs: Number.POSITIVE_INFINITY })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }));
  });
});

describe('phone pairing role deadlines', () => {
  const scrypt = { log2N: 10, r: 1, p: 1 }; // fast: the deadlines are the subject here

  async function pairingPair(timeoutMs = 1_000) {
    const w = await makeWorld();
    const { mode, code } = await PairingMode.open({ crypto, random: deterministicRandom('pm'), now: w.clock.now, scrypt });
    const phone = new PhonePairingSession({ crypto, random: deterministicRandom('pp'), now: w.clock.now, code, identity: w.phoneKey, timeoutMs }, 0);
    const car = newCar(w, 'pair');
    const challenge = (await car.start()).send[0]!;
    const carPairing = new VehiclePairingSession({ crypto, random: deterministicRandom('vp'), authority: mode, challenge });
    return { w, phone, challenge, carPairing };
  }

  it('each wait is bounded from the step that sent the previous message; a tick before PAIR_CONFIRM: nothing may have happened', async () => {
    const { phone, challenge, carPairing } = await pairingPair();
    expect(phone.nextDeadline()).toBe(1_000);
    const [start] = (await phone.receive(challenge, 5)).send;
    expect(phone.nextDeadline()).toBe(1_005);
    const [params] = (await carPairing.receive(start!, 0)).send;
    await phone.receive(params!, 20);
    expect(phone.state).toBe('awaiting-response');
    expect(phone.nextDeadline()).toBe(1_020);
    expect(await phone.tick(1_019)).toEqual({ send: [], events: [], done: false });
    const o = await phone.tick(1_020);
    expect(o.events).toMatchObject([{ type: 'error', error: { code: 'ERR_TIMEOUT', mayHaveSucceeded: false } }, { type: 'closed' }]);
    expect(phone.nextDeadline()).toBeUndefined();
  });

  it('a tick after PAIR_CONFIRM was sent: the car may have enrolled this phone', async () => {
    const { phone, challenge, carPairing } = await pairingPair();
    const [start] = (await phone.receive(challenge, 0)).send;
    const [params] = (await carPairing.receive(start!, 0)).send;
    const [share] = (await phone.receive(params!, 0)).send;
    const [response] = (await carPairing.receive(share!, 0)).send;
    const [confirm] = (await phone.receive(response!, 0)).send;
    expect((await carPairing.receive(confirm!, 0)).request?.type).toBe('enroll-owner');
    expect(phone.state).toBe('awaiting-done');
    const o = await phone.tick(1_000);
    expect(o.events).toMatchObject([{ type: 'error', error: { code: 'ERR_TIMEOUT', mayHaveSucceeded: true, transient: true } }, { type: 'closed' }]);
  });
});
