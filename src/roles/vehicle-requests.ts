/**
 * What the vehicle role asks its driver, and the answers it resumes with. The role never awaits
 * application code, storage or clocks: it emits one request in its output and waits in a state
 * of its own until `VehicleSession.answer()` brings the answer.
 *
 *   find-key      is the authenticated static key enrolled?                 → known / unknown / failed
 *   redeem-grant  enroll this unknown key with the grant it presented       → enrolled / a denial reason
 *   authorize     may the (found) key run this command now? (hooks, policy) → allow / a denial reason
 *   execute       run it (actuator, or the admin handler)                    → the outcome
 */
import type { Command } from '../protocol/commands.js';
import { LIMITS } from '../protocol/constants.js';
import { isDenyReason, type DenyReason } from '../protocol/reasons.js';
import type { ProximityVerdict, RangingVerdict } from './types.js';

/** What the vehicle role waits on (find-key, redeem-grant, authorize, execute); answer with `VehicleSession.answer()`. */
export type VehicleRequest =
  | { readonly type: 'find-key'; readonly publicKey: Uint8Array; readonly keyId: string }
  | { readonly type: 'redeem-grant'; readonly grant: Uint8Array; readonly presenter: Uint8Array }
  | {
      readonly type: 'authorize';
      readonly command: Command;
      readonly intent: boolean;
      /** ms between the car's challenge and the phone's handshake arriving. */
      readonly rttMs: number;
      /** ms since the handshake completed (0 for the handshake's own command). */
      readonly sessionAgeMs: number;
    }
  | { readonly type: 'execute'; readonly command: Command; readonly intent: boolean; readonly rttMs: number };

/** Outcome of executing a command. Only `{ ok: true }` is success (see `checkedOutcome`). */
export type ExecutionOutcome = { readonly ok: true; readonly data?: Uint8Array } | { readonly ok: false; readonly reason: DenyReason };

/** The answer to a `VehicleRequest`, given to `VehicleSession.answer()` (checked fail-closed). */
export type VehicleAnswer =
  /** `failed`: the directory could not answer (the command is denied `internal-error`). */
  | { readonly type: 'find-key'; readonly found: 'known' | 'unknown' | 'failed' }
  /** `enrolled` once the enrollment is durable; otherwise why the grant is refused. */
  | { readonly type: 'redeem-grant'; readonly result: 'enrolled' | DenyReason }
  | {
      readonly type: 'authorize';
      readonly decision: 'allow' | DenyReason;
      /** The verdicts the decision was based on, for the audit (`decision` event). */
      readonly proximity?: ProximityVerdict | undefined;
      readonly ranging?: RangingVerdict | undefined;
    }
  | { readonly type: 'execute'; readonly outcome: ExecutionOutcome };

const EMPTY = new Uint8Array(0);

/**
 * Fail closed on what the driver reports, checked at run time (JavaScript callers and `any` reach
 * here too): only `{ ok: true }` is success; data that cannot travel is `internal-error`; a
 * failure without a known reason is `actuator-failed`. Never `ok` by accident.
 */
export function checkedOutcome(outcome: unknown): { status: 'ok' | DenyReason; data: Uint8Array } {
  if (typeof outcome !== 'object' || outcome === null) return { status: 'actuator-failed', data: EMPTY };
  const o = outcome as { ok?: unknown; data?: unknown; reason?: unknown };
  if (o.ok === true) {
    if (o.data === undefined) return { status: 'ok', data: EMPTY };
    if (!(o.data instanceof Uint8Array) || o.data.length > LIMITS.maxResultData) return { status: 'internal-error', data: EMPTY };
    return { status: 'ok', data: o.data };
  }
  return { status: isDenyReason(o.reason) ? o.reason : 'actuator-failed', data: EMPTY };
}

/** A decision answer checked the same way: only exactly `'allow'` allows; an unknown reason is `internal-error`. */
export function checkedAuthorization(decision: unknown): 'allow' | DenyReason {
  if (decision === 'allow') return 'allow';
  return isDenyReason(decision) ? decision : 'internal-error';
}
