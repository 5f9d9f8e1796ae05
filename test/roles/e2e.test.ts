import { describe, expect, it } from 'vitest';
import { connect, makeCar, makeIdentity } from '../helpers/fixture.js';

describe('phone ↔ car over the in-memory link', () => {
  it('unlocks in one round trip, then locks and starts on the same session', async () => {
    const car = await makeCar();
    const phone = await makeIdentity('phone-1');
    const rec = await car.keys.enroll(phone.publicKey, { label: 'owner' });
    const { opened, served } = await connect(car, phone, 'unlock');
    const { result, connection } = await opened;
    expect(result).toMatchObject({ ok: true, status: 'ok', command: { kind: 'unlock' } });
    const lock = await connection.send('lock');
    expect(lock.status).toBe('ok');
    const startNoIntent = await connection.send('start');
    expect(startNoIntent.status).toBe('intent-required');
    const start = await connection.send('start', { intent: true });
    expect(start.status).toBe('ok');
    await connection.close();
    const summary = await served;
    expect(summary).toMatchObject({ keyId: rec.id, executed: 3, denied: 1, end: 'ok' });
    expect(car.executed.map((e) => e.command.kind)).toEqual(['unlock', 'lock', 'start']);
  });

  it('denies an unknown phone with an authenticated unknown-key and executes nothing', async () => {
    const car = await makeCar();
    const stranger = await makeIdentity('stranger');
    const { opened, served, phoneLink } = await connect(car, stranger, 'unlock');
    const { result, connection } = await opened;
    expect(result.status).toBe('unknown-key');
    expect((await served).end).toBe('unknown-key');
    // The car ends the session after an unknown key: the phone's link closes.
    expect((await phoneLink.closed).by).toBe('remote');
    expect(connection.isOpen).toBe(false);
    expect(car.executed).toEqual([]);
  });
});
