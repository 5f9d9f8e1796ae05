/**
 * Replays the published protocol transcripts (test/vectors/protocol-*.json) byte for byte:
 * each role alone, fed the other role's recorded messages and doing the recorded application
 * actions, must produce exactly its own recorded messages and every recorded Noise intermediate
 * (DH outputs, ck/h/k after each token, split keys) — the check another implementation runs to
 * prove interoperability — on every CryptoProvider (the transcripts hold no ECDSA signature, so
 * nothing in them is randomized).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { fromHex, type CryptoProvider } from '../src/index.js';
import { decodeMessages, sessionKeys } from '../src/cli/decode.js';
import { playPhone, playVehicle, recordTranscript, type TranscriptVector } from '../scripts/transcript.js';
import { differingLeaves, leaves } from '../scripts/noise-intermediates.js';
import { PROVIDERS } from './crypto/providers.js';

const dir = new URL('./vectors/', import.meta.url);
const files = readdirSync(dir).filter((f) => /^protocol-.*\.json$/.test(f));
const vectors: [string, TranscriptVector][] = files.map((f) => [f, JSON.parse(readFileSync(new URL(f, dir), 'utf8'))]);

/** The provider with ECDSA signing removed: proves the transcripts never depend on a randomized signature. */
const unsigned = (crypto: CryptoProvider): CryptoProvider => ({
  ...crypto,
  p256Sign: () => Promise.reject(new Error('a transcript must not need an ECDSA signature')),
});

/** `value` with the leaf at `path` changed (a hex string gets its first digit flipped). */
function corrupted<T>(value: T, path: string): T {
  const copy = structuredClone(value);
  const keys = path.split(/\.|\[|\]/).filter((k) => k !== '');
  let at: Record<string, unknown> = copy as Record<string, unknown>;
  for (const k of keys.slice(0, -1)) at = at[k] as Record<string, unknown>;
  const last = keys.at(-1)!;
  const leaf = at[last];
  at[last] = typeof leaf === 'string' ? `${leaf[0] === '0' ? '1' : '0'}${leaf.slice(1)}` : typeof leaf === 'number' ? leaf + 1 : 'corrupted';
  return copy;
}

describe('protocol transcripts', () => {
  it('exist (at least 3 published transcripts)', () => {
    expect(files.length).toBeGreaterThanOrEqual(3);
  });

  describe.each(vectors.flatMap(([f, v]) => PROVIDERS.map(([name, crypto]) => [f, name, v, crypto] as const)))('%s on %s', (_file, _provider, v, provider) => {
    const crypto = unsigned(provider);
    const from = (who: 'vehicle' | 'phone') => v.messages.filter((m) => m.from === who).map((m) => m.hex);

    it('the vehicle role reproduces every vehicle message and every Noise intermediate from the recorded phone messages', async () => {
      const replay = await playVehicle(v, crypto);
      expect(replay.sent).toEqual(from('vehicle'));
      expect(differingLeaves(v.intermediates, replay.intermediates)).toEqual([]);
    });

    it('the phone role reproduces every phone message, result and Noise intermediate from the recorded vehicle messages', async () => {
      const replay = await playPhone(v, crypto);
      expect(replay.sent).toEqual(from('phone'));
      expect(replay.results).toEqual(v.results);
      expect(differingLeaves(v.intermediates, replay.intermediates)).toEqual([]);
    });

    it('both roles together reproduce the whole transcript, actions and intermediates included', async () => {
      const again = await recordTranscript(v, crypto);
      expect(again).toEqual(v);
    });

    it('keeps a full unlock within 300 bytes', () => {
      expect(v.totalUnlockBytes).toBeLessThanOrEqual(300);
    });
  });

  describe.each(vectors)('%s', (_file, v) => {
    it('holds the three DH outputs by token, ck/h/k after every token and the split keys per role', () => {
      const i = v.intermediates;
      expect(Object.keys(i.dh)).toEqual(['ee', 'se', 'es']);
      expect(i.tokens.map((t) => `${t.message}:${t.token}`)).toEqual([
        '0:protocol-name',
        '0:prologue',
        '0:s',
        '1:e',
        '1:payload',
        '2:e',
        '2:ee',
        '2:se',
        '2:s',
        '2:es',
        '2:payload',
      ]);
      expect(i.tokens.filter((t) => t.dh).map((t) => t.dh)).toEqual([i.dh.ee, i.dh.se, i.dh.es]);
      expect(i.sessionKeys.vehicle).toEqual({ send: i.split.vehicleToPhone, receive: i.split.phoneToVehicle });
      expect(i.sessionKeys.phone).toEqual({ send: i.split.phoneToVehicle, receive: i.split.vehicleToPhone });
      expect(i.handshakeHash).toBe(i.tokens.at(-1)!.h);
    });

    it('no one sends after the peer’s CLOSE, and every action says after which message it happened', async () => {
      const bodies = await decodeMessages(
        v.messages.map((m) => fromHex(m.hex)),
        sessionKeys(v),
      );
      const closes = bodies.flatMap((b, i) => ((b.body as { kind?: number } | undefined)?.kind === 0x12 ? [i] : []));
      expect(closes).toHaveLength(1);
      expect(closes[0]).toBe(v.messages.length - 1);
      for (const a of v.actions) {
        for (const s of a.sends) expect(v.messages[s]!.from).toBe(a.by);
        expect(a.sends.every((s) => s > a.afterMessage)).toBe(true);
        expect(a.afterMessage === -1 || v.messages[a.afterMessage]!.from !== a.by).toBe(true);
      }
    });
  });

  it('a corrupted intermediate fails the replay check, whichever leaf it is', async () => {
    const [, v] = vectors[0]!;
    const replay = await playVehicle(v, unsigned(PROVIDERS[0]![1]));
    const paths = leaves(v.intermediates);
    expect(paths.length).toBeGreaterThan(60);
    for (const path of paths) expect(differingLeaves(corrupted(v.intermediates, path), replay.intermediates)).toEqual([path]);
  });
});
