/**
 * What the phone's failures tell a caller: `mayHaveSucceeded` (the command left the phone and no
 * answer came: the car may have run it) and `transient` (retrying unchanged may succeed), for
 * every way an exchange can fail — through the public driver, against a real car or a car role
 * driven by hand.
 */
import { describe, expect, it } from 'vitest';
import {
  AbortedError,
  createMemoryLinkPair,
  deniedError,
  DeniedError,
  deterministicRandom,
  LinkClosedError,
  openPhoneSession,
  REASONS,
  TimeoutError,
  type DenyReason,
} from '../../src/index.js';
import { Actuator, carReceive, crypto, makeWorld, newCar, type World } from '../helpers/adversary.js';
import { makeCar, makeIdentity, phoneOptions } from '../helpers/fixture.js';

async function enrolledCar() {
  const car = await makeCar();
  const phone = await makeIdentity('phone-errors');
  await car.keys.enroll(phone.publicKey);
  return { car, opts: phoneOptions(phone, car.identity.publicKey) };
}

async function failureOf(p: Promise<unknown>): Promise<unknown> {
  return p.then(
    () => {
      throw new Error('expected a failure');
    },
    (e: unknown) => e,
  );
}

describe('phone failures: may the command have run?', () => {
  it('timeout before anything was sent (no challenge): mayHaveSucceeded false, transient', async () => {
    const { opts } = await enrolledCar();
    const [phoneLink] = createMemoryLinkPair();
    const err = await failureOf(openPhoneSession(phoneLink, { ...opts, timeoutMs: 100 }, 'unlock'));
    expect(err).toBeInstanceOf(TimeoutError);
    expect(err).toMatchObject({ code: 'ERR_TIMEOUT', mayHaveSucceeded: false, transient: true });
    expect(phoneLink.isClosed).toBe(true);
  });

  it.each<{ failure: string; code: string; timeoutMs: number; hangs: boolean }>([
    { failure: 'timeout', code: 'ERR_TIMEOUT', timeoutMs: 200, hangs: true }, // the relay never reports back
    { failure: 'link lost', code: 'ERR_LINK_CLOSED', timeoutMs: 2_000, hangs: false }, // the radio drops before the RESULT
  ])('$failure after the handshake carrying the command was sent: mayHaveSucceeded true (the car did run it)', async ({ code, timeoutMs, hangs }) => {
    const { car, opts } = await enrolledCar();
    const [phoneLink, carLink] = createMemoryLinkPair();
    const driven: string[] = [];
    void car.serve(carLink, {
      actuator: (command) => {
        driven.push(command.kind);
        if (hangs) return new Promise(() => undefined);
        carLink.close('radio lost');
        return undefined;
      },
      actuatorTimeoutMs: 1_000,
    });
    const err = await failureOf(openPhoneSession(phoneLink, { ...opts, timeoutMs }, 'unlock'));
    expect(err).toMatchObject({ code, mayHaveSucceeded: true, transient: true });
    expect(driven).toEqual(['unlock']);
  });

  it('link lost on a further command after it was sent: mayHaveSucceeded true', async () => {
    const { car, opts } = await enrolledCar();
    const [phoneLink, carLink] = createMemoryLinkPair();
    let calls = 0;
    void car.serve(carLink, {
      actuator: () => {
        if (++calls === 2) carLink.close('radio lost');
      },
    });
    const { connection } = await openPhoneSession(phoneLink, opts, 'unlock');
    expect(await failureOf(connection.send('lock'))).toMatchObject({ code: 'ERR_LINK_CLOSED', mayHaveSucceeded: true });
    expect(calls).toBe(2);
  });

  it('link lost before the handshake could be sent (the car hung up before its challenge): mayHaveSucceeded false', async () => {
    const { opts } = await enrolledCar();
    const [phoneLink, carLink] = createMemoryLinkPair();
    carLink.close('car gone');
    const err = await failureOf(openPhoneSession(phoneLink, opts, 'unlock'));
    expect(err).toBeInstanceOf(LinkClosedError);
    expect(err).toMatchObject({ mayHaveSucceeded: false, transient: true });
  });

  it('aborted while waiting for the result: AbortedError with mayHaveSucceeded true, not transient', async () => {
    const { car, opts } = await enrolledCar();
    const [phoneLink, carLink] = createMemoryLinkPair();
    const ac = new AbortController();
    void car.serve(carLink, {
      actuator: () => {
        ac.abort();
        return new Promise(() => undefined);
      },
      actuatorTimeoutMs: 1_000,
    });
    const err = await failureOf(openPhoneSession(phoneLink, { ...opts, signal: ac.signal }, 'unlock'));
    expect(err).toBeInstanceOf(AbortedError);
    expect(err).toMatchObject({ code: 'ERR_ABORTED', mayHaveSucceeded: true, transient: false });
  });
});

