/**
 * `npx tsx scripts/gen-rssi-traces.ts`: regenerate test/proximity/traces/*.json, the simulated
 * RSSI traces the proximity tests replay. Deterministic (seeded PRNG): the same code always
 * writes the same bytes, and test/proximity/traces.test.ts checks that the files match it.
 *
 * The radio model (one sample = what a BLE controller reports for one connection event or one
 * advertisement; see docs/PROXIMITY.md):
 *
 *   rssi(t) = round( P1m − 10·n·log10(max(d(t), 0.3))      log-distance path loss (the truth)
 *                    + shadow(t)                           slow fading: AR(1) Gaussian, σ_s, τ_s
 *                    + fast(t)                             fast fading: i.i.d. Gaussian, σ_f
 *                    − fade(t)                             deep fade (body, car metal): with probability
 *                                                          p_fade, U(8, 25) dB (heavy: U(10, 30))
 *                    + spike(t) )                          passing reflector: a triangular bump
 *   clamped to [−100, −20] dBm.
 *
 * - P1m = −59 dBm, n = 2.0: the engine's defaults, i.e. a calibrated phone.
 * - Samples every 250 ms ± 40 ms (uniform), 5 % missing (a busy scanner, a skipped event).
 * - d(t): piecewise linear — standing, or walking at 1.3 m/s.
 * - A link drop stops the samples and records a `link-lost` event; a reconnect resumes them.
 *
 * Each trace carries its expected decisions (types in order, each with a time window), for an
 * engine with default parameters and approach-unlock enabled.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';

export interface TraceSample {
  /** ms since the trace began */
  readonly t: number;
  /** dBm, integer */
  readonly rssi: number;
  /** true distance (m), for reading the trace; the engine never sees it */
  readonly d: number;
}
export interface TraceLinkEvent {
  readonly t: number;
  readonly event: 'link-lost';
}
export type TraceEvent = TraceSample | TraceLinkEvent;

export interface ExpectedDecision {
  readonly type: 'approach-unlock' | 'walk-away-lock';
  readonly notBeforeMs: number;
  readonly notAfterMs: number;
}

export interface RssiTrace {
  readonly name: string;
  readonly description: string;
  readonly seed: number;
  readonly model: RadioModel;
  readonly durationMs: number;
  /** Exactly these decisions, in this order, each inside its window. */
  readonly expect: { readonly decisions: readonly ExpectedDecision[]; readonly why: string };
  readonly events: readonly TraceEvent[];
}

export interface RadioModel {
  readonly txPowerAt1m: number;
  readonly pathLossExponent: number;
  readonly sampleIntervalMs: number;
  readonly sampleJitterMs: number;
  readonly missingProbability: number;
  readonly shadowSigmaDb: number;
  readonly shadowTauMs: number;
  readonly fastSigmaDb: number;
  readonly fadeProbability: number;
  readonly fadeDepthDb: readonly [number, number];
}

const BASE_MODEL: RadioModel = {
  txPowerAt1m: -59,
  pathLossExponent: 2.0,
  sampleIntervalMs: 250,
  sampleJitterMs: 40,
  missingProbability: 0.05,
  shadowSigmaDb: 2,
  shadowTauMs: 2_000,
  fastSigmaDb: 3,
  fadeProbability: 0.05,
  fadeDepthDb: [8, 25],
};

const WALK_SPEED = 1.3; // m/s

/** mulberry32: a tiny, well-mixed 32-bit PRNG; deterministic across platforms. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function gaussian(random: () => number): number {
  // Box–Muller; 1 − u keeps the log finite
  const u = 1 - random();
  const v = random();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}

/** A path: `stand(ms)` and `walkTo(m)` segments from a starting distance. */
class Path {
  readonly #points: { t: number; d: number }[];
  constructor(start: number) {
    this.#points = [{ t: 0, d: start }];
  }
  get end(): number {
    return this.#points.at(-1)!.t;
  }
  stand(ms: number): this {
    const last = this.#points.at(-1)!;
    this.#points.push({ t: last.t + ms, d: last.d });
    return this;
  }
  walkTo(d: number): this {
    const last = this.#points.at(-1)!;
    this.#points.push({ t: last.t + (Math.abs(d - last.d) / WALK_SPEED) * 1000, d });
    return this;
  }
  at(t: number): number {
    const p = this.#points;
    for (let i = 1; i < p.length; i++) {
      if (t <= p[i]!.t) {
        const a = p[i - 1]!;
        const b = p[i]!;
        return b.t === a.t ? b.d : a.d + ((b.d - a.d) * (t - a.t)) / (b.t - a.t);
      }
    }
    return p.at(-1)!.d;
  }
  /** First time the true distance is ≤ d (approaching) or ≥ d (leaving), from `from` on. */
  firstTime(pred: (d: number) => boolean, from = 0): number {
    for (let t = from; t <= this.end; t += 10) if (pred(this.at(t))) return t;
    return Infinity;
  }
}

