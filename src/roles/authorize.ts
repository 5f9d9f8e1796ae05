/**
 * Asking a policy, fail-closed. Policies are application code (and may be plain JavaScript): a
 * throw, a non-object, `allow` other than exactly `true`, or a denial without a known reason
 * never allows — they deny with `internal-error` (or the policy's own reason when it is valid).
 */
import { isDenyReason, type DenyReason } from '../protocol/reasons.js';

/** Run the policy; anything but `{ allow: true }` denies, with its reason if it is a known one. */
export async function checkedDecision(run: () => unknown): Promise<'allow' | DenyReason> {
  let d: unknown;
  try {
    d = await run();
  } catch {
    return 'internal-error';
  }
  if (typeof d !== 'object' || d === null) return 'internal-error';
  const { allow, reason } = d as { allow?: unknown; reason?: unknown };
  if (allow === true) return 'allow';
  return isDenyReason(reason) ? reason : 'internal-error';
}
