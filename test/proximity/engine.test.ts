/**
 * The proximity engine piece by piece: path loss, calibration, the RSSI filter, zones with
 * hysteresis and dwell, passive-entry decisions, staleness, link loss, per-car / per-key switches.
 */
import { describe, expect, it } from 'vitest';
import type { VehicleHooks } from '../../src/index.js';
import {
  calibratePathLoss,
  calibrateTxPower,
  candidateZone,
  DEFAULT_PATH_LOSS,
  DEFAULT_ZONES,
  distanceToRssi,
  mad,
  median,
  ProximityEngine,
  rssiToDistance,
  RssiFilter,
  ZoneTracker,
  type ProximityEngineOptions,
  type ProximityEvent,
} from '../../src/proximity/index.js';

const rssiAt = (m: number) => distanceToRssi(m);

/** An engine on a manual clock, and a helper to feed it a constant RSSI for a while. */
function rig(options: Partial<ProximityEngineOptions> = {}) {
  let now = 0;
  const engine = new ProximityEngine({ now: () => now, approachUnlock: true, ...options });
  const events: ProximityEvent[] = [];
  return {
    engine,
    events,
    get now() {
      return now;
    },
    set now(t: number) {
      now = t;
    },
    /** Samples every `step` ms over [now, now + ms), at `rssi`. */
    hold(keyId: string, rssi: number, ms: number, step = 250) {
      const end = now + ms;
      for (; now < end; now += step) events.push(...engine.sample(keyId, rssi, now));
      return events;
    },
    decisions: () => events.filter((e) => e.type !== 'zone').map((e) => `${e.type}@${e.at}`),
    zones: () => events.flatMap((e) => (e.type === 'zone' ? [`${e.to}`] : [])),
  };
}

describe('path loss', () => {
  it('maps P1m to 1 m and −6 dB to 2 m at n = 2', () => {
    expect(rssiToDistance(-59)).toBeCloseTo(1, 10);
    expect(rssiToDistance(-59 - 20 * Math.log10(2))).toBeCloseTo(2, 10);
    expect(rssiToDistance(-79, { txPowerAt1m: -59, pathLossExponent: 2 })).toBeCloseTo(10, 10);
    expect(rssiToDistance(-79, { txPowerAt1m: -59, pathLossExponent: 4 })).toBeCloseTo(Math.sqrt(10), 10);
  });
  it('round-trips with distanceToRssi and clamps nonsense', () => {
    for (const d of [0.3, 1, 2.5, 7, 40]) expect(rssiToDistance(distanceToRssi(d))).toBeCloseTo(d, 9);
    expect(rssiToDistance(20)).toBe(0.1);
    expect(rssiToDistance(-200)).toBe(1000);
    expect(() => distanceToRssi(0)).toThrow(/distanceM/);
  });
});

describe('robust statistics and calibration', () => {
  it('median and MAD ignore a minority of outliers', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(Number.isNaN(median([]))).toBe(true);
    expect(median([-60, -61, -59, -60, -20, -100, -60])).toBe(-60);
    expect(mad([-60, -60, -60, -60, 0])).toBe(0);
  });

  it('P1m is the median of the 1 m samples, unmoved by fades and spikes', () => {
    const samples = [-61, -63, -62, -60, -62, -85, -61, -62, -40, -63, -62, -90, -61, -62];
    const c = calibrateTxPower(samples);
    expect(c.txPowerAt1m).toBe(-62);
    expect(c.count).toBe(14);
    expect(c.noisy).toBe(false);
  });

  it('flags a noisy recording, ignores invalid readings, and refuses too few samples', () => {
    const noisy = Array.from({ length: 20 }, (_, i) => -60 + (i % 2 ? 12 : -12));
    expect(calibrateTxPower(noisy).noisy).toBe(true);
    expect(calibrateTxPower([...Array(10).fill(-58), 127, Number.NaN]).count).toBe(10);
    expect(() => calibrateTxPower([-60, -61, -59])).toThrow(/at least 10/);
  });

  it('fits the exponent from a second distance, clamped to a physical range', () => {
    const at1 = Array(12).fill(-60);
    const m = calibratePathLoss(at1, { distanceM: 5, samples: Array(12).fill(-60 - 25 * Math.log10(5)) });
    expect(m.txPowerAt1m).toBe(-60);
    expect(m.pathLossExponent).toBeCloseTo(2.5, 5);
    expect(calibratePathLoss(at1, { distanceM: 5, samples: Array(12).fill(-60) }).pathLossExponent).toBe(1.5);
    expect(calibratePathLoss(at1).pathLossExponent).toBe(DEFAULT_PATH_LOSS.pathLossExponent);
    expect(() => calibratePathLoss(at1, { distanceM: 1.5, samples: at1 })).toThrow(/2 m/);
  });
});

