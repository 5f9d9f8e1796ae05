/**
 * The `proxkey` CLI bundled into one file next to node_modules (so its lazy imports of the BLE
 * stacks resolve), for the app-level BLE tests that run it as a user would: `node <file> …`.
 */
import { mkdirSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'esbuild';

const CACHE = new URL('../../../node_modules/.cache/proxkey-e2e/', import.meta.url).pathname;

/** Bundle src/cli/main.ts; `name` keeps test files that run in parallel apart. Returns its path. */
export async function bundleCli(name: string): Promise<string> {
  // named cli.mjs: the CLI runs its main only when started as main.ts, cli.js/.mjs or proxkey
  const dir = join(CACHE, name);
  mkdirSync(dir, { recursive: true });
  const file = join(dir, 'cli.mjs');
  const tmp = join(dir, `tmp-${process.pid}.mjs`);
  await build({
    entryPoints: [new URL('../../../src/cli/main.ts', import.meta.url).pathname],
    bundle: true,
    platform: 'node',
    format: 'esm',
    packages: 'external',
    outfile: tmp,
    logLevel: 'silent',
  });
  renameSync(tmp, file);
  return file;
}
