/**
 * Wycheproof ECDSA P-256 / SHA-256 in IEEE P1363 form against `crypto.p256Verify`:
 * true exactly for `valid` cases, false for `invalid` ones, never a throw. The file has no
 * `acceptable` cases. Plus a sign → verify round trip through the public interface.
 */
import { describe, expect, it } from 'vitest';
import { utf8 } from '../../src/bytes.js';
import { P256_SIGNATURE_LENGTH } from '../../src/crypto/provider.js';
import { PROVIDERS } from './providers.js';
import { Tally, cases, describeError, hex, loadWycheproof, thrown, type EcdsaGroup } from './wycheproof.js';

describe.each(PROVIDERS)('Wycheproof ECDSA secp256r1 SHA-256 P1363 (ecdsa_secp256r1_sha256_p1363_test.json, %s)', (_name, crypto) => {
  it('verifies exactly the valid signatures and never throws', async () => {
    const f = loadWycheproof<EcdsaGroup>('ecdsa_secp256r1_sha256_p1363_test.json');
    const tally = new Tally();
    for (const g of f.testGroups) {
      expect(g.publicKey.curve).toBe('secp256r1');
      expect(g.sha).toBe('SHA-256');
    }
    for (const [g, t] of cases(f)) {
      let ok: boolean | undefined;
      const err = await thrown(async () => {
        ok = await crypto.p256Verify(hex(g.publicKey.uncompressed), hex(t.msg), hex(t.sig));
      });
      if (err !== undefined) {
        tally.fail(t.tcId, `p256Verify threw ${describeError(err)}`);
        continue;
      }
      if (typeof ok !== 'boolean') tally.fail(t.tcId, `p256Verify returned ${String(ok)}`);
      else if (t.result === 'acceptable') tally.fail(t.tcId, 'unexpected acceptable case: document a policy');
      else if (ok === (t.result === 'valid')) tally.add(`${t.result}: ${ok}`);
      else tally.fail(t.tcId, `${t.result} signature ${ok ? 'accepted' : 'rejected'} (${t.comment}; ${t.flags.join(',')})`);
    }
    expect(tally.failures).toEqual([]);
    expect(tally.total()).toBe(f.numberOfTests);
    expect(tally.toJSON()).toEqual({ 'valid: true': 173, 'invalid: false': 89 });
  });
});

describe.each(PROVIDERS)('p256Sign / p256Verify round trip (%s)', (_name, crypto) => {
  const secret = hex('c9afa9d845ba75166b5c215767b1d6934e50c3db36e89b127b8a622b120f6721'); // RFC 6979 A.2.5 key
  const message = utf8('sample');

  it('produces 64-byte P1363 signatures that verify, and only for the right key and message', async () => {
    const { publicKey } = await crypto.p256KeyPairFromSecret(secret);
    const other = (await crypto.p256KeyPairFromSecret(hex('01'.padStart(64, '0')))).publicKey;
    const sig = await crypto.p256Sign(secret, message);
    expect(sig).toBeInstanceOf(Uint8Array);
    expect(sig.length).toBe(P256_SIGNATURE_LENGTH);
    expect(sig.length).toBe(64);
    expect(await crypto.p256Verify(publicKey, message, sig)).toBe(true);
    expect(await crypto.p256Verify(publicKey, utf8('samplf'), sig)).toBe(false);
    expect(await crypto.p256Verify(other, message, sig)).toBe(false);
    for (const i of [0, 31, 32, 63]) {
      const bad = sig.slice();
      bad[i]! ^= 0x01;
      expect(await crypto.p256Verify(publicKey, message, bad)).toBe(false);
    }
    // Hedged signing (RFC 6979 + fresh entropy): two signatures differ, both verify.
    const sig2 = await crypto.p256Sign(secret, message);
    expect(sig2).not.toEqual(sig);
    expect(await crypto.p256Verify(publicKey, message, sig2)).toBe(true);
  });

  it('p256Verify returns false (never throws) on malformed arguments', async () => {
    const { publicKey } = await crypto.p256KeyPairFromSecret(secret);
    const sig = await crypto.p256Sign(secret, message);
    const bad: [unknown, unknown, unknown][] = [
      [publicKey, message, sig.subarray(0, 63)],
      [publicKey, message, new Uint8Array(65)],
      [publicKey, message, new Uint8Array(64)], // r = s = 0
      [publicKey, message, new Uint8Array(64).fill(0xff)], // r, s ≥ n
      [publicKey.subarray(0, 64), message, sig],
      [new Uint8Array(65), message, sig],
      [Uint8Array.of(0), message, sig],
      [publicKey, 'sample', sig],
      [publicKey, message, Array.from(sig)],
      [undefined, undefined, undefined],
    ];
    const loose = crypto as unknown as { p256Verify(a: unknown, b: unknown, c: unknown): Promise<boolean> };
    for (const [pk, msg, s] of bad) await expect(loose.p256Verify(pk, msg, s)).resolves.toBe(false);
  });
});
