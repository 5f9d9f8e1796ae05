/** Pairing mode's lifecycle: a claim closes it to others without ending it; a released claim reopens it. */
import { describe, expect, it } from 'vitest';
import { LocalError, nobleCrypto, PairingMode, randomPairingCode, systemRandom } from '../../src/index.js';
import { MAX_REJECTED_DRAWS } from '../../src/crypto/random.js';
import { FAST_SCRYPT } from '../helpers/scrypt.js';

async function openMode(ttlMs = 60_000) {
  const clock = { t: 1_000 };
  const { mode } = await PairingMode.open({ crypto: nobleCrypto, random: systemRandom, now: () => clock.t, ttlMs, scrypt: FAST_SCRYPT });
  return { mode, clock };
}

describe('PairingMode', () => {
  it('while claimed it offers no credentials to another phone, and after a release it offers them again', async () => {
    const { mode } = await openMode();
    const before = mode.credentials();
    expect(before).toBeDefined();
    expect(mode.claim()).toBe(true);
    expect(mode.status()).toBe('claimed');
    expect(mode.credentials()).toBeUndefined(); // another phone's PAIR_START meanwhile
    mode.release(); // the winner's enrollment could not be saved
    expect(mode.status()).toBe('active');
    const after = mode.credentials();
    expect(after?.w0).toEqual(before?.w0);
    expect(after?.w0.some((b) => b !== 0)).toBe(true); // not wiped
  });

  it('ended (paired, cancelled, expired, exhausted) it wipes its credentials for good', async () => {
    const paired = await openMode();
    const w0 = paired.mode.credentials()!.w0;
    paired.mode.claim();
    paired.mode.succeeded();
    expect(paired.mode.credentials()).toBeUndefined();
    expect(w0.every((b) => b === 0)).toBe(true);

    const expired = await openMode(5_000);
    const w0e = expired.mode.credentials()!.w0;
    expired.clock.t += 6_000;
    expect(expired.mode.credentials()).toBeUndefined();
    expect(w0e.every((b) => b === 0)).toBe(true);
    expect(expired.mode.claim()).toBe(false);

    const cancelled = await openMode();
    const w0c = cancelled.mode.credentials()!.w0;
    cancelled.mode.cancel();
    expect(cancelled.mode.status()).toBe('cancelled');
    expect(cancelled.mode.credentials()).toBeUndefined();
    expect(w0c.every((b) => b === 0)).toBe(true);

    const exhausted = await openMode();
    const w0x = exhausted.mode.credentials()!.w0;
    for (let i = 0; i < exhausted.mode.maxAttempts; i++) exhausted.mode.attemptStarted();
    expect(exhausted.mode.status()).toBe('exhausted');
    expect(exhausted.mode.credentials()).toBeUndefined();
    expect(w0x.every((b) => b === 0)).toBe(true);
  });
});

describe('randomPairingCode', () => {
  it('rejects draws ≥ 4.2·10⁹ (no modulo bias), and a source stuck above it fails with LocalError after 64 draws instead of spinning', () => {
    const draws = [Uint8Array.of(0xff, 0xff, 0xff, 0xff), Uint8Array.of(0, 0, 0x30, 0x39)];
    expect(randomPairingCode(() => draws.shift()!)).toBe('00012345');
    let n = 0;
    expect(() => randomPairingCode(() => (n++, new Uint8Array(4).fill(0xff)))).toThrow(LocalError);
    expect(n).toBe(MAX_REJECTED_DRAWS);
  });
});
