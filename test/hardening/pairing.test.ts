/**
 * Owner pairing is single-use in fact: the car re-checks, atomically with the enrollment, that
 * pairing mode is still open and unused when a PAIR_CONFIRM arrives.
 */
import { describe, expect, it } from 'vitest';
import { encodeMessage, LinkClosedError, MessageType, type Link } from '../../src/index.js';
import { wrapLink } from '../helpers/link-wrap.js';
import { FAST_SCRYPT, pairOwner, world, type World, FailingSaveStore } from './world.js';

/** Wrap a phone's link so its PAIR_CONFIRM waits until `gate` opens. */
function holdConfirm(link: Link, gate: Promise<void>, reached: () => void): Link {
  return wrapLink(link, {
    send: async (m, o) => {
      if (m[0] === MessageType.PairConfirm) {
        reached();
        await gate;
      }
      return link.send(m, o);
    },
  });
}

/** Two phones run the same code up to PAIR_CONFIRM, then `release()` lets both confirm. */
async function racingPairs(w: World, code: string) {
  let open!: () => void;
  const gate = new Promise<void>((r) => (open = r));
  let atConfirm = 0;
  let bothThere!: () => void;
  const both = new Promise<void>((r) => (bothThere = r));
  const reached = () => {
    if (++atConfirm === 2) bothThere();
  };
  const runs = ['alice', 'bob'].map(async (name) => {
    const phone = await w.phone(name);
    const { link, served } = w.connect();
    const result = await phone.pair(holdConfirm(link, gate, reached), code).then(
      () => 'paired' as const,
      (e: unknown) => e,
    );
    return { phone, result, summary: await served };
  });
  await both;
  return { release: open, runs: Promise.all(runs) };
}

describe('pairing is single-use', () => {
  it('two phones holding PAIR_RESPONSE for the same code: exactly one becomes owner, the other gets pairing-closed', async () => {
    const w = await world();
    const { code } = await w.car.openPairing({ scrypt: FAST_SCRYPT });
    const race = await racingPairs(w, code);
    race.release();
    const [a, b] = await race.runs;
    const results = [a!.result, b!.result];
    expect(results.filter((r) => r === 'paired')).toHaveLength(1);
    expect(results.find((r) => r !== 'paired')).toMatchObject({ code: 'ERR_PAIRING_FAILED', message: /not in pairing mode|ended/ });
    expect(w.car.registry.state.keys).toHaveLength(1);
    expect(w.car.pairingStatus).toBe('paired');
  });

  it('a confirm that arrives after the window ended enrolls nothing', async () => {
    const w = await world();
    const { code } = await w.car.openPairing({ scrypt: FAST_SCRYPT, ttlMs: 60_000 });
    const race = await racingPairs(w, code);
    w.clock.t += 61_000; // both phones are past PAIR_RESPONSE, the window ends
    race.release();
    const runs = await race.runs;
    for (const r of runs) expect(r.result).toMatchObject({ code: 'ERR_PAIRING_FAILED' });
    expect(w.car.registry.state.keys).toHaveLength(0);
  });

  it('a confirm after a cancel enrolls nothing', async () => {
    const w = await world();
    const { code } = await w.car.openPairing({ scrypt: FAST_SCRYPT });
    const race = await racingPairs(w, code);
    w.car.cancelPairing();
    race.release();
    for (const r of await race.runs) expect(r.result).toMatchObject({ code: 'ERR_PAIRING_FAILED' });
    expect(w.car.registry.state.keys).toHaveLength(0);
  });
});

