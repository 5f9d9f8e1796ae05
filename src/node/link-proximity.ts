/**
 * Car-side passive entry over real links.
 * Used by `proxkey car serve`; a custom car daemon wires it the same way:
 *
 * ```ts
 * let car: VehicleService | undefined;
 * const proximity = linkProximity(new ProximityEngine({ now: () => performance.now() }), {
 *   onDecision: (d) => void car?.passiveEntry(d),
 *   isActiveKey: (keyId) => car?.isActiveKey(keyId) ?? false, // revoked / expired keys feed nothing
 * });
 * car = await VehicleService.open({ ...options, hooks: proximity.hooks, onEvent: (e, _keyId, link) => proximity.onEvent(e, link) });
 * await startCarPeripheral({
 *   bleno, advertising: { secret: car.advertisingSecret, now: car.now },
 *   onRssi: (link, rssi) => proximity.onRssi(link, rssi),
 *   onLink: (link) => {
 *     void link.closed.then(() => proximity.onClose(link));
 *     void car.serve(link);
 *   },
 * });
 * ```
 */
import { notifyObserver } from '../errors.js';
import type { ProximityDecision, ProximityEngine, ProximityEvent } from '../proximity/engine.js';
import type { ProximityVerdict } from '../roles/types.js';
import type { VehicleEvent } from '../transport/vehicle-event.js';
import type { VehicleHooks } from '../policy/types.js';

/** Default `maxKeys` of {@link linkProximity}: keys tracked at once (open links, or a walk-away lock pending). */
const DEFAULT_MAX_TRACKED_KEYS = 64;

/** Options of {@link linkProximity}. */
export interface LinkProximityOptions {
  readonly now?: () => number;
  readonly onDecision?: (d: ProximityDecision) => void;
  /** Keys tracked at once (with an open link, or a walk-away lock pending); a link of one more key is not sampled. Default 64. */
  readonly maxKeys?: number;
  /**
   * Whether an enrolled key is active now (not revoked, inside its validity window): a link of an
   * inactive one is not sampled. Default: every enrolled key counts as active (the policy still
   * denies the others' decisions).
   */
  readonly isActiveKey?: (keyId: string) => boolean;
}

/**
 * Car-side proximity from connection RSSI. The adapter samples each open link (`onRssi`); a link's
 * samples go to the engine under the key id its session authenticated as — only an enrolled key
 * (`authenticated` with `known: true`, or `enrolled` by the session's grant): a stranger's link is
 * never fed to the engine and leaves no state.
 * Which link an event belongs to is passed in (`onEvent`'s `link`; with several phones connected,
 * the key id alone does not say which link is that phone's). Samples taken before the handshake
 * are kept (at most 16) and fed once the key is known. The engine backs `VehicleHooks.proximity`;
 * with no usable RSSI (the emulator) its verdict is `unknown`, which only matters to a policy with
 * `requireProximity`.
 *
 * Passive entry: a link that closes counts as `linkLost` for its key; a timer follows the engine's
 * next deadline (`tick`), so a walk-away lock falls due on time with no new samples. Every
 * decision (walk-away-lock, approach-unlock) goes to `onDecision` (the daemon: `car.passiveEntry`);
 * an approach-unlock carries `rttMs`, the slowest handshake RTT of the key's open links, so the
 * policy's relay bound applies to it as to a session's command.
 *
 * Bounded: a key's engine state is forgotten once its last link closed and no walk-away lock is
 * pending (or once that lock fell due), when a session of it is denied `revoked` or `expired` or
 * closed `revoked`, and by `forget`; with `isActiveKey`, an inactive enrolled key is not sampled;
 * at most `maxKeys` keys are tracked at once.
 */
