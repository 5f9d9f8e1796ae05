/**
 * Runs a `VehicleSession` over a `Link`: the thin I/O shell around the sans-IO role. Pushes the
 * challenge at once, bounds every wait, runs the actuator (serialised, bounded) or the admin
 * handler for `execute` events, closes the link when the session ends or the phone sends
 * something unacceptable.
 *
 * Never rejects — whatever the phone, the link or the application's callbacks do — and resolves
 * with a summary: an unexpected failure ends the session with an authenticated
 * CLOSE(`internal-error`) when a channel exists.
 */
import { LinkClosedError, ProxkeyError, TimeoutError, AbortedError } from '../errors.js';
import { isAdminCommand, type Command } from '../protocol/commands.js';
import type { DenyReason } from '../protocol/reasons.js';
import { isPairingType } from '../protocol/pairing.js';
import type { KeyRecord, PairingVehicleEvent, RoleOutput, VehicleEvent } from '../roles/types.js';
import { serveVehiclePairing, type VehiclePairingHooks } from './pairing-driver.js';
import { VehicleSession, type ExecutionOutcome, type VehicleSessionOptions } from '../roles/vehicle-session.js';
import { runActuator, type ActuationLock, type Actuator } from './actuation.js';
import type { Link } from './link.js';

export { runActuator, ActuationLock, type Actuator, type ActuatorContext } from './actuation.js';

/** Handles administrative commands (`list-keys`, `revoke`, `advertising-secret`): not physical, not time-bounded like the actuator. */
export type AdminHandler = (command: Command, key: KeyRecord) => Promise<ExecutionOutcome>;

export interface ServeVehicleOptions extends VehicleSessionOptions {
  readonly actuator: Actuator;
  /** Administrative commands; without it they are `unsupported`. */
  readonly admin?: AdminHandler;
  /** One physical action at a time: share one lock between every session of a car. */
  readonly actuationLock?: ActuationLock;
  /** Max wait for the actuation lock before `busy`. Default 3 000 ms. */
  readonly actuationWaitMs?: number;
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
   * The session ends between steps: a command in flight completes and its RESULT is sent, then
   * an authenticated CLOSE with that reason.
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

type End = ServeSummary['end'];

/** The state one served connection carries through the loop. */
class Served {
  executed = 0;
  denied = 0;
  end: End = 'ok';
  /** Set when the session is ended from outside (revocation): honoured between steps. */
  endedBy: DenyReason | undefined;
  dispose: (() => void) | void = undefined;
  readonly session: VehicleSession;
  /** Aborts the wait for the phone's next message (outer signal or an end from outside). */
  readonly receiveControl = new AbortController();

  constructor(
    readonly link: Link,
    readonly options: ServeVehicleOptions,
  ) {
    this.session = new VehicleSession(options);
  }

  emit(events: readonly VehicleEvent[]): void {
    for (const e of events) {
      if (e.type === 'decision' && e.result === 'ok') this.executed++;
      else if (e.type === 'decision') this.denied++;
      try {
        this.options.onEvent?.(e);
      } catch {
        /* observers must not break the car */
      }
    }
  }

  /** Report the step's events and send its messages; true when the session must end. */
  async deliver(o: RoleOutput<VehicleEvent>): Promise<boolean> {
    this.emit(o.events);
    for (const m of o.send) await this.link.send(m, { signal: this.options.signal });
    const closing = o.events.find((e) => e.type === 'closed');
    if (closing?.type === 'closed') this.end = closing.reason;
    if (o.events.some((e) => e.type === 'error')) {
      this.end = 'rejected-input';
      return true;
    }
    return o.done;
  }

  /** End from outside: wakes a waiting receive; a step in flight finishes first. */
  endFromOutside(reason: DenyReason): void {
    this.endedBy ??= reason;
    this.receiveControl.abort(reason);
  }