interface Scenario {
  readonly name: string;
  readonly description: string;
  readonly seed: number;
  readonly model?: Partial<RadioModel>;
  readonly path: Path;
  /** Reflector bumps: peak dB, centre and half-width (ms). */
  readonly spikes?: readonly { readonly atMs: number; readonly halfWidthMs: number; readonly peakDb: number }[];
  /** Link outages: samples stop at `fromMs` (a `link-lost` event), resume at `toMs` (if given). */
  readonly outages?: readonly { readonly fromMs: number; readonly toMs?: number }[];
  readonly expect: (path: Path) => RssiTrace['expect'];
}

function simulate(s: Scenario): RssiTrace {
  const model: RadioModel = { ...BASE_MODEL, ...s.model };
  const random = mulberry32(s.seed);
  const durationMs = Math.round(s.path.end);
  const events: TraceEvent[] = [];
  let shadow = gaussian(random) * model.shadowSigmaDb;
  let prevT = 0;
  const lostAt = new Set<number>();
  for (let k = 0; ; k++) {
    const nominal = k * model.sampleIntervalMs;
    if (nominal > durationMs) break;
    const t = Math.max(0, Math.round(nominal + (random() * 2 - 1) * model.sampleJitterMs));
    // draw every random number on every step so that scenarios stay comparable
    const rho = Math.exp(-Math.max(1, t - prevT) / model.shadowTauMs);
    shadow = rho * shadow + Math.sqrt(1 - rho * rho) * model.shadowSigmaDb * gaussian(random);
    prevT = t;
    const fast = gaussian(random) * model.fastSigmaDb;
    const fade = random() < model.fadeProbability ? model.fadeDepthDb[0] + random() * (model.fadeDepthDb[1] - model.fadeDepthDb[0]) : 0;
    const missing = random() < model.missingProbability;
    const outage = s.outages?.find((o) => t >= o.fromMs && (o.toMs === undefined || t < o.toMs));
    if (outage) {
      if (!lostAt.has(outage.fromMs)) {
        lostAt.add(outage.fromMs);
        events.push({ t: outage.fromMs, event: 'link-lost' });
      }
      continue;
    }
    if (missing || t > durationMs) continue;
    const d = s.path.at(t);
    let spike = 0;
    for (const sp of s.spikes ?? []) spike += Math.max(0, sp.peakDb * (1 - Math.abs(t - sp.atMs) / sp.halfWidthMs));
    const clean = model.txPowerAt1m - 10 * model.pathLossExponent * Math.log10(Math.max(d, 0.3));
    const rssi = Math.max(-100, Math.min(-20, Math.round(clean + shadow + fast - fade + spike)));
    events.push({ t, rssi, d: Math.round(d * 100) / 100 });
  }
  return { name: s.name, description: s.description, seed: s.seed, model, durationMs, expect: s.expect(s.path), events };
}

