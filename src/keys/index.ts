export { windowDenial, type KeyDirectory, type KeyRecord } from './key-record.js';
export { KeyRegistry, MemoryKeyRegistry, MemoryKeyStore, type EnrollOptions, type KeyRegistryOptions } from './key-registry.js';
export {
  carIdOf,
  decodeGrant,
  grantFromString,
  grantToString,
  issueGrant,
  verifyGrantSignature,
  GRANT_VERSION,
  type Grant,
  type GrantFields,
} from './grant.js';
export { keyRequestFromString, keyRequestToString, type KeyRequest } from './key-request.js';
export { encodePermissions, isGrantablePermission, permissionsCover } from './permissions.js';
export {
  auditEntryFromJson,
  phoneStateFromJson,
  phoneStateToJson,
  vehicleStateFromJson,
  vehicleStateToJson,
  EMPTY_PHONE_STATE,
  EMPTY_VEHICLE_STATE,
  STATE_SCHEMA_VERSION,
  type AuditEntry,
  type CarRecord,
  type PhoneState,
  type VehicleState,
} from './state.js';
export { MemoryPhoneStore, MemoryVehicleStore, type PhoneStore, type VehicleStore } from './store.js';
export { PairingMode, parsePairingPayload, randomPairingCode, type PairingModeOptions, type PairingModeStatus } from './pairing-mode.js';
export { openShare, sealShare, type Share } from './share.js';
export { decodeKeyList, encodeKeyList, KEYS_PER_PAGE, type KeyList, type KeyListEntry } from './key-list.js';
