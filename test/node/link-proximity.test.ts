/**
 * The car daemon's proximity wiring (`linkProximity`): what it keeps per key (bounded: strangers
 * leave nothing, a key is forgotten once its links closed and no walk-away lock is pending, a cap
 * on tracked keys) and the handshake RTT an approach-unlock carries to the policy's relay bound.
 */
import { FAST_SCRYPT } from '../helpers/scrypt.js';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { linkProximity } from '../../src/node/index.js';
import {
  DEFAULT_PASSIVE_ENTRY,
  MemoryPhoneStore,
  MemoryVehicleStore,
  PhoneWallet,
  ProximityEngine,
  VehicleService,
  createMemoryLinkPair,
  type ProximityDecision,
} from '../../src/index.js';

afterEach(() => {
  vi.useRealTimers();
});

const keyIdOf = (i: number) => i.toString(16).padStart(16, '0');
const decision = (keyId: string, result: 'revoked' | 'expired', at: number) =>
  ({ type: 'decision', keyId, command: undefined, result, rttMs: 20, intent: false, proximity: undefined, ranging: undefined, at }) as const;

describe('linkProximity keeps bounded state', () => {
  it('strangers (authenticated, known: false) leave no engine state and no timer; an enrolled key still gets its decisions', () => {
    let t = 1_000;
    const engine = new ProximityEngine({ now: () => t, approachUnlock: true });
    const decisions: ProximityDecision[] = [];
    const proximity = linkProximity(engine, { now: () => t, onDecision: (d) => decisions.push(d) });
    for (let i = 0; i < 2_000; i++) {
      const link = {};
      for (let j = 0; j < 5; j++) proximity.onRssi(link, -45);
      proximity.onEvent({ type: 'authenticated', keyId: keyIdOf(i), known: false, rttMs: 10 }, link);
      for (let j = 0; j < 5; j++) proximity.onRssi(link, -45);
      proximity.onClose(link);
    }
    expect([0, 1, 1_999].map((i) => engine.state(keyIdOf(i)))).toEqual([undefined, undefined, undefined]);
    expect(engine.nextDeadline()).toBeUndefined();
    expect(proximity.trackedKeys).toBe(0);

    const owner = {};
    proximity.onEvent({ type: 'authenticated', keyId: 'owner', known: true, rttMs: 20 }, owner);
    for (let k = 0; k < 12; k++) {
      proximity.onRssi(owner, -45);
      t += 250;
    }
    expect(decisions.map((d) => [d.type, d.keyId, d.rttMs])).toEqual([['approach-unlock', 'owner', 20]]);
    proximity.stop();
  });

  it('a key is forgotten when its last link closes with no lock pending; with a walk-away lock pending, once it fell due', async () => {
    vi.useFakeTimers({ now: 1_000_000 });
    const engine = new ProximityEngine({ now: Date.now });
    const decisions: ProximityDecision[] = [];
    const proximity = linkProximity(engine, { now: Date.now, onDecision: (d) => decisions.push(d) });
    const [near, far, second] = [{}, {}, {}];
    proximity.onEvent({ type: 'authenticated', keyId: 'near', known: true, rttMs: 20 }, near);
    proximity.onEvent({ type: 'authenticated', keyId: 'far', known: true, rttMs: 20 }, far);
    proximity.onEvent({ type: 'authenticated', keyId: 'near', known: true, rttMs: 20 }, second);
    for (let k = 0; k < 16; k++) {
      await vi.advanceTimersByTimeAsync(250);
      proximity.onRssi(near, -45);
      proximity.onRssi(far, -95);
    }
    expect(engine.state('near')?.present).toBe(true);
    proximity.onClose(far); // never near: nothing pending, forgotten at once
    expect(engine.state('far')).toBeUndefined();
    proximity.onClose(near); // its other link is still open: kept
    expect(engine.state('near')).toBeDefined();
    proximity.onClose(second); // the last one: kept while its walk-away lock is pending
    expect(engine.state('near')?.lockDueAt).toBeDefined();
    expect(proximity.trackedKeys).toBe(1);
    await vi.advanceTimersByTimeAsync(DEFAULT_PASSIVE_ENTRY.linkLossGraceMs + 100);
    expect(decisions.map((d) => [d.type, d.keyId, d.cause])).toEqual([['walk-away-lock', 'near', 'link-lost']]);
    expect(engine.state('near')).toBeUndefined();
    expect(proximity.trackedKeys).toBe(0);
    expect(vi.getTimerCount()).toBe(0);
    proximity.stop();
  });

  it('at most maxKeys keys are tracked: a link of one more is not sampled', () => {
    let t = 1_000;
    const engine = new ProximityEngine({ now: () => t });
    const proximity = linkProximity(engine, { now: () => t, maxKeys: 3 });
    const links = [0, 1, 2, 3].map((i) => {
      const link = {};
      proximity.onEvent({ type: 'authenticated', keyId: keyIdOf(i), known: true, rttMs: 20 }, link);
      return link;
    });
    for (const link of links) {
      proximity.onRssi(link, -60);
      t += 250;
    }
    expect(links.map((_, i) => engine.state(keyIdOf(i)) !== undefined)).toEqual([true, true, true, false]);
    expect(proximity.trackedKeys).toBe(3);
    proximity.onClose(links[0]!);
    const again = {};
    proximity.onEvent({ type: 'authenticated', keyId: keyIdOf(3), known: true, rttMs: 20 }, again);
    proximity.onRssi(again, -60);
    expect(engine.state(keyIdOf(3))).toBeDefined();
    proximity.stop();
  });

  it('a session denied revoked drops its key: state forgotten, its link no longer sampled', () => {
    let t = 1_000;
    const engine = new ProximityEngine({ now: () => t });
    const proximity = linkProximity(engine, { now: () => t });
    const link = {};
    proximity.onEvent({ type: 'authenticated', keyId: 'gone', known: true, rttMs: 20 }, link);
    for (let k = 0; k < 8; k++) {
      proximity.onRssi(link, -45);
      t += 250;
    }
    expect(engine.state('gone')).toBeDefined();
    proximity.onEvent(decision('gone', 'revoked', t), link);
    proximity.onRssi(link, -45);
    expect(engine.state('gone')).toBeUndefined();
    expect(proximity.trackedKeys).toBe(0);
    proximity.stop();
  });
});

