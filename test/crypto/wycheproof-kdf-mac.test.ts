/**
 * Wycheproof HKDF-SHA256 against `crypto.hkdfSha256` and HMAC-SHA256 against
 * `crypto.hmacSha256`. Neither file has `acceptable` cases; nothing is excluded.
 */
import { describe, expect, it } from 'vitest';
import { equalBytes, toHex } from '../../src/bytes.js';
import { LocalError } from '../../src/errors.js';
import { PROVIDERS } from './providers.js';
import { Tally, cases, describeError, hex, loadWycheproof, thrown, type HkdfGroup, type MacGroup } from './wycheproof.js';

describe.each(PROVIDERS)('Wycheproof HKDF-SHA256 (hkdf_sha256_test.json, %s)', (_name, crypto) => {
  it('derives every valid okm and rejects invalid sizes with LocalError', async () => {
    const f = loadWycheproof<HkdfGroup>('hkdf_sha256_test.json');
    const tally = new Tally();
    for (const [, t] of cases(f)) {
      let okm: Uint8Array | undefined;
      const err = await thrown(() => {
        okm = crypto.hkdfSha256(hex(t.ikm), hex(t.salt), hex(t.info), t.size);
      });
      if (t.result === 'valid') {
        if (err !== undefined) tally.fail(t.tcId, `threw ${describeError(err)}`);
        else if (!equalBytes(okm!, hex(t.okm))) tally.fail(t.tcId, `okm ${toHex(okm!)} (expected ${t.okm})`);
        else tally.add('valid: okm');
      } else if (t.result === 'invalid') {
        if (err instanceof LocalError && err.code === 'ERR_INVALID_ARGUMENT' && err.message === 'hkdf length: 0..8160') tally.add('invalid: LocalError');
        else tally.fail(t.tcId, `expected LocalError ERR_INVALID_ARGUMENT, got ${describeError(err)}`);
      } else tally.fail(t.tcId, 'unexpected acceptable case: document a policy');
    }
    expect(tally.failures).toEqual([]);
    expect(tally.total()).toBe(f.numberOfTests);
    expect(tally.toJSON()).toEqual({ 'valid: okm': 83, 'invalid: LocalError': 3 });
  });
});

describe.each(PROVIDERS)('Wycheproof HMAC-SHA256 (hmac_sha256_test.json, %s)', (_name, crypto) => {
  it('matches every valid tag (truncated to tagSize) and no invalid one', async () => {
    const f = loadWycheproof<MacGroup>('hmac_sha256_test.json');
    const tally = new Tally();
    for (const [g, t] of cases(f)) {
      expect(g.tagSize % 8).toBe(0);
      const tagBytes = g.tagSize / 8;
      const expected = hex(t.tag);
      let full: Uint8Array | undefined;
      const err = await thrown(() => {
        full = crypto.hmacSha256(hex(t.key), hex(t.msg));
      });
      if (err !== undefined || full === undefined) {
        tally.fail(t.tcId, `threw ${describeError(err)}`);
        continue;
      }
      if (full.length !== 32) tally.fail(t.tcId, `output is ${full.length} bytes`);
      // A truncated MAC compares the first tagSize bits; a tag of any other length never matches.
      const match = expected.length === tagBytes && equalBytes(full.subarray(0, tagBytes), expected);
      const bucket = `${t.result}: tag ${tagBytes === 32 ? 'full' : `truncated to ${tagBytes} B`}`;
      if (t.result === 'acceptable') tally.fail(t.tcId, 'unexpected acceptable case: document a policy');
      else if (match === (t.result === 'valid')) tally.add(bucket);
      else tally.fail(t.tcId, `${t.result} tag ${match ? 'matched' : `mismatch (got ${toHex(full)})`} (${t.comment})`);
    }
    expect(tally.failures).toEqual([]);
    expect(tally.total()).toBe(f.numberOfTests);
    expect(tally.toJSON()).toEqual({
      'valid: tag full': 33,
      'valid: tag truncated to 16 B': 33,
      'invalid: tag full': 54,
      'invalid: tag truncated to 16 B': 54,
    });
  });
});
