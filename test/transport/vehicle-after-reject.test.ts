/**
 * What the car's driver sends after input it rejects (PROTOCOL.md §6): in a session, ALERT
 * (`malformed`) and then an authenticated CLOSE(`malformed`); an ALERT from the phone is the
 * phone's own abort, answered with nothing.
 */
import { describe, expect, it } from 'vitest';
import { createMemoryLinkPair, decodeMessage, deterministicRandom, MessageType, PhoneSession, type Link } from '../../src/index.js';
import { crypto, makeCar, makeIdentity } from '../helpers/fixture.js';

/** Everything the car sends until it closes the link. */
async function rest(link: Link): Promise<Uint8Array[]> {
  const got: Uint8Array[] = [];
  for (;;) {
    try {
      got.push(await link.receive({ timeoutMs: 3_000 }));
    } catch {
      return got;
    }
  }
}

async function connected(seed: string) {
  const car = await makeCar(`after-reject-car-${seed}`);
  const identity = await makeIdentity(`after-reject-phone-${seed}`);
  await car.keys.enroll(identity.publicKey, { role: 'owner' });
  const [phoneLink, carLink] = createMemoryLinkPair();
  const served = car.serve(carLink);
  const phone = new PhoneSession({ crypto, random: deterministicRandom(seed), now: () => performance.now(), identity, vehicleKey: car.identity.publicKey });
  phone.begin('unlock');
  const challenge = await phoneLink.receive({ timeoutMs: 3_000 });
  return { car, phone, phoneLink, served, challenge };
}

describe('the car after input it rejects', () => {
  it('a RECORD that does not authenticate, in a session: ALERT(malformed), then an authenticated CLOSE(malformed), then the link closes', async () => {
    const { phone, phoneLink, served, challenge } = await connected('record');
    await phoneLink.send((await phone.receive(challenge)).send[0]!);
    const unlocked = await phone.receive(await phoneLink.receive({ timeoutMs: 5_000 }));
    expect(unlocked.events).toContainEqual(expect.objectContaining({ type: 'result', status: 'ok' }));
    const forged = new Uint8Array(30).fill(7);
    forged[0] = MessageType.Record;
    await phoneLink.send(forged);
    const [alert, close, ...more] = await rest(phoneLink);
    expect(decodeMessage(alert!)).toEqual({ type: MessageType.Alert, reason: 'malformed' });
    expect((await phone.receive(close!)).events).toContainEqual({ type: 'closed', reason: 'malformed' });
    expect(more).toEqual([]);
    await expect(served).resolves.toMatchObject({ end: 'rejected-input', executed: 1 });
  });

  it('an ALERT from the phone before its HANDSHAKE: the car sends nothing back and closes', async () => {
    const { phoneLink, served } = await connected('alert');
    await phoneLink.send(new Uint8Array([MessageType.Alert, 0x01]));
    expect(await rest(phoneLink)).toEqual([]);
    await expect(served).resolves.toMatchObject({ executed: 0 });
  });
});
