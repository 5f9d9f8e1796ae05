export { VehicleSession, type ExecutionOutcome, type VehicleSessionOptions, type VehicleState } from './vehicle-session.js';
export { PhoneSession, type CommandOptions, type PhoneSessionOptions, type PhoneState } from './phone-session.js';
export type {
  KeyDirectory,
  KeyRecord,
  PhoneEvent,
  Policy,
  PolicyContext,
  PolicyDecision,
  ProximityVerdict,
  RangingVerdict,
  RoleEnvironment,
  RoleOutput,
  VehicleEvent,
  VehicleHooks,
} from './types.js';
