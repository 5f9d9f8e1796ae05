export { VehicleSession, type ExecutionOutcome, type VehicleSessionOptions, type VehicleSessionState } from './vehicle-session.js';
export { PHONE_ANSWER_TIMEOUT_MS, PhoneSession, type CommandOptions, type PhoneSessionOptions, type PhoneSessionState } from './phone-session.js';
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
export { VehiclePairingSession, type VehiclePairingOptions } from './vehicle-pairing.js';
export { PhonePairingSession, type PhonePairingOptions } from './phone-pairing.js';
export type { PairingAuthority, PairingCredentials, PairingPhoneEvent, PairingVehicleEvent } from './types.js';
