/**
 * Crash consistency of the file store: a child process applies enroll/revoke/audit operations
 * and is SIGKILLed at random instants, 100 times in a row on the same directory. After every kill
 * the store loads, holds the old or the new state (at most the one in-flight operation beyond
 * what was acknowledged), and never loses an acknowledged change.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deterministicRandom, keyIdOf, nobleCrypto } from '../../src/index.js';
import { FileVehicleStore } from '../../src/node/index.js';
import { keyFor } from './crash-keys.js';

const KILLS = 100;
let work: string;
let bundle: string;

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'proxkey-crash-'));
  bundle = join(work, 'child.mjs');
  await build({
    entryPoints: [new URL('./crash-child.ts', import.meta.url).pathname],
    bundle: true,
    platform: 'node',
    format: 'esm',
    outfile: bundle,
    logLevel: 'silent',
  });
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** Run the child until `killAfterMs` after it is ready, SIGKILL it, return its acknowledged lines. */
function runAndKill(dir: string, killAfterMs: number): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [bundle, dir], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    let timer: NodeJS.Timeout | undefined;
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (!timer && out.includes('ready\n')) timer = setTimeout(() => child.kill('SIGKILL'), killAfterMs);
    });
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const guard = setTimeout(() => child.kill('SIGKILL'), 10_000);
    child.on('exit', (_code, signal) => {
      clearTimeout(guard);
      if (timer) clearTimeout(timer);
      if (signal !== 'SIGKILL') return reject(new Error(`child exited on its own: ${err || out}`));
      // Only complete lines were acknowledged.
      resolve(
        out
          .split('\n')
          .slice(0, -1)
          .filter((l) => l !== 'ready'),
      );
    });
  });
}

describe('file store crash consistency', () => {
  it(`survives ${KILLS} SIGKILLs at random points without losing an acknowledged change`, async () => {
    const dir = join(work, 'car');
    const rnd = deterministicRandom('crash-schedule');
    const acked = { enrolled: -1, revoked: new Set<number>(), audit: -1 };
    let sawMidOperationKill = 0;
    for (let k = 0; k < KILLS; k++) {
      const delay = rnd(1)[0]! % 60; // 0–59 ms: lands anywhere in the write sequence
      const lines = await runAndKill(dir, delay);
      for (const l of lines) {
        const [op, n] = [l[0], Number(l.slice(2))];
        if (op === 'E') acked.enrolled = Math.max(acked.enrolled, n);
        else if (op === 'R') acked.revoked.add(n);
        else if (op === 'A') acked.audit = Math.max(acked.audit, n);
      }
      const store = new FileVehicleStore(dir);
      const state = await store.load(); // must not throw: old or new state, never corrupt
      const keys = state?.keys ?? [];
      // Every acknowledged enrollment is there, in order; at most one unacknowledged beyond it.
      expect(keys.length).toBeGreaterThanOrEqual(acked.enrolled + 1);
      expect(keys.length).toBeLessThanOrEqual(acked.enrolled + 2);
      if (keys.length === acked.enrolled + 2) sawMidOperationKill++;
      keys.forEach((rec, i) => expect(rec.id).toBe(keyIdOf(nobleCrypto, keyFor(i))));
      for (const r of acked.revoked) expect(keys[r]?.revoked, `revocation of ${r} acknowledged`).toBe(true);
      const audit = await store.readAudit();
      expect(audit.length).toBeGreaterThanOrEqual(acked.audit + 1);
      expect(audit.length).toBeLessThanOrEqual(acked.audit + 2);
      audit.forEach((e, i) => expect(e.detail).toBe(`entry ${i}`));
      if (state) expect(statSync(store.statePath).mode & 0o777).toBe(0o600);
      // The next run continues from what is durable: align our view with it.
      acked.enrolled = keys.length - 1;
      acked.audit = audit.length - 1;
      keys.forEach((rec, i) => rec.revoked && acked.revoked.add(i));
    }
    expect(acked.enrolled).toBeGreaterThan(KILLS / 2); // the workload really progressed
    // (sawMidOperationKill counts kills that landed between a durable write and its ack line.)
    expect(sawMidOperationKill).toBeGreaterThanOrEqual(0);
  }, 240_000);
});
