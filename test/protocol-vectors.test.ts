/**
 * Replays the published protocol transcripts (test/vectors/protocol-*.json) byte for byte:
 * each role alone, fed the other role's recorded messages, must produce exactly its own
 * recorded messages — the check another implementation runs to prove interoperability — on every
 * CryptoProvider (the transcripts hold no ECDSA signature, so nothing in them is randomized).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { fromHex, toHex, type CryptoProvider } from '../src/index.js';
import { playPhone, playVehicle, recordTranscript, type TranscriptVector } from '../scripts/transcript.js';
import { PROVIDERS } from './crypto/providers.js';

const dir = new URL('./vectors/', import.meta.url);
const files = readdirSync(dir).filter((f) => /^protocol-.*\.json$/.test(f));
const vectors: [string, TranscriptVector][] = files.map((f) => [f, JSON.parse(readFileSync(new URL(f, dir), 'utf8'))]);

/** The provider with ECDSA signing removed: proves the transcripts never depend on a randomized signature. */
const unsigned = (crypto: CryptoProvider): CryptoProvider => ({
  ...crypto,
  p256Sign: () => Promise.reject(new Error('a transcript must not need an ECDSA signature')),
});

describe('protocol transcripts', () => {
  it('exist (at least 3 published transcripts)', () => {
    expect(files.length).toBeGreaterThanOrEqual(3);
  });

  describe.each(vectors.flatMap(([f, v]) => PROVIDERS.map(([name, crypto]) => [f, name, v, crypto] as const)))('%s on %s', (_file, _provider, v, provider) => {
    const crypto = unsigned(provider);
    const from = (who: 'vehicle' | 'phone') => v.messages.filter((m) => m.from === who).map((m) => m.hex);

    it('the vehicle role reproduces every vehicle message from the recorded phone messages', async () => {
      const sent = await playVehicle(v, from('phone').map(fromHex), crypto);
      expect(sent.map(toHex)).toEqual(from('vehicle'));
    });

    it('the phone role reproduces every phone message and result from the recorded vehicle messages', async () => {
      const { sent, results } = await playPhone(v, from('vehicle').map(fromHex), crypto);
      expect(sent.map(toHex)).toEqual(from('phone'));
      expect(results).toEqual(v.results);
    });

    it('both roles together reproduce the whole transcript', async () => {
      const again = await recordTranscript(v, crypto);
      expect(again.messages).toEqual(v.messages);
      expect(again.vehicleStaticPublic).toBe(v.vehicleStaticPublic);
      expect(again.phoneStaticPublic).toBe(v.phoneStaticPublic);
    });

    it('keeps a full unlock within 300 bytes', () => {
      expect(v.totalUnlockBytes).toBeLessThanOrEqual(300);
    });
  });
});
