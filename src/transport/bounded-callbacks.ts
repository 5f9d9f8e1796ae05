/**
 * The car's policy and hooks are application code; a slow or hung one must delay only its own
 * session, never the car. These wrappers bound each call: a late proximity answer is no verdict,
 * a late ranging answer is failed ranging, a late policy answer is a throw (`internal-error`).
 */
import { isThenable } from '../errors.js';
import type { Command } from '../protocol/commands.js';
import type { ProximityVerdict, RangingVerdict } from '../roles/types.js';
import type { Policy, VehicleHooks } from '../policy/types.js';
import { withDeadline } from './deadline.js';

export const PROXIMITY_HOOK_TIMEOUT_MS = 1_000;
export const RANGING_HOOK_TIMEOUT_MS = 5_000;
export const POLICY_TIMEOUT_MS = 2_000;

export function boundedHooks(hooks: VehicleHooks): VehicleHooks {
  const bounded: VehicleHooks = {};
  if (hooks.proximity)
    bounded.proximity = (keyId: string, connection?: object): Promise<ProximityVerdict | undefined> =>
      withDeadline(
        'proximity hook',
        Promise.resolve().then(() => hooks.proximity?.(keyId, connection)),
        { timeoutMs: PROXIMITY_HOOK_TIMEOUT_MS },
      ).catch(() => undefined);
  if (hooks.ranging)
    bounded.ranging = (keyId: string, command: Command, connection?: object): Promise<RangingVerdict | undefined> =>
      withDeadline(
        'ranging hook',
        Promise.resolve().then(() => hooks.ranging?.(keyId, command, connection)),
        { timeoutMs: RANGING_HOOK_TIMEOUT_MS },
      ).catch((): RangingVerdict => ({ ok: false }));
  return bounded;
}

export function boundedPolicy(policy: Policy): Policy {
  return (ctx) => {
    // A synchronous policy (the default one) answers at once: no timer to arm. A throw is the
    // caller's `internal-error` either way.
    const answer = policy(ctx);
    if (!isThenable(answer)) return answer;
    return withDeadline('policy', Promise.resolve(answer), { timeoutMs: POLICY_TIMEOUT_MS });
  };
}
