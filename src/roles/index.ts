export { VehicleSession, SESSION_DEFAULTS, type VehicleSessionOptions, type VehicleSessionState } from './vehicle-session.js';
export { checkedOutcome, type ExecutionOutcome, type VehicleAnswer, type VehicleRequest } from './vehicle-requests.js';
export {
  VehicleConnection,
  type VehicleConnectionAnswer,
  type VehicleConnectionEvent,
  type VehicleConnectionOptions,
  type VehicleConnectionOutput,
  type VehicleConnectionRequest,
} from './vehicle-connection.js';
export {
  PHONE_ANSWER_TIMEOUT_MS,
  PHONE_RESULT_TIMEOUT_MS,
  PhoneSession,
  type CommandOptions,
  type PhoneSessionOptions,
  type PhoneSessionState,
} from './phone-session.js';
export type { PhoneEvent, ProximityVerdict, RangingVerdict, RoleEnvironment, RoleOutput, VehicleSessionEvent } from './types.js';
export { VehiclePairingSession, PAIRING_STEP_TIMEOUT_MS, type VehiclePairingOptions, type VehiclePairingState } from './vehicle-pairing.js';
export { PhonePairingSession, type PhonePairingOptions } from './phone-pairing.js';
export type { EnrollOwnerRequest, PairingAuthority, PairingCredentials, PairingPhone, PairingPhoneEvent, PairingVehicleEvent } from './types.js';
