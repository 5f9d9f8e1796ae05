export type { Link, LinkCloseInfo, ReceiveOptions, SendOptions } from './link.js';
export { createMemoryLinkPair, type MemoryLinkOptions } from './memory-link.js';
export { withDeadline, type DeadlineOptions } from './deadline.js';
export { MessageQueue } from './message-queue.js';
export {
  serveVehicleSession,
  type Actuator,
  type AdminHandler,
  type ServeSummary,
  type ServeVehicleOptions,
  type VehiclePairingHooks,
} from './vehicle-driver.js';
export { stampedEvent, type VehicleEvent } from './vehicle-event.js';
export { VehicleAnswerer, KEY_DIRECTORY_TIMEOUT_MS, KEY_RECHECK_TIMEOUT_MS, type VehicleAnswererOptions } from './vehicle-answers.js';
export { openPhoneSession, runPhoneCommand, PhoneConnection, type CommandResult, type PhoneConnectOptions } from './phone-driver.js';
export { pairPhone, type PairedCar, type PairPhoneOptions } from './pairing-driver.js';
export {
  decodeGattInfo,
  encodeGattInfo,
  fragmentMessage,
  FramedLink,
  Reassembler,
  valueSizeForMtu,
  DEFAULT_MAX_MESSAGE_SIZE,
  FRAMING_VERSION,
  MAX_ATT_MTU,
  MIN_ATT_MTU,
  PROXKEY_INFO_CHAR_UUID,
  PROXKEY_NOTIFY_CHAR_UUID,
  PROXKEY_SERVICE_UUID,
  PROXKEY_WRITE_CHAR_UUID,
  type FramedLinkOptions,
  type FramingOptions,
  type GattInfo,
} from './framing.js';
export { StreamLink, STREAM_LENGTH_PREFIX, type StreamLinkOptions } from './stream-link.js';
export { ActuationLock, runActuator, type ActuatorContext, type RunActuatorOptions } from './actuation.js';
