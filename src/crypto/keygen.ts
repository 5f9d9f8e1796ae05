import { LocalError } from '../errors.js';
import type { CryptoProvider, P256KeyPair, RandomSource } from './provider.js';

/**
 * Generate a P-256 key pair from the injected randomness (rejection sampling: a 32-byte draw
 * is retried when it is not a valid scalar, probability < 2^-32).
 */
export async function generateP256KeyPair(crypto: CryptoProvider, random: RandomSource): Promise<P256KeyPair> {
  for (let i = 0; i < 16; i++) {
    const secret = random(32);
    try {
      return await crypto.p256KeyPairFromSecret(secret);
    } catch (e) {
      if (!(e instanceof LocalError)) throw e;
    } finally {
      secret.fill(0);
    }
  }
  throw new LocalError('ERR_INVALID_STATE', 'random source produced 16 invalid P-256 scalars in a row');
}
