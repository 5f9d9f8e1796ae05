/**
 * The drivers' I/O discipline: every wait is bounded, a vanished peer yields a typed error within
 * the bound, actuator failures become authenticated denials, aborts are honoured, and nothing hangs.
 */
import { describe, expect, it } from 'vitest';
import { createMemoryLinkPair, openPhoneSession, runPhoneCommand, AbortedError, LinkClosedError, TimeoutError } from '../../src/index.js';
import { makeCar, makeIdentity, phoneOptions } from '../helpers/fixture.js';
import { wrapLink } from '../helpers/link-wrap.js';

async function setup() {
  const car = await makeCar();
  const phone = await makeIdentity('phone-drivers');
  await car.keys.enroll(phone.publicKey);
  return { car, phone, opts: phoneOptions(phone, car.identity.publicKey) };
}

describe('phone driver', () => {
  it('times out with a typed error when no car speaks', async () => {
    const { opts } = await setup();
    const [phoneLink] = createMemoryLinkPair();
    const t0 = performance.now();
    await expect(openPhoneSession(phoneLink, { ...opts, timeoutMs: 150 }, 'unlock')).rejects.toBeInstanceOf(TimeoutError);
    expect(performance.now() - t0).toBeLessThan(1_000);
    expect(phoneLink.isClosed).toBe(true);
  });

  it('fails with LinkClosedError when the car drops the link after its challenge', async () => {
    const { opts } = await setup();
    const [phoneLink, carLink] = createMemoryLinkPair();
    // A car that sends a challenge-shaped message and vanishes.
    const { car } = await setup();
    const challengeOnly = wrapLink(carLink, {
      send: async (m, o) => {
        await carLink.send(m, o);
        carLink.close('car gone');
      },
    });
    void car.serve(challengeOnly);
    await expect(openPhoneSession(phoneLink, { ...opts, vehicleKey: car.identity.publicKey }, 'unlock')).rejects.toBeInstanceOf(LinkClosedError);
  });

  it('honours an AbortSignal', async () => {
    const { opts } = await setup();
    const [phoneLink] = createMemoryLinkPair();
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 20);
    await expect(openPhoneSession(phoneLink, { ...opts, timeoutMs: 10_000, signal: ac.signal }, 'unlock')).rejects.toBeInstanceOf(AbortedError);
  });

  it('refuses commands after the connection closed', async () => {
    const { car, opts } = await setup();
    const [phoneLink, carLink] = createMemoryLinkPair();
    void car.serve(carLink);
    const { connection } = await openPhoneSession(phoneLink, opts, 'unlock');
    await connection.close();
    await expect(connection.send('lock')).rejects.toMatchObject({ code: 'ERR_INVALID_STATE' });
  });
});

describe('vehicle driver', () => {
  it('ends with `timeout` when the phone never answers the challenge', async () => {
    const { car } = await setup();
    const [, carLink] = createMemoryLinkPair();
    const summary = await car.serve(carLink, { handshakeTimeoutMs: 100 });
    expect(summary).toMatchObject({ end: 'timeout', executed: 0, keyId: undefined });
    expect(carLink.isClosed).toBe(true);
  });

  it('closes an idle session after idleTimeoutMs with an authenticated close', async () => {
    const { car, opts } = await setup();
    const [phoneLink, carLink] = createMemoryLinkPair();
    const served = car.serve(carLink, { idleTimeoutMs: 100 });
    const { result, connection } = await openPhoneSession(phoneLink, opts, 'unlock');
    expect(result.ok).toBe(true);
    expect(await served).toMatchObject({ end: 'timeout', executed: 1 });
    await expect(connection.send('lock')).rejects.toBeDefined();
  });

  it('turns a throwing actuator into an authenticated actuator-failed', async () => {
    const { car, opts } = await setup();
    const [phoneLink, carLink] = createMemoryLinkPair();
    const served = car.serve(carLink, {
      actuator: () => {
        throw new Error('relay stuck');
      },
    });
    const r = await runPhoneCommand(phoneLink, opts, 'unlock');
    expect(r).toMatchObject({ ok: false, status: 'actuator-failed' });
    expect((await served).denied).toBe(1);
  });

  it('turns a hanging actuator into actuator-failed after actuatorTimeoutMs', async () => {
    const { car, opts } = await setup();
    const [phoneLink, carLink] = createMemoryLinkPair();
    void car.serve(carLink, { actuator: () => new Promise(() => undefined), actuatorTimeoutMs: 50 });
    expect((await runPhoneCommand(phoneLink, opts, 'unlock')).status).toBe('actuator-failed');
  });

  it('passes actuator result data back to the phone', async () => {
    const { car, opts } = await setup();
    const [phoneLink, carLink] = createMemoryLinkPair();
    void car.serve(carLink, { actuator: () => ({ ok: true, data: Uint8Array.of(42) }) });
    const r = await runPhoneCommand(phoneLink, opts, { kind: 'custom', code: 0x81, args: Uint8Array.of(1, 2) });
    expect(r).toMatchObject({ ok: true, data: Uint8Array.of(42) });
  });

  it('stops serving when aborted', async () => {
    const { car } = await setup();
    const [, carLink] = createMemoryLinkPair();
    const ac = new AbortController();
    const served = car.serve(carLink, { signal: ac.signal, handshakeTimeoutMs: 10_000 });
    setTimeout(() => ac.abort(), 20);
    expect((await served).end).toBe('aborted');
  });

  it('answers garbage with an alert and closes, then serves the next phone', async () => {
    const { car, opts } = await setup();
    const [phoneLink, carLink] = createMemoryLinkPair();
    const served = car.serve(carLink);
    await phoneLink.receive({ timeoutMs: 1_000 }); // the challenge
    await phoneLink.send(Uint8Array.of(0x02, 0x01, 0x01, 0xde, 0xad));
    const alert = await phoneLink.receive({ timeoutMs: 1_000 });
    expect([...alert]).toEqual([0x0f, 0x0b]); // ALERT malformed
    expect(await served).toMatchObject({ end: 'rejected-input', executed: 0 });
    const [l1, l2] = createMemoryLinkPair();
    void car.serve(l2);
    expect((await runPhoneCommand(l1, opts, 'unlock')).ok).toBe(true);
  });
});
