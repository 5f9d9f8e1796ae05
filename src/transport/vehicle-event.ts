/** What the car's driver reports about one session: the role's events, decisions stamped with the car's time, enrollments by grant. */
import type { KeyRecord } from '../keys/key-record.js';
import type { VehicleSessionEvent } from '../roles/types.js';

type RoleDecision = Extract<VehicleSessionEvent, { type: 'decision' }>;

/** Events the car's driver reports for one session (decisions stamped with the car's time, enrollments by grant). */
export type VehicleEvent =
  | Exclude<VehicleSessionEvent, { type: 'decision' }>
  /** Every decision, for the audit log: denials at once, executions once completed; `at` is the car's trusted time (ms since the Unix epoch). */
  | (RoleDecision & { readonly at: number })
  /** A shared key was enrolled by redeeming its grant (already persisted by the key directory). */
  | { readonly type: 'enrolled'; readonly key: KeyRecord };

/** The driver's view of a role event: decisions get the car's trusted time. */
export function stampedEvent(e: VehicleSessionEvent, at: number): VehicleEvent {
  return e.type === 'decision' ? { ...e, at } : e;
}
