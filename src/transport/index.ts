export type { Link, LinkCloseInfo, ReceiveOptions, SendOptions } from './link.js';
export { createMemoryLinkPair, type MemoryLinkOptions } from './memory-link.js';
export { withDeadline, type DeadlineOptions } from './deadline.js';
export { MessageQueue } from './message-queue.js';
export { serveVehicleSession, type Actuator, type ServeSummary, type ServeVehicleOptions } from './vehicle-driver.js';
export {
  openPhoneSession,
  runPhoneCommand,
  PhoneConnection,
  type CommandResult,
  type PhoneConnectOptions,
} from './phone-driver.js';
export { pairPhone, serveVehiclePairing, type PairedCar, type PairPhoneOptions, type VehiclePairingHooks } from './pairing-driver.js';
