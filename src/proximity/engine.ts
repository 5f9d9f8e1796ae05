/**
 * The proximity engine: per key, RSSI samples → filter → distance → zone → passive-entry
 * decisions. Usable on either side of the link:
 *
 * - **car**: keyed by the phone's key id, fed the RSSI of the connected, authenticated phone; its
 *   `verdict` backs `VehicleHooks.proximity` (the policy's `out-of-range` check) and its
 *   walk-away-lock decision lets the car lock itself when the phone leaves or the link drops.
 * - **phone**: keyed by the car (e.g. the id resolved from its rotating advertising identifier),
 *   fed the RSSI of the car's advertisements; its approach-unlock decision is the moment to open
 *   a session and send `unlock`.
 *
 * Pure and deterministic: no timers, no I/O. Time is the injected clock, or the `at` passed with
 * each call (same time base). What happens without new samples — samples going stale, a lock
 * falling due — is computed at its own (logical) time whenever the engine is next called
 * (`sample`, `linkLost` or `tick`), so the output is the same however often `tick` runs;
 * `nextDeadline()` says when a `tick` would produce something. Calls for one key with a time
 * earlier than one already processed for it are ignored.
 */
import type { Clock } from '../crypto/provider.js';
import { assertArg } from '../errors.js';
import type { ProximityVerdict } from '../roles/types.js';
import { PresenceTracker, type DecisionCause, type PassiveEntryOptions, type SignalLoss } from './passive-entry.js';
import { assertPathLossModel, DEFAULT_PATH_LOSS, rssiToDistance, type PathLossModel } from './path-loss.js';
import { isValidRssi, RssiFilter, type RssiFilterOptions } from './rssi-filter.js';
import { ZoneTracker, resolveZoneOptions, type Zone, type ZoneOptions } from './zones.js';

/** Options of {@link ProximityEngine}: the car-wide passive-entry switches and timing, filter, path loss, zones, staleness and clock. */
export interface ProximityEngineOptions extends PassiveEntryOptions {
  /** Clock for calls without an explicit `at` and for `verdict` (ms; same base as the samples' times). */
  readonly now: Clock;
  /** Default path-loss model (per key: `configureKey`). Default `DEFAULT_PATH_LOSS`. */
  readonly pathLoss?: PathLossModel;
  readonly filter?: RssiFilterOptions;
  readonly zones?: ZoneOptions;
  /**
   * Car-wide switch for approach-unlock decisions. Default **false**: unlocking because a key is
   * near is exactly what relay attacks exploit; turn it on deliberately (and prefer a policy that
   * requires ranging for `unlock` where the hardware has it).
   */
  readonly approachUnlock?: boolean | undefined;
  /** Car-wide switch for walk-away-lock decisions. Default true (locking is always safe). */
  readonly walkAwayLock?: boolean;
  /** No sample for this long (ms) counts as a lost signal: zone `unknown`. Default 4 000. */
  readonly staleAfterMs?: number;
}

/** Per-key settings; unset fields inherit the car's. A decision happens only if car and key both enable it. */
export interface KeyProximitySettings {
  readonly approachUnlock?: boolean | undefined;
  readonly walkAwayLock?: boolean;
  /** This key's calibration (phones differ by ±10 dB at 1 m). */
  readonly pathLoss?: PathLossModel;
}

/** Default `staleAfterMs`: no sample for this long (ms) is a lost signal. */
export const DEFAULT_STALE_AFTER_MS = 4_000;

/** A key's zone changed. */
export interface ZoneEvent {
  readonly type: 'zone';
  readonly keyId: string;
  readonly from: Zone;
  readonly to: Zone;
  readonly at: number;
  /** The estimate that caused the change (undefined when the signal was lost). */
  readonly distanceM: number | undefined;
  readonly cause: 'signal' | SignalLoss;
}

/** A passive-entry decision for a key: unlock on approach or lock on walk-away, with its cause. */
export interface ProximityDecision {
  readonly type: 'approach-unlock' | 'walk-away-lock';
  readonly keyId: string;
  /** Logical time of the decision (the sample that reached `near`, or when the grace period ended). */
  readonly at: number;
  readonly cause: DecisionCause;
  /** Latest distance estimate, when one exists. */
  readonly distanceM: number | undefined;
  /**
   * Car side, approach-unlock: the slowest handshake RTT (ms) of the key's open links, set by
   * `linkProximity` (the engine does not know it). Passive entry passes it to the policy, so its
   * relay bound applies; an approach-unlock without it counts as unmeasured (`Infinity`).
   */
  readonly rttMs?: number;
}

