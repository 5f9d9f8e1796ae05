/**
 * Typed errors with stable string codes.
 *
 * - {@link LocalError}: the caller misused the API (bad argument, illegal step). Fix the code.
 * - {@link RemoteError}: the peer sent something unacceptable (garbage, bad MAC, invalid point,
 *   unexpected message) or the peer refused us ({@link DeniedError}, with a wire reason code).
 * - {@link TimeoutError}, {@link AbortedError}, {@link LinkClosedError}: I/O outcomes of drivers.
 *
 * Match on `err.code`, never on `err.message` (messages may improve; codes are stable). Two
 * fields say what a caller can do next:
 * - `mayHaveSucceeded`: the operation failed *after* its command left the phone (a timeout, a lost
 *   link or an abort while waiting for the car's RESULT): the car may have executed it. Check the
 *   car's state (or send an idempotent command) before acting on the failure. `false` whenever
 *   nothing the car could act on was sent, and for every answer the car did give.
 * - `transient`: retrying the same operation unchanged may succeed (a timeout, a lost link, a
 *   denial whose reason has `retry` `now` or `later` in `REASONS`). `false` when something has to
 *   change first: the code, the user (confirm, pair), the key, or the car.
 */

/** Every stable error code proxkey raises (one list; the type and `isErrorCode` derive from it). */
export const ERROR_CODES = [
  // local (misuse)
  'ERR_INVALID_ARGUMENT',
  'ERR_INVALID_STATE',
  // remote (peer)
  'ERR_DECODE',
  'ERR_DECRYPT',
  'ERR_INVALID_POINT',
  'ERR_UNEXPECTED_MESSAGE',
  'ERR_UNSUPPORTED',
  'ERR_BLE_UNAVAILABLE',
  'ERR_ALERT',
  'ERR_DENIED',
  'ERR_PAIRING_FAILED',
  // durable state
  'ERR_STORE_CORRUPT',
  'ERR_STORE_VERSION',
  'ERR_STORE_MISSING',
  // a bug or a failing callback, caught at a boundary that must not throw
  'ERR_INTERNAL',
  // I/O
  'ERR_TIMEOUT',
  'ERR_ABORTED',
  'ERR_LINK_CLOSED',
] as const;

/** Every stable error code (`ERR_TIMEOUT`, `ERR_DECRYPT`, …): the entries of `ERROR_CODES`. */
export type ErrorCode = (typeof ERROR_CODES)[number];

const KNOWN_CODES: ReadonlySet<string> = new Set(ERROR_CODES);

/** True for a stable proxkey error code (e.g. one that crossed a process boundary as text). */
export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && KNOWN_CODES.has(value);
}

/**
 * What a caller can do after a failure: retry `now` (transient), `later` (when conditions change:
 * closer, in the key's window, after the actuator), `user` (needs the user: confirm, re-pair, the
 * right code) or `never` (this key or command will not work). The same words as the `retry`
 * column of `REASONS` (src/protocol/reasons.ts).
 */
export type RetryAdvice = 'now' | 'later' | 'user' | 'never';

/** Options every proxkey error takes (see the module comment for what they mean). */
export interface ProxkeyErrorOptions {
  readonly cause?: unknown;
  /** Default false. */
  readonly mayHaveSucceeded?: boolean;
  /** Default false. */
  readonly transient?: boolean;
}

/** Base class of all proxkey errors. */
export class ProxkeyError extends Error {
  readonly code: ErrorCode;
  /** The car may have executed the command although this operation failed (see above). */
  readonly mayHaveSucceeded: boolean;
  /** Retrying the same operation unchanged may succeed. */
  readonly transient: boolean;
  constructor(code: ErrorCode, message: string, options: ProxkeyErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.name = new.target.name;
    this.mayHaveSucceeded = options.mayHaveSucceeded ?? false;
    this.transient = options.transient ?? false;
  }
}

/** The API was misused: invalid argument or a step that is illegal in the current state. */
export class LocalError extends ProxkeyError {
  constructor(code: 'ERR_INVALID_ARGUMENT' | 'ERR_INVALID_STATE', message: string) {
    super(code, message);
  }
}

/** The peer (or something on the path) sent bytes we reject. Never leaves state half-changed. */
export class RemoteError extends ProxkeyError {}

/**
 * The peer refused the request with a stable wire reason (see `DenyReason` in the protocol layer):
 * `ERR_ALERT` for a plaintext ALERT (outside any channel), `ERR_DENIED` for an authenticated CLOSE
 * that ended the session while a command waited for its RESULT. Build it with `deniedError()`
 * (src/protocol/reasons.ts), which takes `retry` from the reason table. The car did not execute
 * the command it refused: `mayHaveSucceeded` is false.
 */
