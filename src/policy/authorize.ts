/**
 * Authorizing one command, fail-closed: the proximity and ranging hooks, then the policy. All three
 * are application code (and may be plain JavaScript): a hook that throws gives no verdict
 * (proximity unknown, ranging not ok); a policy that throws, answers a non-object, `allow` other
 * than exactly `true`, or a denial without a known reason never allows — it denies with
 * `internal-error` (or the policy's own reason when it is a valid one).
 *
 * Used for session commands (answering the vehicle role's `authorize` request) and for passive
 * entry alike, so both are decided by the same rules.
 */
import type { KeyRecord } from '../keys/key-record.js';
import { commandName, type Command } from '../protocol/commands.js';
import { isDenyReason, type DenyReason } from '../protocol/reasons.js';
import type { ProximityVerdict, RangingVerdict } from '../roles/types.js';
import type { Policy, VehicleHooks } from './types.js';

/** What is being authorized. */
export interface AuthorizationInput {
  readonly key: KeyRecord;
  readonly command: Command;
  readonly intent: boolean;
  readonly rttMs: number;
  readonly sessionAgeMs: number;
  readonly now: number;
  /** The connection the command came on (hooks use it to tell sessions apart); absent for passive entry. */
  readonly connection?: object;
  /** A proximity verdict already known (passive entry): the proximity hook is not asked. */
  readonly proximity?: ProximityVerdict;
}

/** The decision and the verdicts it was based on (for the audit log). */
export interface Authorization {
  readonly decision: 'allow' | DenyReason;
  readonly proximity: ProximityVerdict | undefined;
  readonly ranging: RangingVerdict | undefined;
}

/** Ask the hooks, then the policy; never throws. */
export async function authorizeCommand(policy: Policy, hooks: VehicleHooks | undefined, input: AuthorizationInput): Promise<Authorization> {
  const { key, command, connection } = input;
  const proximity =
    input.proximity ??
    (await Promise.resolve()
      .then(() => hooks?.proximity?.(key.id, connection))
      .catch(() => undefined));
  const ranging = await Promise.resolve()
    .then(() => hooks?.ranging?.(key.id, command, connection))
    .catch((): RangingVerdict => ({ ok: false }));
  const decision = await checkedDecision(() =>
    policy({
      key,
      command,
      commandName: commandName(command),
      intent: input.intent,
      rttMs: input.rttMs,
      sessionAgeMs: input.sessionAgeMs,
      now: input.now,
      proximity,
      ranging,
    }),
  );
  return { decision, proximity, ranging };
}

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
