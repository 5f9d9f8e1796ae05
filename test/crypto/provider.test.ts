/**
 * The provider's argument checking (exact LocalError messages), P-256 public-key validation
 * edge cases, and deterministic key generation with rejection sampling.
 */
import { p256 } from '@noble/curves/nist.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { describe, expect, it } from 'vitest';
import { concatBytes, fromHex, toHex, utf8 } from '../../src/bytes.js';
import { generateP256KeyPair } from '../../src/crypto/keygen.js';
import { nobleCrypto } from '../../src/crypto/noble.js';
import { assertP256PublicKey, isP256PublicKey, p256Uncompressed } from '../../src/crypto/p256.js';
import type { AeadAlgorithm, RandomSource } from '../../src/crypto/provider.js';
import { deterministicRandom } from '../../src/crypto/random.js';
import { LocalError, ProxkeyError, RemoteError, assertArg, assertBytes } from '../../src/errors.js';
import { PROVIDERS } from './providers.js';
import { P256_N, thrown } from './wycheproof.js';

const P = 0xffffffff00000001000000000000000000000000ffffffffffffffffffffffffn;
const be32 = (n: bigint) => fromHex(n.toString(16).padStart(64, '0'));
const GX = '6b17d1f2e12c4247f8bce6e563a440f277037d812deb33a0f4a13945d898c296';
const GY = '4fe342e2fe1a7f9b8ee7eb4a7c0f9e162bce33576b315ececbb6406837bf51f5';
const G65 = fromHex(`04${GX}${GY}`);
const G33 = fromHex(`03${GX}`);

/** Asserts `err` is LocalError ERR_INVALID_ARGUMENT with exactly `message`. */
function expectArgError(err: unknown, message: string): void {
  expect(err).toBeInstanceOf(LocalError);
  expect(err).toBeInstanceOf(ProxkeyError);
  const e = err as LocalError;
  expect(e.name).toBe('LocalError');
  expect(e.code).toBe('ERR_INVALID_ARGUMENT');
  expect(e.message).toBe(message);
}

describe('argument asserters', () => {
  it('assertBytes / assertArg throw LocalError ERR_INVALID_ARGUMENT with exact messages', async () => {
    expectArgError(await thrown(() => assertBytes(new Uint8Array(3), 'thing', 32)), 'thing: expected 32 bytes, got 3');
    expectArgError(await thrown(() => assertBytes(new Uint8Array(3), 'thing', 33, 65)), 'thing: expected 33 or 65 bytes, got 3');
    expectArgError(await thrown(() => assertBytes('abc', 'thing')), 'thing: expected Uint8Array');
    expectArgError(await thrown(() => assertBytes([1, 2, 3], 'thing', 3)), 'thing: expected Uint8Array');
    expectArgError(await thrown(() => assertArg(false, 'nope')), 'nope');
    expect(() => assertBytes(new Uint8Array(32), 'thing', 32)).not.toThrow();
    expect(() => assertBytes(new Uint8Array(7), 'thing')).not.toThrow();
  });

  it.each(PROVIDERS)('%s checks every length with an exact message', async (_name, crypto) => {
    const k32 = new Uint8Array(32).fill(1);
    const cases: [() => unknown, string][] = [
      [() => crypto.p256KeyPairFromSecret(new Uint8Array(31)), 'P-256 secret key: expected 32 bytes, got 31'],
      [() => crypto.p256KeyPairFromSecret(new Uint8Array(33)), 'P-256 secret key: expected 32 bytes, got 33'],
      [() => crypto.p256KeyPairFromSecret(new Uint8Array(32)), 'P-256 secret key: scalar out of range [1, n-1]'],
      [() => crypto.p256KeyPairFromSecret(be32(P256_N)), 'P-256 secret key: scalar out of range [1, n-1]'],
      [() => crypto.p256KeyPairFromSecret(new Uint8Array(32).fill(0xff)), 'P-256 secret key: scalar out of range [1, n-1]'],
      [() => crypto.p256Ecdh(new Uint8Array(16), G65), 'P-256 secret key: expected 32 bytes, got 16'],
      [() => crypto.p256Sign(new Uint8Array(0), utf8('m')), 'P-256 secret key: expected 32 bytes, got 0'],
      [() => crypto.aeadSeal('aes-256-gcm', new Uint8Array(16), new Uint8Array(12), k32, k32), 'aead key: expected 32 bytes, got 16'],
      [() => crypto.aeadOpen('chacha20-poly1305', new Uint8Array(24), new Uint8Array(12), k32, k32), 'aead key: expected 32 bytes, got 24'],
      [() => crypto.aeadSeal('aes-256-gcm', k32, new Uint8Array(16), k32, k32), 'aead nonce: expected 12 bytes, got 16'],
      [() => crypto.aeadSeal('chacha20-poly1305', k32, new Uint8Array(24), k32, k32), 'aead nonce: expected 12 bytes, got 24'],
      [() => crypto.aeadOpen('xchacha20-poly1305', k32, new Uint8Array(12), k32, k32), 'aead nonce: expected 24 bytes, got 12'],
      [() => crypto.aeadSeal('aes-128-gcm' as AeadAlgorithm, k32, new Uint8Array(12), k32, k32), 'unknown AEAD algorithm: aes-128-gcm'],
      [() => crypto.hkdfSha256(k32, k32, k32, 8161), 'hkdf length: 0..8160'],
      [() => crypto.hkdfSha256(k32, k32, k32, -1), 'hkdf length: 0..8160'],
      [() => crypto.hkdfSha256(k32, k32, k32, 1.5), 'hkdf length: 0..8160'],
    ];
    for (const [fn, message] of cases) expectArgError(await thrown(fn), message);
    expect(crypto.hkdfSha256(k32, k32, k32, 8160).length).toBe(8160);
    expect(crypto.hkdfSha256(k32, k32, k32, 0).length).toBe(0);
  });
});

