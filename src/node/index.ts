/**
 * `proxkey/node`: Node-only pieces — durable file stores, actuators (GPIO relays via libgpiod,
 * scripts, log) for the car daemon.
 */
export { FilePhoneStore, FileVehicleStore } from './file-stores.js';
export { appendDurable, writeFileAtomic } from './atomic-file.js';
export { commandActuator, gpioRelayActuator, logActuator, type GpioRelayConfig } from './actuators.js';
export { Gpio, systemRunner, type GpioLineRef, type GpioRunner } from './gpio.js';
export { linkProximity } from './link-proximity.js';
export { nodeCrypto } from './node-crypto.js';