/** What the engine emits: zone changes and decisions. */
export type ProximityEvent = ZoneEvent | ProximityDecision;

/** What the engine knows about one key. */
export interface KeyProximityState {
  readonly zone: Zone;
  /** Filtered RSSI (dBm), undefined while warming up or after a loss. */
  readonly rssi: number | undefined;
  readonly distanceM: number | undefined;
  /** Passive entry: the key arrived (reached `near`) and has not left since. */
  readonly present: boolean;
  /** When the walk-away lock falls due if nothing changes. */
  readonly lockDueAt: number | undefined;
  readonly lastSampleAt: number | undefined;
}

interface KeyState {
  readonly filter: RssiFilter;
  readonly zones: ZoneTracker;
  readonly presence: PresenceTracker;
  settings: KeyProximitySettings;
  /** A sample arrived since the last loss (so the signal can go stale). */
  live: boolean;
  lastSampleAt: number;
  /** Latest time processed for this key. */
  time: number;
  distanceM: number | undefined;
}

/** Per key: RSSI samples → filter → distance → zone → passive-entry decisions (pure; see the module comment). */
export class ProximityEngine {
  readonly #options: ProximityEngineOptions;
  readonly #zones: ZoneOptions;
  readonly #staleAfter: number;
  readonly #keys = new Map<string, KeyState>();
  readonly #settings = new Map<string, KeyProximitySettings>();

