/** Key ids: hex of the first 8 bytes of SHA-256(public key), remembered per array but never stale. */
import { describe, expect, it } from 'vitest';
import { toHex } from '../../src/bytes.js';
import { nobleCrypto } from '../../src/crypto/noble.js';
import { keyIdOf } from '../../src/protocol/key-id.js';
import { PROVIDERS } from '../crypto/providers.js';

const G65 = Uint8Array.from(
  Buffer.from('046b17d1f2e12c4247f8bce6e563a440f277037d812deb33a0f4a13945d898c2964fe342e2fe1a7f9b8ee7eb4a7c0f9e162bce33576b315ececbb6406837bf51f5', 'hex'),
);
const expected = (key: Uint8Array) => toHex(nobleCrypto.sha256(key).subarray(0, 8));

describe('keyIdOf', () => {
  it.each(PROVIDERS)('%s: 16 hex chars of SHA-256, the same on every provider', (_name, crypto) => {
    expect(keyIdOf(crypto, G65)).toBe(expected(G65));
    expect(keyIdOf(crypto, G65)).toMatch(/^[0-9a-f]{16}$/);
  });

  it('an array changed in place since its id was computed gets the id of its new bytes', () => {
    const key = G65.slice();
    const first = keyIdOf(nobleCrypto, key);
    key[64]! ^= 1;
    expect(keyIdOf(nobleCrypto, key)).toBe(expected(key));
    expect(keyIdOf(nobleCrypto, key)).not.toBe(first);
  });
});
