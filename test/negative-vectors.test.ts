/**
 * test/vectors/negatives.json: every case, replayed on every provider, gives the recorded answer;
 * the cases cover every input class and both ALERTs a car sends outside pairing.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { NegativeVectors } from '../scripts/negative-vectors.js';
import { runNegative } from '../scripts/negative-vectors.js';
import type { TranscriptVector } from '../scripts/transcript.js';
import { PROVIDERS } from './crypto/providers.js';

const read = <T>(f: string) => JSON.parse(readFileSync(new URL(`./vectors/${f}`, import.meta.url), 'utf8')) as T;
const negatives = read<NegativeVectors>('negatives.json');
const base = read<TranscriptVector>(negatives.base);

describe('negative vectors', () => {
  describe.each(PROVIDERS)('on %s', (_name, crypto) => {
    it.each(negatives.cases.map((c) => [c.name, c] as const))('%s', async (_n, c) => {
      expect(await runNegative(base, c, crypto)).toEqual(c.expect);
    });
  });

  it('cover every input class, the car’s two session ALERTs, and leave the state as it was on a record-layer failure', () => {
    const classes = new Set(negatives.cases.map((c) => c.class.replace(/ \(.*\)$/, '')));
    for (const cls of [
      'bad point',
      'wrong length',
      'unknown message type',
      'bad tag',
      'replayed counter',
      'replayed handshake',
      'unsupported version',
      'unsupported suite',
      'unexpected message',
    ])
      expect(classes, cls).toContain(cls);
    const car = negatives.cases.filter((c) => c.role === 'vehicle');
    expect(new Set(car.flatMap((c) => c.expect.sends.filter((s) => s.startsWith('0f'))))).toEqual(new Set(['0f0b', '0f0c']));
    for (const c of car.filter((x) => x.expect.error !== null)) {
      expect(c.expect.sends, c.name).toHaveLength(1);
      expect(c.expect.state, c.name).toBe(c.after >= 2 ? 'ready' : 'challenged');
    }
    for (const c of car.filter((x) => x.class.startsWith('authenticated body'))) {
      expect(c.expect.error, c.name).toBeNull();
      expect(c.expect.sends[0]!.slice(0, 2), c.name).toBe('03');
      expect(['unknown-command', 'malformed', 'unsupported'], c.name).toContain(c.expect.status);
    }
  });

  it('a changed expectation fails the replay', async () => {
    const c = negatives.cases[0]!;
    expect(await runNegative(base, c)).not.toEqual({ ...c.expect, sends: ['0f0c'] });
  });
});
