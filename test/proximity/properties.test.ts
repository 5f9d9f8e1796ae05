/**
 * Properties of the proximity engine for any input (fast-check): decisions alternate, zone
 * changes respect the dwell times, a lock only follows a real absence, the output does not depend
 * on how often `tick` is called, and the filter stays within what it was fed.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_PASSIVE_ENTRY,
  DEFAULT_ZONES,
  ProximityEngine,
  RssiFilter,
  ZONE_RANK,
  type ProximityEngineOptions,
  type ProximityEvent,
  type ZoneEvent,
} from '../../src/proximity/index.js';

type Op =
  | { readonly kind: 'sample'; readonly key: string; readonly gap: number; readonly rssi: number }
  | { readonly kind: 'lost'; readonly key: string; readonly gap: number }
  | { readonly kind: 'tick'; readonly gap: number };

const KEYS = ['a', 'b'];
/** Plausible and implausible readings: in range, out of range, the HCI "not available" 127. */
const rssi = fc.oneof({ weight: 20, arbitrary: fc.integer({ min: -105, max: -35 }) }, { weight: 1, arbitrary: fc.constantFrom(127, -128, Number.NaN) });
/** Mostly sampling-rate gaps, sometimes long silences. */
const gap = fc.oneof({ weight: 12, arbitrary: fc.integer({ min: 0, max: 600 }) }, { weight: 1, arbitrary: fc.integer({ min: 600, max: 15_000 }) });
/** Runs of similar readings (someone standing somewhere) make zone changes and decisions likely. */
const run = fc
  .record({
    key: fc.constantFrom(...KEYS),
    level: fc.integer({ min: -100, max: -40 }),
    spread: fc.integer({ min: 0, max: 12 }),
    n: fc.integer({ min: 1, max: 40 }),
  })
  .chain(({ key, level, spread, n }) =>
    fc.array(
      fc
        .record({ gap: fc.integer({ min: 100, max: 400 }), delta: fc.integer({ min: -spread, max: spread }) })
        .map(({ gap, delta }): Op => ({ kind: 'sample', key, gap, rssi: level + delta })),
      { minLength: n, maxLength: n },
    ),
  );
const single: fc.Arbitrary<Op> = fc.oneof(
  { weight: 10, arbitrary: fc.record({ kind: fc.constant('sample' as const), key: fc.constantFrom(...KEYS), gap, rssi }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('lost' as const), key: fc.constantFrom(...KEYS), gap }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('tick' as const), gap }) },
);
const ops = fc
  .array(
    fc.oneof(
      run,
      single.map((o) => [o]),
    ),
    { maxLength: 30 },
  )
  .map((chunks) => chunks.flat());

const options = fc.record({
  enterDwellMs: fc.integer({ min: 0, max: 2_000 }),
  exitDwellMs: fc.integer({ min: 0, max: 4_000 }),
  lockGraceMs: fc.integer({ min: 0, max: 5_000 }),
  linkLossGraceMs: fc.integer({ min: 0, max: 15_000 }),
  staleAfterMs: fc.integer({ min: 500, max: 8_000 }),
});
type Params = { enterDwellMs: number; exitDwellMs: number; lockGraceMs: number; linkLossGraceMs: number; staleAfterMs: number };

const engineOptions = (p: Params, now: () => number): ProximityEngineOptions => ({
  now,
  approachUnlock: true,
  zones: { ...DEFAULT_ZONES, enterDwellMs: p.enterDwellMs, exitDwellMs: p.exitDwellMs },
  lockGraceMs: p.lockGraceMs,
  linkLossGraceMs: p.linkLossGraceMs,
  staleAfterMs: p.staleAfterMs,
});

/** Run `ops` (absolute times from the gaps); `extraTicks(t0, t1)` may insert ticks in each gap. */
function execute(p: Params, list: readonly Op[], extraTicks?: (from: number, to: number) => number[]): { events: ProximityEvent[]; end: number } {
  let now = 0;
  const engine = new ProximityEngine(engineOptions(p, () => now));
  const events: ProximityEvent[] = [];
  for (const op of list) {
    const next = now + op.gap;
    for (const t of extraTicks?.(now, next) ?? []) events.push(...engine.tick(t));
    now = next;
    if (op.kind === 'sample') events.push(...engine.sample(op.key, op.rssi, now));
    else if (op.kind === 'lost') events.push(...engine.linkLost(op.key, now));
    else events.push(...engine.tick(now));
  }
  const end = now + 60_000; // long enough for every pending lock and staleness
  events.push(...engine.tick(end));
  return { events, end };
}

const byKey = (events: ProximityEvent[], key: string) => events.filter((e) => e.keyId === key);

