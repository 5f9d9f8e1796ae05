/**
 * Runs a `VehicleSession` over a `Link`: the thin I/O shell around the sans-IO role. Pushes the
 * challenge at once, bounds every wait, runs the actuator for `execute` events, closes the link
 * when the session ends or the phone sends something unacceptable. Never throws for anything
 * the phone does; resolves with a summary.
 */
import { LinkClosedError, ProxkeyError, TimeoutError, AbortedError } from '../errors.js';
import type { Command } from '../protocol/commands.js';
import type { DenyReason } from '../protocol/reasons.js';
import type { KeyRecord, RoleOutput, VehicleEvent } from '../roles/types.js';
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
}

export interface ServeSummary {
  /** The authenticated phone key id, if the handshake succeeded. */
  readonly keyId: string | undefined;
  readonly executed: number;
  readonly denied: number;
  /** Why the session ended. */
  readonly end: 'ok' | DenyReason | 'timeout' | 'link-closed' | 'aborted' | 'rejected-input';
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
    for (const m of o.send) await link.send(m, { signal: options.signal });
    const closing = o.events.find((e) => e.type === 'closed');
    if (closing?.type === 'closed') end = closing.reason;
    if (o.events.some((e) => e.type === 'error')) {
      end = 'rejected-input';
      return true;
    }
    return o.done;
  };

  try {
    let done = await flush(await session.start());
    while (!done) {
      const timeoutMs = session.state === 'challenged' ? handshakeTimeoutMs : idleTimeoutMs;
      const bytes = await link.receive({ timeoutMs, signal: options.signal });
      let o = await session.receive(bytes);
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
    else if (err instanceof AbortedError) end = 'aborted';
    else {
      link.close('internal error');
      throw err;
    }
    if (session.state !== 'closed' && !link.isClosed) {
      // Tell the phone why (authenticated when possible); ignore a dead link.
      const o = await session.close(end === 'timeout' ? 'session-expired' : 'ok');
      emit(o.events);
      for (const m of o.send) await link.send(m).catch(() => undefined);
    }
  } finally {
    if (session.state !== 'closed') emit((await session.close()).events);
    link.close(end === 'ok' ? 'session over' : String(end));
  }
  return { keyId: session.keyId, executed, denied, end };
}

async function runActuator(options: ServeVehicleOptions, command: Command, key: KeyRecord): Promise<ExecutionOutcome> {
  try {
    const r = await withDeadline('actuator', Promise.resolve(options.actuator(command, key)), {
      timeoutMs: options.actuatorTimeoutMs ?? 10_000,
    });
    return r ?? { ok: true };
  } catch (err) {
    if (err instanceof ProxkeyError && err.code === 'ERR_ABORTED') throw err;
    return { ok: false, reason: 'actuator-failed' };
  }
}
