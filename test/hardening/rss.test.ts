/**
 * Memory under attack: the car's RSS after 10,000 garbage messages and 2,000 bogus handshakes
 * stays within 32 MiB of what it was after warm-up (run in a child process with --expose-gc so
 * the figure is the car's alone).
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { AUDIT_PROBE_BURST } from '../../src/keys/audit-limiter.js';

describe('car memory under a flood of garbage', () => {
  it('RSS grows by less than 32 MiB over 10,000 garbage messages and 2,000 bogus handshakes', () => {
    const out = execFileSync(process.execPath, ['--expose-gc', '--import', 'tsx', join(import.meta.dirname, 'rss-child.ts')], {
      encoding: 'utf8',
      timeout: 170_000,
    });
    const r = JSON.parse(out.trim().split('\n').at(-1)!) as { before: number; after: number; heapBefore: number; heapAfter: number; audit: number };
    const mib = (n: number) => (n / 2 ** 20).toFixed(1);
    console.log(`car RSS ${mib(r.before)} → ${mib(r.after)} MiB, heap ${mib(r.heapBefore)} → ${mib(r.heapAfter)} MiB; audit entries: ${r.audit}`);
    expect(r.after - r.before).toBeLessThan(32 * 2 ** 20);
    expect(r.heapAfter - r.heapBefore).toBeLessThan(8 * 2 ** 20); // nothing per connection is kept
    const audit = r.audit;
    // Garbage whose first byte is a pairing type counts as a pairing probe: rate-limited to 10
    // entries and one summary per minute; undecryptable handshakes are not audited at all.
    expect(audit).toBeLessThanOrEqual(2 * (AUDIT_PROBE_BURST + 1));
  }, 180_000);
});
