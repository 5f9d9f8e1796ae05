/**
 * `npm run bench` itself, run for a few iterations: its JSON has the shape the docs promise and
 * its figures come from what a transaction did (the wire, the crypto calls). No figure is judged
 * here (performance belongs in the benchmark, not in tests); only that each is measured.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '../..');
const FIELDS = [
  'vehicleCpuMs',
  'phoneCpuMs',
  'vehicleFloorMs',
  'phoneFloorMs',
  'vehicleOverhead',
  'phoneOverhead',
  'vehicleCryptoFloorMs',
  'phoneCryptoFloorMs',
  'vehicleOverheadAboveCrypto',
  'phoneOverheadAboveCrypto',
] as const;

describe('npm run bench -- --json', () => {
  it('reports every provider against both floors, with round trips, bytes and crypto calls counted from a real unlock', { timeout: 120_000 }, async () => {
    const { stdout } = await promisify(execFile)(join(root, 'node_modules/.bin/tsx'), ['bench/unlock.ts', '--json', '--no-flood', '--iterations', '3'], {
      cwd: root,
      timeout: 110_000,
    });
    const report = JSON.parse(stdout) as {
      unlock: Record<string, unknown> & { roundTrips: number; bytes: { total: number; perMessage: number[] } };
      providers: Record<string, Record<string, number>>;
      cryptoCalls: { vehicle: Record<string, number>; phone: Record<string, number> };
      vehicleSpeedup: Record<string, number>;
    };
    expect(Object.keys(report.providers)).toEqual(['noble', 'node', 'webcrypto']);
    for (const figures of Object.values(report.providers)) {
      expect(Object.keys(figures)).toEqual(FIELDS);
      for (const f of FIELDS) expect(Number.isFinite(figures[f])).toBe(true);
      for (const f of FIELDS.filter((name) => name.endsWith('Ms'))) expect(figures[f]).toBeGreaterThan(0);
    }
    expect(report.unlock).toMatchObject({ ...report.providers.noble, provider: 'noble', iterations: 3, roundTrips: 1 });
    expect(report.unlock.bytes.total).toBe(report.unlock.bytes.perMessage.reduce((a, b) => a + b, 0));
    expect(report.unlock.bytes.perMessage).toHaveLength(3);
    for (const calls of [report.cryptoCalls.vehicle, report.cryptoCalls.phone]) {
      expect(calls).toMatchObject({ p256KeyPairFromSecret: 1, p256Ecdh: 3, hkdfSha256: 4 });
      expect((calls.aeadSeal ?? 0) + (calls.aeadOpen ?? 0)).toBe(3);
    }
    expect(Object.keys(report.vehicleSpeedup)).toEqual(['node', 'webcrypto']);
  });
});