describe('RSSI filter (sliding median + EMA)', () => {
  it('warms up before giving a value', () => {
    const f = new RssiFilter();
    expect(f.add(-60, 0)).toBeUndefined();
    expect(f.add(-60, 250)).toBeUndefined();
    expect(f.add(-60, 500)).toBe(-60);
  });

  it('ignores a spike shorter than half the median window entirely', () => {
    const f = new RssiFilter();
    let t = 0;
    for (; t < 3_000; t += 250) f.add(-80, t);
    const before = f.value;
    f.add(-45, t);
    f.add(-44, (t += 250));
    expect(f.value).toBe(before);
    for (let i = 0; i < 4; i++) f.add(-80, (t += 250));
    expect(f.value).toBe(-80);
  });

  it('follows a real change at a rate set by the time constant, whatever the sampling rate', () => {
    const settle = (step: number) => {
      const f = new RssiFilter({ medianWindowMs: 0, timeConstantMs: 1_000, minSamples: 1 });
      f.add(-80, 0);
      for (let t = step; t <= 1_000; t += step) f.add(-60, t);
      return f.value!;
    };
    // after one time constant: 1 − 1/e of the step, at 10 Hz and at 2 Hz alike
    expect(settle(100)).toBeCloseTo(-80 + 20 * (1 - Math.exp(-1)), 6);
    expect(settle(500)).toBeCloseTo(-80 + 20 * (1 - Math.exp(-1)), 6);
  });

  it('ignores invalid readings and samples from the past; reset forgets', () => {
    const f = new RssiFilter({ minSamples: 1 });
    f.add(-70, 1_000);
    expect(f.add(127, 1_100)).toBe(-70); // HCI "not available"
    expect(f.add(Number.NaN, 1_200)).toBe(-70);
    expect(f.add(-20, 900)).toBe(-70); // older than the last sample
    f.reset();
    expect(f.value).toBeUndefined();
    expect(f.add(-50, 0)).toBe(-50);
  });

  it('rejects bad options', () => {
    expect(() => new RssiFilter({ minSamples: 0 })).toThrow(/minSamples/);
    expect(() => new RssiFilter({ timeConstantMs: -1 })).toThrow(/timeConstantMs/);
  });
});

describe('zones: hysteresis and dwell', () => {
  const o = DEFAULT_ZONES;
  it('uses enter thresholds to come closer and exit thresholds to leave', () => {
    expect(candidateZone('far', 2.5, o)).toBe('approach'); // 2.5 m: not yet near from afar
    expect(candidateZone('near', 2.5, o)).toBe('near'); // ... but still near once near
    expect(candidateZone('near', 3.1, o)).toBe('approach');
    expect(candidateZone('far', 6, o)).toBe('far');
    expect(candidateZone('approach', 6, o)).toBe('approach');
    expect(candidateZone('near', 8.5, o)).toBe('far');
    expect(candidateZone('unknown', 1, o)).toBe('near');
  });

  it('adopts a zone only after it has been the candidate for the dwell time', () => {
    const z = new ZoneTracker();
    expect(z.update(1, 0)).toBeUndefined();
    expect(z.update(1, 400)).toBeUndefined();
    expect(z.update(1, 500)).toEqual({ from: 'unknown', to: 'near', at: 500 });
    // leaving takes the (longer) exit dwell; one sample back inside restarts it
    expect(z.update(4, 1_000)).toBeUndefined();
    expect(z.update(4, 2_900)).toBeUndefined();
    expect(z.update(2.9, 2_950)).toBeUndefined(); // within nearExitM: back to near, wait restarts
    expect(z.update(4, 3_000)).toBeUndefined();
    expect(z.update(4, 4_999)).toBeUndefined();
    expect(z.update(4, 5_000)).toEqual({ from: 'near', to: 'approach', at: 5_000 });
    expect(z.reset(6_000)).toEqual({ from: 'approach', to: 'unknown', at: 6_000 });
    expect(z.reset(6_001)).toBeUndefined();
  });

  it('validates thresholds', () => {
    expect(() => new ZoneTracker({ nearEnterM: 3, nearExitM: 2 })).toThrow(/nearEnterM/);
    expect(() => new ZoneTracker({ nearEnterM: 6 })).toThrow();
  });
});