/** The smallest x ≥ 0 that is the X coordinate of a P-256 point, with that point's Y. */
function smallXPoint(): { x: bigint; y: bigint } {
  const Fp = p256.Point.Fp;
  const b = p256.Point.CURVE().b;
  for (let x = 0n; ; x++) {
    const rhs = Fp.add(Fp.sub(Fp.mul(Fp.sqr(x), x), Fp.mul(3n, x)), b);
    try {
      const y = Fp.sqrt(rhs);
      if (Fp.eql(Fp.sqr(y), rhs)) return { x, y };
    } catch {
      // not a square: try the next x
    }
  }
}

describe('AEAD algorithm argument', () => {
  // Objects that stringify to a known name: `hasOwn` let them through, then each provider failed its own way.
  const lookalikes: [string, unknown][] = [
    ['an array', ['aes-256-gcm']],
    ['a String object', new String('chacha20-poly1305')],
    ['an object with toString', { toString: () => 'xchacha20-poly1305' }],
  ];
  it.each(PROVIDERS)('%s refuses a non-string algorithm that stringifies to a known one with LocalError, on seal and open', async (_name, crypto) => {
    for (const [label, alg] of lookalikes) {
      const nonce = new Uint8Array(String(alg).startsWith('x') ? 24 : 12);
      for (const op of [crypto.aeadSeal, crypto.aeadOpen]) {
        const err = await thrown(() => op(alg as AeadAlgorithm, new Uint8Array(32), nonce, new Uint8Array(20), new Uint8Array(0)));
        expect(err, label).toBeInstanceOf(LocalError);
        expect((err as LocalError).message, label).toBe('AEAD algorithm: expected a string');
      }
    }
  });
});

