/**
 * proxkey's suites are built directly from their functions; the vector-only functions (X25519,
 * X448, SHA-512, BLAKE2) are named only when a caller passes `VECTOR_FUNCTIONS`, so a bundle of the
 * roles leaves them out.
 */
import { describe, expect, it } from 'vitest';
import { nobleCrypto } from '../../src/crypto/noble.js';
import { aesGcmCipher, chaChaPolyCipher, CipherState, getPattern, parseProtocolName, VECTOR_FUNCTIONS, xChaChaPolyCipher } from '../../src/noise/index.js';
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

  /** The nonce bytes each cipher must put on counter n (Noise spec §12.3–12.5; XChaChaPoly as snow). */
  const CIPHERS = [
    ['AESGCM', aesGcmCipher, 'aes-256-gcm', 12, 4, false],
    ['ChaChaPoly', chaChaPolyCipher, 'chacha20-poly1305', 12, 4, true],
    ['XChaChaPoly', xChaChaPolyCipher, 'xchacha20-poly1305', 24, 16, true],
  ] as const;
  const expectedNonce = (size: number, offset: number, littleEndian: boolean, n: bigint) => {
    const out = new Uint8Array(size);
    new DataView(out.buffer).setBigUint64(offset, n, littleEndian);
    return out;
  };

  it.each(CIPHERS)('%s encodes large counters and the rekey nonce 2^64-1 as 64-bit integers', async (_name, build, alg, size, offset, le) => {
    const key = new Uint8Array(32).fill(3);
    const ad = Uint8Array.of(1, 2);
    const plaintext = Uint8Array.of(9, 8, 7);
    for (const n of [0, 1, 0xffffffff, 2 ** 32, 2 ** 32 + 5, 2 ** 52 + 3]) {
      const state = new CipherState(build(crypto), key);
      state.setNonce(n);
      const sealed = await state.encryptWithAd(ad, plaintext);
      expect(sealed, `n = ${n}`).toEqual(await crypto.aeadSeal(alg, key, expectedNonce(size, offset, le, BigInt(n)), plaintext, ad));
    }
    const state = new CipherState(build(crypto), key);
    await state.rekey();
    const rekeyed = (await crypto.aeadSeal(alg, key, expectedNonce(size, offset, le, 2n ** 64n - 1n), new Uint8Array(32), new Uint8Array(0))).slice(0, 32);
    expect(await state.encryptWithAd(ad, plaintext)).toEqual(await crypto.aeadSeal(alg, rekeyed, expectedNonce(size, offset, le, 0n), plaintext, ad));
  });

  it('a pattern is shared between callers and cannot be changed by one of them', () => {
    const kx = getPattern('KX');
    expect(getPattern('KX')).toBe(kx);
    expect(Object.isFrozen(kx.messages) && kx.messages.every(Object.isFrozen) && Object.isFrozen(kx.preInitiator)).toBe(true);
    expect(() => (kx.messages[0] as string[]).push('psk')).toThrow(TypeError);
    expect(getPattern('KX').messages).toEqual([['e'], ['e', 'ee', 'se', 's', 'es']]);
  });
});
