import type { CryptoProvider } from '../crypto/provider.js';
import type { KeyCustody } from '../crypto/custody.js';
import type { NoiseKey } from '../noise/functions.js';
import { parseProtocolName, type NoiseProtocol } from '../noise/suites.js';
import { SUITES, type SuiteId } from '../protocol/constants.js';

/** The Noise protocol for a suite id. */
export function noiseProtocolFor(suite: SuiteId, crypto: CryptoProvider): NoiseProtocol {
  return parseProtocolName(SUITES[suite], crypto);
}

/** A long-term key in custody, seen as a Noise static key (only ECDH is needed by Noise). */
export function custodyAsNoiseKey(custody: KeyCustody): NoiseKey {
  return { publicKey: custody.publicKey, dh: (remote) => custody.ecdh(remote) };
}
