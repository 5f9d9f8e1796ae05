/**
 * Runs a `PhoneSession` over a `Link`: waits (bounded) for the car's challenge, sends the
 * handshake carrying the first command, and returns its authenticated result — one round trip.
 * The returned `PhoneConnection` sends further commands on the same session.
 */
import { DeniedError, LinkClosedError, LocalError, RemoteError } from '../errors.js';
import type { Command, CommandInput } from '../protocol/commands.js';
import type { DenyReason } from '../protocol/reasons.js';
import { PhoneSession, type CommandOptions, type PhoneSessionOptions } from '../roles/phone-session.js';
import type { PhoneEvent, RoleOutput } from '../roles/types.js';
import type { Link } from './link.js';

export interface PhoneConnectOptions extends PhoneSessionOptions {
  /** Bound for each wait on the car (challenge, result). Default 5 000 ms. */
  readonly timeoutMs?: number;
  readonly signal?: AbortSignal;
  readonly onEvent?: (event: PhoneEvent) => void;
}

/** The car's authenticated answer to a command. Denials are results, not exceptions. */
export interface CommandResult {
  readonly command: Command;
  readonly ok: boolean;
  /** `ok`, or why the car refused. */
  readonly status: 'ok' | DenyReason;
  readonly data: Uint8Array;
  /** ms from sending the command to the result (phone clock). */
  readonly elapsedMs: number;
}

export class PhoneConnection {
  #closed = false;
  #closeReason: 'ok' | DenyReason | undefined;
  constructor(
    private readonly link: Link,
    private readonly session: PhoneSession,
    private readonly options: PhoneConnectOptions,
  ) {}

  /** The reason in the car's authenticated CLOSE, once one was received. */
  get closeReason(): 'ok' | DenyReason | undefined {
    return this.#closeReason;
  }

  /**
   * Wait until the car ends the session (e.g. after a revocation it sends CLOSE(`revoked`)) and
   * return its authenticated reason; `undefined` when the link closed without one.
   */
  async awaitClose(options: { readonly timeoutMs?: number } = {}): Promise<'ok' | DenyReason | undefined> {
    try {
      while (this.session.state !== 'closed' && this.#closeReason === undefined) {
        const bytes = await this.link.receive({ timeoutMs: options.timeoutMs ?? this.options.timeoutMs ?? 5_000, signal: this.options.signal });
        const o = await this.session.receive(bytes);
        await this.#flush(o);
        const error = o.events.find((e) => e.type === 'error');
        if (error?.type === 'error') throw error.error;
      }
    } catch (err) {
      if (!(err instanceof LinkClosedError)) throw err;
    } finally {
      await this.close();
    }
    return this.#closeReason;
  }

  /** The session is still usable for commands. */
  get isOpen(): boolean {
    return !this.#closed && this.session.state === 'ready' && !this.link.isClosed;
  }

  /** Send a further command on this session and await its authenticated result. */
  async send(command: CommandInput, options: CommandOptions = {}): Promise<CommandResult> {
    if (!this.isOpen) throw new LocalError('ERR_INVALID_STATE', 'phone connection is closed');
    await this.#flush(await this.session.command(command, options));
    return this.awaitResult();
  }

  /** Close the session (authenticated close) and the link. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    try {
      if (this.session.state !== 'closed' && !this.link.isClosed) await this.#flush(await this.session.close(), false);
    } catch {
      /* the link may already be gone */
    } finally {
      this.link.close('phone closed');
    }
  }

  /** @internal */
  async awaitResult(): Promise<CommandResult> {
    const { timeoutMs = 5_000, signal } = this.options;
    try {
      for (;;) {
        const bytes = await this.link.receive({ timeoutMs, signal });
        const o = await this.session.receive(bytes);
        await this.#flush(o);
        const error = o.events.find((e) => e.type === 'error');
        if (error?.type === 'error') throw error.error;
        const r = o.events.find((e) => e.type === 'result');
        if (r?.type === 'result') return { command: r.command, ok: r.status === 'ok', status: r.status, data: r.data, elapsedMs: r.elapsedMs };
        if (o.done) {
          // The car ended the session (authenticated CLOSE): say why, e.g. `revoked`.
          if (this.#closeReason && this.#closeReason !== 'ok') throw new DeniedError(this.#closeReason, true);
          throw new RemoteError('ERR_UNEXPECTED_MESSAGE', 'the car closed the session without a result');
        }
      }
    } catch (err) {
      await this.close();
      throw err;
    }
  }

  /** Report events, send messages; `fromCar`: the output of a message the car sent. */
  async #flush(o: RoleOutput<PhoneEvent>, fromCar = true): Promise<void> {
    for (const e of o.events) {
      if (e.type === 'closed' && fromCar) this.#closeReason ??= e.reason;
      try {
        this.options.onEvent?.(e);
      } catch {
        /* observers must not break the session */
      }
    }
    for (const m of o.send) await this.link.send(m, { signal: this.options.signal });
    if (o.done) {
      this.#closed = true;
      this.link.close('session over');
    }
  }
}

/**
 * Open a session on a connected, subscribed link and execute `command` in the handshake.
 * Resolves with the result and the connection (for more commands); rejects with a typed error
 * (`TimeoutError`, `LinkClosedError`, `DeniedError` for an unauthenticated alert, `RemoteError`
 * for a car that fails authentication).
 */
export async function openPhoneSession(
  link: Link,
  options: PhoneConnectOptions,
  command: CommandInput,
  commandOptions: CommandOptions = {},
): Promise<{ result: CommandResult; connection: PhoneConnection }> {
  const session = new PhoneSession(options);
  session.begin(command, commandOptions);
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
