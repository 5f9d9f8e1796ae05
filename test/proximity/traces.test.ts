/**
 * Simulated RSSI traces (test/proximity/traces/*.json, written by scripts/gen-rssi-traces.ts)
 * replayed through the proximity engine with default parameters and approach-unlock on: the
 * expected decisions, inside their time windows, and no flapping. Then the same scenarios with
 * many other noise seeds, for robustness.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { formatTrace, generateTraces, SCENARIO_NAMES, simulateScenario, TRACES_DIR, type RssiTrace } from '../../scripts/gen-rssi-traces.js';
import { ProximityEngine, type ProximityDecision, type ProximityEvent, type ZoneEvent } from '../../src/proximity/index.js';

const KEY = 'phone';
const load = (name: string): RssiTrace => JSON.parse(readFileSync(new URL(`${name}.json`, TRACES_DIR), 'utf8')) as RssiTrace;

/** Replay a trace; `tickEveryMs` also ticks the engine on that period, as a car's timer would. */
function replay(trace: RssiTrace, tickEveryMs?: number): ProximityEvent[] {
  let now = 0;
  const engine = new ProximityEngine({ now: () => now, approachUnlock: true });
  const out: ProximityEvent[] = [];
  let nextTick = tickEveryMs ?? Infinity;
  for (const ev of trace.events) {
    for (; nextTick < ev.t; nextTick += tickEveryMs!) out.push(...engine.tick((now = nextTick)));
    now = ev.t;
    out.push(...('rssi' in ev ? engine.sample(KEY, ev.rssi, ev.t) : engine.linkLost(KEY, ev.t)));
  }
  out.push(...engine.tick((now = trace.durationMs)));
  return out;
}

const decisionsOf = (events: ProximityEvent[]) => events.filter((e): e is ProximityDecision => e.type !== 'zone');
const zonesOf = (events: ProximityEvent[]) => events.filter((e): e is ZoneEvent => e.type === 'zone');

function meetsExpectation(trace: RssiTrace, events: ProximityEvent[]): boolean {
  const got = decisionsOf(events);
  const want = trace.expect.decisions;
  return got.length === want.length && got.every((d, i) => d.type === want[i]!.type && d.at >= want[i]!.notBeforeMs && d.at <= want[i]!.notAfterMs);
}

describe('RSSI traces (data)', () => {
  it('the committed traces are exactly what scripts/gen-rssi-traces.ts produces', () => {
    const generated = generateTraces();
    const files = readdirSync(TRACES_DIR)
      .filter((f) => f.endsWith('.json'))
      .sort();
    expect(files).toEqual(generated.map((t) => `${t.name}.json`).sort());
    for (const t of generated) expect(readFileSync(new URL(`${t.name}.json`, TRACES_DIR), 'utf8'), t.name).toBe(formatTrace(t));
  });

  it.each(SCENARIO_NAMES.map((n) => [n]))('%s: the expected decisions, in their windows', (name) => {
    const trace = load(name);
    const events = replay(trace);
    const got = decisionsOf(events).map((d) => ({ type: d.type, at: d.at }));
    expect(
      got.map((d) => d.type),
      trace.expect.why,
    ).toEqual(trace.expect.decisions.map((d) => d.type));
    got.forEach((d, i) => {
      const w = trace.expect.decisions[i]!;
      expect(d.at, `${d.type} at ${d.at} outside [${w.notBeforeMs}, ${w.notAfterMs}]`).toBeGreaterThanOrEqual(w.notBeforeMs);
      expect(d.at).toBeLessThanOrEqual(w.notAfterMs);
    });
    // the same, whatever the tick cadence (the engine's output depends on the samples only)
    expect(replay(trace, 100)).toEqual(events);
    expect(replay(trace, 1_000)).toEqual(events);
  });

  it('walk-up: one unlock, close to the door (the true distance at the decision is under 2 m)', () => {
    const trace = load('walk-up');
    const [unlock] = decisionsOf(replay(trace));
    const sample = trace.events.find((e) => e.t === unlock!.at);
    expect(sample && 'd' in sample && sample.d).toBeLessThan(2);
  });

  it('door-jitter: 90 s of heavy noise at the door never reaches far (so no lock can follow)', () => {
    const zones = zonesOf(replay(load('door-jitter')));
    expect(zones.some((z) => z.to === 'far')).toBe(false);
    expect(zones.length).toBeLessThanOrEqual(3); // unknown→near, at most one near⇄approach excursion
  });

  it('reflector-spike: the reflections never make the phone near', () => {
    const zones = zonesOf(replay(load('reflector-spike')));
    expect(zones.map((z) => z.to)).not.toContain('near');
  });

  it('link-drop: the lock is caused by the lost link, exactly the grace period after it', () => {
    const events = replay(load('link-drop'));
    expect(decisionsOf(events).at(-1)).toMatchObject({ type: 'walk-away-lock', cause: 'link-lost', at: 20_000 });
  });

  it('link-blip: the phone is back near before the grace period ends', () => {
    const zones = zonesOf(replay(load('link-blip'))).map((z) => `${z.to}@${z.cause}`);
    expect(zones).toEqual(['near@signal', 'unknown@link-lost', 'near@signal']);
  });
});

describe('RSSI scenarios with other noise (robustness)', () => {
  const SEEDS = 40;
  it.each(SCENARIO_NAMES.map((n) => [n]))('%s: the right decisions, never flapping, for every seed; on time for ≥ 95 %%', (name) => {
    let onTime = 0;
    for (let seed = 10_000; seed < 10_000 + SEEDS; seed++) {
      const trace = simulateScenario(name, seed);
      const events = replay(trace);
      // hard: exactly the expected decisions (no extra unlock/lock, none missing)
      expect(
        decisionsOf(events).map((d) => d.type),
        `seed ${seed}`,
      ).toEqual(trace.expect.decisions.map((d) => d.type));
      if (meetsExpectation(trace, events)) onTime++;
    }
    expect(onTime / SEEDS).toBeGreaterThanOrEqual(0.95);
  });
});
