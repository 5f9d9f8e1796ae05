/**
 * Runs a `PhoneSession` over a `Link`: waits (bounded) for the car's challenge, sends the
 * handshake carrying the first command, and returns its authenticated result — one round trip.
 * The returned `PhoneConnection` sends further commands on the same session.
 *
 * The driver is a straight loop over the role: read the car's next message (the wait armed at the
 * role's `nextDeadline()`), feed it with its arrival time, report events, send what the role
 * produced; when the wait runs out, `tick` lets the role end the session. Every await is bounded
 * (`timeoutMs`, `signal`). Failures say whether the command may have run (`mayHaveSucceeded`).
 */
import { LinkClosedError, LocalError, markedIoFailure, RemoteError, TimeoutError, notifyObserver } from '../errors.js';
import type { Command, CommandInput } from '../protocol/commands.js';
import { deniedError, type DenyReason } from '../protocol/reasons.js';
import { PHONE_ANSWER_TIMEOUT_MS, PhoneSession, type CommandOptions, type PhoneSessionOptions } from '../roles/phone-session.js';
import type { PhoneEvent, RoleOutput } from '../roles/types.js';
import { withDeadline, waitMsUntil } from './deadline.js';
import type { Link } from './link.js';

/** Options of `openPhoneSession`: the phone role's, bounds, a signal and an event observer. */
export interface PhoneConnectOptions extends PhoneSessionOptions {
  /** Bound for the challenge and each send (and each result unless `resultTimeoutMs` is given). Default 5 000 ms; results 15 000 ms. */
  readonly timeoutMs?: number;
  readonly signal?: AbortSignal;
  readonly onEvent?: (event: PhoneEvent) => void;
}

/** The car's authenticated answer to a command. Denials are results, not exceptions. */
export interface CommandResult {
  readonly command: Command;
  readonly ok: boolean;
  /** `ok`, or why the car refused (`REASONS[status].retry` says what the user can do). */
  readonly status: 'ok' | DenyReason;
  readonly data: Uint8Array;
  /** ms from sending the command to the result's arrival (phone clock). */
  readonly elapsedMs: number;
}

type Output = RoleOutput<PhoneEvent>;

/** An open phone session over a link: further commands (`send`), the car's close (`awaitClose`), `close()`. */
export class PhoneConnection {
  #closed = false;
  /** The call reading the link now (`send`, `awaitClose`, `awaitResult`), if any. */
  #busy: string | undefined;
  #closeReason: 'ok' | DenyReason | undefined;
  /** When the message carrying the command in flight was handed to the link (`options.now` clock). */
  #commandSentAt = 0;
  readonly #timeoutMs: number;
  constructor(
    private readonly link: Link,
    private readonly session: PhoneSession,
    private readonly options: PhoneConnectOptions,
  ) {
    this.#timeoutMs = options.timeoutMs ?? PHONE_ANSWER_TIMEOUT_MS;
  }

  /** The reason in the car's authenticated CLOSE, once one was received. */
  get closeReason(): 'ok' | DenyReason | undefined {
    return this.#closeReason;
  }

  /**
   * Wait until the car ends the session (e.g. after a revocation it sends CLOSE(`revoked`)) and
   * return its authenticated reason; `undefined` when the link closed without one.
   * @throws `TimeoutError` when nothing came within `timeoutMs`; a `RemoteError` for bad input.
   */
  async awaitClose(options: { readonly timeoutMs?: number } = {}): Promise<'ok' | DenyReason | undefined> {
    this.#enter('awaitClose');
    try {
      if (this.session.state !== 'closed') await this.#drive((o) => (o.done ? true : undefined), options.timeoutMs ?? this.#timeoutMs);
    } catch (err) {
      if (!(err instanceof LinkClosedError)) throw err;
    } finally {
      this.#busy = undefined;
      await this.close();
    }
    return this.#closeReason;
  }

  /** The session is still usable for commands. */
  get isOpen(): boolean {
    return !this.#closed && this.session.state === 'ready' && !this.link.isClosed;
  }

