/**
 * Runs the car's side of one connection (`VehicleConnection`: a session, or owner pairing) over
 * a `Link`: the thin I/O shell around the sans-IO roles. A straight loop — send what the role
 * produced; answer its request (key directory, policy and hooks, actuator or admin handler,
 * enrollment), or wait for the phone's next message until the role's own deadline — until the
 * role is done.
 *
 * Never rejects — whatever the phone, the link or the application's callbacks do — and resolves
 * with a summary: an unexpected failure ends the session with an authenticated
 * CLOSE(`internal-error`) when a channel exists.
 */
import { waitMsUntil } from './deadline.js';
import type { Clock } from '../crypto/provider.js';
import { AbortedError, LinkClosedError, TimeoutError, asProxkeyError, notifyObserver } from '../errors.js';
import type { KeyDirectory, KeyRecord } from '../keys/key-record.js';
import type { Policy, VehicleHooks } from '../policy/types.js';
import { isAdminCommand, type Command } from '../protocol/commands.js';
import type { CarInfo, PhoneInfo } from '../protocol/pairing.js';
import type { DenyReason } from '../protocol/reasons.js';
import type { PairingAuthority, PairingVehicleEvent, VehicleSessionEvent } from '../roles/types.js';
import {
  VehicleConnection,
  type VehicleConnectionAnswer,
  type VehicleConnectionEvent,
  type VehicleConnectionOutput,
  type VehicleConnectionRequest,
} from '../roles/vehicle-connection.js';
import type { ExecutionOutcome } from '../roles/vehicle-requests.js';
import type { VehicleSessionOptions } from '../roles/vehicle-session.js';
import { runActuator, type ActuationLock, type Actuator } from './actuation.js';
import type { Link } from './link.js';
import { VehicleAnswerer } from './vehicle-answers.js';
import { stampedEvent, type VehicleEvent } from './vehicle-event.js';

export { runActuator, ActuationLock, type Actuator, type ActuatorContext } from './actuation.js';

/** Handles administrative commands (`list-keys`, `revoke`, `advertising-secret`): not physical, not time-bounded like the actuator. */
export type AdminHandler = (command: Command, key: KeyRecord) => Promise<ExecutionOutcome>;

/** Owner pairing, for a phone that answers the challenge with PAIR_START. */
export interface VehiclePairingHooks {
  /** The active pairing mode, if any (undefined ⇒ the phone is told pairing is closed). */
  authority(): PairingAuthority | undefined;
  /**
   * Enroll the confirmed phone as owner — durably — and return what the phone must store, or
   * the reason it cannot be enrolled (a throw counts as `internal-error`).
   */
  enrollOwner(phone: PhoneInfo): Promise<CarInfo | DenyReason>;
  /** Bound on each wait for the phone (it runs scrypt between messages). Default 30 000 ms. */
  readonly stepTimeoutMs?: number;
}

/** Options of `serveVehicleSession`: the vehicle role's, plus the car's clocks, key directory, policy, hooks, actuator, admin handler, pairing and observers. */
export interface ServeVehicleOptions extends VehicleSessionOptions {
  /** The car's trusted time (ms since the Unix epoch): policy, grant windows, audit (`at`). */
  readonly now: Clock;
  /**
   * A clock that never jumps (ms), for the roles' steps: handshake/idle/pairing deadlines, the
   * relay RTT, session ages — so a wall clock that steps back cannot stretch them. Default
   * `performance.now`.
   */
  readonly monotonic?: Clock;
  readonly keys: KeyDirectory;
  readonly policy: Policy;
  readonly hooks?: VehicleHooks;
  readonly actuator: Actuator;
  /** Administrative commands; without it they are `unsupported`. */
  readonly admin?: AdminHandler;
  /** One physical action at a time: share one lock between every session of a car. */
  readonly actuationLock?: ActuationLock;
  /** Max wait for the actuation lock before `busy`. Default 3 000 ms. */
  readonly actuationWaitMs?: number;
  /** Max time the actuator may take. Default 10 000 ms (then `actuator-failed`). */
  readonly actuatorTimeoutMs?: number;
  readonly signal?: AbortSignal;
  /** Identifies this connection to the hooks (`VehicleHooks`). Default: the link. */
  readonly connection?: object;
  /** Every event (for audit logs and UIs). Exceptions thrown here are ignored. */
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

/** How one served connection ended: the key, commands executed and denied, and why it ended. */
export interface ServeSummary {
  /** The authenticated phone key id, if the handshake succeeded. */
  readonly keyId: string | undefined;
  readonly executed: number;
  readonly denied: number;
  /** Why the session ended. */
  readonly end: 'ok' | DenyReason | 'timeout' | 'link-closed' | 'aborted' | 'rejected-input' | 'paired';
}

type End = ServeSummary['end'];

/** Bound on a wait with no deadline of the role's own (defensive: every role state in the loop has one). */
const FALLBACK_WAIT_MS = 30_000;

/** The state one served connection carries through the loop. */
class Served {
  executed = 0;
  denied = 0;
  end: End = 'ok';
  paired = false;
  /** The role's deadline passed (the summary says `timeout`). */
  timedOut = false;
  /**
   * A sealed record did not leave (its send failed or was aborted): it used its nonce, so any
   * later record would not decrypt on the phone — nothing more is sent on this link.
   */
  sendFailed = false;
  /** Set when the session is ended from outside (revocation): honoured between steps. */
  endedBy: DenyReason | undefined;
  dispose: (() => void) | undefined = undefined;
  readonly connection: VehicleConnection;
  readonly answerer: VehicleAnswerer;
  /** The roles' time (monotonic). */
  readonly stepTime: Clock;
  /** Aborts the wait for the phone's next message (outer signal or an end from outside). */
  readonly receiveControl = new AbortController();

