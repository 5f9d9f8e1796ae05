/**
 * Typed errors with stable string codes.
 *
 * - {@link LocalError}: the caller misused the API (bad argument, illegal step). Fix the code.
 * - {@link RemoteError}: the peer sent something unacceptable (garbage, bad MAC, invalid point,
 *   unexpected message) or the peer refused us ({@link DeniedError}, with a wire reason code).
 * - {@link TimeoutError}, {@link AbortedError}, {@link LinkClosedError}: I/O outcomes of drivers.
 *
 * Match on `err.code`, never on `err.message` (messages may improve; codes are stable).
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
  'ERR_SESSION_EXPIRED',
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

export type ErrorCode = (typeof ERROR_CODES)[number];

const KNOWN_CODES: ReadonlySet<string> = new Set(ERROR_CODES);

/** True for a stable proxkey error code (e.g. one that crossed a process boundary as text). */
export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && KNOWN_CODES.has(value);
}

/** Base class of all proxkey errors. */
export class ProxkeyError extends Error {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
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

/** The peer refused the request with a stable wire reason (see `DenyReason` in the protocol layer). */
export class DeniedError extends RemoteError {
  /** Stable reason string, e.g. `unknown-key`, `not-permitted`, `relay-suspected`. */
  readonly reason: string;
  /** True when the denial came inside the authenticated channel (not a plaintext alert). */
  readonly authenticated: boolean;
  constructor(reason: string, authenticated: boolean) {
    super(authenticated ? 'ERR_DENIED' : 'ERR_ALERT', `denied by peer: ${reason}`);
    this.reason = reason;
    this.authenticated = authenticated;
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

/** An operation did not complete within its bound. */
export class TimeoutError extends ProxkeyError {
  constructor(what: string, ms: number) {
    super('ERR_TIMEOUT', `${what} timed out after ${ms} ms`);
  }
}

/** An operation was cancelled through its AbortSignal. */
export class AbortedError extends ProxkeyError {
  constructor(what: string, cause?: unknown) {
    super('ERR_ABORTED', `${what} was aborted`, { cause });
  }
}

/** The link closed (locally or by the peer) before the operation completed. */
export class LinkClosedError extends ProxkeyError {
  constructor(detail = 'link closed') {
    super('ERR_LINK_CLOSED', detail);
  }
}

/** Tiny asserters used at every public entry point (in the style of @noble). */
export function assertArg(ok: unknown, message: string): asserts ok {
  if (!ok) throw new LocalError('ERR_INVALID_ARGUMENT', message);
}

export function assertBytes(value: unknown, name: string, ...lengths: number[]): asserts value is Uint8Array {
  if (!(value instanceof Uint8Array)) throw new LocalError('ERR_INVALID_ARGUMENT', `${name}: expected Uint8Array`);
  if (lengths.length > 0 && !lengths.includes(value.length))
    throw new LocalError('ERR_INVALID_ARGUMENT', `${name}: expected ${lengths.join(' or ')} bytes, got ${value.length}`);
}
