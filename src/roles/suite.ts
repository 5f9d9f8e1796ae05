import type { CryptoProvider } from '../crypto/provider.js';
import type { KeyCustody } from '../crypto/custody.js';
import type { NoiseCipher, NoiseKey } from '../noise/functions.js';
import { getPattern } from '../noise/patterns.js';
import { aesGcmCipher, chaChaPolyCipher, p256Dh, perProvider, providerSha256Hash, type NoiseProtocol } from '../noise/suites.js';
import { LocalError } from '../errors.js';
import { SUITE_IDS, SUITES, type SuiteId } from '../protocol/constants.js';
import { isSuiteId } from '../protocol/messages.js';

/** Each suite's cipher; the rest of every suite is KX, P-256 and SHA-256 (`SUITES` names them). */
const SUITE_CIPHERS: Readonly<Record<SuiteId, (crypto: CryptoProvider) => NoiseCipher>> = { 1: aesGcmCipher, 2: chaChaPolyCipher };

/**
 * The Noise protocol for a suite id, built directly from its functions (not parsed from its name,
 * so no table of other curves and hashes ends up in a bundle of the roles).
 */
export function noiseProtocolFor(suite: SuiteId, crypto: CryptoProvider): NoiseProtocol {
  return protocolsOf(crypto)[suite];
}

/** Every suite's protocol, built once per provider: every handshake asks (the functions hold no state). */
const protocolsOf = perProvider((crypto): Readonly<Record<SuiteId, NoiseProtocol>> => {
  const protocol = (suite: SuiteId): NoiseProtocol =>
    Object.freeze({
      name: SUITES[suite],
      pattern: getPattern('KX'),
      dh: p256Dh(crypto),
      cipher: SUITE_CIPHERS[suite](crypto),
      hash: providerSha256Hash(crypto),
    });
  return { 1: protocol(1), 2: protocol(2) };
});

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