describe('proximity engine properties', () => {
  it('decisions alternate per key, starting with an unlock: never two unlocks (or two locks) in a row', () => {
    fc.assert(
      fc.property(options, ops, (p, list) => {
        const { events } = execute(p, list);
        for (const key of KEYS) {
          const types = byKey(events, key).flatMap((e) => (e.type === 'zone' ? [] : [e.type]));
          types.forEach((t, i) => expect(t).toBe(i % 2 === 0 ? 'approach-unlock' : 'walk-away-lock'));
        }
      }),
      { numRuns: 300 },
    );
  });

  it('zone changes respect the dwell times: a change driven by the signal comes at least one dwell after the previous change', () => {
    fc.assert(
      fc.property(options, ops, (p, list) => {
        const { events } = execute(p, list);
        for (const key of KEYS) {
          const zones = byKey(events, key).filter((e): e is ZoneEvent => e.type === 'zone');
          for (let i = 1; i < zones.length; i++) {
            const z = zones[i]!;
            expect(z.from).toBe(zones[i - 1]!.to);
            if (z.cause !== 'signal') {
              expect(z.to).toBe('unknown'); // losses are immediate
              continue;
            }
            const dwell = z.from === 'unknown' || ZONE_RANK[z.to] > ZONE_RANK[z.from] ? p.enterDwellMs : p.exitDwellMs;
            expect(z.at - zones[i - 1]!.at).toBeGreaterThanOrEqual(dwell);
          }
        }
      }),
      { numRuns: 300 },
    );
  });

  it('an unlock happens exactly when the zone becomes near; a lock exactly one grace period after the key went far or silent, if it stayed away', () => {
    fc.assert(
      fc.property(options, ops, (p, list) => {
        const { events } = execute(p, list);
        for (const key of KEYS) {
          const mine = byKey(events, key);
          mine.forEach((e, i) => {
            if (e.type === 'approach-unlock') {
              const prev = mine[i - 1];
              expect(prev).toMatchObject({ type: 'zone', to: 'near', at: e.at });
            }
            if (e.type === 'walk-away-lock') {
              // the absence: the zone changes since the key was last near/approach, all to far/unknown
              const before = mine.slice(0, i).filter((x): x is ZoneEvent => x.type === 'zone');
              const back = before.map((z) => z.to === 'near' || z.to === 'approach').lastIndexOf(true);
              const absence = before.slice(back + 1);
              expect(absence.length).toBeGreaterThan(0);
              expect(absence.every((z) => z.to === 'far' || z.to === 'unknown')).toBe(true);
              // ... and the lock is exactly one grace period after the change that caused it
              const grace = e.cause === 'far' ? p.lockGraceMs : p.linkLossGraceMs;
              const cause = absence.find((z) => z.at === e.at - grace && (e.cause === 'far' ? z.to === 'far' : z.to === 'unknown' && z.cause === e.cause));
              expect(cause, `lock at ${e.at} (${e.cause})`).toBeDefined();
            }
          });
        }
      }),
      { numRuns: 300 },
    );
  });

  it('the output does not depend on when or how often tick() is called', () => {
    fc.assert(
      fc.property(options, ops, fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 5 }), (p, list, fractions) => {
        const plain = execute(p, list).events;
        const ticked = execute(p, list, (from, to) => [...new Set(fractions.map((f) => Math.floor(from + f * (to - from))))].sort((a, b) => a - b)).events;
        for (const key of KEYS) expect(byKey(ticked, key)).toEqual(byKey(plain, key));
      }),
      { numRuns: 300 },
    );
  });

  it('the filter output stays within the range of the valid samples since its last reset', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.integer({ min: 0, max: 800 }), rssi), { minLength: 1, maxLength: 60 }), (samples) => {
        const f = new RssiFilter();
        let t = 0;
        let lo = Infinity;
        let hi = -Infinity;
        for (const [dt, r] of samples) {
          t += dt;
          const v = f.add(r, t);
          if (Number.isFinite(r) && r >= -127 && r <= 20) {
            lo = Math.min(lo, r);
            hi = Math.max(hi, r);
          }
          if (v !== undefined) {
            expect(v).toBeGreaterThanOrEqual(lo - 1e-9);
            expect(v).toBeLessThanOrEqual(hi + 1e-9);
          }
        }
      }),
    );
  });

  it('defaults documented in docs/PROXIMITY.md', () => {
    expect(DEFAULT_ZONES).toEqual({ nearEnterM: 2, nearExitM: 3, approachEnterM: 5, approachExitM: 8, enterDwellMs: 500, exitDwellMs: 2_000 });
    expect(DEFAULT_PASSIVE_ENTRY).toEqual({ lockGraceMs: 1_000, linkLossGraceMs: 10_000 });
  });
});
