/**
 * BLE framing: whole protocol messages over ATT values of any MTU, plus the GATT profile the
 * noble, bleno, Web Bluetooth and React Native adapters share. One concept per module:
 *
 * - `fragment-codec.ts`: the fragment format, `fragmentMessage`, MTU/value-size limits;
 * - `reassembler.ts`: `Reassembler`, pure (the caller passes `now`);
 * - `gatt-profile.ts`: service and characteristic UUIDs, `FRAMING_VERSION`;
 * - `gatt-info.ts`: the info characteristic's value;
 * - `framed-link.ts`: `FramedLink`, the timer-driven `Link` over fragments.
 *
 * This module re-exports all of them, so existing imports keep working.
 */
export * from './fragment-codec.js';
export * from './reassembler.js';
export * from './gatt-profile.js';
export * from './gatt-info.js';
export * from './framed-link.js';
