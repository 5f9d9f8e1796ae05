/** The phone never sends after the car's CLOSE, even when it closes before reading it (§6). */
import { describe, expect, it } from 'vitest';
import { createMemoryLinkPair, decodeMessage, openPhoneSession, TimeoutError } from '../../src/index.js';
import { keyFromSeed, makeWorld, newCar } from '../helpers/adversary.js';
import { makeCar, phoneOptions } from '../helpers/fixture.js';

describe('PhoneConnection.close()', () => {
  it('after a denial that ends the session, the car’s queued CLOSE is read and no CLOSE is sent back', async () => {
    const w = await makeWorld({ enrolled: false });
    const car = newCar(w, 'close-race');
    const [phoneLink, carLink] = createMemoryLinkPair();
    const seen: string[] = [];
    const opened = openPhoneSession(
      phoneLink,
      { ...phoneOptions(w.phoneKey, w.carKey.publicKey), onEvent: (e) => seen.push(e.type === 'closed' ? `closed:${e.reason}` : e.type) },
      'unlock',
    );
    await carLink.send((await car.start()).send[0]!);
    const answer = await car.receive(await carLink.receive({ timeoutMs: 2_000 }));
    expect(answer.send).toHaveLength(2); // RESULT(unknown-key), CLOSE(unknown-key) — the link stays up
    for (const m of answer.send) await carLink.send(m);
    const { result, connection } = await opened;
    expect(result.status).toBe('unknown-key');
    await connection.close();
    const after = await carLink.receive({ timeoutMs: 100 }).then(
      (m) => `sent 0x${decodeMessage(m).type.toString(16)}`,
      (e: unknown) => (e instanceof TimeoutError ? 'nothing' : 'link closed'),
    );
    expect(after).not.toMatch(/^sent/);
    expect(connection.closeReason).toBe('unknown-key');
    expect(seen).toEqual(['result', 'closed:unknown-key']); // the CLOSE read at close() reaches the observer too
  });

  it('close() while a command waits for its RESULT: the pending send fails with mayHaveSucceeded (the car may run it)', async () => {
    const car = await makeCar('close-in-flight');
    const phone = await keyFromSeed('close-in-flight-phone');
    await car.keys.enroll(phone.publicKey);
    let release!: () => void;
    const started = new Promise<void>((r) => (release = r));
    const [phoneLink, carLink] = createMemoryLinkPair();
    const served = car.serve(carLink, {
      actuator: async (command) => {
        if (command.kind === 'lock') release();
        await new Promise((r) => setTimeout(r, 200));
        car.executed.push({ command, keyId: '' });
      },
    });
    const { result, connection } = await openPhoneSession(phoneLink, phoneOptions(phone, car.identity.publicKey), 'unlock');
    expect(result.status).toBe('ok');
    const pending = connection.send('lock');
    await started; // the car is running it
    await connection.close();
    await expect(pending).rejects.toMatchObject({ mayHaveSucceeded: true });
    await served;
    expect(car.executed.map((e) => e.command.kind)).toEqual(['unlock', 'lock']);
  });
});

/** An enrolled phone's open connection after a first `lock`; `end` ends its session from the car's side. */
async function opened(seed: string) {
  const car = await makeCar(seed);
  const phone = await keyFromSeed(`${seed}-phone`);
  await car.keys.enroll(phone.publicKey);
  const [phoneLink, carLink] = createMemoryLinkPair();
  let end!: (reason: 'revoked') => void;
  const served = car.serve(carLink, { onSession: (_id, e) => void (end = e) });
  const { connection } = await openPhoneSession(phoneLink, phoneOptions(phone, car.identity.publicKey), 'lock');
  return { car, connection, served, phoneLink, end };
}

describe('one reader at a time on a PhoneConnection', () => {
  it('a second send() while one is in flight is refused (ERR_INVALID_STATE) and the session and the first command are intact', async () => {
    const { car, connection, served } = await opened('two-sends');
    const [first, second] = await Promise.allSettled([connection.send('unlock'), connection.send('lock')]);
    expect(first).toMatchObject({ status: 'fulfilled', value: { status: 'ok' } });
    expect(second).toMatchObject({ status: 'rejected', reason: { code: 'ERR_INVALID_STATE', message: /send\(\) while send\(\) is in flight/ } });
    expect(connection.isOpen).toBe(true);
    expect((await connection.send('lock')).status).toBe('ok');
    await connection.close();
    await served;
    expect(car.executed.map((e) => e.command.kind)).toEqual(['lock', 'unlock', 'lock']);
  });

  it('awaitClose() while a send is in flight is refused, and the send gets its RESULT (not a timeout saying it did not run)', async () => {
    const { connection, served } = await opened('close-during-send');
    const sending = connection.send('unlock');
    await expect(connection.awaitClose({ timeoutMs: 1_000 })).rejects.toMatchObject({ code: 'ERR_INVALID_STATE' });
    expect((await sending).status).toBe('ok');
    await connection.close();
    await served;
  });
});

describe("the car's CLOSE just before it hangs up", () => {
  /** An idle connection whose key the car revokes: CLOSE(revoked), then the car hangs up; both have arrived. */
  async function revokedWhileIdle(seed: string) {
    const { connection, served, phoneLink, end } = await opened(seed);
    end('revoked'); // the car sends CLOSE(revoked) and closes the link
    await served;
    await phoneLink.closed; // both have arrived before the phone reads anything
    return connection;
  }

  it('an idle connection still reads it after the link closed: awaitClose returns the reason', async () => {
    const connection = await revokedWhileIdle('close-then-hangup');
    expect(await connection.awaitClose({ timeoutMs: 1_000 })).toBe('revoked');
  });

  it("close() reads it too: closeReason is the car's", async () => {
    const connection = await revokedWhileIdle('close-then-hangup-2');
    await connection.close();
    expect(connection.closeReason).toBe('revoked');
  });
});