describe('linkProximity drops keys that are no longer active', () => {
  it('a session denied expired, or closed revoked (revoked while connected), drops its key', () => {
    let t = 1_000;
    const engine = new ProximityEngine({ now: () => t });
    const proximity = linkProximity(engine, { now: () => t });
    const [a, b] = [{}, {}];
    proximity.onEvent({ type: 'authenticated', keyId: 'a', known: true, rttMs: 20 }, a);
    proximity.onEvent({ type: 'authenticated', keyId: 'b', known: true, rttMs: 20 }, b);
    for (let k = 0; k < 8; k++) {
      proximity.onRssi(a, -45);
      proximity.onRssi(b, -45);
      t += 250;
    }
    proximity.onEvent(decision('a', 'expired', t), a);
    proximity.onEvent({ type: 'closed', reason: 'revoked' }, b);
    expect([engine.state('a'), engine.state('b'), proximity.trackedKeys]).toEqual([undefined, undefined, 0]);
    proximity.stop();
  });

  it('with isActiveKey, a link of an enrolled but inactive key (revoked, expired) is not sampled', () => {
    const t = 1_000;
    const engine = new ProximityEngine({ now: () => t });
    const proximity = linkProximity(engine, { now: () => t, isActiveKey: (id) => id !== 'revoked' });
    const [gone, ok] = [{}, {}];
    proximity.onEvent({ type: 'authenticated', keyId: 'revoked', known: true, rttMs: 20 }, gone);
    proximity.onEvent({ type: 'authenticated', keyId: 'active', known: true, rttMs: 20 }, ok);
    proximity.onRssi(gone, -45);
    proximity.onRssi(ok, -45);
    expect([engine.state('revoked'), engine.state('active') !== undefined]).toEqual([undefined, true]);
    proximity.stop();
  });
});

