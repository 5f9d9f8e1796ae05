/** What the car's driver reports about one session: the role's events, plus enrollments by grant. */
import type { KeyRecord } from '../keys/key-record.js';
import type { VehicleSessionEvent } from '../roles/types.js';

export type VehicleEvent =
  | VehicleSessionEvent
  /** A shared key was enrolled by redeeming its grant (already persisted by the key directory). */
  | { readonly type: 'enrolled'; readonly key: KeyRecord };
