/**
 * Car-side passive entry over real links.
 * Used by `proxkey car serve`; a custom car daemon wires it the same way:
 *
 * ```ts
 * const proximity = linkProximity(new ProximityEngine({ now: () => performance.now() }), {
 *   onDecision: (d) => void car.passiveEntry(d),
 * });
 * const car = await VehicleService.open({ ...options, hooks: proximity.hooks, onEvent: (e, _keyId, link) => proximity.onEvent(e, link) });
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

/**
 * Car-side proximity from connection RSSI. The adapter samples each open link (`onRssi`); a link's
 * samples go to the engine under the key id its session authenticated as. Which link a hook call
 * or event belongs to is passed in: the hooks' `connection` argument and `onEvent`'s `link` (with
 * several phones connected, the key id alone does not say which link is that phone's).
 * Samples taken before the handshake are kept (at most 16) and fed once the key is known. The
 * engine backs `VehicleHooks.proximity`; with no usable RSSI (the emulator) its verdict is
 * `unknown`, which only matters to a policy with `requireProximity`.
 *
 * Passive entry: a link that closes counts as `linkLost` for its key; a timer follows the engine's
 * next deadline (`tick`), so a walk-away lock falls due on time with no new samples. Every
 * decision (walk-away-lock, approach-unlock) goes to `onDecision` (the daemon: `car.passiveEntry`).
 */
export function linkProximity(engine: ProximityEngine, o: { readonly now?: () => number; readonly onDecision?: (d: ProximityDecision) => void } = {}) {
  const now = o.now ?? (() => performance.now());
  const keyOf = new WeakMap<object, string>();
  const early = new WeakMap<object, { rssi: number; at: number }[]>();
  let timer: ReturnType<typeof setTimeout> | undefined;
  let stopped = false;
  const handle = (events: readonly ProximityEvent[]) => {
    for (const e of events) {
      if (e.type === 'zone') continue;
      notifyObserver(() => o.onDecision?.(e));
    }
    schedule();
  };
  const schedule = () => {
    if (timer) clearTimeout(timer);
    timer = undefined;
    const next = engine.nextDeadline();
    if (stopped || next === undefined) return;
    timer = setTimeout(
      () => {
        timer = undefined;
        handle(engine.tick(now()));
      },
      Math.max(0, Math.min(60_000, next - now() + 1)),
    );
    timer.unref?.();
  };
  const bind = (link: object | undefined, keyId: string) => {
    if (!link || keyOf.get(link) === keyId) return;
    keyOf.set(link, keyId);
    const events: ProximityEvent[] = [];
    for (const s of early.get(link) ?? []) events.push(...engine.sample(keyId, s.rssi, s.at));
    early.delete(link);
    handle(events);
  };
  const hooks: VehicleHooks = {
    proximity(keyId: string, connection?: object): ProximityVerdict {
      bind(connection, keyId);
      return engine.verdict(keyId);
    },
  };
  return {
    engine,
    hooks,
    /** For `VehicleService`'s `onEvent` (`(e, keyId, link) => proximity.onEvent(e, link)`): learns the link's key id at authentication. */
    onEvent(e: VehicleEvent, link?: object): void {
      if (e.type === 'authenticated') bind(link, e.keyId);
    },
    /** For `startCarPeripheral`'s `onRssi`. */
    onRssi(link: object, rssi: number): void {
      if (stopped) return;
      const at = now();
      const keyId = keyOf.get(link);
      if (keyId !== undefined) return handle(engine.sample(keyId, rssi, at));
      const kept = early.get(link) ?? [];
      kept.push({ rssi, at });
      if (kept.length > 16) kept.shift();
      early.set(link, kept);
    },
    /** The link closed (the phone left, or the radio dropped it): `linkLost` for its key. */
    onClose(link: object): void {
      const keyId = keyOf.get(link);
      early.delete(link);
      if (stopped) return; // shutting down: closing links is not phones leaving
      if (keyId !== undefined) handle(engine.linkLost(keyId, now()));
    },
    /** No more timers (shutdown). */
    stop(): void {
      stopped = true;
      if (timer) clearTimeout(timer);
      timer = undefined;
    },
  };
}
