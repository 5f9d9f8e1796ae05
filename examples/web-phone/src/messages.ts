/** What the user reads: one sentence per error and per denial reason. */
import { BleUnavailableError } from '../../../src/adapters/web-bluetooth/index.js';
import { AbortedError, DeniedError, LinkClosedError, ProxkeyError, StoreError, TimeoutError, type DenyReason } from '../../../src/index.js';

export const REASON_TEXT: Partial<Record<DenyReason, string>> = {
  'unknown-key': 'this car does not know this phone (pair first, or ask the owner for a key)',
  'not-permitted': 'this key is not allowed to do that',
  expired: 'this key has expired',
  'not-yet-valid': 'this key is not valid yet',
  revoked: 'this key was revoked by the owner',
  'out-of-range': 'the phone is not close enough to the car',
  'relay-suspected': 'the answer took too long (possible relay attack): move closer and retry',
  'intent-required': 'confirm the action first',
  'ranging-failed': 'secure ranging did not confirm the distance',
  busy: 'the car is busy: retry',
  'actuator-failed': 'the car accepted the command but its actuator failed',
  'session-expired': 'the session expired: retry',
  'invalid-grant': 'the shared key is not valid for this car',
  'pairing-closed': 'the car is not in pairing mode (press its pairing button)',
  'pairing-failed': 'wrong pairing code',
};

export function reasonText(reason: string): string {
  return REASON_TEXT[reason as DenyReason] ?? reason;
}

/** One line for any error, saying what to do. */
export function describeError(e: unknown): string {
  if (e instanceof BleUnavailableError) return `Bluetooth unavailable: ${e.message.replace(/\n/g, ' — ')}`;
  if (e instanceof AbortedError) return 'No car was chosen: tap again and pick your car in the list.';
  if (e instanceof LinkClosedError || e instanceof TimeoutError)
    return `The car is out of range or the connection dropped: move closer and retry. (${e.message})`;
  if (e instanceof DeniedError) return `Denied by the car: ${e.reason} — ${reasonText(e.reason)}`;
  if (e instanceof StoreError) return `This phone's storage cannot be read: ${e.message}`;
  if (e instanceof ProxkeyError) return `${e.message} (${e.code})`;
  return e instanceof Error ? e.message : String(e);
}
