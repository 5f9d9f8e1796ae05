/**
 * Private advertising: rotating identifiers that enrolled phones resolve and nobody else can link.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { deterministicRandom, nobleCrypto as crypto, toHex } from '../../src/index.js';
import {
  ADVERTISING_ID_LABEL,
  AdvertisingIdResolver,
  advertisingEpoch,
  currentAdvertisingId,
  decodeAdvertisingServiceData,
  DEFAULT_ADVERTISING_ID_LENGTH,
  DEFAULT_ROTATION_SECONDS,
  deriveAdvertisingId,
  encodeAdvertisingServiceData,
  generateAdvertisingSecret,
} from '../../src/protocol/advertising-id.js';
import { concatBytes, utf8 } from '../../src/bytes.js';

const random = deterministicRandom('advertising-id tests');
const secretA = generateAdvertisingSecret(random);
const secretB = generateAdvertisingSecret(random);
const T0 = Date.UTC(2026, 4, 1, 12, 0, 0); // a fixed wall-clock instant
const EPOCH_MS = DEFAULT_ROTATION_SECONDS * 1000;
const bits = (b: Uint8Array) => [...b].reduce((n, x) => n + x.toString(2).replaceAll('0', '').length, 0);

describe('advertising identifier: derivation', () => {
  it('is HMAC-SHA256(secret, "proxkey adv v1" ‖ u32be(epoch)) truncated to 8 bytes (spec check)', () => {
    const epoch = 0x01e0_a5c3;
    const expected = crypto.hmacSha256(secretA, concatBytes(utf8(ADVERTISING_ID_LABEL), Uint8Array.of(0x01, 0xe0, 0xa5, 0xc3))).slice(0, 8);
    expect(deriveAdvertisingId(crypto, secretA, epoch)).toEqual(expected);
    expect(DEFAULT_ADVERTISING_ID_LENGTH).toBe(8);
    expect(deriveAdvertisingId(crypto, secretA, epoch, 6)).toEqual(expected.slice(0, 6));
  });

  it('a published vector (docs/PRIVACY.md; cross-checked with node:crypto): secret 00..1f at 2026-05-01 12:00 UTC', () => {
    const secret = Uint8Array.from({ length: 32 }, (_, i) => i);
    expect(advertisingEpoch(T0)).toBe(1_975_152); // 0x001E2370
    expect(encodeAdvertisingServiceData(deriveAdvertisingId(crypto, secret, 1_975_152))).toEqual(
      Uint8Array.of(1, 0x72, 0xee, 0x38, 0x31, 0x1b, 0x0d, 0xe6, 0xc5),
    );
    expect(toHex(deriveAdvertisingId(crypto, secret, 1_975_152))).toBe('72ee38311b0de6c5');
  });

  it('epochs are 15 minutes of wall-clock time; the car knows when to rotate', () => {
    expect(advertisingEpoch(T0 + EPOCH_MS - 1)).toBe(advertisingEpoch(T0));
    expect(advertisingEpoch(T0 + EPOCH_MS)).toBe(advertisingEpoch(T0) + 1);
    const cur = currentAdvertisingId(crypto, secretA, T0 + 123_456);
    expect(cur.epoch).toBe(advertisingEpoch(T0));
    expect(cur.nextRotationMs).toBe(T0 + EPOCH_MS);
    expect(cur.id).toEqual(deriveAdvertisingId(crypto, secretA, cur.epoch));
    expect(advertisingEpoch(T0, 60)).toBe(Math.floor(T0 / 60_000));
  });

  it('rejects short secrets, bad epochs, lengths and rotation intervals', () => {
    expect(() => deriveAdvertisingId(crypto, new Uint8Array(15), 1)).toThrow(/at least 16/);
    expect(() => deriveAdvertisingId(crypto, secretA, -1)).toThrow(/u32/);
    expect(() => deriveAdvertisingId(crypto, secretA, 2 ** 32)).toThrow(/u32/);
    expect(() => deriveAdvertisingId(crypto, secretA, 1, 3)).toThrow(/length/);
    expect(() => deriveAdvertisingId(crypto, secretA, 1, 17)).toThrow(/length/);
    expect(() => advertisingEpoch(T0, 30)).toThrow(/rotationSeconds/);
    expect(() => advertisingEpoch(-1)).toThrow(/unixMs/);
  });

  it('service data is format byte 0x01 ‖ id, and other formats are ignored', () => {
    const id = deriveAdvertisingId(crypto, secretA, 5);
    const data = encodeAdvertisingServiceData(id);
    expect(data.length).toBe(9);
    expect(data[0]).toBe(1);
    expect(decodeAdvertisingServiceData(data)).toEqual(id);
    expect(decodeAdvertisingServiceData(Uint8Array.of(2, ...id))).toBeUndefined();
    expect(decodeAdvertisingServiceData(Uint8Array.of(1, 2, 3))).toBeUndefined();
  });
});

describe('advertising identifier: unlinkable without the secret', () => {
  const EPOCHS = 5_000;
  const idsA = Array.from({ length: EPOCHS }, (_, i) => deriveAdvertisingId(crypto, secretA, 1_975_000 + i));
  const idsB = Array.from({ length: EPOCHS }, (_, i) => deriveAdvertisingId(crypto, secretB, 1_975_000 + i));

  it('never repeats across epochs, and two cars never share an id', () => {
    const all = new Set([...idsA, ...idsB].map(toHex));
    expect(all.size).toBe(2 * EPOCHS);
  });

  it('looks uniformly random: bits balanced, consecutive ids ~32 bits apart, no byte stuck', () => {
    const ones = idsA.reduce((n, id) => n + bits(id), 0);
    const total = EPOCHS * 64;
    // mean 0.5, σ = 0.5/sqrt(320 000) ≈ 0.0009: 6σ bounds
    expect(Math.abs(ones / total - 0.5)).toBeLessThan(0.0054);
    let dist = 0;
    for (let i = 1; i < EPOCHS; i++) dist += bits(idsA[i]!.map((b, j) => b ^ idsA[i - 1]![j]!));
    expect(Math.abs(dist / (EPOCHS - 1) - 32)).toBeLessThan(0.5); // σ of the mean ≈ 0.057
    for (let j = 0; j < 8; j++) expect(new Set(idsA.map((id) => id[j])).size).toBeGreaterThan(240);
  });

  it('an observer without the secret cannot resolve: wrong secrets (even near misses) match nothing', () => {
    const advertised = idsA.slice(0, 100).map((id) => ({ id }));
    const now = (1_975_000 + 50) * EPOCH_MS;
    const nearMiss = secretA.slice();
    nearMiss[31]! ^= 1;
    for (const guess of [secretB, nearMiss, new Uint8Array(32), generateAdvertisingSecret(random)]) {
      const r = new AdvertisingIdResolver(crypto, [{ carId: 'guess', secret: guess }]);
      expect(r.resolveAll(advertised, now)).toEqual([]);
    }
    // the id of one epoch says nothing about the next: property over random secrets
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 32, maxLength: 32 }), fc.integer({ min: 0, max: 2 ** 32 - 2 }), (secret, epoch) => {
        const a = deriveAdvertisingId(crypto, secret, epoch);
        const b = deriveAdvertisingId(crypto, secret, epoch + 1);
        expect(toHex(a)).not.toBe(toHex(b));
      }),
      { numRuns: 200 },
    );
  });
});

describe('advertising identifier: resolution by enrolled phones', () => {
  const cars = [
    { carId: 'my-car', secret: secretA },
    { carId: 'family-car', secret: secretB },
  ];

  it('finds its cars among many advertisers', () => {
    const now = T0 + 5 * 60_000;
    const epoch = advertisingEpoch(now);
    const others = Array.from({ length: 200 }, (_, i) => ({
      name: `stranger-${i}`,
      id: deriveAdvertisingId(crypto, generateAdvertisingSecret(random), epoch),
    }));
    const adverts = [
      ...others.slice(0, 120),
      { name: 'A', id: deriveAdvertisingId(crypto, secretA, epoch) },
      ...others.slice(120),
      { name: 'B', id: deriveAdvertisingId(crypto, secretB, epoch) },
    ];
    const found = new AdvertisingIdResolver(crypto, cars).resolveAll(adverts, now);
    expect(found.map((f) => [f.name, f.match.carId, f.match.skew])).toEqual([
      ['A', 'my-car', 0],
      ['B', 'family-car', 0],
    ]);
  });

  it('tolerates ±1 epoch of clock skew and rejects ±2', () => {
    const r = new AdvertisingIdResolver(crypto, cars);
    const phoneNow = T0 + 7 * 60_000;
    const e = advertisingEpoch(phoneNow);
    for (const skew of [-1, 0, 1])
      expect(r.resolve(deriveAdvertisingId(crypto, secretA, e + skew), phoneNow)).toEqual({ carId: 'my-car', epoch: e + skew, skew });
    for (const skew of [-2, 2, 5]) expect(r.resolve(deriveAdvertisingId(crypto, secretA, e + skew), phoneNow)).toBeUndefined();
  });

  it('in wall-clock terms: a car clock off by up to one rotation interval always resolves', () => {
    const r = new AdvertisingIdResolver(crypto, cars);
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 10 * EPOCH_MS }), fc.integer({ min: -EPOCH_MS, max: EPOCH_MS }), (offset, skewMs) => {
        const phoneNow = T0 + offset;
        const carAdvertises = currentAdvertisingId(crypto, secretA, phoneNow + skewMs).id;
        expect(r.resolve(carAdvertises, phoneNow)?.carId).toBe('my-car');
      }),
      { numRuns: 300 },
    );
  });

  it('a narrower tolerance is configurable; other lengths and rotation intervals work end to end', () => {
    const strict = new AdvertisingIdResolver(crypto, cars, { skewEpochs: 0 });
    const e = advertisingEpoch(T0);
    expect(strict.resolve(deriveAdvertisingId(crypto, secretA, e + 1), T0)).toBeUndefined();
    const short = new AdvertisingIdResolver(crypto, cars, { length: 6, rotationSeconds: 300 });
    const id = currentAdvertisingId(crypto, secretB, T0, { length: 6, rotationSeconds: 300 }).id;
    expect(id.length).toBe(6);
    expect(short.resolve(id, T0)?.carId).toBe('family-car');
    expect(short.resolve(deriveAdvertisingId(crypto, secretB, e), T0)).toBeUndefined(); // wrong length
  });

  it('a rotation changes the id the car sends but not the car the phone finds', () => {
    const r = new AdvertisingIdResolver(crypto, cars);
    const before = currentAdvertisingId(crypto, secretA, T0 + EPOCH_MS - 1);
    const after = currentAdvertisingId(crypto, secretA, T0 + EPOCH_MS);
    expect(toHex(before.id)).not.toBe(toHex(after.id));
    expect(r.resolve(before.id, T0 + EPOCH_MS)?.carId).toBe('my-car');
    expect(r.resolve(after.id, T0 + EPOCH_MS - 1)?.carId).toBe('my-car');
  });

  it('copies the secrets it is given and validates them', () => {
    const secret = secretA.slice();
    const r = new AdvertisingIdResolver(crypto, [{ carId: 'c', secret }]);
    secret.fill(0);
    expect(r.resolve(deriveAdvertisingId(crypto, secretA, advertisingEpoch(T0)), T0)?.carId).toBe('c');
    expect(() => new AdvertisingIdResolver(crypto, [{ carId: 'x', secret: new Uint8Array(8) }])).toThrow(/at least 16/);
    expect(() => new AdvertisingIdResolver(crypto, cars, { skewEpochs: 9 })).toThrow(/skewEpochs/);
  });
});
