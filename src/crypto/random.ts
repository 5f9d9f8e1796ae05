/** Randomness sources. The default uses the platform CSPRNG (`crypto.getRandomValues`). */
import { sha256 } from '@noble/hashes/sha2.js';
import { randomBytes } from '@noble/hashes/utils.js';
import { concatBytes, copyOf, utf8 } from '../bytes.js';
import type { RandomSource } from './provider.js';

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
