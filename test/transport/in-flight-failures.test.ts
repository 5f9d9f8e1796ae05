/**
 * Failures while a command waits for its RESULT say the car may have executed it; the car never
 * sends a record after one that did not leave; the memos copy Buffers for real.
 */
import { describe, expect, it } from 'vitest';
import {
  createMemoryLinkPair,
  encodeMessage,
  isP256PublicKey,
  keyIdOf,
  MessageType,
  nobleCrypto,
  openPhoneSession,
  type SendOptions,
} from '../../src/index.js';
import { makeCar, makeIdentity, phoneOptions } from '../helpers/fixture.js';
import { wrapLink } from '../helpers/link-wrap.js';

/** Phone ↔ car through a relay that may replace the car's n-th message. */
function relay(replaceFromCar: (m: Uint8Array, index: number) => Uint8Array) {
  const [phoneLink, phoneSide] = createMemoryLinkPair();
  const [carSide, carLink] = createMemoryLinkPair();
  void (async () => {
    for (let i = 0; ; i++) {
      const m = await carSide.receive().catch(() => undefined);
      if (!m) return phoneSide.close('car gone');
      await phoneSide.send(replaceFromCar(m, i)).catch(() => undefined);
    }
  })();
  void (async () => {
    for (;;) {
      const m = await phoneSide.receive().catch(() => undefined);
      if (!m) return carSide.close('phone gone');
      await carSide.send(m).catch(() => undefined);
    }
  })();
  return { phoneLink, carLink };
}

describe('a failure while the RESULT is awaited may have succeeded', () => {
  for (const [what, replace, code] of [
    ['an ALERT in place of the RESULT', () => encodeMessage({ type: MessageType.Alert, reason: 'busy' }), 'ERR_ALERT'],
    [
      'a RESULT with a flipped bit',
      (m: Uint8Array) => {
        const c = m.slice();
        c[c.length - 1]! ^= 1;
        return c;
      },
      'ERR_DECRYPT',
    ],
  ] as const) {
    it(`${what}: ${code}, mayHaveSucceeded (and the car did run it)`, async () => {
      const car = await makeCar('in-flight');
      const phone = await makeIdentity('in-flight-phone');
      await car.keys.enroll(phone.publicKey);
      const { phoneLink, carLink } = relay((m, i) => (i === 1 ? replace(m) : m));
      void car.serve(carLink);
      const failure = await openPhoneSession(phoneLink, phoneOptions(phone, car.identity.publicKey), 'unlock').then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(failure).toMatchObject({ code, mayHaveSucceeded: true });
      expect(car.executed.map((e) => e.command.kind)).toEqual(['unlock']);
    });
  }
});

describe('the car sends nothing after a record that did not leave', () => {
  it('a RESULT whose send fails is not followed by a CLOSE sealed with the next nonce', async () => {
    const car = await makeCar('send-fails');
    const phone = await makeIdentity('send-fails-phone');
    await car.keys.enroll(phone.publicKey);
    const [phoneLink, inner] = createMemoryLinkPair();
    const attempts: number[] = [];
    let sends = 0;
    const carLink = wrapLink(inner, {
      send: (m: Uint8Array, o?: SendOptions) => {
        const n = sends++;
        attempts.push(m.length);
        return n === 1 ? Promise.reject(new Error('radio stalled')) : inner.send(m, o);
      },
    });
    const served = car.serve(carLink);
    await openPhoneSession(phoneLink, { ...phoneOptions(phone, car.identity.publicKey), timeoutMs: 300 }, 'unlock').catch(() => undefined);
    await served;
    expect(attempts).toHaveLength(2); // CHALLENGE, then the RESULT that failed: no CLOSE after it
  });
});

describe('memos copy Buffers for real', () => {
  it('a Buffer key changed after validation is validated again; its id follows its bytes', async () => {
    const key = Buffer.from((await makeIdentity('buffer')).publicKey);
    expect(isP256PublicKey(key)).toBe(true);
    const id = keyIdOf(nobleCrypto, key);
    key[40]! ^= 1;
    expect(isP256PublicKey(key)).toBe(isP256PublicKey(Uint8Array.from(key)));
    expect(isP256PublicKey(key)).toBe(false);
    expect(keyIdOf(nobleCrypto, key)).not.toBe(id);
  });
});

describe('the last check before acting', () => {
  it('an abort that arrives during the (slow) key re-check still means nothing is driven', async () => {
    const car = await makeCar('recheck');
    const phone = await makeIdentity('recheck-phone');
    await car.keys.enroll(phone.publicKey, { role: 'owner' });
    const findKey = car.keys.findKey.bind(car.keys);
    let lookups = 0;
    car.keys.findKey = async (publicKey: Uint8Array) => {
      if (++lookups >= 2) await new Promise((r) => setTimeout(r, 500)); // the re-check: a slow directory
      return findKey(publicKey);
    };
    const [phoneLink, carLink] = createMemoryLinkPair();
    const shutdown = new AbortController();
    const served = car.serve(carLink, { signal: shutdown.signal });
    const opened = openPhoneSession(phoneLink, phoneOptions(phone, car.identity.publicKey), 'unlock').catch((e: unknown) => e);
    await new Promise((r) => setTimeout(r, 250)); // the handshake is done, the re-check runs
    expect(lookups).toBe(2);
    shutdown.abort('shutdown');
    expect(await opened).toMatchObject({ name: 'LinkClosedError' });
    expect(await served).toMatchObject({ executed: 0 });
    expect(car.executed).toEqual([]);
  });
});
