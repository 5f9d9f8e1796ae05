/**
 * proxkey — a phone as a car key over Bluetooth LE.
 *
 * Layers (imports only point down): crypto → noise → protocol → roles → keys/policy → transport.
 * BLE adapters live in subpath exports and are never imported from here.
 */
export * from './errors.js';
export * from './crypto/index.js';
export * from './transport/index.js';
