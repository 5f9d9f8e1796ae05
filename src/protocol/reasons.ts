/**
 * Denial reasons: stable names, their wire codes, and what each means (terminal, retryable,
 * human text) — one table, everything else derived from it.
 */
import { DeniedError, type RetryAdvice } from '../errors.js';

/**
 * What a reason means, in one place (docs/PROTOCOL.md §3.3 is generated from the same facts):
 * - `code`: the wire byte;
 * - `endsSession`: when the car *denies a command* with it, the session is over (CLOSE follows);
 *   as a command's own outcome (e.g. `revoke` of an unknown id) it never ends the session;
 * - `retry`: what the phone can do — `now` (transient: send again), `later` (when conditions
 *   change: closer, in the window, after the actuator), `user` (needs the user: confirm,
 *   re-pair, the right code), `never` (this key or command will not work);
 * - `settlesGrant`: a first command that presented a grant got this answer only after the car
 *   decided on the grant (enrolled it, or it is dead): the phone stops presenting it;
 * - `text`: what it means for the user, in a few words.
 */
export interface ReasonMeaning {
  readonly code: number;
  readonly endsSession: boolean;
  readonly retry: RetryAdvice;
  readonly settlesGrant: boolean;
  readonly text: string;
}

const meaning = (code: number, endsSession: boolean, retry: ReasonMeaning['retry'], settlesGrant: boolean, text: string): ReasonMeaning =>
  Object.freeze({ code, endsSession, retry, settlesGrant, text });

/** The one table of denial reasons: code, whether a denial ends the session, retry advice, whether it settles a grant, text for users (docs/PROTOCOL.md §3.3). */
export const REASONS = Object.freeze({
  'unknown-key': meaning(0x01, true, 'user', false, 'this car does not know this phone (pair first, or ask the owner for a key)'),
  'not-permitted': meaning(0x02, false, 'never', true, 'this key is not allowed to do that'),
  expired: meaning(0x03, false, 'never', true, 'this key has expired'),
  'not-yet-valid': meaning(0x04, false, 'later', false, 'this key is not valid yet'),
  revoked: meaning(0x05, true, 'never', true, 'this key was revoked by the owner'),
  'out-of-range': meaning(0x06, false, 'later', true, 'the phone is not close enough to the car'),
  'relay-suspected': meaning(0x07, false, 'later', true, 'the answer took too long (possible relay attack): move closer and retry'),
  'intent-required': meaning(0x08, false, 'user', true, 'the car needs an explicit confirmation for this command'),
  'ranging-failed': meaning(0x09, false, 'later', true, 'secure ranging did not confirm the distance'),
  busy: meaning(0x0a, false, 'now', true, 'the car is busy with another action: retry'),
  malformed: meaning(0x0b, false, 'never', false, 'the car could not understand the message (a bug in this phone or interference)'),
  unsupported: meaning(0x0c, false, 'never', false, 'the car does not support this version, suite or extension'),
  'session-expired': meaning(0x0d, true, 'now', false, 'the session expired: retry'),
  'actuator-failed': meaning(0x0e, false, 'later', true, 'the car accepted the command but its actuator failed'),
  'rate-limited': meaning(0x0f, true, 'now', false, 'too many commands in one session: reconnect and retry'),
  'internal-error': meaning(0x10, false, 'later', false, 'the car failed internally (storage or configuration): retry later, or tell its owner'),
  'unknown-command': meaning(0x11, false, 'never', false, 'this car does not know that command'),
  'invalid-grant': meaning(0x12, true, 'never', true, 'the shared key is not valid for this car'),
  'pairing-closed': meaning(0x13, false, 'user', false, 'the car is not in pairing mode (press its pairing button)'),
  'pairing-failed': meaning(0x14, false, 'user', false, 'wrong pairing code'),
} as const satisfies Record<string, ReasonMeaning>);

/** Denial reasons and their wire codes (one byte). 0 means success. Names are what applications match on. */
export const DENY_REASONS: { readonly [R in keyof typeof REASONS]: number } = Object.freeze(
  Object.fromEntries(Object.entries(REASONS).map(([name, m]) => [name, m.code])) as { [R in keyof typeof REASONS]: number },
);

/** A denial reason name (`unknown-key`, `revoked`, …): the keys of `REASONS` (docs/PROTOCOL.md §3.3). */
export type DenyReason = keyof typeof REASONS;

const BY_CODE = new Map<number, DenyReason>(Object.entries(DENY_REASONS).map(([name, code]) => [code, name as DenyReason]));

/** The wire code of a denial reason (docs/PROTOCOL.md §3.3). */
export function reasonCode(reason: DenyReason): number {
  return DENY_REASONS[reason];
}

/** The reason for a wire code, or undefined for an unknown code. */
export function reasonFromCode(code: number): DenyReason | undefined {
  return BY_CODE.get(code);
}

/** True for a known denial reason name. */
export function isDenyReason(value: unknown): value is DenyReason {
  return typeof value === 'string' && Object.hasOwn(DENY_REASONS, value);
}

/** What a denial means for the user, in a few words, for any application (the CLI adds its flags). */
export const DENY_REASON_TEXT: Readonly<Record<DenyReason, string>> = Object.freeze(
  Object.fromEntries(Object.entries(REASONS).map(([name, m]) => [name, m.text])) as Record<DenyReason, string>,
);

/** True when a car's denial with `reason` ends the session (see `REASONS`). */
export function reasonEndsSession(reason: DenyReason): boolean {
  return REASONS[reason].endsSession;
}

/**
 * The error for a car's refusal with `reason` outside a RESULT: an ALERT (`authenticated` false,
 * `ERR_ALERT`) or an authenticated CLOSE instead of a command's RESULT (`ERR_DENIED`). Its `retry`
 * and `transient` come from `REASONS`.
 */
export function deniedError(reason: DenyReason, authenticated: boolean, mayHaveSucceeded = false): DeniedError {
  return new DeniedError(reason, authenticated, REASONS[reason].retry, mayHaveSucceeded);
}