  constructor(
    readonly link: Link,
    readonly options: ServeVehicleOptions,
  ) {
    this.stepTime = options.monotonic ?? (() => performance.now());
    this.connection = new VehicleConnection({
      ...options,
      pairingAuthority: () => options.pairing?.authority(),
      ...(options.pairing?.stepTimeoutMs !== undefined && { pairingStepTimeoutMs: options.pairing.stepTimeoutMs }),
    });
    this.answerer = new VehicleAnswerer({
      keys: options.keys,
      policy: options.policy,
      ...(options.hooks && { hooks: options.hooks }),
      connection: options.connection ?? link,
      onEnrolled: (key) => this.emit([{ type: 'enrolled', key }]),
    });
  }

  /** The role's events, decisions stamped with the car's trusted time. */
  emitRole(events: readonly VehicleSessionEvent[]): void {
    const at = this.options.now();
    this.emit(events.map((e) => stampedEvent(e, at)));
  }

  emit(events: readonly VehicleEvent[]): void {
    for (const e of events) {
      if (e.type === 'decision' && e.result === 'ok') this.executed++;
      else if (e.type === 'decision') this.denied++;
      if (e.type === 'authenticated') this.#sessionAuthenticated(e.keyId);
      notifyObserver(() => this.options.onEvent?.(e));
    }
  }

  #sessionAuthenticated(keyId: string): void {
    if (!this.dispose) this.dispose = this.options.onSession?.(keyId, (reason) => this.endFromOutside(reason)) ?? undefined;
  }

  /** Report the step's events and send its messages; true when the connection must end. */
  async deliver(o: VehicleConnectionOutput): Promise<boolean> {
    if (this.connection.mode === 'pairing') {
      for (const e of o.events.filter(isPairingEvent)) notifyObserver(() => this.options.onPairingEvent?.(e));
      if (o.events.some((e) => e.type === 'paired')) this.paired = true;
    } else this.emitRole(o.events.filter(isSessionEvent));
    for (const m of o.send) await this.#send(m, this.options.signal);
    const closing = o.events.find((e) => e.type === 'closed');
    if (closing?.type === 'closed') this.end = closing.reason;
    if (this.connection.mode === 'pairing' && o.done) this.end = this.paired ? 'paired' : 'rejected-input';
    const rejected = o.events.some((e) => e.type === 'error');
    if (rejected) this.end = 'rejected-input';
    if (this.timedOut) this.end = 'timeout';
    return rejected || o.done;
  }

  /** The role's next input: the answer to its request, or the phone's next message (or its deadline). */
  async next(request: VehicleConnectionRequest | undefined): Promise<VehicleConnectionOutput> {
    const { connection } = this;
    if (request) return connection.answer(await this.#answer(request), this.stepTime());
    const deadline = connection.nextDeadline();
    const timeoutMs = waitMsUntil(deadline, this.stepTime(), Infinity, FALLBACK_WAIT_MS);
    let bytes: Uint8Array;
    try {
      bytes = await this.link.receive({ timeoutMs, signal: this.receiveControl.signal });
    } catch (err) {
      if (!(err instanceof TimeoutError)) throw err;
      const o = await connection.tick(this.stepTime());
      this.timedOut = o.done;
      return o;
    }
    // Stamped on arrival: the relay RTT never includes the car's own crypto or other sessions' work.
    return connection.receive(bytes, this.stepTime());
  }

  async #answer(request: VehicleConnectionRequest): Promise<VehicleConnectionAnswer> {
    const now = this.options.now();
    switch (request.type) {
      case 'find-key':
      case 'redeem-grant':
      case 'authorize':
        return this.answerer.answer(request, now);
      case 'execute':
        return { type: 'execute', outcome: await execute(this, request.command) };
      case 'enroll-owner':
        return { type: 'enroll-owner', result: await enrollOwner(this.options, request.phone) };
    }
  }

