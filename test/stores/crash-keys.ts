import { p256 } from '@noble/curves/nist.js';
import { sha256 } from '@noble/hashes/sha2.js';

/** The deterministic phone key of crash-test operation `i`. */
export function keyFor(i: number): Uint8Array {
  return p256.getPublicKey(sha256(new TextEncoder().encode(`crash-key-${i}`)), false);
}
