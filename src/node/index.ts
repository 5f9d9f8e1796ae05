/**
 * `proxkey/node`: Node-only pieces — durable file stores for the car and the phone CLI.
 */
export { FilePhoneStore, FileVehicleStore } from './file-stores.js';
export { appendDurable, writeFileAtomic } from './atomic-file.js';
