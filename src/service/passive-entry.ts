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

/** What a passive-entry decision came to: `ok`, a denial reason, or `superseded` (a newer allowed decision for the key came first; nothing driven). */
export type PassiveEntryResult = 'ok' | 'superseded' | DenyReason;

/** One decision's place in its key's order (`PassiveEntryOrder.begin`). */
export interface PassiveEntryTurn {
  /** Its authorization allowed it. */
  readonly allowed: () => void;
  /** A newer decision makes it stale (asked at its turn on the actuation lock). */
  readonly superseded: () => boolean;
  /** It is done, however. */
  readonly end: () => void;
}

/**
 * Per key, the order of passive-entry decisions (one per car). Authorization (a ranging hook may
 * take seconds) runs before a decision's turn on the actuation lock, so a slow approach-unlock
 * could otherwise get its turn after a later, faster walk-away-lock and leave the car open after
 * its owner left. An approach-unlock that gets its turn once any newer decision for its key
 * arrived is skipped; a walk-away-lock only once a newer one was *allowed* (a relayed
 * approach-unlock that is refused must not cancel the walk-away-lock before it).
 */
export class PassiveEntryOrder {
  readonly #keys = new Map<string, { arrived: number; allowed: number; running: number }>();

  /**
   * A decision for `keyId` arrived (`unlock`: an approach-unlock). `allowed()` once its
   * authorization allowed it; `superseded()` once a newer decision makes it stale; `end()` once done.
   */
  begin(keyId: string, unlock: boolean): PassiveEntryTurn {
    const k = this.#keys.get(keyId) ?? { arrived: 0, allowed: 0, running: 0 };
    this.#keys.set(keyId, k);
    const mine = ++k.arrived;
    k.running++;
    return {
      allowed: () => {
        k.allowed = Math.max(k.allowed, mine);
      },
      // An unlock gives way to any newer decision (the owner's latest move, even one refused:
      // never open after a later "left"); a lock only to a newer allowed one (a refused unlock
      // must not keep the car open).
      superseded: () => k.allowed > mine || (unlock && k.arrived > mine),
      end: () => {
        if (--k.running === 0) this.#keys.delete(keyId);
      },
    };
  }
}

/** What passive entry needs from the car. */
export interface PassiveEntryCar {
  findKey(keyId: string): KeyRecord | undefined;
  readonly policy: Policy;
  readonly hooks: VehicleHooks | undefined;
  /** The car's one order of passive-entry decisions. */
  readonly order: PassiveEntryOrder;
  /**
   * The car's actuator, serialised with every session's (one physical action at a time);
   * `stillCurrent` is asked once the lock is held, right before acting: a reason denies (nothing driven).
   */
  actuate(command: Command, key: KeyRecord, stillCurrent: () => DenyReason | undefined): Promise<ExecutionOutcome>;
  now(): number;
  /** Audit; `unauthenticated` entries are rate-limited. */
  log(entry: AuditEntry, unauthenticated: boolean): void;
  isActiveKey(keyId: string): boolean;
}

/**
 * Decide and (if allowed) drive one passive-entry decision; returns `ok`, the denial reason, or
 * `superseded` (a newer decision for the key arrived before this one's turn on the actuation lock).
 * Never throws for a refusal.
 */
export async function runPassiveEntry(car: PassiveEntryCar, decision: ProximityDecision): Promise<PassiveEntryResult> {
  const turn = car.order.begin(decision.keyId, decision.type === 'approach-unlock');
  try {
    return await decide(car, decision, turn);
  } finally {
    turn.end();
  }
}

async function decide(car: PassiveEntryCar, decision: ProximityDecision, turn: PassiveEntryTurn): Promise<PassiveEntryResult> {
  const command = toCommand(decision.type === 'walk-away-lock' ? 'lock' : 'unlock');
  const zone: ProximityVerdict['zone'] = decision.type === 'walk-away-lock' ? (decision.cause === 'far' ? 'far' : 'unknown') : 'near';
  const proximity: ProximityVerdict = decision.distanceM === undefined || zone === 'unknown' ? { zone } : { zone, distanceM: decision.distanceM };
  const key = car.findKey(decision.keyId);
  let result: PassiveEntryResult = 'unknown-key';
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
    let superseded = false;
    // at its turn on the lock: a newer allowed decision for this key came first (`busy` drives nothing)
    const stillCurrent = (): DenyReason | undefined => {
      superseded = turn.superseded();
      return superseded ? 'busy' : undefined;
    };
    if (verdict === 'allow') turn.allowed();
    result = verdict === 'allow' ? checkedOutcome(await car.actuate(command, key, stillCurrent)).status : verdict;
    if (superseded) result = 'superseded';
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
