/**
 * examples/car.ts and examples/phone.ts as a user runs them (tsx, one process each), over the
 * emulated controller with the real stoprocent noble/bleno: press Enter on the car, pair with the
 * printed code, unlock, share to a second phone, which unlocks but cannot start, list keys,
 * revoke, and the friend is denied.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnNode, runNode, type Collected } from './harness/child.js';
import { Emulator, type Controller } from './harness/emulator.js';
import { realStackGate } from './harness/gate.js';

const missing = realStackGate('example scripts over BLE', ['@stoprocent/noble', '@stoprocent/bleno']);

const ROOT = new URL('../../', import.meta.url).pathname;

describe.skipIf(missing.length > 0)('examples/car.ts and examples/phone.ts over BLE', () => {
  let emu: Emulator;
  let work: string;
  let carCtrl: Controller;
  let car: Collected | undefined;

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'proxkey-examples-'));
    emu = await Emulator.start();
    carCtrl = await emu.controller('car');
  }, 240_000);

  afterAll(async () => {
    car?.proc.kill('SIGKILL');
    await car?.exited;
    await carCtrl?.close();
    const pids = emu?.pids ?? [];
    await emu?.stop();
    for (const pid of pids) expect(() => process.kill(pid, 0), `process ${pid} left running`).toThrow();
    rmSync(work, { recursive: true, force: true });
  }, 60_000);

  async function waitFor(pattern: RegExp, timeoutMs = 60_000): Promise<RegExpMatchArray> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const m = car!.out.match(pattern);
      if (m) return m;
      if (car!.proc.exitCode !== null || Date.now() > deadline) throw new Error(`car example: no ${pattern}:\n${car!.out}${car!.err}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** One phone example invocation on a fresh controller; resolves its exit code and output. */
  async function phone(state: string, ...argv: string[]): Promise<{ code: number | null; out: string }> {
    const ctrl = await emu.controller('phone');
    const r = await runNode(['--import', 'tsx', 'examples/phone.ts', ...argv], {
      cwd: ROOT,
      env: { ...process.env, PROXKEY_HCI: ctrl.port, PHONE_STATE: join(work, `${state}.json`) },
    });
    await ctrl.close();
    return { code: r.code, out: r.out + r.err };
  }

  it('pair with the printed code, unlock, share, friend cannot start, revoke, denial', async () => {
    car = spawnNode(['--import', 'tsx', 'examples/car.ts', join(work, 'car')], {
      cwd: ROOT,
      // 2 shared cores run both stacks and pure-JS crypto: keep the relay bound out of the way
      env: { ...process.env, PROXKEY_HCI: carCtrl.port, PROXKEY_MAX_RTT_MS: '5000' },
    });
    const { proc } = car;
    await waitFor(/press Enter to open pairing mode/);
    proc.stdin!.write('\n');
    const code = (await waitFor(/pairing code: (\d{8})/))[1]!;

    let r = await phone('owner', 'pair', code);
    expect(r.code, r.out).toBe(0);
    expect(r.out).toContain('paired with "Laptop car" as owner');
    r = await phone('owner', 'unlock');
    expect(r.out).toMatch(/unlock: ok \(\d+ ms\)/);

    const request = (await phone('friend', 'request')).out.trim();
    r = await phone('owner', 'share', request, 'unlock,lock');
    expect(r.code, r.out).toBe(0);
    expect((await phone('friend', 'accept', r.out.trim())).out).toContain('stored');
    expect((await phone('friend', 'unlock')).out).toMatch(/unlock: ok/);
    r = await phone('friend', 'start');
    expect(r.out).toMatch(/start: not-permitted/);
    expect(r.code).toBe(1); // a denial is a failure for scripts

    r = await phone('owner', 'keys');
    const friendKey = r.out.match(/^\s+([0-9a-f]{16})\s+shared\b/m)?.[1];
    expect(friendKey, r.out).toBeDefined();
    expect((await phone('owner', 'revoke', friendKey!)).out).toMatch(/revoke: ok/);
    r = await phone('friend', 'unlock');
    expect(r.out).toMatch(/unlock: revoked/);
    expect(r.code).toBe(1);
    expect((await phone('owner', 'status')).out).toMatch(/Laptop car \([0-9a-f]{8}\)\s+owner/);

    proc.kill('SIGINT');
    expect(await car.exited).toBe(0);
    expect(car.out).toMatch(/unlock: ok/);
  }, 300_000);
});
