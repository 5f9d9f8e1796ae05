/**
 * Passive entry: from zone changes to the two decisions, **approach-unlock** and
 * **walk-away-lock**, for one key.
 *
 * A key is either *away* (the initial state) or *present*:
 * - away → present when its zone becomes `near`: that is the approach-unlock moment;
 * - present → away when it has been gone — zone `far`, or `unknown` because the link dropped or
 *   the samples stopped — for a grace period: that is the walk-away-lock moment. Coming back to
 *   `approach` or `near` before the grace period ends cancels the lock.
 *
 * Decisions therefore alternate by construction (never two unlocks without a lock between
 * them), and moving around the car (near ⇄ approach) or standing at the door in a noisy radio
 * environment decides nothing. Two grace periods, because the evidence differs: a key seen `far`
 * has left (short grace, after the zone's own exit dwell); a dropped link is often just BLE
 * (phones drop and reconnect, Tesla owners report drops every 30–40 s idle), so it waits longer.
 *
 * Pure: times are passed in; the engine asks `dueAt` when a lock would fall due and calls
 * `advance` with the time.
 */
import { assertArg } from '../errors.js';
import type { ZoneChange } from './zones.js';

/** Why the zone became `unknown`. */
export type SignalLoss = 'link-lost' | 'stale';
/** What caused a decision: reaching `near`, being `far`, or losing the key's signal. */
export type DecisionCause = 'near' | 'far' | SignalLoss;

/** Grace periods of passive entry (ms). */
export interface PassiveEntryOptions {
  /** Grace after the zone became `far` before the walk-away lock. Default 1 000 ms. */
  readonly lockGraceMs?: number;
  /** Grace after the link dropped or the samples stopped before the walk-away lock. Default 10 000 ms. */
  readonly linkLossGraceMs?: number;
}

/** Default grace periods of passive entry: 1 s out of range before a walk-away lock, 10 s after a lost link. */
export const DEFAULT_PASSIVE_ENTRY: Required<PassiveEntryOptions> = Object.freeze({ lockGraceMs: 1_000, linkLossGraceMs: 10_000 });

/** A key arrived in range or left it (and why). */
export type PresenceChange = { readonly type: 'arrived'; readonly at: number } | { readonly type: 'left'; readonly at: number; readonly cause: DecisionCause };

/** Per-key presence with grace periods: turns zone changes and link losses into arrivals and departures. */
export class PresenceTracker {
  readonly #options: Required<PassiveEntryOptions>;
  #present = false;
  #lock: { at: number; cause: DecisionCause } | undefined;

  constructor(options: PassiveEntryOptions = {}) {
    this.#options = { ...DEFAULT_PASSIVE_ENTRY, ...options };
    assertArg(this.#options.lockGraceMs >= 0 && this.#options.linkLossGraceMs >= 0, 'lockGraceMs, linkLossGraceMs: expected ≥ 0');
  }

  get present(): boolean {
    return this.#present;
  }

  /** When the walk-away lock falls due if nothing changes (undefined: none pending). */
  get dueAt(): number | undefined {
    return this.#lock?.at;
  }

  /** React to a zone change; `loss` says why the zone became `unknown`. */
  onZone(change: ZoneChange, loss: SignalLoss = 'stale'): PresenceChange | undefined {
    switch (change.to) {
      case 'near':
        this.#lock = undefined;
        if (this.#present) return undefined;
        this.#present = true;
        return { type: 'arrived', at: change.at };
      case 'approach':
        this.#lock = undefined;
        return undefined;
      case 'far':
        this.#schedule(change.at + this.#options.lockGraceMs, 'far');
        return undefined;
      case 'unknown':
        this.#schedule(change.at + this.#options.linkLossGraceMs, loss);
        return undefined;
    }
  }

  /** Time has reached `now`: the lock, if it fell due. */
  advance(now: number): PresenceChange | undefined {
    const lock = this.#lock;
    if (!lock || lock.at > now) return undefined;
    this.#lock = undefined;
    this.#present = false;
    return { type: 'left', at: lock.at, cause: lock.cause };
  }

  #schedule(at: number, cause: DecisionCause): void {
    if (!this.#present) return;
    if (!this.#lock || at < this.#lock.at) this.#lock = { at, cause };
  }
}
