/**
 * docs/MCU.md §1: a car built to the MCU profile — one suite (ChaCha20-Poly1305), scrypt 2^8·1
 * (32 KiB), 8 commands per session, no wall clock (trusted time = a floor set at build time +
 * monotonic time) — passes the whole `proxkey conformance --role car` set; a car that does not
 * redeem grants fails exactly the checks MCU.md names.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import type { Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { conformance } from '../../src/cli/conformance.js';
import { defaultPolicy, EMPTY_VEHICLE_STATE, MemoryVehicleStore, nobleCrypto, VehicleService } from '../../src/index.js';
import { listenSocketLinks } from '../../src/node/socket-link.js';
import { section, specDoc, tableRows } from './spec-text.js';

const BUILD_TIME = Date.UTC(2026, 10, 1); // the firmware's build time: the first clock floor
const MCU_SCRYPT = { log2N: 8, r: 1, p: 1 };
const dir = mkdtempSync(join(tmpdir(), 'proxkey-mcu-'));
const servers: Server[] = [];
afterAll(() => {
  for (const s of servers) s.close();
  rmSync(dir, { recursive: true, force: true });
});

async function mcuCar(name: string, options: { readonly grants: boolean }) {
  const store = new MemoryVehicleStore();
  await store.save({ ...EMPTY_VEHICLE_STATE, timeFloor: BUILD_TIME });
  let monotonic = 0;
  const car = await VehicleService.open({
    store,
    crypto: nobleCrypto,
    now: () => 0, // no wall clock
    monotonic: () => (monotonic += 1), // a counter that only moves forward
    policy: defaultPolicy({ maxRttMs: Infinity }), // the relay bound measures radio round trips
    actuator: () => undefined,
    session: { suites: [2], maxCommands: 8 },
  });
  // a car without grant redemption: its key directory has no redeemGrant (the car answers `unsupported`)
  if (!options.grants) Object.defineProperty(car.registry, 'redeemGrant', { value: undefined });
  const { code } = await car.openPairing({ scrypt: MCU_SCRYPT });
  const path = join(dir, `${name}.sock`);
  servers.push(await listenSocketLinks(path, (link) => void car.serve(link)));
  return { car, code, connect: `unix:${path}` };
}

async function run(target: { code: string; connect: string }): Promise<{ exit: number; out: string }> {
  let out = '';
  const exit = await conformance({ role: 'car', connect: target.connect, code: target.code, maxCommands: 8, timeoutMs: 5_000 }, (s) => (out += s));
  return { exit, out };
}

describe('MCU.md: the MCU profile is conformant', () => {
  it('one suite, scrypt 2^8·1, 8 commands per session, no wall clock: N passed, 0 failed', async () => {
    const t = await mcuCar('mcu', { grants: true });
    const { exit, out } = await run(t);
    expect(out).not.toMatch(/^FAIL/m);
    expect(out).toMatch(/^pass {2}vector:chachapoly-unlock/m);
    expect(out).toMatch(/^pass {2}max-commands {2}command 9: rate-limited$/m);
    expect(out).toMatch(/^\d+ passed, 0 failed$/m);
    expect(exit).toBe(0);
    // its trusted time started at the floor and moves on without a wall clock
    expect(t.car.now()).toBeGreaterThan(BUILD_TIME);
  }, 60_000);

  it('without grant redemption: grant-redeem, not-permitted and revoke-closes-session fail, as MCU.md §1 says', async () => {
    const { exit, out } = await run(await mcuCar('no-grants', { grants: false }));
    expect(out).toMatch(/^FAIL {2}grant-redeem {2}expected ok, got unsupported$/m);
    expect(out).toMatch(/^FAIL {2}not-permitted {2}needs a friend \(check grant-redeem failed\)$/m);
    expect(out).toMatch(/^FAIL {2}revoke-closes-session {2}needs a friend \(check grant-redeem failed\)$/m);
    expect(out).toMatch(/^\d+ passed, 3 failed$/m);
    expect(exit).toBe(1);
    const row = tableRows(section(specDoc('MCU.md'), '## 1.'), 'feature').find(([f]) => f!.startsWith('grant redemption'))!;
    expect(row[2]).toContain('`FAIL grant-redeem expected ok, got unsupported`');
    expect(row[2]).toContain('`needs a friend (check grant-redeem failed)`');
  }, 60_000);
});