export class DeniedError extends RemoteError {
  /** Stable reason string, e.g. `unknown-key`, `not-permitted`, `relay-suspected`. */
  readonly reason: string;
  /** True when the denial came inside the authenticated channel (not a plaintext alert). */
  readonly authenticated: boolean;
  /** What the caller can do (the reason's `retry` in `REASONS`); `transient` is `now` or `later`. */
  readonly retry: RetryAdvice;
  /**
   * @param retry the reason's advice; default `never` (an unknown reason is not retried)
   * @param mayHaveSucceeded an ALERT while a command waited for its RESULT proves nothing about it (anyone on the path can send one)
   */
  constructor(reason: string, authenticated: boolean, retry: RetryAdvice = 'never', mayHaveSucceeded = false) {
    super(authenticated ? 'ERR_DENIED' : 'ERR_ALERT', `denied by peer: ${reason}`, { transient: retry === 'now' || retry === 'later', mayHaveSucceeded });
    this.reason = reason;
    this.authenticated = authenticated;
    this.retry = retry;
  }
}

/**
 * Durable state could not be trusted: corrupted (checksum, syntax, schema) or written by a newer
 * version. Never silently reset: the message says which file and what to do.
 */
export class StoreError extends ProxkeyError {
  constructor(code: 'ERR_STORE_CORRUPT' | 'ERR_STORE_VERSION' | 'ERR_STORE_MISSING', message: string, options?: { cause?: unknown }) {
    super(code, message, options);
  }
}

/** Whether the command may have run (see `ProxkeyError.mayHaveSucceeded`); default false. */
export interface OutcomeOptions {
  readonly mayHaveSucceeded?: boolean;
}

/** An operation did not complete within its bound. Transient: the car may answer next time. */
export class TimeoutError extends ProxkeyError {
  constructor(what: string, ms: number, options: OutcomeOptions = {}) {
    super('ERR_TIMEOUT', `${what} timed out after ${ms} ms`, { ...options, transient: true });
  }
}

/** An operation was cancelled through its AbortSignal. Not transient: the caller chose to stop. */
export class AbortedError extends ProxkeyError {
  constructor(what: string, cause?: unknown, options: OutcomeOptions = {}) {
    super('ERR_ABORTED', `${what} was aborted`, { ...options, cause });
  }
}

/** The link closed (locally or by the peer) before the operation completed. Transient: reconnect. */
export class LinkClosedError extends ProxkeyError {
  constructor(detail = 'link closed', options: OutcomeOptions = {}) {
    super('ERR_LINK_CLOSED', detail, { ...options, transient: true });
  }
}

/** Tiny asserters used at every public entry point (in the style of @noble). */
export function assertArg(ok: unknown, message: string): asserts ok {
  if (!ok) throw new LocalError('ERR_INVALID_ARGUMENT', message);
}

/** Throws `LocalError('ERR_INVALID_ARGUMENT')` unless `value` is a `Uint8Array` (of one of `lengths`, when given). */
export function assertBytes(value: unknown, name: string, ...lengths: number[]): asserts value is Uint8Array {
  if (!(value instanceof Uint8Array)) throw new LocalError('ERR_INVALID_ARGUMENT', `${name}: expected Uint8Array`);
  if (lengths.length > 0 && !lengths.includes(value.length))
    throw new LocalError('ERR_INVALID_ARGUMENT', `${name}: expected ${lengths.join(' or ')} bytes, got ${value.length}`);
}

/**
 * Call an application observer (an `onEvent`, `onError`, listener…: `() => options.onEvent?.(e)`)
 * and ignore what it throws — or, for an async observer, what its promise rejects with (an
 * unhandled rejection would end the process): observers must never break the car, the phone or a scan.
 */
export function notifyObserver(call: () => unknown): void {
  try {
    const returned = call();
    if (isThenable(returned)) returned.then(undefined, () => undefined);
  } catch {
    /* the observer's problem */
  }
}

/** Whether `v` is a promise or another thenable (an object or function with a `then` method). */
export function isThenable(v: unknown): v is PromiseLike<unknown> {
  return (typeof v === 'object' || typeof v === 'function') && v !== null && typeof (v as { then?: unknown }).then === 'function';
}

/** A failure's message, whatever was thrown. */
export function messageOf(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** `e` itself when it is a proxkey error, else an `ERR_INTERNAL` wrapping it (`context: message`). */
export function asProxkeyError(e: unknown, context?: string): ProxkeyError {
  if (e instanceof ProxkeyError) return e;
  return new ProxkeyError('ERR_INTERNAL', context ? `${context}: ${messageOf(e)}` : messageOf(e), { cause: e });
}

/**
 * A lost link, abort or timeout re-made with `mayHaveSucceeded` (the peer may have acted on what
 * was sent), naming what was cut short; undefined for any other error.
 */
export function markedIoFailure(
  err: unknown,
  what: { readonly aborted: string; readonly timedOut: string; readonly timeoutMs: number },
): ProxkeyError | undefined {
  const marked = { mayHaveSucceeded: true } as const;
  if (err instanceof LinkClosedError) return new LinkClosedError(err.message, marked);
  if (err instanceof AbortedError) return new AbortedError(what.aborted, err.cause, marked);
  if (err instanceof TimeoutError) return new TimeoutError(what.timedOut, what.timeoutMs, marked);
  return undefined;
}
