/**
 * Each provider reads a secret (and a public key) ONCE per call: the range check, the native
 * import and the key cache all use that one snapshot. A SharedArrayBuffer-backed array that
 * another thread rewrites between two reads must never leave a cache entry that maps the array
 * to a key made from other bytes. The other thread is simulated deterministically: the array is
 * rewritten at the moment the provider copies it (`copyOf`, wrapped below). Also: wiping a Noise
 * ephemeral leaves no provider copy of its scalar behind.
 */
import { describe, expect, it, vi } from 'vitest';
import { fromHex, toHex } from '../../src/bytes.js';
import { nobleCrypto } from '../../src/crypto/noble.js';
import { isP256PublicKey } from '../../src/crypto/p256.js';
import { LocalError } from '../../src/errors.js';
import { p256Dh } from '../../src/noise/suites.js';
import { PhoneSession, softwareKey, VehicleSession } from '../../src/index.js';
import { PROVIDERS } from './providers.js';
import { thrown } from './wycheproof.js';

const copies = vi.hoisted(() => ({ onCopy: undefined as ((bytes: Uint8Array) => void) | undefined, made: [] as Uint8Array[] }));
vi.mock('../../src/bytes.js', async (importOriginal) => {
  const bytes = await importOriginal<typeof import('../../src/bytes.js')>();
  return {
    ...bytes,
    copyOf: (b: Uint8Array) => {
      copies.onCopy?.(b);
      const copy = bytes.copyOf(b);
      copies.made.push(copy);
      return copy;
    },
  };
});

/** Rewrites `array` with `bytes` the `nth` time a provider copies it, as another thread could. */
function rewriteOnFirstCopy(array: Uint8Array, bytes: Uint8Array, nth = 1): void {
  let seen = 0;
  copies.onCopy = (b) => {
    if (b !== array || ++seen < nth) return;
    copies.onCopy = undefined;
    array.set(bytes);
  };
}

const secretA = fromHex('c9afa9d845ba75166b5c215767b1d6934e50c3db36e89b127b8a622b120f6721');
const secretB = fromHex('0f'.repeat(32));

describe.each(PROVIDERS)('%s reads a secret once per call', (_name, crypto) => {
  it('ECDH and ECDSA: an array rewritten while being read then answers with the key of the bytes it holds', async () => {
    const peer = (await nobleCrypto.p256KeyPairFromSecret(fromHex('01'.repeat(32)))).publicKey;
    const ecdhArray = secretA.slice();
    rewriteOnFirstCopy(ecdhArray, secretB);
    await crypto.p256Ecdh(ecdhArray, peer); // raced: either secret's answer is fine here
    ecdhArray.set(secretB); // (a provider that copied nothing never saw the rewrite)
    expect(await crypto.p256Ecdh(ecdhArray, peer)).toEqual(await nobleCrypto.p256Ecdh(secretB, peer));

    const signingArray = secretA.slice();
    rewriteOnFirstCopy(signingArray, secretB);
    await crypto.p256Sign(signingArray, Uint8Array.of(1));
    signingArray.set(secretB);
    const { publicKey: publicB } = await nobleCrypto.p256KeyPairFromSecret(secretB);
    expect(await nobleCrypto.p256Verify(publicB, Uint8Array.of(2), await crypto.p256Sign(signingArray, Uint8Array.of(2)))).toBe(true);
    copies.onCopy = undefined;
  });

  it('p256KeyPairFromSecret never returns a scalar it did not range-check, and its pair always matches', async () => {
    const array = secretA.slice();
    rewriteOnFirstCopy(array, new Uint8Array(32)); // zero: out of range
    const result = await thrown(() => crypto.p256KeyPairFromSecret(array));
    copies.onCopy = undefined;
    const pair = result as { secretKey: Uint8Array; publicKey: Uint8Array } | undefined;
    if (result instanceof Error) expect(result).toBeInstanceOf(LocalError);
    else expect(pair).toEqual(await nobleCrypto.p256KeyPairFromSecret(secretA)); // it copied before the rewrite
  });

  it('p256Verify answers false, never throws, when the key changes after its check', async () => {
    const { publicKey } = await nobleCrypto.p256KeyPairFromSecret(secretB);
    const signature = await nobleCrypto.p256Sign(secretB, Uint8Array.of(1));
    const offCurve = publicKey.slice();
    offCurve[64]! ^= 1;
    for (const nth of [1, 2]) {
      const key = publicKey.slice();
      rewriteOnFirstCopy(key, offCurve, nth);
      const result = await thrown(async () => expect(typeof (await crypto.p256Verify(key, Uint8Array.of(1), signature))).toBe('boolean'));
      copies.onCopy = undefined;
      expect(result, `rewritten at copy ${nth}`).toBeUndefined();
    }
  });

  it('wiping a Noise ephemeral leaves no copy of its scalar in the provider', async () => {
    const seed = Uint8Array.from({ length: 32 }, (_, i) => 0x40 + i);
    const peer = (await nobleCrypto.p256KeyPairFromSecret(secretB)).publicKey;
    copies.made.length = 0;
    const e = await p256Dh(crypto).generateKeyPair(() => seed.slice());
    await e.dh(peer);
    e.wipe!();
    expect(copies.made.filter((c) => toHex(c) === toHex(seed))).toEqual([]);
  });
});

describe.each(PROVIDERS)('%s: the car’s ephemeral key', (_name, crypto) => {
  it('after an unlock no copy of the car’s ephemeral scalar is left in the provider', async () => {
    const seed = Uint8Array.from({ length: 32 }, (_, i) => 0x60 + i);
    const carKey = await softwareKey(
      crypto,
      Uint8Array.from({ length: 32 }, (_, i) => 0x20 + i),
    );
    const phoneKey = await softwareKey(
      crypto,
      Uint8Array.from({ length: 32 }, (_, i) => 0x30 + i),
    );
    const car = new VehicleSession({ crypto, random: (n) => (n === 32 ? seed.slice() : new Uint8Array(n).fill(1)), identity: carKey });
    const phone = new PhoneSession({ crypto, random: (n) => new Uint8Array(n).fill(9), now: () => 0, identity: phoneKey, vehicleKey: carKey.publicKey });
    phone.begin('unlock', {}, 0);
    copies.made.length = 0;
    const handshake = (await phone.receive((await car.start(0)).send[0]!, 1)).send[0]!;
    await car.receive(handshake, 2);
    await car.answer({ type: 'find-key', found: 'known' }, 3);
    await car.answer({ type: 'authorize', decision: 'allow' }, 4);
    await car.answer({ type: 'execute', outcome: { ok: true } }, 5);
    await car.close('ok');
    expect(copies.made.filter((c) => toHex(c) === toHex(seed))).toEqual([]);
  });
});

describe('public-key validation reads the key once', () => {
  it('a key rewritten to an off-curve point while it is validated is not remembered as valid', async () => {
    const key = (await nobleCrypto.p256KeyPairFromSecret(secretB)).publicKey.slice();
    const offCurve = key.slice();
    offCurve[64]! ^= 1;
    rewriteOnFirstCopy(key, offCurve);
    isP256PublicKey(key); // raced: either answer is fine here
    copies.onCopy = undefined;
    expect(key).toEqual(offCurve);
    expect(isP256PublicKey(key)).toBe(false);
  });
});
