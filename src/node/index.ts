/**
 * `proxkey/node`: Node-only pieces — durable file stores and backups, actuators (GPIO relays via
 * libgpiod, scripts, log) for the car daemon, the native crypto provider, socket links.
 */
export { FilePhoneStore, FileVehicleStore, type FileVehicleStoreOptions } from './file-stores.js';
export { backupVehicleState, restoreVehicleState, type RestoreOptions } from './vehicle-backup.js';
export { appendDurable, writeFileAtomic } from './atomic-file.js';
export { commandActuator, gpioRelayActuator, logActuator, resetGpioRelays, type GpioRelayConfig } from './actuators.js';
export { Gpio, systemRunner, type GpioLineRef, type GpioRunner } from './gpio.js';
export { linkProximity } from './link-proximity.js';
export { connectSocketLink, listenSocketLinks, socketLink } from './socket-link.js';
export { nodeCrypto } from './node-crypto.js';
