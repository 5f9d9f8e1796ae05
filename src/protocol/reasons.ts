/**
 * Denial reasons: stable names and their wire codes (one byte). 0 means success.
 * Names are what applications match on; codes are what travels.
 */
export const DENY_REASONS = {
  'unknown-key': 0x01,
  'not-permitted': 0x02,
  expired: 0x03,
  'not-yet-valid': 0x04,
  revoked: 0x05,
  'out-of-range': 0x06,
  'relay-suspected': 0x07,
  'intent-required': 0x08,
  'ranging-failed': 0x09,
  busy: 0x0a,
  malformed: 0x0b,
  unsupported: 0x0c,
  'session-expired': 0x0d,
  'actuator-failed': 0x0e,
  'rate-limited': 0x0f,
  'internal-error': 0x10,
  'unknown-command': 0x11,
  'invalid-grant': 0x12,
  'pairing-closed': 0x13,
  'pairing-failed': 0x14,
} as const;

export type DenyReason = keyof typeof DENY_REASONS;

const BY_CODE = new Map<number, DenyReason>(Object.entries(DENY_REASONS).map(([name, code]) => [code, name as DenyReason]));

export function reasonCode(reason: DenyReason): number {
  return DENY_REASONS[reason];
}

/** The reason for a wire code, or undefined for an unknown code. */
export function reasonFromCode(code: number): DenyReason | undefined {
  return BY_CODE.get(code);
}

export function isDenyReason(value: unknown): value is DenyReason {
  return typeof value === 'string' && Object.hasOwn(DENY_REASONS, value);
}

/**
 * What a denial means for the user, in a few words, for any application (the CLI adds its flags).
 * Reasons a user never causes (malformed, internal-error, …) are left to the application.
 */
export const DENY_REASON_TEXT: Readonly<Partial<Record<DenyReason, string>>> = Object.freeze({
  'unknown-key': 'this car does not know this phone (pair first, or ask the owner for a key)',
  'not-permitted': 'this key is not allowed to do that',
  expired: 'this key has expired',
  'not-yet-valid': 'this key is not valid yet',
  revoked: 'this key was revoked by the owner',
  'out-of-range': 'the phone is not close enough to the car',
  'relay-suspected': 'the answer took too long (possible relay attack): move closer and retry',
  'intent-required': 'the car needs an explicit confirmation for this command',
  'ranging-failed': 'secure ranging did not confirm the distance',
  busy: 'the car is busy: retry',
  'actuator-failed': 'the car accepted the command but its actuator failed',
  'session-expired': 'the session expired: retry',
  'invalid-grant': 'the shared key is not valid for this car',
  'pairing-closed': 'the car is not in pairing mode (press its pairing button)',
  'pairing-failed': 'wrong pairing code',
});