const SCENARIOS: Scenario[] = [
  {
    name: 'walk-up',
    description: 'The owner waits 5 s at 30 m, walks to the driver door (0.6 m) at 1.3 m/s and stands there for 15 s.',
    seed: 101,
    path: new Path(30).stand(5_000).walkTo(0.6).stand(15_000),
    expect: (p) => {
      const arrived = p.firstTime((d) => d <= 0.6);
      return {
        decisions: [{ type: 'approach-unlock', notBeforeMs: p.firstTime((d) => d <= 4), notAfterMs: arrived + 2_000 }],
        why: 'one unlock, once the phone is truly within 4 m and at the latest 2 s after it reached the door; nothing else',
      };
    },
  },
  {
    name: 'walk-away',
    description: 'The owner stands at the door (0.7 m) for 15 s, then walks away to 40 m at 1.3 m/s and stays there for 20 s.',
    seed: 202,
    path: new Path(0.7).stand(15_000).walkTo(40).stand(20_000),
    expect: (p) => ({
      decisions: [
        { type: 'approach-unlock', notBeforeMs: 0, notAfterMs: 3_000 },
        { type: 'walk-away-lock', notBeforeMs: p.firstTime((d) => d >= 6), notAfterMs: p.firstTime((d) => d >= 8) + 8_000 },
      ],
      why: 'the phone is present from the start (one unlock within 3 s); one lock, not before it is truly 6 m away and at most 8 s after it passed 8 m',
    }),
  },
  {
    name: 'door-jitter',
    description:
      'The owner stands at the door (0.8 m) for 90 s, phone in a back pocket: heavy jitter (σ 7 dB fast, σ 4 dB slow), deep fades of 10–30 dB on 15 % of the samples.',
    seed: 303,
    model: { fastSigmaDb: 7, shadowSigmaDb: 4, fadeProbability: 0.15, fadeDepthDb: [10, 30] },
    path: new Path(0.8).stand(90_000),
    expect: () => ({
      decisions: [{ type: 'approach-unlock', notBeforeMs: 0, notAfterMs: 6_000 }],
      why: 'one unlock when the phone first appears (within 6 s: the first samples may be faded); then 90 s of noise decide nothing (no lock, no second unlock)',
    }),
  },
  {
    name: 'reflector-spike',
    description:
      'The owner sits 12 m away (far) for 40 s; a passing van reflects the signal twice: +20 dB for ~0.6 s at 12 s and +18 dB for ~1 s at 27 s (12 m would read as ~1.2 m).',
    seed: 404,
    path: new Path(12).stand(40_000),
    spikes: [
      { atMs: 12_000, halfWidthMs: 400, peakDb: 20 },
      { atMs: 27_000, halfWidthMs: 600, peakDb: 18 },
    ],
    expect: () => ({ decisions: [], why: 'a reflection is not an approach: no unlock, no decision at all' }),
  },
  {
    name: 'link-drop',
    description: 'The owner stands at the door (0.7 m) for 10 s; then the BLE link drops (phone switched off) and never comes back (30 s).',
    seed: 505,
    path: new Path(0.7).stand(40_000),
    outages: [{ fromMs: 10_000 }],
    expect: () => ({
      decisions: [
        { type: 'approach-unlock', notBeforeMs: 0, notAfterMs: 3_000 },
        { type: 'walk-away-lock', notBeforeMs: 20_000, notAfterMs: 20_000 },
      ],
      why: 'one unlock; one lock exactly linkLossGraceMs (10 s) after the drop',
    }),
  },
  {
    name: 'link-blip',
    description: 'The owner stands at the door (0.7 m) for 40 s; the link drops at 10 s and reconnects 3 s later (a typical BLE hiccup).',
    seed: 606,
    path: new Path(0.7).stand(40_000),
    outages: [{ fromMs: 10_000, toMs: 13_000 }],
    expect: () => ({
      decisions: [{ type: 'approach-unlock', notBeforeMs: 0, notAfterMs: 3_000 }],
      why: 'one unlock; the phone is back near before the grace period ends, so no lock (and no second unlock)',
    }),
  },
];

/** The committed traces. */
export function generateTraces(): RssiTrace[] {
  return SCENARIOS.map(simulate);
}

export const SCENARIO_NAMES: readonly string[] = SCENARIOS.map((s) => s.name);

/** One scenario with another seed: the same walk, other noise (for robustness sweeps). */
export function simulateScenario(name: string, seed: number): RssiTrace {
  const s = SCENARIOS.find((x) => x.name === name);
  if (!s) throw new Error(`unknown scenario ${name}`);
  return simulate({ ...s, seed });
}

/** Stable, diff-friendly JSON: one event per line. */
export function formatTrace(trace: RssiTrace): string {
  const { events, ...head } = trace;
  const top = JSON.stringify(head, null, 2).replace(/\n}$/, '');
  return `${top},\n  "events": [\n${events.map((e) => `    ${JSON.stringify(e)}`).join(',\n')}\n  ]\n}\n`;
}

export const TRACES_DIR = new URL('../test/proximity/traces/', import.meta.url);

function main(): void {
  mkdirSync(TRACES_DIR, { recursive: true });
  for (const trace of generateTraces()) {
    const file = new URL(`${trace.name}.json`, TRACES_DIR);
    writeFileSync(file, formatTrace(trace));
    const samples = trace.events.filter((e) => 'rssi' in e).length;
    console.log(`${trace.name.padEnd(16)} ${String(samples).padStart(4)} samples, ${trace.durationMs / 1000} s → ${file.pathname}`);
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) main();
