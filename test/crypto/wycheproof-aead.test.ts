/**
 * Wycheproof AES-GCM and ChaCha20-Poly1305 against `crypto.aeadSeal` / `aeadOpen`.
 *
 * In suite: 256-bit key, 96-bit nonce, 128-bit tag (what 'aes-256-gcm' and 'chacha20-poly1305'
 * are). Valid: seal gives ct ‖ tag and open gives msg back. Invalid: open throws
 * RemoteError ERR_DECRYPT.
 *
 * Out of suite (other key or nonce sizes): not skipped — both seal and open must refuse them
 * with LocalError ERR_INVALID_ARGUMENT naming the wrong-length argument (key checked first).
 */
import { describe, expect, it } from 'vitest';
import { concatBytes, equalBytes, toHex } from '../../src/bytes.js';
import type { AeadAlgorithm, CryptoProvider } from '../../src/crypto/provider.js';
import { LocalError, RemoteError } from '../../src/errors.js';
import { PROVIDERS } from './providers.js';
import { Tally, cases, describeError, hex, loadWycheproof, thrown, type AeadGroup } from './wycheproof.js';

const inSuite = (g: AeadGroup) => g.keySize === 256 && g.ivSize === 96 && g.tagSize === 128;

async function replay(crypto: CryptoProvider, file: string, alg: AeadAlgorithm): Promise<{ tally: Tally; numberOfTests: number }> {
  const f = loadWycheproof<AeadGroup>(file);
  const tally = new Tally();
  for (const [g, t] of cases(f)) {
    const [key, iv, aad, msg] = [hex(t.key), hex(t.iv), hex(t.aad), hex(t.msg)];
    const sealed = concatBytes(hex(t.ct), hex(t.tag));
    if (t.result === 'acceptable') {
      tally.fail(t.tcId, 'unexpected acceptable case: document a policy');
      continue;
    }

    if (!inSuite(g)) {
      expect(g.tagSize, 'only key and nonce sizes can be out of suite here').toBe(128);
      const message = g.keySize !== 256 ? `aead key: expected 32 bytes, got ${g.keySize / 8}` : `aead nonce: expected 12 bytes, got ${g.ivSize / 8}`;
      const errs = [await thrown(() => crypto.aeadSeal(alg, key, iv, msg, aad)), await thrown(() => crypto.aeadOpen(alg, key, iv, sealed, aad))];
      const ok = errs.every((e) => e instanceof LocalError && e.code === 'ERR_INVALID_ARGUMENT' && e.message === message);
      if (ok) tally.add(`out of suite (${t.result}): LocalError`);
      else tally.fail(t.tcId, `out of suite: expected LocalError '${message}', got ${errs.map(describeError).join(' / ')}`);
      continue;
    }

    if (t.result === 'valid') {
      let ct: Uint8Array | undefined;
      let pt: Uint8Array | undefined;
      const err = await thrown(async () => {
        ct = await crypto.aeadSeal(alg, key, iv, msg, aad);
        pt = await crypto.aeadOpen(alg, key, iv, sealed, aad);
      });
      if (err !== undefined) tally.fail(t.tcId, `threw ${describeError(err)}`);
      else if (!equalBytes(ct!, sealed)) tally.fail(t.tcId, `seal gave ${toHex(ct!)}`);
      else if (!equalBytes(pt!, msg)) tally.fail(t.tcId, `open gave ${toHex(pt!)}`);
      else tally.add('valid: sealed and opened');
    } else {
      const err = await thrown(() => crypto.aeadOpen(alg, key, iv, sealed, aad));
      if (err instanceof RemoteError && err.code === 'ERR_DECRYPT') tally.add('invalid: ERR_DECRYPT');
      else tally.fail(t.tcId, `expected RemoteError ERR_DECRYPT, got ${describeError(err)} (${t.comment})`);
    }
  }
  return { tally, numberOfTests: f.numberOfTests };
}

describe.each(PROVIDERS)('Wycheproof AEAD (%s)', (_name, crypto) => {
  it("AES-GCM as 'aes-256-gcm' (aes_gcm_test.json)", async () => {
    const { tally, numberOfTests } = await replay(crypto, 'aes_gcm_test.json', 'aes-256-gcm');
    expect(tally.failures).toEqual([]);
    expect(tally.total()).toBe(numberOfTests);
    expect(tally.toJSON()).toEqual({
      'valid: sealed and opened': 39,
      'invalid: ERR_DECRYPT': 27,
      // 128/192-bit keys (any nonce) and 256-bit keys with nonces of 0..2056 bits ≠ 96
      'out of suite (valid): LocalError': 190,
      'out of suite (invalid): LocalError': 60,
    });
  });

  it("ChaCha20-Poly1305 as 'chacha20-poly1305' (chacha20_poly1305_test.json)", async () => {
    const { tally, numberOfTests } = await replay(crypto, 'chacha20_poly1305_test.json', 'chacha20-poly1305');
    expect(tally.failures).toEqual([]);
    expect(tally.total()).toBe(numberOfTests);
    expect(tally.toJSON()).toEqual({
      'valid: sealed and opened': 256,
      'invalid: ERR_DECRYPT': 60,
      // InvalidNonceSize: nonces of 0, 64, 88, 104, 112, 128, 160, 192, 256 bits
      'out of suite (invalid): LocalError': 9,
    });
  });

  it('rejects a ciphertext shorter than the tag with ERR_DECRYPT', async () => {
    for (const alg of ['aes-256-gcm', 'chacha20-poly1305'] as const) {
      const err = await thrown(() => crypto.aeadOpen(alg, new Uint8Array(32), new Uint8Array(12), new Uint8Array(15), new Uint8Array(0)));
      expect(err).toBeInstanceOf(RemoteError);
      expect((err as RemoteError).code).toBe('ERR_DECRYPT');
    }
  });
});