describe('proximity engine: passive entry', () => {
  it('is unknown for a key it never heard and becomes near on strong samples (verdict backs VehicleHooks.proximity)', () => {
    const r = rig();
    const hooks: VehicleHooks = { proximity: r.engine.hook };
    expect(hooks.proximity!('k')).toEqual({ zone: 'unknown' });
    r.hold('k', rssiAt(0.8), 2_000);
    const v = r.engine.verdict('k');
    expect(v.zone).toBe('near');
    expect(v.distanceM).toBeCloseTo(0.8, 1);
    expect(r.decisions()).toEqual(['approach-unlock@1000']); // 3 samples to warm up (500 ms) + enter dwell (500 ms)
  });

  it('approach-unlock once on arrival; walk-away-lock once when it is far for the grace period', () => {
    const r = rig();
    r.hold('k', rssiAt(20), 3_000);
    r.hold('k', rssiAt(4), 3_000);
    r.hold('k', rssiAt(1), 3_000);
    r.hold('k', rssiAt(2.5), 5_000); // moving around the car: stays near (hysteresis)
    r.hold('k', rssiAt(20), 8_000); // a step: straight from near to far (no dwell in approach needed)
    expect(r.zones()).toEqual(['far', 'approach', 'near', 'far']);
    expect(r.decisions()).toHaveLength(2);
    const [unlock, lock] = r.events.filter((e) => e.type !== 'zone');
    expect(unlock).toMatchObject({ type: 'approach-unlock', cause: 'near' });
    const far = r.events.find((e) => e.type === 'zone' && e.to === 'far' && e.at > 10_000)!;
    expect(lock).toMatchObject({ type: 'walk-away-lock', cause: 'far', at: far.at + 1_000 });
  });

  it('coming back before the grace period ends cancels the lock', () => {
    const r = rig({ lockGraceMs: 5_000 });
    r.hold('k', rssiAt(1), 2_000);
    r.hold('k', rssiAt(20), 4_000);
    expect(r.engine.state('k')).toMatchObject({ zone: 'far', present: true });
    expect(r.engine.state('k')!.lockDueAt).toBeGreaterThan(r.now);
    r.hold('k', rssiAt(1), 20_000);
    expect(r.decisions()).toHaveLength(1);
    expect(r.engine.state('k')).toMatchObject({ zone: 'near', present: true, lockDueAt: undefined });
  });

  it('link lost: zone unknown at once, walk-away-lock after linkLossGraceMs unless it is back', () => {
    const r = rig();
    r.hold('k', rssiAt(1), 2_000);
    const lost = r.engine.linkLost('k', 2_000);
    expect(lost).toEqual([{ type: 'zone', keyId: 'k', from: 'near', to: 'unknown', at: 2_000, distanceM: undefined, cause: 'link-lost' }]);
    expect(r.engine.verdict('k')).toEqual({ zone: 'unknown' });
    expect(r.engine.nextDeadline()).toBe(12_000);
    expect(r.engine.tick(11_999)).toEqual([]);
    expect(r.engine.tick(12_500)).toEqual([{ type: 'walk-away-lock', keyId: 'k', at: 12_000, cause: 'link-lost', distanceM: undefined }]);
    expect(r.engine.nextDeadline()).toBeUndefined();
  });

  it('samples that stop count as a lost signal after staleAfterMs (no linkLost call needed)', () => {
    const r = rig();
    r.hold('k', rssiAt(1), 2_000); // last sample at 1 750
    r.now = 5_000;
    expect(r.engine.verdict('k').zone).toBe('near');
    r.now = 5_750;
    expect(r.engine.verdict('k')).toEqual({ zone: 'unknown' }); // verdict already knows
    const out = r.engine.tick(20_000);
    expect(out.map((e) => [e.type, e.at, e.type === 'zone' ? e.cause : e.cause])).toEqual([
      ['zone', 5_750, 'stale'],
      ['walk-away-lock', 15_750, 'stale'],
    ]);
  });

  it('the engine is usable from a cold start after a loss (filter restarts, no stale averages)', () => {
    const r = rig();
    r.hold('k', rssiAt(1), 2_000);
    r.engine.linkLost('k', r.now);
    r.now += 1_000;
    r.hold('k', rssiAt(30), 3_000);
    expect(r.engine.state('k')!.zone).toBe('far');
    expect(r.engine.state('k')!.distanceM).toBeGreaterThan(20);
  });

  it('approach-unlock is off unless the car turns it on; each key can opt out of either decision', () => {
    const walk = (r: ReturnType<typeof rig>, key: string) => {
      r.hold(key, rssiAt(1), 2_000);
      r.hold(key, rssiAt(30), 6_000);
    };
    const off = rig({ approachUnlock: undefined }); // left at the engine's default (off)
    walk(off, 'k');
    expect(off.decisions()).toEqual([expect.stringMatching(/^walk-away-lock@/)]);

    const r = rig();
    r.engine.configureKey('no-unlock', { approachUnlock: false });
    r.engine.configureKey('no-lock', { walkAwayLock: false });
    walk(r, 'no-unlock');
    walk(r, 'no-lock');
    walk(r, 'both');
    const by = (k: string) => r.events.filter((e) => e.type !== 'zone' && e.keyId === k).map((e) => e.type);
    expect(by('no-unlock')).toEqual(['walk-away-lock']);
    expect(by('no-lock')).toEqual(['approach-unlock']);
    expect(by('both')).toEqual(['approach-unlock', 'walk-away-lock']);

    const noLock = rig({ walkAwayLock: false });
    walk(noLock, 'k');
    expect(noLock.decisions()).toEqual([expect.stringMatching(/^approach-unlock@/)]);
  });

  it('per-key calibration changes the distance estimate', () => {
    const r = rig();
    r.engine.configureKey('quiet-phone', { pathLoss: { txPowerAt1m: -70, pathLossExponent: 2 } });
    r.hold('loud-phone', -70, 2_000);
    r.now = 0;
    r.hold('quiet-phone', -70, 2_000);
    expect(r.engine.verdict('loud-phone').distanceM).toBeCloseTo(10 ** (11 / 20), 5);
    expect(r.engine.verdict('quiet-phone').distanceM).toBeCloseTo(1, 5);
    expect(() => r.engine.configureKey('x', { pathLoss: { txPowerAt1m: -60, pathLossExponent: 0 } })).toThrow(/pathLossExponent/);
  });

  it('keeps keys independent, ignores calls from the past, and forgets on request', () => {
    const r = rig();
    r.hold('a', rssiAt(1), 2_000);
    r.now = 0;
    r.hold('b', rssiAt(30), 2_000);
    expect(r.engine.verdict('a').zone).toBe('near');
    expect(r.engine.verdict('b').zone).toBe('far');
    expect(r.engine.sample('a', rssiAt(30), 100)).toEqual([]);
    expect(r.engine.linkLost('a', 100)).toEqual([]);
    expect(r.engine.linkLost('never-seen', 100)).toEqual([]);
    r.engine.forget('a');
    expect(r.engine.state('a')).toBeUndefined();
    expect(r.engine.verdict('a')).toEqual({ zone: 'unknown' });
  });

  it('validates its options', () => {
    expect(() => new ProximityEngine({} as ProximityEngineOptions)).toThrow(/now/);
    expect(() => new ProximityEngine({ now: () => 0, staleAfterMs: 0 })).toThrow(/staleAfterMs/);
    expect(() => new ProximityEngine({ now: () => 0, lockGraceMs: -1 })).toThrow(/lockGraceMs/);
    expect(() => new ProximityEngine({ now: () => 0, zones: { approachEnterM: 9, approachExitM: 8 } })).toThrow(/approach/);
  });
});
