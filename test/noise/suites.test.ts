/**
 * proxkey's suites are built directly from their functions; the vector-only functions (X25519,
 * X448, SHA-512, BLAKE2) are named only when a caller passes `VECTOR_FUNCTIONS`, so a bundle of the
 * roles leaves them out.
 */
import { describe, expect, it } from 'vitest';
import { nobleCrypto } from '../../src/crypto/noble.js';
import { parseProtocolName, VECTOR_FUNCTIONS } from '../../src/noise/index.js';
import { SUITE_IDS, SUITES } from '../../src/protocol/constants.js';
import { noiseProtocolFor } from '../../src/roles/suite.js';
import { browserBundle } from '../helpers/browser-bundle.js';

const crypto = nobleCrypto;
const shape = (p: ReturnType<typeof parseProtocolName>) => ({
  name: p.name,
  pattern: p.pattern,
  dh: [p.dh.name, p.dh.publicKeyLength, p.dh.dhLength],
  cipher: p.cipher.name,
  hash: [p.hash.name, p.hash.hashLength, typeof p.hash.hkdf],
});

describe('Noise suites', () => {
  it.each(SUITE_IDS)('suite %i is built with the functions its protocol name names', (suite) => {
    expect(shape(noiseProtocolFor(suite, crypto))).toEqual(shape(parseProtocolName(SUITES[suite], crypto)));
  });

  it.each(['Noise_XX_25519_AESGCM_SHA256', 'Noise_XX_448_ChaChaPoly_BLAKE2b', 'Noise_NN_P256_AESGCM_SHA512', 'Noise_NN_P256_AESGCM_BLAKE2s'])(
    '%s needs the vector functions',
    (name) => {
      expect(() => parseProtocolName(name, crypto)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }));
      expect(parseProtocolName(name, crypto, VECTOR_FUNCTIONS).name).toBe(name);
    },
  );

  it.each([
    'Noise_XX_constructor_AESGCM_SHA256',
    'Noise_XX_P256_toString_SHA256',
    'Noise_XX_P256_AESGCM___proto__',
    'Noise_XX_P256_AESGCM',
    'Nois_XX_P256_AESGCM_SHA256',
  ])('rejects %s', (name) => {
    expect(() => parseProtocolName(name, crypto, VECTOR_FUNCTIONS)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }));
  });

  it('a browser bundle of the roles carries no X25519, X448, Ed25519 or BLAKE2 code', async () => {
    const result = await browserBundle({ contents: "export * from './src/roles/index.ts';" });
    const inputs = Object.keys(result.metafile.inputs);
    expect(inputs.some((f) => f.endsWith('src/roles/vehicle-session.ts'))).toBe(true);
    expect(inputs.filter((f) => /ed25519|ed448|blake2|montgomery|vector-functions|crypto\/extra/.test(f))).toEqual([]);
  });
});