  /**
   * Send a further command on this session and await its authenticated result.
   * @throws `LocalError('ERR_INVALID_STATE')` when the connection is closed, or while another `send` or
   *   `awaitClose` is in flight (nothing sent, the session intact); I/O errors as `openPhoneSession`.
   */
  async send(command: CommandInput, options: CommandOptions = {}): Promise<CommandResult> {
    if (!this.isOpen) throw new LocalError('ERR_INVALID_STATE', 'phone connection is closed');
    return this.#exchange(() => this.session.command(command, options, this.options.now()), 'send');
  }

  /** Close the session (authenticated close) and the link. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    try {
      await this.#readDelivered();
      if (this.session.state !== 'closed' && !this.link.isClosed) await this.#apply(await this.session.close(), false);
    } catch {
      /* the link may already be gone */
    } finally {
      this.link.close('phone closed');
    }
  }

  /**
   * Read what the car already delivered (without waiting): when it is the car's CLOSE (after a
   * denial that ends the session), the session is over and the phone sends nothing after it (§6).
   */
  async #readDelivered(): Promise<void> {
    // Also after the link closed: what the car sent before it hung up is still there to read.
    while (this.session.state !== 'closed') {
      let bytes: Uint8Array;
      try {
        bytes = await this.link.receive({ timeoutMs: 0 });
      } catch {
        return; // nothing delivered (or the link is gone)
      }
      const o = await this.session.receive(bytes, this.options.now());
      this.#report(o, true);
      if (o.events.some((e) => e.type === 'error')) return; // garbage: just close
    }
  }

  /** @internal Await the result of the command in flight (the first one: after `begin`). */
  awaitResult(): Promise<CommandResult> {
    return this.#exchange(undefined, 'awaitResult');
  }

  /**
   * One reader at a time: a `send` or `awaitClose` while another is in flight would take its
   * RESULT (the first then times out, told the command did not run). Refused, the session intact.
   */
  #enter(what: string): void {
    if (this.#busy)
      throw new LocalError('ERR_INVALID_STATE', `phone connection: ${what}() while ${this.#busy}() is in flight: await it first (one command at a time)`);
    this.#busy = what;
  }

  /** One command's round trip: `start` sends it (none for the first: it rides in the handshake). */
  async #exchange(start: (() => Promise<Output>) | undefined, what: string): Promise<CommandResult> {
    this.#enter(what);
    try {
      if (start) await this.#apply(await start(), false);
      return await this.#drive((o, at) => this.#resultOf(o, at), this.session.longestWaitMs);
    } catch (err) {
      await this.close();
      throw err;
    } finally {
      this.#busy = undefined;
    }
  }

  /** The loop: next output of the role, applied, until `settle` picks a value; an `error` event throws. */
  async #drive<T>(settle: (o: Output, at: number) => T | undefined, idleWaitMs: number): Promise<T> {
    for (;;) {
      const { output, fromCar, at } = await this.#next(idleWaitMs);
      const error = output.events.find((e) => e.type === 'error');
      if (error?.type === 'error') {
        // The role's own error says what happened (a timeout after sending: the command may have
        // run); sending its CLOSE is best effort and must not replace it.
        await this.#apply(output, fromCar).catch(() => undefined);
        throw error.error;
      }
      await this.#apply(output, fromCar);
      const value = settle(output, at);
      if (value !== undefined) return value;
    }
  }

  /** Read the car's next message, waiting at most until the role's deadline, and feed it (or the deadline) to the role. */
  async #next(idleWaitMs: number): Promise<{ output: Output; fromCar: boolean; at: number }> {
    const deadline = this.session.nextDeadline();
    const waitMs = waitMsUntil(deadline, this.options.now(), this.session.longestWaitMs, idleWaitMs);
    // As of now: a close() during the wait ends the session, not the command the car may be running.
    const commandInFlight = this.session.commandInFlight;
    let bytes: Uint8Array;
    try {
      bytes = await this.link.receive({ timeoutMs: waitMs, signal: this.options.signal });
    } catch (err) {
      // The wait armed for the deadline ran out: the deadline has come, whatever the clock says.
      if (!(err instanceof TimeoutError) || deadline === undefined) throw this.#ioFailure(err, commandInFlight);
      const at = Math.max(this.options.now(), deadline);
      return { output: await this.session.tick(at), fromCar: false, at };
    }
    const at = this.options.now();
    return { output: await this.session.receive(bytes, at), fromCar: true, at };
  }

  /** The result in `o` (arrived `at`), or (when the car ended the session without one) the error saying why. */
  #resultOf(o: Output, at: number): CommandResult | undefined {
    const r = o.events.find((e) => e.type === 'result');
    if (r?.type === 'result') return { command: r.command, ok: r.status === 'ok', status: r.status, data: r.data, elapsedMs: at - this.#commandSentAt };
    if (!o.done) return undefined;
    // The car ended the session (authenticated CLOSE) instead of answering: it did not run the command.
    if (this.#closeReason && this.#closeReason !== 'ok') throw deniedError(this.#closeReason, true);
    throw new RemoteError('ERR_UNEXPECTED_MESSAGE', 'the car closed the session without a result');
  }

  /** Report events, send messages (bounded); `fromCar`: the output of a message the car sent. */
  async #apply(o: Output, fromCar: boolean): Promise<void> {
    this.#report(o, fromCar);
    if (o.send.length > 0 && this.session.commandInFlight) this.#commandSentAt = this.options.now();
    for (const m of o.send) await this.#send(m);
    if (o.done) {
      this.#closed = true;
      this.link.close('session over');
    }
  }

  /** Events to the observer; the car's close reason remembered. */
  #report(o: Output, fromCar: boolean): void {
    for (const e of o.events) {
      if (e.type === 'closed' && fromCar) this.#closeReason ??= e.reason;
      notifyObserver(() => this.options.onEvent?.(e));
    }
  }

  async #send(message: Uint8Array): Promise<void> {
    const { signal } = this.options;
    const wasClosed = this.link.isClosed; // then nothing leaves the phone
    const commandInFlight = this.session.commandInFlight; // as of the send, whatever a close() does meanwhile
    try {
      await withDeadline('sending to the car', this.link.send(message, { signal }), { timeoutMs: this.#timeoutMs, signal });
    } catch (err) {
      throw this.#ioFailure(err, !wasClosed && commandInFlight);
    }
  }

  /**
   * An I/O failure, marked when the command may have run: its message was (or was being) sent
   * and no answer came.
   */
  #ioFailure(err: unknown, mayHaveSucceeded: boolean): unknown {
    if (!mayHaveSucceeded) return err;
    return markedIoFailure(err, { aborted: 'the command in flight', timedOut: 'sending the command', timeoutMs: this.#timeoutMs }) ?? err;
  }
}

/**
 * Open a session on a connected, subscribed link and execute `command` in the handshake.
 * Resolves with the result and the connection (for more commands).
 * @throws `TimeoutError`, `LinkClosedError`, `AbortedError` (with `mayHaveSucceeded` once the
 *   handshake carrying the command was sent), `DeniedError` (`ERR_ALERT`: an unauthenticated
 *   alert; `ERR_DENIED`: the car's authenticated CLOSE instead of a result), `RemoteError` for a
 *   car that fails authentication.
 */
export async function openPhoneSession(
  link: Link,
  options: PhoneConnectOptions,
  command: CommandInput,
  commandOptions: CommandOptions = {},
): Promise<{ result: CommandResult; connection: PhoneConnection }> {
  const session = new PhoneSession(options);
  session.begin(command, commandOptions, options.now());
  const connection = new PhoneConnection(link, session, options);
  const result = await connection.awaitResult();
  return { result, connection };
}

/** One command in one session: open, execute, close. */
export async function runPhoneCommand(
  link: Link,
  options: PhoneConnectOptions,
  command: CommandInput,
  commandOptions: CommandOptions = {},
): Promise<CommandResult> {
  const { result, connection } = await openPhoneSession(link, options, command, commandOptions);
  await connection.close();
  return result;
}
