/**
 * Resolvable private addresses (protocol/private-address.ts): the Bluetooth Core Specification's
 * `ah` sample data, the address layout, resolution with the right IRK only, and input checks.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  LocalError,
  ah,
  deriveAddressIrk,
  deterministicRandom,
  formatAddress,
  fromHex,
  nobleCrypto,
  parseAddress,
  resolvablePrivateAddress,
  resolvesPrivateAddress,
  toHex,
} from '../../src/index.js';
import { MAX_REJECTED_DRAWS } from '../../src/crypto/random.js';

describe('resolvable private addresses', () => {
  it('ah reproduces the Core Specification sample data (v5.4, Vol 3, Part H, Appendix D.7)', () => {
    expect(toHex(ah(fromHex('ec0234a357c8ad05341010a60a397d9b'), fromHex('708194')))).toBe('0dfbaa');
  });

  it('layout: prand (top bits 01) ‖ ah(IRK, prand); resolves with its IRK, not with another', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 16, maxLength: 64 }),
        fc.uint8Array({ minLength: 16, maxLength: 64 }),
        // a usable draw: the 22 random bits neither all 0 nor all 1 (a constant unusable draw is a broken source, tested below)
        fc.uint8Array({ minLength: 3, maxLength: 3 }).filter((r) => ((r[0]! & 0x3f) | r[1]! | r[2]!) !== 0 && (r[0]! & 0x3f & r[1]! & r[2]!) !== 0x3f),
        (s1, s2, r) => {
          const irk = deriveAddressIrk(nobleCrypto, s1);
          const address = resolvablePrivateAddress(irk, () => r.slice());
          expect(address[0]! >> 6).toBe(0b01);
          expect(toHex(address.slice(3))).toBe(toHex(ah(irk, address.slice(0, 3))));
          expect(resolvesPrivateAddress(irk, address)).toBe(true);
          if (toHex(s1) !== toHex(s2)) expect(resolvesPrivateAddress(deriveAddressIrk(nobleCrypto, s2), address)).toBe(false);
          expect(parseAddress(formatAddress(address))).toEqual(address);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('the IRK is HMAC-SHA256(advSecret, "proxkey irk v1") truncated to 16 bytes', () => {
    const secret = Uint8Array.from({ length: 32 }, (_, i) => i);
    expect(toHex(deriveAddressIrk(nobleCrypto, secret))).toBe(toHex(nobleCrypto.hmacSha256(secret, new TextEncoder().encode('proxkey irk v1')).slice(0, 16)));
  });

  it('never uses a prand whose 22 random bits are all 0 or all 1', () => {
    const draws = [Uint8Array.of(0x00, 0x00, 0x00), Uint8Array.of(0xff, 0xff, 0xff), Uint8Array.of(0x3f, 0xff, 0xff), Uint8Array.of(0x12, 0x34, 0x56)];
    const irk = new Uint8Array(16).fill(7);
    const address = resolvablePrivateAddress(irk, () => draws.shift()!);
    expect(draws).toHaveLength(0);
    expect(toHex(address.slice(0, 3))).toBe('523456');
  });

  it('a source that keeps returning an unusable prand (all 0 or all 1) fails with LocalError after 64 draws, never spins', () => {
    const irk = new Uint8Array(16).fill(7);
    for (const stuck of [Uint8Array.of(0, 0, 0), Uint8Array.of(0xff, 0xff, 0xff), Uint8Array.of(0x3f, 0xff, 0xff)]) {
      let draws = 0;
      expect(() => resolvablePrivateAddress(irk, () => (draws++, stuck.slice()))).toThrow(LocalError);
      expect(draws).toBe(MAX_REJECTED_DRAWS);
    }
  });

  it('fresh addresses from a random source differ (no static identifier)', () => {
    const irk = deriveAddressIrk(nobleCrypto, new Uint8Array(32).fill(1));
    const random = deterministicRandom(new Uint8Array(32).fill(9));
    const seen = new Set(Array.from({ length: 1000 }, () => toHex(resolvablePrivateAddress(irk, random))));
    expect(seen.size).toBe(1000);
  });

  it('rejects bad input with LocalError; resolving garbage is just false', () => {
    const irk = new Uint8Array(16);
    expect(() => deriveAddressIrk(nobleCrypto, new Uint8Array(15))).toThrow(LocalError);
    expect(() => ah(new Uint8Array(15), new Uint8Array(3))).toThrow(LocalError);
    expect(() => ah(irk, new Uint8Array(4))).toThrow(LocalError);
    expect(() => resolvablePrivateAddress(new Uint8Array(32), () => new Uint8Array(3))).toThrow(LocalError);
    expect(() => parseAddress('00:11:22:33:44')).toThrow(/expected 6 hex bytes/);
    expect(() => formatAddress(new Uint8Array(5))).toThrow(LocalError);
    expect(resolvesPrivateAddress(irk, new Uint8Array(5))).toBe(false);
    expect(resolvesPrivateAddress(irk, fromHex('c00000000000'))).toBe(false); // static random, not resolvable
    expect(resolvesPrivateAddress(irk, 'x' as unknown as Uint8Array)).toBe(false);
  });
});