describe('approach-unlock and the relay bound', () => {
  /** The owner's phone connects over a link with `latencyMs` each way, its link loud (-45 dBm) from the start. */
  async function approach(latencyMs: number): Promise<{ results: string[]; actuated: string[] }> {
    let t = 1_000;
    const engine = new ProximityEngine({ now: () => t, approachUnlock: true });
    const decisions: Promise<string>[] = [];
    const actuated: string[] = [];
    let car!: VehicleService;
    const proximity = linkProximity(engine, { now: () => t, onDecision: (d) => decisions.push(car.passiveEntry(d)) });
    car = await VehicleService.open({
      store: new MemoryVehicleStore(),
      actuator: (cmd) => void actuated.push(cmd.kind),
      hooks: proximity.hooks,
      onEvent: (e, _keyId, link) => proximity.onEvent(e, link),
    });
    const owner = await PhoneWallet.open({ store: new MemoryPhoneStore(), label: 'o' });
    const { code } = await car.openPairing({ scrypt: FAST_SCRYPT });
    {
      const [p, c] = createMemoryLinkPair();
      const served = car.serve(c);
      await owner.pair(p, code, { timeoutMs: 5000 });
      await served;
    }
    const [p, c] = createMemoryLinkPair({ latencyMs });
    for (let k = 0; k < 12; k++) {
      proximity.onRssi(c, -45);
      t += 250;
    }
    const served = car.serve(c);
    await owner.command(p, 'lock', { timeoutMs: 5000 }).catch(() => undefined);
    await served;
    const results = await Promise.all(decisions);
    proximity.stop();
    return { results, actuated: actuated.filter((a) => a === 'unlock') };
  }

  it('a link whose handshake took a relay’s time (200 ms each way) cannot approach-unlock: relay-suspected, nothing driven', async () => {
    expect(await approach(200)).toEqual({ results: ['relay-suspected'], actuated: [] });
  });

  it('the same approach over a direct link unlocks', async () => {
    expect(await approach(0)).toEqual({ results: ['ok'], actuated: ['unlock'] });
  });
});

describe('linkProximity after stop() (the car shuts down)', () => {
  it('makes no decision, not even from the samples a link gathered before its session authenticated', () => {
    let t = 1_000;
    const engine = new ProximityEngine({ now: () => t, approachUnlock: true });
    const decisions: ProximityDecision[] = [];
    const proximity = linkProximity(engine, { now: () => t, onDecision: (d) => decisions.push(d) });
    const link = {};
    for (let i = 0; i < 16; i++) {
      t += 200;
      proximity.onRssi(link, -45); // loud: an approach, once bound to a key
    }
    proximity.stop();
    proximity.onEvent({ type: 'authenticated', known: true, keyId: keyIdOf(1), rttMs: 5 }, link); // a handshake that ends while the radio stops
    expect(decisions).toEqual([]);
    // the same link and samples before stop(): an approach-unlock (the test can fail)
    const live = linkProximity(new ProximityEngine({ now: () => t, approachUnlock: true }), { now: () => t, onDecision: (d) => decisions.push(d) });
    for (let i = 0; i < 16; i++) {
      t += 200;
      live.onRssi(link, -45);
    }
    live.onEvent({ type: 'authenticated', known: true, keyId: keyIdOf(1), rttMs: 5 }, link);
    expect(decisions.map((d) => d.type)).toEqual(['approach-unlock']);
    live.stop();
  });
});