/** A car role driven by hand on the far end of a memory link: answers the first command, then hands over. */
async function handDrivenCar(w: World) {
  const car = newCar(w, 'hand');
  const [phoneLink, carLink] = createMemoryLinkPair();
  const opts = { crypto, random: deterministicRandom('hand-phone'), now: w.clock.now, identity: w.phoneKey, vehicleKey: w.carKey.publicKey, timeoutMs: 2_000 };
  const opening = openPhoneSession(phoneLink, opts, 'unlock');
  const [challenge] = (await car.start()).send;
  await carLink.send(challenge!);
  const handshake = await carLink.receive({ timeoutMs: 2_000 });
  for (const m of (await carReceive(car, handshake, new Actuator())).send) await carLink.send(m);
  const { connection } = await opening;
  return { car, carLink, connection };
}

describe('phone failures: denials say whether to retry (REASONS, retry column)', () => {
  it.each<[DenyReason, boolean]>([
    ['revoked', false],
    ['session-expired', true],
  ])('the car ends the session with CLOSE(%s) instead of a RESULT: ERR_DENIED, transient %s, the command did not run', async (reason, transient) => {
    const w = await makeWorld();
    const { car, carLink, connection } = await handDrivenCar(w);
    const sending = connection.send('lock');
    await carLink.receive({ timeoutMs: 2_000 }); // the command, which the car does not run
    for (const m of (await car.close(reason)).send) await carLink.send(m);
    const err = await failureOf(sending);
    expect(err).toBeInstanceOf(DeniedError);
    expect(err).toMatchObject({ code: 'ERR_DENIED', authenticated: true, reason, retry: REASONS[reason].retry, transient, mayHaveSucceeded: false });
  });

  it.each<[DenyReason, boolean]>([
    ['busy', true],
    ['malformed', false],
  ])('an ALERT(%s) before the handshake: ERR_ALERT, transient %s', async (reason, transient) => {
    const { opts } = await enrolledCar();
    const [phoneLink, carLink] = createMemoryLinkPair();
    await carLink.send(Uint8Array.of(0x0f, REASONS[reason].code));
    const err = await failureOf(openPhoneSession(phoneLink, opts, 'unlock'));
    expect(err).toMatchObject({ code: 'ERR_ALERT', authenticated: false, reason, transient, mayHaveSucceeded: false });
  });

  it('every reason: transient exactly when its retry is now or later', () => {
    for (const [reason, meaning] of Object.entries(REASONS)) {
      const e = deniedError(reason as DenyReason, true);
      expect({ reason, retry: e.retry, transient: e.transient }).toEqual({
        reason,
        retry: meaning.retry,
        transient: meaning.retry === 'now' || meaning.retry === 'later',
      });
    }
  });

  it('an unknown reason is never retried', () => {
    expect(new DeniedError('from-the-future', false)).toMatchObject({ retry: 'never', transient: false, mayHaveSucceeded: false });
  });
});
