/**
 * proxkey — a phone as a car key over Bluetooth LE.
 *
 * Layers (imports only point down): crypto → noise → protocol → roles → keys/policy → transport.
 * BLE adapters live in subpath exports (`proxkey/noble`, `proxkey/bleno`) and are never imported
 * from here, so this entry loads on any machine, with or without Bluetooth.
 */
export * from './errors.js';
export { concatBytes, equalBytes, fromHex, toHex } from './bytes.js';
export * from './crypto/index.js';
export * as noise from './noise/index.js';
export * from './pake/index.js';
export * from './protocol/index.js';
export * from './roles/index.js';
export * from './policy/index.js';
export * from './proximity/index.js';
export * from './keys/index.js';
export * from './transport/index.js';
export * from './service/index.js';