describe('assertP256PublicKey', () => {
  const expectInvalid = (bytes: Uint8Array, label: string) => {
    expect(isP256PublicKey(bytes), label).toBe(false);
    let err: unknown;
    try {
      assertP256PublicKey(bytes, 'peer key');
    } catch (e) {
      err = e;
    }
    expect(err, label).toBeInstanceOf(RemoteError);
    expect((err as RemoteError).code, label).toBe('ERR_INVALID_POINT');
    expect((err as RemoteError).message, label).toBe('invalid P-256 peer key');
  };

  it('accepts the generator in both encodings', () => {
    expect(() => assertP256PublicKey(G65)).not.toThrow();
    expect(() => assertP256PublicKey(G33)).not.toThrow();
    expect(p256Uncompressed(G33)).toEqual(G65);
  });

  it('rejects the identity encoding and wrong prefixes or lengths', () => {
    expectInvalid(Uint8Array.of(0x00), 'identity (00)');
    expectInvalid(new Uint8Array(65), 'all-zero 65 bytes');
    expectInvalid(new Uint8Array(0), 'empty');
    for (const prefix of [0x00, 0x01, 0x02, 0x03, 0x05, 0x06, 0x07, 0xff])
      expectInvalid(concatBytes(Uint8Array.of(prefix), G65.subarray(1)), `65 bytes with prefix ${prefix}`);
    for (const prefix of [0x00, 0x04, 0x05]) expectInvalid(concatBytes(Uint8Array.of(prefix), G33.subarray(1)), `33 bytes with prefix ${prefix}`);
    expectInvalid(G65.subarray(0, 64), '64 bytes');
    expectInvalid(concatBytes(G65, Uint8Array.of(0)), '66 bytes');
    expectInvalid(G33.subarray(0, 32), '32 bytes');
    expect(isP256PublicKey('04' as unknown as Uint8Array)).toBe(false);
    expect(isP256PublicKey(Array.from(G65) as unknown as Uint8Array)).toBe(false);
  });

  it('rejects points off the curve', () => {
    const off = G65.slice();
    off[64]! ^= 1;
    expectInvalid(off, 'G with y+1');
    expectInvalid(concatBytes(Uint8Array.of(4), be32(1n), be32(1n)), '(1, 1)');
    expectInvalid(concatBytes(Uint8Array.of(4), be32(0n), be32(0n)), '(0, 0)');
  });

  it('rejects a coordinate ≥ p instead of reducing it', () => {
    const { x, y } = smallXPoint();
    expect(x + P).toBeLessThan(1n << 256n);
    const prefix = Uint8Array.of(y % 2n === 0n ? 0x02 : 0x03);
    // Sanity: the reduced encodings are valid.
    expect(isP256PublicKey(concatBytes(prefix, be32(x)))).toBe(true);
    expect(isP256PublicKey(concatBytes(Uint8Array.of(4), be32(x), be32(y)))).toBe(true);
    expectInvalid(concatBytes(prefix, be32(x + P)), 'compressed x + p');
    expectInvalid(concatBytes(Uint8Array.of(4), be32(x + P), be32(y)), 'uncompressed x + p');
    expectInvalid(concatBytes(Uint8Array.of(4), be32(P), be32(y)), 'x = p');
    expectInvalid(concatBytes(Uint8Array.of(2), new Uint8Array(32).fill(0xff)), 'compressed x = 2^256 - 1');
  });

  it.each(PROVIDERS)('%s p256Ecdh refuses invalid points with RemoteError ERR_INVALID_POINT', async (_name, crypto) => {
    const { x, y } = smallXPoint();
    const bad = concatBytes(Uint8Array.of(4), be32(x + P), be32(y));
    for (const pub of [Uint8Array.of(0), bad, new Uint8Array(65)]) {
      const err = await thrown(() => crypto.p256Ecdh(be32(7n), pub));
      expect(err).toBeInstanceOf(RemoteError);
      expect((err as RemoteError).code).toBe('ERR_INVALID_POINT');
    }
  });

  it.each(PROVIDERS)('%s: a key found valid once and changed in place since is validated again', async (_name, crypto) => {
    const key = G65.slice();
    expect(isP256PublicKey(key)).toBe(true);
    await expect(crypto.p256Ecdh(be32(7n), key)).resolves.toHaveLength(32);
    key[64]! ^= 1; // now off the curve, same array
    expect(isP256PublicKey(key)).toBe(false);
    const err = await thrown(() => crypto.p256Ecdh(be32(7n), key));
    expect((err as RemoteError).code).toBe('ERR_INVALID_POINT');
    key[64]! ^= 1; // valid again
    expect(isP256PublicKey(key)).toBe(true);
  });
});

describe('generateP256KeyPair', () => {
  /** Counts draws and keeps them, to check wiping. */
  const recording = (inner: RandomSource) => {
    const draws: Uint8Array[] = [];
    const random: RandomSource = (n) => {
      const out = inner(n);
      draws.push(out);
      return out;
    };
    return { random, draws };
  };

  it('is deterministic under deterministicRandom', async () => {
    const a = await generateP256KeyPair(nobleCrypto, deterministicRandom('proxkey keygen test'));
    const b = await generateP256KeyPair(nobleCrypto, deterministicRandom('proxkey keygen test'));
    const c = await generateP256KeyPair(nobleCrypto, deterministicRandom('another seed'));
    expect(a).toEqual(b);
    expect(toHex(a.secretKey)).not.toBe(toHex(c.secretKey));
    // First draw = SHA-256(seed ‖ counter 0), and the public key matches the secret.
    expect(a.secretKey).toEqual(sha256(concatBytes(utf8('proxkey keygen test'), new Uint8Array(4))));
    expect(a.publicKey).toEqual((await nobleCrypto.p256KeyPairFromSecret(a.secretKey)).publicKey);
    expect(a.publicKey.length).toBe(65);
  });

  it('retries on an out-of-range scalar and wipes every draw', async () => {
    for (const bad of [new Uint8Array(32).fill(0xff), new Uint8Array(32), be32(P256_N)]) {
      const stream = deterministicRandom('proxkey keygen test');
      let first = true;
      const { random, draws } = recording((n) => {
        if (first) {
          first = false;
          return bad.slice();
        }
        return stream(n);
      });
      const kp = await generateP256KeyPair(nobleCrypto, random);
      expect(draws.length).toBe(2);
      expect(kp).toEqual(await generateP256KeyPair(nobleCrypto, deterministicRandom('proxkey keygen test')));
      for (const d of draws) expect(d.every((x) => x === 0)).toBe(true); // wiped
      expect(kp.secretKey.some((x) => x !== 0)).toBe(true); // the returned key is a copy, not wiped
    }
  });

  it('gives up with LocalError ERR_INVALID_STATE after 16 invalid scalars', async () => {
    const { random, draws } = recording(() => new Uint8Array(32).fill(0xff));
    const err = await thrown(() => generateP256KeyPair(nobleCrypto, random));
    expect(err).toBeInstanceOf(LocalError);
    expect((err as LocalError).code).toBe('ERR_INVALID_STATE');
    expect(draws.length).toBe(16);
  });
});
