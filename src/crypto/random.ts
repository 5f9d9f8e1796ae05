/** Randomness sources. The default uses the platform CSPRNG (`crypto.getRandomValues`). */
import { sha256 } from '@noble/hashes/sha2.js';
import { randomBytes } from '@noble/hashes/utils.js';
import { concatBytes, copyOf, utf8 } from '../bytes.js';
import type { RandomSource } from './provider.js';
import { LocalError } from '../errors.js';

/** The platform CSPRNG (WebCrypto `getRandomValues`: Node ≥ 20, browsers, React Native with a polyfill). */
export const systemRandom: RandomSource = (n) => randomBytes(n);

/**
 * A deterministic byte stream: SHA-256(seed ‖ counter) blocks. **For tests and published
 * vectors only** — never use it for real keys.
 */
export function deterministicRandom(seed: string | Uint8Array): RandomSource {
  const s = typeof seed === 'string' ? utf8(seed) : copyOf(seed);
  let counter = 0;
  let pool: Uint8Array = new Uint8Array(0);
  return (n) => {
    while (pool.length < n) {
      const c = new Uint8Array(4);
      new DataView(c.buffer).setUint32(0, counter++);
      pool = concatBytes(pool, sha256(concatBytes(s, c)));
    }
    const out = pool.slice(0, n);
    pool = pool.slice(n);
    return out;
  };
}

/**
 * Draws a rejection sampler may take before it gives up. A working CSPRNG is rejected at most
 * with probability 2⁻⁵ per draw by every sampler here, so 64 rejections in a row (≤ 2⁻³²⁰) mean
 * a broken source (one that repeats a value), not bad luck: fail loudly instead of spinning
 * forever with the event loop blocked.
 */
export const MAX_REJECTED_DRAWS = 64;

/**
 * Rejection sampling with a bound: `draw()` until `accept` returns a value (not `undefined`),
 * at most `MAX_REJECTED_DRAWS` times, then throw `LocalError('ERR_INVALID_STATE')` naming `what`.
 */
export function sampleUntilAccepted<T>(what: string, draw: () => T | undefined): T {
  for (let i = 0; i < MAX_REJECTED_DRAWS; i++) {
    const value = draw();
    if (value !== undefined) return value;
  }
  throw new LocalError('ERR_INVALID_STATE', `${what}: the random source gave ${MAX_REJECTED_DRAWS} unusable draws in a row (it is broken or repeats itself)`);
}
