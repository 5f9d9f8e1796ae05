/**
 * What the car's policy decides on, and the hooks consulted before it (proximity, secure ranging).
 * Both are application code: the driver calls them (bounded, fail-closed; `authorizeCommand`),
 * never the vehicle role.
 */
import type { KeyRecord } from '../keys/key-record.js';
import type { Command } from '../protocol/commands.js';
import type { DenyReason } from '../protocol/reasons.js';
import type { ProximityVerdict, RangingVerdict } from '../roles/types.js';

/**
 * Hooks the car consults before asking the policy. All optional. `connection` is the link the
 * session runs on (the object the car's `serve(link)` got; absent for passive entry), so a hook
 * can tell two sessions of one key apart.
 */
export interface VehicleHooks {
  proximity?(keyId: string, connection?: object): ProximityVerdict | undefined | Promise<ProximityVerdict | undefined>;
  ranging?(keyId: string, command: Command, connection?: object): Promise<RangingVerdict | undefined>;
}

/** Everything a policy may base a decision on. */
export interface PolicyContext {
  readonly key: KeyRecord;
  readonly command: Command;
  /** Command name / permission string (`unlock`, `custom:130`). */
  readonly commandName: string;
  /** The phone asserted user intent for this command. */
  readonly intent: boolean;
  /** ms between the car producing its challenge and receiving the phone's handshake. */
  readonly rttMs: number;
  /** ms since the session's handshake completed (0 for the handshake's own command). */
  readonly sessionAgeMs: number;
  readonly now: number;
  readonly proximity: ProximityVerdict | undefined;
  readonly ranging: RangingVerdict | undefined;
}

/** A policy's answer: allow, or deny with a reason. */
export type PolicyDecision = { readonly allow: true } | { readonly allow: false; readonly reason: DenyReason };

/** Decides every command. Pure functions are best; async is allowed. */
export type Policy = (ctx: PolicyContext) => PolicyDecision | Promise<PolicyDecision>;
