import { concatBytes, utf8 } from '../bytes.js';
import { PROLOGUE_LABEL } from './constants.js';

/**
 * The Noise prologue (docs/PROTOCOL.md §4.2): `"proxkey" 0x00 ‖ challenge header (3 B) ‖
 * handshake header (3 B)`. Both sides build it from the bytes they saw, so any change to the
 * offer or the selection (a downgrade) makes the handshake fail.
 */
export function buildPrologue(challengeHeader: Uint8Array, handshakeHeader: Uint8Array): Uint8Array {
  return concatBytes(utf8(PROLOGUE_LABEL), challengeHeader, handshakeHeader);
}