  /** Close the role (authenticated CLOSE when a channel exists) and send it if the link is up. */
  async closeSession(reason: 'ok' | DenyReason): Promise<void> {
    if (this.session.state === 'closed') return;
    try {
      const o = await this.session.close(reason);
      this.emit(o.events);
      if (!this.link.isClosed) for (const m of o.send) await this.link.send(m).catch(() => undefined);
    } catch {
      /* a role that cannot even close has nothing left to send */
    }
  }
}

export async function serveVehicleSession(link: Link, options: ServeVehicleOptions): Promise<ServeSummary> {
  const s = new Served(link, options);
  const onOuterAbort = () => s.receiveControl.abort(options.signal?.reason);
  options.signal?.addEventListener('abort', onOuterAbort, { once: true });
  if (options.signal?.aborted) onOuterAbort();
  try {
    await runLoop(s);
  } catch (err) {
    s.end = endFor(err, s.endedBy);
    if (s.end === 'internal-error') reportInternal(s, err);
    const reason: 'ok' | DenyReason = s.end === 'timeout' ? 'session-expired' : s.end === 'internal-error' ? 'internal-error' : (s.endedBy ?? 'ok');
    await s.closeSession(reason);
  } finally {
    options.signal?.removeEventListener('abort', onOuterAbort);
    try {
      s.dispose?.();
    } catch {
      /* the integrator's disposer must not break the car */
    }
    await s.closeSession(s.endedBy ?? 'ok');
    link.close(s.end === 'ok' ? 'session over' : String(s.end));
  }
  return { keyId: s.session.keyId, executed: s.executed, denied: s.denied, end: s.end };
}

/** The straight loop: challenge, then one message → one step (→ one execution) at a time. */
async function runLoop(s: Served): Promise<void> {
  const { link, options, session } = s;
  const handshakeTimeoutMs = options.handshakeTimeoutMs ?? 5_000;
  const idleTimeoutMs = options.idleTimeoutMs ?? 30_000;
  const startOut = await session.start();
  const challenge = startOut.send[0]!;
  let done = await s.deliver(startOut);
  while (!done) {
    if (s.endedBy) throw new AbortedError('session', s.endedBy);
    const timeoutMs = session.state === 'challenged' ? handshakeTimeoutMs : idleTimeoutMs;
    const bytes = await link.receive({ timeoutMs, signal: s.receiveControl.signal });
    const arrivedAt = options.now();
    if (session.state === 'challenged' && isPairingType(bytes[0])) {
      const r = await serveVehiclePairing(link, options, challenge, bytes, options.pairing, {
        signal: s.receiveControl.signal,
        ...(options.onPairingEvent && { onEvent: options.onPairingEvent }),
      });
      s.end = r.paired ? 'paired' : 'rejected-input';
      return;
    }
    // Stamped on arrival: the relay RTT never includes the car's own crypto or other sessions' work.
    let o = await session.receive(bytes, arrivedAt);
    if (!s.dispose && session.keyId && o.events.some((e) => e.type === 'authenticated'))
      s.dispose = options.onSession?.(session.keyId, (reason) => s.endFromOutside(reason));
    done = await s.deliver(o);
    const exec = o.events.find((e) => e.type === 'execute');
    if (!done && exec?.type === 'execute') {
      o = await session.complete(await execute(s, exec.command, exec.key));
      done = await s.deliver(o);
    }
  }
}

/** Admin commands go to the admin handler (no actuator bound, no lock); the rest to the actuator. */
async function execute(s: Served, command: Command, key: KeyRecord): Promise<ExecutionOutcome> {
  const { options } = s;
  if (isAdminCommand(command)) {
    if (!options.admin) return { ok: false, reason: 'unsupported' };
    try {
      return await options.admin(command, key);
    } catch {
      return { ok: false, reason: 'internal-error' };
    }
  }
  return runActuator(
    {
      actuator: options.actuator,
      ...(options.actuatorTimeoutMs !== undefined && { actuatorTimeoutMs: options.actuatorTimeoutMs }),
      ...(options.actuationLock && { lock: options.actuationLock }),
      ...(options.actuationWaitMs !== undefined && { actuationWaitMs: options.actuationWaitMs }),
      // The command may have waited for the lock: a revocation meanwhile (or any end from
      // outside) means it is not driven.
      stillAllowed: async () => s.endedBy ?? (await stillEnrolled(options, key)),
    },
    command,
    key,
  );
}

/** `revoked` unless the key directory still holds this key, not revoked. */
async function stillEnrolled(options: ServeVehicleOptions, key: KeyRecord): Promise<DenyReason | undefined> {
  const now = await options.keys.findKey(key.publicKey);
  return now && !now.revoked ? undefined : 'revoked';
}

function endFor(err: unknown, endedBy: DenyReason | undefined): End {
  if (err instanceof TimeoutError) return 'timeout';
  if (err instanceof LinkClosedError) return 'link-closed';
  if (err instanceof AbortedError) return endedBy ?? 'aborted';
  return 'internal-error';
}

/** An unexpected failure (a bug, a failing callback): reported as an `error` event, never thrown. */
function reportInternal(s: Served, err: unknown): void {
  const error =
    err instanceof ProxkeyError
      ? err
      : new ProxkeyError('ERR_INTERNAL', `vehicle session: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  s.emit([{ type: 'error', error }]);
}