export function linkProximity(engine: ProximityEngine, o: LinkProximityOptions = {}) {
  const now = o.now ?? (() => performance.now());
  const keys = new TrackedKeys(engine, o.maxKeys ?? DEFAULT_MAX_TRACKED_KEYS);
  const early = new WeakMap<object, { rssi: number; at: number }[]>();
  /** Links whose session authenticated a key the car did not know (yet: a grant may enroll it). */
  const unknown = new WeakMap<object, LinkKey>();
  const handle = (events: readonly ProximityEvent[]) => {
    if (timer.stopped) return; // stopped (the car shuts down): no more decisions
    for (const e of events) {
      if (e.type === 'zone') continue;
      const rttMs = e.type === 'approach-unlock' ? keys.slowestRtt(e.keyId) : undefined;
      const decision: ProximityDecision = rttMs === undefined ? e : { ...e, rttMs };
      notifyObserver(() => o.onDecision?.(decision));
    }
    keys.sweep();
    timer.schedule();
  };
  const timer = new DeadlineTimer(engine, now, handle);
  const bind = (link: object | undefined, bound: LinkKey | undefined) => {
    if (!link || !bound || !keys.bind(link, bound)) return void (link && early.delete(link));
    const events: ProximityEvent[] = [];
    for (const s of early.get(link) ?? []) events.push(...engine.sample(bound.keyId, s.rssi, s.at));
    early.delete(link);
    handle(events);
  };
  const forget = (keyId: string) => {
    keys.forget(keyId);
    timer.schedule();
  };
  const hooks: VehicleHooks = { proximity: (keyId: string): ProximityVerdict => engine.verdict(keyId) };
  return {
    engine,
    hooks,
    /**
     * For `VehicleService`'s `onEvent` (`(e, keyId, link) => proximity.onEvent(e, link)`): learns the
     * link's key id and handshake RTT at authentication (an enrolled, active key), or once the
     * session's grant enrolled its key (`enrolled`); a session denied `revoked` or `expired`, or
     * closed `revoked` (the owner revoked the key while it was connected), drops its key.
     */
    onEvent(e: VehicleEvent, link?: object): void {
      const active = (keyId: string) => o.isActiveKey?.(keyId) ?? true;
      if (e.type === 'authenticated' && e.known && active(e.keyId)) bind(link, { keyId: e.keyId, rttMs: e.rttMs });
      else if (e.type === 'authenticated' && link) unknown.set(link, { keyId: e.keyId, rttMs: e.rttMs });
      else if (e.type === 'enrolled' && link) {
        const pending = unknown.get(link);
        bind(link, pending?.keyId === e.key.id ? pending : undefined);
      } else if (e.type === 'decision' && (e.result === 'revoked' || e.result === 'expired')) forget(e.keyId);
      else if (e.type === 'closed' && e.reason === 'revoked' && link) {
        const bound = keys.of(link);
        if (bound) forget(bound.keyId);
      }
    },
    /** For `startCarPeripheral`'s `onRssi`. */
    onRssi(link: object, rssi: number): void {
      if (timer.stopped) return;
      const at = now();
      const bound = keys.of(link);
      if (bound !== undefined) return handle(engine.sample(bound.keyId, rssi, at));
      early.set(link, [...(early.get(link) ?? []), { rssi, at }].slice(-16));
    },
    /** The link closed (the phone left, or the radio dropped it): `linkLost` for its key. */
    onClose(link: object): void {
      early.delete(link);
      const bound = keys.close(link);
      if (bound === undefined || timer.stopped) return; // shutting down: closing links is not phones leaving
      const events = engine.linkLost(bound.keyId, now());
      keys.release(bound.keyId);
      handle(events);
    },
    /** Drop everything known about `keyId` (e.g. the owner revoked it): its links are no longer sampled. */
    forget,
    /** Keys tracked now (with an open link, or a walk-away lock pending). */
    get trackedKeys(): number {
      return keys.size;
    },
    /** No more timers and no more decisions, whatever arrives (shutdown). */
    stop(): void {
      timer.stop();
    },
  };
}

/** A link's key and the RTT its session's handshake measured. */
interface LinkKey {
  readonly keyId: string;
  readonly rttMs: number;
}

/**
 * Which keys `linkProximity` tracks: per key its open links (and their RTT), and the keys whose
 * links all closed while a walk-away lock is pending. Any other key has no engine state.
 */
class TrackedKeys {
  readonly #linkOf = new WeakMap<object, LinkKey>();
  readonly #open = new Map<string, Map<object, number>>();
  readonly #retained = new Set<string>();

  constructor(
    readonly engine: ProximityEngine,
    readonly max: number,
  ) {}

  get size(): number {
    return this.#open.size + this.#retained.size;
  }

  of(link: object): LinkKey | undefined {
    return this.#linkOf.get(link);
  }

  /** Track `link` as `bound.keyId`'s; false when the link is bound already or the cap is reached. */
  bind(link: object, bound: LinkKey): boolean {
    const { keyId } = bound;
    if (this.#linkOf.has(link)) return false;
    if (!this.#open.has(keyId) && !this.#retained.has(keyId) && this.size >= this.max) return false;
    this.#linkOf.set(link, bound);
    this.#retained.delete(keyId);
    this.#open.set(keyId, (this.#open.get(keyId) ?? new Map<object, number>()).set(link, bound.rttMs));
    return true;
  }

  /** The link closed: its key, if it was bound. */
  close(link: object): LinkKey | undefined {
    const bound = this.#linkOf.get(link);
    this.#linkOf.delete(link);
    const links = bound && this.#open.get(bound.keyId);
    links?.delete(link);
    if (bound && links?.size === 0) this.#open.delete(bound.keyId);
    return bound;
  }

  /** The slowest handshake RTT of the key's open links (undefined: none open). */
  slowestRtt(keyId: string): number | undefined {
    const links = this.#open.get(keyId);
    return links && links.size > 0 ? Math.max(...links.values()) : undefined;
  }

  /** A key with no open link: kept while its walk-away lock is pending, else forgotten. */
  release(keyId: string): void {
    if (this.#open.has(keyId)) return;
    if (this.engine.state(keyId)?.lockDueAt !== undefined) this.#retained.add(keyId);
    else this.forget(keyId);
  }

  /** Forget the retained keys whose lock fell due (or was dropped). */
  sweep(): void {
    for (const keyId of this.#retained) this.release(keyId);
  }

  forget(keyId: string): void {
    for (const link of this.#open.get(keyId)?.keys() ?? []) this.#linkOf.delete(link);
    this.#open.delete(keyId);
    this.#retained.delete(keyId);
    this.engine.forget(keyId);
  }
}

/** One timer at the engine's next deadline: a walk-away lock falls due with no new samples. */
class DeadlineTimer {
  #timer: ReturnType<typeof setTimeout> | undefined;
  #stopped = false;

  constructor(
    readonly engine: ProximityEngine,
    readonly now: () => number,
    readonly fire: (events: readonly ProximityEvent[]) => void,
  ) {}

  get stopped(): boolean {
    return this.#stopped;
  }

  schedule(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    const next = this.engine.nextDeadline();
    if (this.#stopped || next === undefined) return;
    this.#timer = setTimeout(
      () => {
        this.#timer = undefined;
        this.fire(this.engine.tick(this.now()));
      },
      Math.max(0, Math.min(60_000, next - this.now() + 1)),
    );
    this.#timer.unref?.();
  }

  stop(): void {
    this.#stopped = true;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
  }
}
