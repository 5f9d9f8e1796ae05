/**
 * Runs a `VehicleSession` over a `Link`: the thin I/O shell around the sans-IO role. Pushes the
 * challenge at once, bounds every wait, runs the actuator for `execute` events, closes the link
 * when the session ends or the phone sends something unacceptable. Never throws for anything
 * the phone does; resolves with a summary.
 */
import { LinkClosedError, ProxkeyError, TimeoutError, AbortedError } from '../errors.js';
import type { Command } from '../protocol/commands.js';
import type { DenyReason } from '../protocol/reasons.js';
import { isPairingType } from '../protocol/pairing.js';
import type { KeyRecord, PairingVehicleEvent, RoleOutput, VehicleEvent } from '../roles/types.js';
import { serveVehiclePairing, type VehiclePairingHooks } from './pairing-driver.js';
import { VehicleSession, type ExecutionOutcome, type VehicleSessionOptions } from '../roles/vehicle-session.js';
import { withDeadline } from './deadline.js';
import type { Link } from './link.js';

/** Executes an authorized command (drives relays, runs a script...). Throwing means `actuator-failed`. */
export type Actuator = (command: Command, key: KeyRecord) => Promise<ExecutionOutcome | void> | ExecutionOutcome | void;

export interface ServeVehicleOptions extends VehicleSessionOptions {
  readonly actuator: Actuator;
  /** Max wait for the phone's handshake after the challenge. Default 5 000 ms. */
  readonly handshakeTimeoutMs?: number;
  /** Max idle time between commands on an open session. Default 30 000 ms. */
  readonly idleTimeoutMs?: number;
  /** Max time the actuator may take. Default 10 000 ms (then `actuator-failed`). */
  readonly actuatorTimeoutMs?: number;
  readonly signal?: AbortSignal;
  /** Every role event (for audit logs and UIs). Exceptions thrown here are ignored. */
  readonly onEvent?: (event: VehicleEvent) => void;
  /** Owner pairing: consulted when a phone answers the challenge with PAIR_START. */
  readonly pairing?: VehiclePairingHooks;
  readonly onPairingEvent?: (event: PairingVehicleEvent) => void;
  /**
   * Called once the phone is authenticated, with a function that ends this session from outside
   * (e.g. its key was just revoked). May return a disposer, called when the session ends.
   */
  readonly onSession?: (keyId: string, end: (reason: DenyReason) => void) => (() => void) | void;
}

export interface ServeSummary {
  /** The authenticated phone key id, if the handshake succeeded. */
  readonly keyId: string | undefined;
  readonly executed: number;
  readonly denied: number;
  /** Why the session ended. */
  readonly end: 'ok' | DenyReason | 'timeout' | 'link-closed' | 'aborted' | 'rejected-input' | 'paired';
}

export async function serveVehicleSession(link: Link, options: ServeVehicleOptions): Promise<ServeSummary> {
  const session = new VehicleSession(options);
  const handshakeTimeoutMs = options.handshakeTimeoutMs ?? 5_000;
  const idleTimeoutMs = options.idleTimeoutMs ?? 30_000;
  let executed = 0;
  let denied = 0;
  let end: ServeSummary['end'] = 'ok';

  const emit = (events: VehicleEvent[]) => {
    for (const e of events) {
      if (e.type === 'decision') e.result === 'ok' ? executed++ : denied++;
      try {
        options.onEvent?.(e);
      } catch {
        /* observers must not break the car */
      }
    }
  };
  /** Send and report; true when the session must end. */
  const flush = async (o: RoleOutput<VehicleEvent>): Promise<boolean> => {
    emit(o.events);
    for (const m of o.send) await link.send(m, { signal });
    const closing = o.events.find((e) => e.type === 'closed');
    if (closing?.type === 'closed') end = closing.reason;
    if (o.events.some((e) => e.type === 'error')) {
      end = 'rejected-input';
      return true;
    }
    return o.done;
  };

  // One controller for the caller's signal and for ending the session from outside.
  const control = new AbortController();
  const onOuterAbort = () => control.abort(options.signal?.reason);
  options.signal?.addEventListener('abort', onOuterAbort, { once: true });
  if (options.signal?.aborted) control.abort(options.signal.reason);
  const signal = control.signal;
  let dispose: (() => void) | void = undefined;
  let endedBy: DenyReason | undefined;

  try {
    const startOut = await session.start();
    const challenge = startOut.send[0]!;
    let done = await flush(startOut);
    while (!done) {
      const timeoutMs = session.state === 'challenged' ? handshakeTimeoutMs : idleTimeoutMs;
      const bytes = await link.receive({ timeoutMs, signal });
      if (session.state === 'challenged' && isPairingType(bytes[0])) {
        const r = await serveVehiclePairing(link, options, challenge, bytes, options.pairing, { signal, ...(options.onPairingEvent && { onEvent: options.onPairingEvent }) });
        end = r.paired ? 'paired' : 'rejected-input';
        break;
      }
      let o = await session.receive(bytes);
      if (!dispose && session.keyId && o.events.some((e) => e.type === 'authenticated'))
        dispose = options.onSession?.(session.keyId, (reason) => {
          endedBy = reason;
          control.abort(reason);
        });
      done = await flush(o);
      const exec = o.events.find((e) => e.type === 'execute');
      if (!done && exec?.type === 'execute') {
        o = await session.complete(await runActuator(options, exec.command, exec.key));
        done = await flush(o);
      }
    }
  } catch (err) {
    if (err instanceof TimeoutError) end = 'timeout';
    else if (err instanceof LinkClosedError) end = 'link-closed';
    else if (err instanceof AbortedError) end = endedBy ?? 'aborted';
    else {
      link.close('internal error');
      throw err;
    }
    if (session.state !== 'closed' && !link.isClosed) {
      // Tell the phone why (authenticated when possible); ignore a dead link.
      const o = await session.close(end === 'timeout' ? 'session-expired' : (endedBy ?? 'ok'));
      emit(o.events);
      for (const m of o.send) await link.send(m).catch(() => undefined);
    }
  } finally {
    options.signal?.removeEventListener('abort', onOuterAbort);
    dispose?.();
    if (session.state !== 'closed') {
      // Wipe the session; tell the phone (authenticated) when the link is still up.
      const o = await session.close(endedBy ?? 'ok');
      emit(o.events);
      if (!link.isClosed) for (const m of o.send) await link.send(m).catch(() => undefined);
    }
    link.close(end === 'ok' ? 'session over' : String(end));
  }
  return { keyId: session.keyId, executed, denied, end };
}

/**
 * Run the actuator, bounded by `actuatorTimeoutMs` (default 10 s): a throw or a timeout is
 * `actuator-failed`, never an escape (an abort still propagates).
 */
export async function runActuator(options: Pick<ServeVehicleOptions, 'actuator' | 'actuatorTimeoutMs'>, command: Command, key: KeyRecord): Promise<ExecutionOutcome> {
  try {
    const r = await withDeadline('actuator', Promise.resolve().then(() => options.actuator(command, key)), {
      timeoutMs: options.actuatorTimeoutMs ?? 10_000,
    });
    return r ?? { ok: true };
  } catch (err) {
    if (err instanceof ProxkeyError && err.code === 'ERR_ABORTED') throw err;
    return { ok: false, reason: 'actuator-failed' };
  }
}
