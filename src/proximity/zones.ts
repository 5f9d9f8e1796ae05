/**
 * Zones with hysteresis and dwell times: a distance estimate in, a stable zone out.
 *
 *   far ──(d ≤ approachEnterM)──▶ approach ──(d ≤ nearEnterM)──▶ near
 *   far ◀──(d > approachExitM)─── approach ◀──(d > nearExitM)──── near
 *
 * - **Hysteresis**: entering a closer zone needs the distance below its *enter* threshold;
 *   leaving it needs the distance above its (larger) *exit* threshold. Between the two the
 *   current zone holds, so an estimate hovering at a boundary cannot make the zone toggle.
 * - **Dwell**: a different zone (the *candidate*) is only adopted once it has been the candidate
 *   on every sample for `enterDwellMs` (moving closer, or leaving `unknown`) or `exitDwellMs`
 *   (moving away). Any sample whose candidate differs restarts the wait. So two zone changes are
 *   always at least one dwell time apart.
 * - `unknown` is the zone before the first estimate and after `reset()` (link lost, samples
 *   stale); it is left like any other zone, through the enter dwell.
 *
 * Pure: time comes with each update; no timers.
 */
import { assertArg } from '../errors.js';
import type { ProximityVerdict } from '../roles/types.js';

/** `near`, `approach`, `far`, or `unknown` (no estimate, or stale). */
export type Zone = ProximityVerdict['zone'];

/** Zone thresholds (enter and exit distances, m) and dwell times (ms). */
export interface ZoneOptions {
  /** Enter `near` at or below this distance (m). Default 2.0. */
  readonly nearEnterM?: number;
  /** Leave `near` above this distance (m). Default 3.0. */
  readonly nearExitM?: number;
  /** Enter `approach` at or below this distance (m). Default 5.0. */
  readonly approachEnterM?: number;
  /** Leave `approach` (to `far`) above this distance (m). Default 8.0. */
  readonly approachExitM?: number;
  /** Dwell before adopting a closer zone (or leaving `unknown`), ms. Default 500. */
  readonly enterDwellMs?: number;
  /** Dwell before adopting a farther zone, ms. Default 2 000. */
  readonly exitDwellMs?: number;
}

/** The zones' defaults. */
export const DEFAULT_ZONES: Required<ZoneOptions> = Object.freeze({
  nearEnterM: 2.0,
  nearExitM: 3.0,
  approachEnterM: 5.0,
  approachExitM: 8.0,
  enterDwellMs: 500,
  exitDwellMs: 2_000,
});

/** Closeness rank: higher is closer. `unknown` ranks below `far`. */
export const ZONE_RANK: Readonly<Record<Zone, number>> = Object.freeze({ unknown: -1, far: 0, approach: 1, near: 2 });

/** A zone change: from, to, and when. */
export interface ZoneChange {
  readonly from: Zone;
  readonly to: Zone;
  readonly at: number;
}

export function resolveZoneOptions(options: ZoneOptions = {}): Required<ZoneOptions> {
  const o = { ...DEFAULT_ZONES, ...options };
  assertArg(o.nearEnterM > 0 && o.nearEnterM < o.nearExitM, 'zones: expected 0 < nearEnterM < nearExitM');
  assertArg(o.approachEnterM < o.approachExitM, 'zones: expected approachEnterM < approachExitM');
  assertArg(o.nearEnterM < o.approachEnterM && o.nearExitM < o.approachExitM, 'zones: near thresholds must be below approach thresholds');
  assertArg(o.enterDwellMs >= 0 && o.exitDwellMs >= 0, 'zones: dwell times must be ≥ 0');
  return o;
}

/** The zone a distance calls for, given the current zone (hysteresis only, no dwell). */
export function candidateZone(current: Zone, distanceM: number, o: Required<ZoneOptions>): Zone {
  const rank = ZONE_RANK[current];
  if (distanceM <= (rank >= ZONE_RANK.near ? o.nearExitM : o.nearEnterM)) return 'near';
  if (distanceM <= (rank >= ZONE_RANK.approach ? o.approachExitM : o.approachEnterM)) return 'approach';
  return 'far';
}

/** A distance estimate in, a stable zone out: hysteresis and dwell (see the module comment). */
export class ZoneTracker {
  readonly #options: Required<ZoneOptions>;
  #zone: Zone = 'unknown';
  #pending: { zone: Zone; since: number } | undefined;
  #changedAt = -Infinity;

  constructor(options: ZoneOptions = {}) {
    this.#options = resolveZoneOptions(options);
  }

  get zone(): Zone {
    return this.#zone;
  }

  /** When the zone last changed (−Infinity if never). */
  get changedAt(): number {
    return this.#changedAt;
  }

  get options(): Required<ZoneOptions> {
    return this.#options;
  }

  /** Dwell needed to go from `from` to `to`. */
  dwellFor(from: Zone, to: Zone): number {
    return from === 'unknown' || ZONE_RANK[to] > ZONE_RANK[from] ? this.#options.enterDwellMs : this.#options.exitDwellMs;
  }

  /** Feed a distance estimate at time `at`; returns the change, if the zone changed. */
  update(distanceM: number, at: number): ZoneChange | undefined {
    const candidate = candidateZone(this.#zone, distanceM, this.#options);
    if (candidate === this.#zone) {
      this.#pending = undefined;
      return undefined;
    }
    if (this.#pending?.zone !== candidate) this.#pending = { zone: candidate, since: at };
    if (at - this.#pending.since < this.dwellFor(this.#zone, candidate)) return undefined;
    return this.#set(candidate, at);
  }

  /** Back to `unknown` at once (link lost, samples stale). */
  reset(at: number): ZoneChange | undefined {
    this.#pending = undefined;
    return this.#zone === 'unknown' ? undefined : this.#set('unknown', at);
  }

  #set(zone: Zone, at: number): ZoneChange {
    const change = { from: this.#zone, to: zone, at };
    this.#zone = zone;
    this.#pending = undefined;
    this.#changedAt = at;
    return change;
  }
}