  async #send(message: Uint8Array, signal: AbortSignal | undefined): Promise<void> {
    try {
      await this.link.send(message, { signal });
    } catch (err) {
      this.sendFailed = true;
      throw err;
    }
  }

  /** End from outside: wakes a waiting receive; a step in flight finishes first. */
  endFromOutside(reason: DenyReason): void {
    this.endedBy ??= reason;
    this.receiveControl.abort(reason);
  }

  /** Close the role (authenticated CLOSE when a channel exists) and send it if the link is up. */
  async closeConnection(reason: 'ok' | DenyReason): Promise<void> {
    if (this.connection.closed) return;
    try {
      const o = await this.connection.close(reason, this.stepTime());
      if (this.connection.mode === 'session') this.emitRole(o.events.filter(isSessionEvent));
      if (!this.link.isClosed && !this.sendFailed) for (const m of o.send) await this.#send(m, undefined).catch(() => undefined);
    } catch {
      /* a role that cannot even close has nothing left to send */
    }
  }
}

/** Serve one connected, subscribed phone until its session (or pairing) ends. Never rejects. */
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
    // A send that timed out (the radio stalled) ends the session as expired; a bug as internal-error.
    await s.closeConnection(s.end === 'internal-error' ? 'internal-error' : s.end === 'timeout' ? 'session-expired' : (s.endedBy ?? 'ok'));
  } finally {
    options.signal?.removeEventListener('abort', onOuterAbort);
    notifyObserver(() => s.dispose?.());
    // After input the role rejected (it sent ALERT), a channel's CLOSE says why, authenticated.
    await s.closeConnection(s.endedBy ?? (s.end === 'rejected-input' ? 'malformed' : 'ok'));
    link.close(s.end === 'ok' ? 'session over' : String(s.end));
  }
  return { keyId: s.connection.keyId, executed: s.executed, denied: s.denied, end: s.end };
}

/** The straight loop: one output → send it → its request answered, or the next message → … */
async function runLoop(s: Served): Promise<void> {
  let o = await s.connection.start(s.stepTime());
  while (!(await s.deliver(o))) {
    if (s.endedBy && !o.request) throw new AbortedError('session', s.endedBy);
    o = await s.next(o.request);
  }
}

/** Admin commands go to the admin handler (no actuator bound, no lock); the rest to the actuator. */
async function execute(s: Served, command: Command): Promise<ExecutionOutcome> {
  const { options, answerer } = s;
  const key = answerer.key;
  if (!key) return { ok: false, reason: 'internal-error' };
  // Right before acting (a physical command: once it holds the lock): a revocation, an end from
  // outside (the car shutting down), an aborted connection or a closed link (nobody will read the
  // RESULT: the phone walked away) since the key was looked up — say, while it waited or an async
  // policy ran — means it is not done. The end is checked before and after the key's re-check (an
  // end during it still counts, and is answered as such even when the re-check fails).
  const ended = (): DenyReason | undefined => s.endedBy ?? (options.signal?.aborted || s.link.isClosed ? 'session-expired' : undefined);
  if (s.endedBy) return { ok: false, reason: s.endedBy }; // ended from outside: not even a wait for the lock
  const stillAllowed = async (): Promise<DenyReason | undefined> => {
    if (ended()) return ended();
    const enrolled = await answerer.stillEnrolled(key).catch((): DenyReason => 'internal-error');
    return ended() ?? enrolled;
  };
  if (isAdminCommand(command)) {
    if (!options.admin) return { ok: false, reason: 'unsupported' };
    const denied = await stillAllowed();
    if (denied) return { ok: false, reason: denied };
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
      stillAllowed,
    },
    command,
    key,
  );
}

/** The pairing hooks' enrollment; no hooks or a throw is `internal-error`. */
async function enrollOwner(options: ServeVehicleOptions, phone: PhoneInfo): Promise<CarInfo | DenyReason> {
  if (!options.pairing) return 'internal-error';
  try {
    return await options.pairing.enrollOwner(phone);
  } catch {
    return 'internal-error';
  }
}

function endFor(err: unknown, endedBy: DenyReason | undefined): End {
  if (err instanceof TimeoutError) return 'timeout';
  if (err instanceof LinkClosedError) return 'link-closed';
  if (err instanceof AbortedError) return endedBy ?? 'aborted';
  return 'internal-error';
}

const isSessionEvent = (e: VehicleConnectionEvent): e is VehicleSessionEvent => e.type !== 'paired';
const isPairingEvent = (e: VehicleConnectionEvent): e is PairingVehicleEvent => e.type === 'paired' || e.type === 'error' || e.type === 'closed';

/** An unexpected failure (a bug, a failing callback): reported as an `error` event, never thrown. */
function reportInternal(s: Served, err: unknown): void {
  s.emit([{ type: 'error', error: asProxkeyError(err, 'vehicle session') }]);
}