  constructor(options: ProximityEngineOptions) {
    assertArg(typeof options?.now === 'function', 'now: expected a clock function');
    this.#options = options;
    this.#zones = resolveZoneOptions(options.zones);
    this.#staleAfter = options.staleAfterMs ?? DEFAULT_STALE_AFTER_MS;
    assertArg(this.#staleAfter > 0, 'staleAfterMs: expected > 0');
    assertPathLossModel(options.pathLoss ?? DEFAULT_PATH_LOSS);
    new RssiFilter(options.filter); // validate early
    new PresenceTracker(options);
  }

  /** A drop-in for `VehicleHooks.proximity`: `hooks: { proximity: engine.hook }`. */
  readonly hook = (keyId: string): ProximityVerdict => this.verdict(keyId);

  /** Per-key settings (calibration, passive-entry switches); replaces earlier settings for the key. */
  configureKey(keyId: string, settings: KeyProximitySettings): void {
    if (settings.pathLoss) assertPathLossModel(settings.pathLoss);
    this.#settings.set(keyId, { ...settings });
    const s = this.#keys.get(keyId);
    if (s) s.settings = { ...settings };
  }

  /**
   * Feed one RSSI sample (dBm) of `keyId`, taken at `at`. Returns what changed, in time order.
   * Values a controller uses for "no reading" (127, NaN, out of range) are ignored.
   */
  sample(keyId: string, rssi: number, at: number = this.#options.now()): ProximityEvent[] {
    const out: ProximityEvent[] = [];
    if (!isValidRssi(rssi)) return out; // e.g. 127 = "not available": ignored
    const s = this.#state(keyId);
    if (!(at >= s.time)) return out;
    this.#advance(keyId, s, at, out);
    s.time = at;
    const value = s.filter.add(rssi, at);
    s.live = true;
    s.lastSampleAt = at;
    if (value === undefined) return out;
    s.distanceM = rssiToDistance(value, s.settings.pathLoss ?? this.#options.pathLoss ?? DEFAULT_PATH_LOSS);
    const change = s.zones.update(s.distanceM, at);
    if (change) this.#onZone(keyId, s, { ...change, distanceM: s.distanceM, cause: 'signal' }, out);
    this.#advance(keyId, s, at, out);
    return out;
  }

  /** The link to `keyId` dropped at `at` (the adapter saw a disconnect): zone `unknown` at once. */
  linkLost(keyId: string, at: number = this.#options.now()): ProximityEvent[] {
    const out: ProximityEvent[] = [];
    const s = this.#keys.get(keyId);
    if (!s || !(at >= s.time)) return out;
    this.#advance(keyId, s, at, out);
    s.time = at;
    this.#lose(keyId, s, at, 'link-lost', out);
    this.#advance(keyId, s, at, out);
    return out;
  }

  /** Let time pass for every key: stale signals, locks falling due. */
  tick(at: number = this.#options.now()): ProximityEvent[] {
    const out: ProximityEvent[] = [];
    for (const [keyId, s] of this.#keys) {
      if (!(at >= s.time)) continue;
      this.#advance(keyId, s, at, out);
      s.time = at;
    }
    return out;
  }

  /** The earliest time at which `tick` would produce an event (undefined: nothing pending). */
  nextDeadline(): number | undefined {
    let next = Infinity;
    for (const s of this.#keys.values()) next = Math.min(next, this.#staleAt(s), s.presence.dueAt ?? Infinity);
    return next === Infinity ? undefined : next;
  }

  /** The key's proximity now (by the injected clock): what the car's policy sees. */
  verdict(keyId: string): ProximityVerdict {
    const s = this.#keys.get(keyId);
    if (!s || s.zones.zone === 'unknown' || this.#options.now() >= this.#staleAt(s)) return { zone: 'unknown' };
    return s.distanceM === undefined ? { zone: s.zones.zone } : { zone: s.zones.zone, distanceM: s.distanceM };
  }

  /** Everything the engine knows about `keyId` (undefined if never seen). */
  state(keyId: string): KeyProximityState | undefined {
    const s = this.#keys.get(keyId);
    if (!s) return undefined;
    return {
      zone: s.zones.zone,
      rssi: s.filter.value,
      distanceM: s.distanceM,
      present: s.presence.present,
      lockDueAt: s.presence.dueAt,
      lastSampleAt: Number.isFinite(s.lastSampleAt) ? s.lastSampleAt : undefined,
    };
  }

  /** Drop all state of `keyId` (e.g. the key was revoked). Its settings are kept. */
  forget(keyId: string): void {
    this.#keys.delete(keyId);
  }

  // ------------------------------------------------------------------ internals

  #state(keyId: string): KeyState {
    let s = this.#keys.get(keyId);
    if (!s) {
      s = {
        filter: new RssiFilter(this.#options.filter),
        zones: new ZoneTracker(this.#zones),
        presence: new PresenceTracker(this.#options),
        settings: this.#settings.get(keyId) ?? {},
        live: false,
        lastSampleAt: -Infinity,
        time: -Infinity,
        distanceM: undefined,
      };
      this.#keys.set(keyId, s);
    }
    return s;
  }

  #staleAt(s: KeyState): number {
    return s.live ? s.lastSampleAt + this.#staleAfter : Infinity;
  }

  /** Process, in time order, everything that falls due up to `now` without new samples. */
  #advance(keyId: string, s: KeyState, now: number, out: ProximityEvent[]): void {
    for (;;) {
      const staleAt = this.#staleAt(s);
      const lockAt = s.presence.dueAt ?? Infinity;
      if (Math.min(staleAt, lockAt) > now) return;
      if (staleAt <= lockAt) this.#lose(keyId, s, staleAt, 'stale', out);
      else {
        const left = s.presence.advance(lockAt);
        if (left?.type === 'left' && this.#enabled(s, 'walkAwayLock'))
          out.push({ type: 'walk-away-lock', keyId, at: left.at, cause: left.cause, distanceM: s.distanceM });
      }
    }
  }

  #lose(keyId: string, s: KeyState, at: number, cause: SignalLoss, out: ProximityEvent[]): void {
    s.live = false;
    s.filter.reset();
    s.distanceM = undefined;
    const change = s.zones.reset(at);
    if (change) this.#onZone(keyId, s, { ...change, distanceM: undefined, cause }, out);
  }

  #onZone(keyId: string, s: KeyState, change: Omit<ZoneEvent, 'type' | 'keyId'>, out: ProximityEvent[]): void {
    out.push({ type: 'zone', keyId, ...change });
    const p = s.presence.onZone(change, change.cause === 'signal' ? undefined : change.cause);
    if (p?.type === 'arrived' && this.#enabled(s, 'approachUnlock'))
      out.push({ type: 'approach-unlock', keyId, at: p.at, cause: 'near', distanceM: s.distanceM });
  }

  #enabled(s: KeyState, which: 'approachUnlock' | 'walkAwayLock'): boolean {
    const car = this.#options[which] ?? which === 'walkAwayLock';
    return car && (s.settings[which] ?? true);
  }
}
