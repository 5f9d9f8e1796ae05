/**
 * Every {@link CryptoProvider} proxkey ships, for the suites that must pass on each of them
 * (Wycheproof, Noise vectors, protocol transcripts, the car × phone matrix). Not a test file.
 */
import { nobleCrypto } from '../../src/crypto/noble.js';
import type { CryptoProvider } from '../../src/crypto/provider.js';
import { webCryptoProvider } from '../../src/crypto/webcrypto.js';
import { nodeCrypto } from '../../src/node/node-crypto.js';

export const PROVIDERS: readonly (readonly [string, CryptoProvider])[] = [
  ['noble', nobleCrypto],
  ['node', nodeCrypto],
  ['webcrypto', webCryptoProvider()],
];
