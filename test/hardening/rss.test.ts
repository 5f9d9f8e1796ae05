/**
 * Memory under attack: the car's RSS after 10,000 garbage messages and 2,000 bogus handshakes
 * stays within 32 MiB of what it was after warm-up (run in a child process with --expose-gc so
 * the figure is the car's alone).
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

describe('car memory under a flood of garbage', () => {
  it('RSS grows by less than 32 MiB over 10,000 garbage messages and 2,000 bogus handshakes', () => {
    const out = execFileSync(process.execPath, ['--expose-gc', '--import', 'tsx', join(import.meta.dirname, 'rss-child.ts')], {
      encoding: 'utf8',
      timeout: 170_000,
    });
    const { before, after, audit } = JSON.parse(out.trim().split('\n').at(-1)!) as { before: number; after: number; audit: number };
    console.log(`car RSS ${(before / 2 ** 20).toFixed(1)} → ${(after / 2 ** 20).toFixed(1)} MiB; audit entries: ${audit}`);
    expect(after - before).toBeLessThan(32 * 2 ** 20);
    expect(audit).toBe(0); // garbage and undecryptable handshakes authenticate nobody: nothing to audit
  }, 180_000);
});