describe('pairing never crashes the car', () => {
  it('a revoked key that knows the code is refused (revoked) and serve() resolves', async () => {
    const w = await world();
    const owner = await pairOwner(w);
    const second = await pairOwner(w, 'second');
    await w.car.revoke(second.keyId);
    const { code } = await w.car.openPairing({ scrypt: FAST_SCRYPT });
    const { link, served } = w.connect();
    await expect(second.pair(link, code)).rejects.toMatchObject({ reason: 'revoked' });
    await expect(served).resolves.toMatchObject({ end: 'rejected-input' });
    expect(w.car.registry.state.keys.find((k) => k.id === second.keyId)?.revoked).toBe(true);
    // Pairing mode stays open for the real new owner, and the car serves on.
    expect(w.car.pairingStatus).toBe('active');
    const next = w.connect();
    expect((await owner.command(next.link, 'unlock')).status).toBe('ok');
  });

  it('a store that fails to save the owner: the phone is refused (internal-error), nothing enrolled, the car serves on', async () => {
    const store = new FailingSaveStore('ENOSPC');
    const errors: string[] = [];
    const w = await world({ store, car: { onError: (e) => errors.push(e.code) } });
    const { code } = await w.car.openPairing({ scrypt: FAST_SCRYPT });
    store.fail = true;
    const phone = await w.phone('alice');
    const { link, served } = w.connect();
    await expect(phone.pair(link, code)).rejects.toMatchObject({ reason: 'internal-error' });
    await expect(served).resolves.toMatchObject({ end: 'rejected-input' }); // pairing refused, not paired
    expect(w.car.registry.state.keys).toHaveLength(0);
    expect(errors).toContain('ERR_INTERNAL');
    // Once the disk works again the same code still pairs (the window is still open).
    store.fail = false;
    const again = w.connect();
    await phone.pair(again.link, code);
    expect(w.car.registry.state.keys).toHaveLength(1);
  });
});

describe('a pairing phone that loses the car after PAIR_CONFIRM', () => {
  /** A new phone pairs over the car's link as `wrap` rewrites it: it fails with `expected` and mayHaveSucceeded, and the car did enroll it. */
  async function failsAfterEnrolling(wrap: (link: Link) => Link, expected: { readonly code: string }) {
    const w = await world();
    const { code } = await w.car.openPairing({ scrypt: FAST_SCRYPT });
    const phone = await w.phone('alice');
    const { link, served } = w.connect();
    await expect(phone.pair(wrap(link), code)).rejects.toMatchObject({ ...expected, mayHaveSucceeded: true });
    await served;
    expect(w.car.registry.state.keys).toHaveLength(1);
  }

  it.each([
    [
      'a PAIR_DONE with one sealed byte flipped',
      'ERR_DECRYPT',
      (m: Uint8Array) => (m[0] === MessageType.PairDone ? Uint8Array.from(m, (b, i) => (i === m.length - 1 ? b ^ 1 : b)) : m),
    ],
    ['a garbage byte in place of PAIR_DONE', 'ERR_DECODE', (m: Uint8Array) => (m[0] === MessageType.PairDone ? Uint8Array.of(0xee) : m)],
  ] as const)('%s is reported with mayHaveSucceeded (%s); the car did enroll it', async (_what, code, mangle) => {
    await failsAfterEnrolling((link) => wrapLink(link, { receive: async (o) => mangle(await link.receive(o)) }), { code });
  });

  it('a PAIR_CONFIRM whose send fails after it was delivered is reported with mayHaveSucceeded', async () => {
    const lossy = (link: Link) =>
      wrapLink(link, {
        send: async (m, o) => {
          await link.send(m, o);
          if (m[0] === MessageType.PairConfirm) throw new LinkClosedError('write acknowledgement lost');
        },
      });
    await failsAfterEnrolling(lossy, { code: 'ERR_LINK_CLOSED' });
  });

  it('an ALERT in place of PAIR_DONE (unauthenticated: anyone on the path) is reported with mayHaveSucceeded; the car did enroll it', async () => {
    const forged = (link: Link) => {
      let confirmed = false;
      return wrapLink(link, {
        send: (m, o) => {
          if (m[0] === MessageType.PairConfirm) confirmed = true;
          return link.send(m, o);
        },
        receive: async (o) => {
          const m = await link.receive(o);
          return confirmed ? encodeMessage({ type: MessageType.Alert, reason: 'internal-error' }) : m;
        },
      });
    };
    await failsAfterEnrolling(forged, { code: 'ERR_ALERT' });
  });

  it('rejects with mayHaveSucceeded: the car may have enrolled it', async () => {
    const w = await world();
    const { code } = await w.car.openPairing({ scrypt: FAST_SCRYPT });
    const phone = await w.phone('cut-off');
    const { link, served } = w.connect();
    // the link drops right after PAIR_CONFIRM leaves the phone
    const cutAfterConfirm = wrapLink(link, {
      send: async (m, o) => {
        await link.send(m, o);
        if (m[0] === MessageType.PairConfirm) link.close('radio lost');
      },
    });
    const failure = await phone.pair(cutAfterConfirm, code).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(failure).toMatchObject({ code: 'ERR_LINK_CLOSED', mayHaveSucceeded: true });
    expect(['paired', 'link-closed']).toContain((await served).end); // the car enrolled it, or lost the link first
  });
});
