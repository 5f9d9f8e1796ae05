/**
 * Primitives outside proxkey's suite, used only so the generic Noise layer can be proven
 * against the full standard vector sets (X25519, X448, SHA-512, BLAKE2s, BLAKE2b).
 * Only `noise/vector-functions.ts` imports this module; the roles build their suites without it,
 * so a bundle of the roles (or of the BLE adapters) leaves these curves and hashes out. The
 * package's main entry still carries them, because it re-exports `noise.x25519Dh` and friends.
 */
export { x25519 } from '@noble/curves/ed25519.js';
export { x448 } from '@noble/curves/ed448.js';
export { blake2b, blake2s } from '@noble/hashes/blake2.js';
export { hmac } from '@noble/hashes/hmac.js';
export { sha256, sha512 } from '@noble/hashes/sha2.js';
