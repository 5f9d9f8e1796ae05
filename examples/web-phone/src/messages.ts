/** What the user reads: one sentence per error and per denial reason. */
import { BleUnavailableError } from '../../../src/adapters/web-bluetooth/index.js';
import { AbortedError, DENY_REASON_TEXT, DeniedError, LinkClosedError, ProxkeyError, StoreError, TimeoutError, type DenyReason } from '../../../src/index.js';

const REASON_TEXT: Partial<Record<DenyReason, string>> = { ...DENY_REASON_TEXT, 'intent-required': 'confirm the action first' };

export function reasonText(reason: string): string {
  return REASON_TEXT[reason as DenyReason] ?? reason;
}

/** What to do after a failure that says the car may have executed the command anyway. */
export const MAY_HAVE_RUN = 'the car may have executed it — check the car before retrying.';

/** One line for any error, saying what to do. */
export function describeError(e: unknown): string {
  if (e instanceof BleUnavailableError) return `Bluetooth unavailable: ${e.message.replace(/\n/g, ' — ')}`;
  if (e instanceof DeniedError && e.mayHaveSucceeded) return `Denied by the car: ${e.reason} — ${reasonText(e.reason)}; ${MAY_HAVE_RUN}`;
  if (e instanceof ProxkeyError && e.mayHaveSucceeded) return `Lost contact with the car during the command: ${MAY_HAVE_RUN} (${e.message})`;
  if (e instanceof AbortedError) return 'No car was chosen: tap again and pick your car in the list.';
  if (e instanceof TimeoutError && e.message.startsWith('IndexedDB'))
    return `This phone's storage did not answer in time: retry; if it goes on, close the app's other tabs. (${e.message})`;
  if (e instanceof LinkClosedError || e instanceof TimeoutError)
    return `The car is out of range or the connection dropped: move closer and retry. (${e.message})`;
  if (e instanceof DeniedError) return `Denied by the car: ${e.reason} — ${reasonText(e.reason)}`;
  if (e instanceof StoreError) return `This phone's storage cannot be read: ${e.message}`;
  if (e instanceof ProxkeyError) return `${e.message} (${e.code})`;
  return e instanceof Error ? e.message : String(e);
}
