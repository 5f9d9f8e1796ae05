/**
 * The published vectors are exactly what `npm run vectors` generates, and generating is
 * deterministic: twice on the same provider, and on every CryptoProvider, the same bytes.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { buildVectorFiles } from '../scripts/gen-protocol-vectors.js';
import { PROVIDERS } from './crypto/providers.js';

const dir = new URL('./vectors/', import.meta.url);

describe('npm run vectors', () => {
  it('regenerates every published vector file byte for byte, twice the same, on every provider', async () => {
    const first = await buildVectorFiles();
    const again = await buildVectorFiles();
    expect([...again]).toEqual([...first]);
    const onDisk = readdirSync(dir).filter((f) => f.endsWith('.json'));
    expect(onDisk.sort()).toEqual([...first.keys()].sort());
    for (const [name, text] of first) expect(readFileSync(new URL(name, dir), 'utf8'), name).toBe(text);
    for (const [provider, crypto] of PROVIDERS.slice(1)) {
      const other = await buildVectorFiles(crypto);
      for (const [name, text] of first) expect(other.get(name), `${name} on ${provider}`).toBe(text);
    }
  }, 120_000);
});
