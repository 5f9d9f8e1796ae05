/**
 * Acting on a proximity engine's decision: `walk-away-lock` locks, `approach-unlock` unlocks —
 * each only if the car's policy allows that command for that key now, decided by the same
 * `authorizeCommand` as a session's commands (revoked, expired, not permitted, relay suspected,
 * intent or ranging required… all deny), with the zone the decision implies as the proximity
 * verdict. The RTT the policy sees: for approach-unlock the decision's `rttMs` (the slowest
 * handshake of the key's open links, set by `linkProximity`; absent: `Infinity`, unmeasured), so
 * a link whose handshake was relayed cannot unlock; for walk-away-lock 0 (locking is always safe).
 */
import type { KeyRecord } from '../keys/key-record.js';
import type { AuditEntry } from '../keys/state.js';
import { authorizeCommand } from '../policy/authorize.js';
import type { Policy, VehicleHooks } from '../policy/types.js';
import { commandName, toCommand, type Command } from '../protocol/commands.js';
import type { DenyReason } from '../protocol/reasons.js';
import type { ProximityDecision } from '../proximity/engine.js';
import type { ProximityVerdict } from '../roles/types.js';
import { checkedOutcome, type ExecutionOutcome } from '../roles/vehicle-requests.js';
import { boundedHooks, boundedPolicy } from '../transport/bounded-callbacks.js';

/** What passive entry needs from the car. */
export interface PassiveEntryCar {
  findKey(keyId: string): KeyRecord | undefined;
  readonly policy: Policy;
  readonly hooks: VehicleHooks | undefined;
  /** The car's actuator, serialised with every session's (one physical action at a time). */
  actuate(command: Command, key: KeyRecord): Promise<ExecutionOutcome>;
  now(): number;
  /** Audit; `unauthenticated` entries are rate-limited. */
  log(entry: AuditEntry, unauthenticated: boolean): void;
  isActiveKey(keyId: string): boolean;
}

/** Decide and (if allowed) drive one passive-entry decision; returns `ok` or the denial reason. Never throws for a refusal. */
export async function runPassiveEntry(car: PassiveEntryCar, decision: ProximityDecision): Promise<'ok' | DenyReason> {
  const command = toCommand(decision.type === 'walk-away-lock' ? 'lock' : 'unlock');
  const zone: ProximityVerdict['zone'] = decision.type === 'walk-away-lock' ? (decision.cause === 'far' ? 'far' : 'unknown') : 'near';
  const proximity: ProximityVerdict = decision.distanceM === undefined || zone === 'unknown' ? { zone } : { zone, distanceM: decision.distanceM };
  const key = car.findKey(decision.keyId);
  let result: 'ok' | DenyReason = 'unknown-key';
  if (key) {
    const hooks = car.hooks && boundedHooks(car.hooks);
    const { decision: verdict } = await authorizeCommand(boundedPolicy(car.policy), hooks, {
      key,
      command,
      intent: false,
      // approach-unlock: the handshake RTT of the key's links (unmeasured: Infinity), so the relay
      // bound applies; a walk-away lock is always safe and may follow a link that is gone: 0
      rttMs: decision.type === 'walk-away-lock' ? 0 : (decision.rttMs ?? Infinity),
      sessionAgeMs: 0,
      now: car.now(),
      proximity,
    });
    result = verdict === 'allow' ? checkedOutcome(await car.actuate(command, key)).status : verdict;
  }
  car.log(
    {
      at: car.now(),
      event: 'passive-entry',
      keyId: decision.keyId,
      command: commandName(command),
      result,
      proximity: zone,
      detail: `${decision.type} (${decision.cause}${decision.distanceM === undefined ? '' : `, ${decision.distanceM.toFixed(1)} m`})`,
    },
    !car.isActiveKey(decision.keyId),
  );
  return result;
}
