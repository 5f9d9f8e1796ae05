/**
 * Layering rules, enforced: imports only point down (crypto → noise → protocol → roles →
 * keys/policy → transport → adapters), and the core never imports Node built-ins, noble or bleno.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

const SRC = new URL('../src/', import.meta.url).pathname;
/** Rank of each top-level folder (or root file); a module may import equal or lower ranks only. */
const RANK: Record<string, number> = {
  'errors.ts': 0,
  'bytes.ts': 0,
  crypto: 1,
  pake: 2,
  noise: 2,
  protocol: 3,
  roles: 4,
  keys: 5,
  policy: 5,
  proximity: 5,
  transport: 6,
  service: 6,
  node: 7,
  adapters: 7,
  cli: 9,
  'index.ts': 8,
};
const CORE_MAX_RANK = 6;

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? files(p) : p.endsWith('.ts') ? [p] : [];
  });
}
const layerOf = (file: string) => relative(SRC, file).split('/')[0]!;
const imports = (file: string) => [...readFileSync(file, 'utf8').matchAll(/^\s*(?:import|export)\s[^;]*?from\s+'([^']+)'/gms)].map((m) => m[1]!);

describe('architecture', () => {
  const all = files(SRC);
  it('knows every top-level folder of src/', () => {
    for (const f of all) expect(RANK, `unranked layer for ${f}`).toHaveProperty([layerOf(f)]);
  });

  it.each(all.map((f) => [relative(SRC, f), f]))('%s imports only downwards', (_rel, file) => {
    const own = RANK[layerOf(file)]!;
    for (const spec of imports(file)) {
      if (spec.startsWith('.')) {
        const target = layerOf(join(file, '..', spec)).replace(/\.js$/, '.ts');
        expect(RANK[target], `${spec} from ${file}`).toBeLessThanOrEqual(own);
      } else if (own <= CORE_MAX_RANK) {
        expect(spec, `core module ${file} imports ${spec}`).toMatch(/^@noble\/(curves|hashes|ciphers)\//);
      }
    }
  });
});
