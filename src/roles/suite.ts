import type { CryptoProvider } from '../crypto/provider.js';
import type { KeyCustody } from '../crypto/custody.js';
import type { NoiseKey } from '../noise/functions.js';
import { parseProtocolName, type NoiseProtocol } from '../noise/suites.js';
import { LocalError } from '../errors.js';
import { SUITE_IDS, SUITES, type SuiteId } from '../protocol/constants.js';
import { isSuiteId } from '../protocol/messages.js';

/** The Noise protocol for a suite id. */
export function noiseProtocolFor(suite: SuiteId, crypto: CryptoProvider): NoiseProtocol {
  return parseProtocolName(SUITES[suite], crypto);
}

/** A long-term key in custody, seen as a Noise static key (only ECDH is needed by Noise). */
export function custodyAsNoiseKey(custody: KeyCustody): NoiseKey {
  return { publicKey: custody.publicKey, dh: (remote) => custody.ecdh(remote) };
}

/** Validate a configured suite list (non-empty, known ids); returns it or the default (all). */
export function checkSuites(suites: readonly SuiteId[] | undefined): readonly SuiteId[] {
  const list = suites ?? SUITE_IDS;
  if (list.length === 0 || !list.every(isSuiteId)) throw new LocalError('ERR_INVALID_ARGUMENT', `suites: non-empty subset of ${SUITE_IDS.join(', ')}`);
  return list;
}
