/**
 * The apps as users run them, over the emulated controller: the car daemon (`proxkey car serve`)
 * and the phone CLI (`proxkey …`) as separate processes, with the real stoprocent noble/bleno.
 * Pair with the code the car printed, unlock, share to a second phone identity (which cannot
 * start), revoke it and see the denial; restart the daemon and unlock again (it kept its keys).
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runNode, spawnNode, type Collected } from './harness/child.js';
import { bundleCli } from './harness/cli-bundle.js';
import { Emulator, type Controller } from './harness/emulator.js';
import { realStackGate } from './harness/gate.js';

const missing = realStackGate('CLI over BLE', ['@stoprocent/noble', '@stoprocent/bleno']);

let CLI: string;

interface Ran {
  code: number | null;
  out: string;
  err: string;
  json: Record<string, any>[];
}

/** The `data` of a state file written by the file stores. */
const readDoc = (path: string): Record<string, unknown> => JSON.parse(readFileSync(path, 'utf8')).data;

function parseJsonLines(out: string): Record<string, any>[] {
  return out
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l));
}

describe.skipIf(missing.length > 0)('proxkey car daemon and phone CLI as separate processes over BLE', () => {
  let emu: Emulator;
  let work: string;
  const controllers: Controller[] = [];
  let car: (Collected & { ctrl: Controller }) | undefined;

  beforeAll(async () => {
    CLI = await bundleCli('e2e');
    work = mkdtempSync(join(tmpdir(), 'proxkey-cli-ble-'));
    writeFileSync(
      join(work, 'car.json'),
      // The emulator has no radio delays, but 2 shared cores run both stacks and pure-JS crypto:
      // keep the relay bound out of the way here (its behaviour is tested in test/proximity).
      JSON.stringify({ name: 'CI car', policy: { maxRttMs: 5000 }, actuators: { type: 'log' } }),
    );
    emu = await Emulator.start();
  }, 240_000);

  afterAll(async () => {
    car?.proc.kill('SIGKILL');
    await car?.exited;
    for (const c of controllers.reverse()) await c.close();
    const pids = emu?.pids ?? [];
    await emu?.stop();
    for (const pid of pids) expect(() => process.kill(pid, 0), `process ${pid} left running`).toThrow();
    rmSync(work, { recursive: true, force: true });
  }, 60_000);

  async function controller(name: string): Promise<Controller> {
    const c = await emu.controller(name);
    controllers.push(c);
    return c;
  }

  /** Start the car daemon on a fresh controller; resolves once it advertises. */
  async function startCar(pair: boolean): Promise<Record<string, any>[]> {
    const ctrl = await controller('car');
    const args = [CLI, 'car', 'serve', '--dir', join(work, 'car'), '--config', join(work, 'car.json'), '--uart', ctrl.port, '--json', '--scrypt-log2n', '12'];
    if (pair) args.push('--pair');
    const c = Object.assign(spawnNode(args), { ctrl });
    car = c;
    const deadline = Date.now() + 30_000;
    for (;;) {
      const events = parseJsonLines(c.out);
      if (events.some((e) => e.event === 'ready') && (!pair || events.some((e) => e.event === 'pairing'))) return events;
      if (c.proc.exitCode !== null || Date.now() > deadline) throw new Error(`car daemon did not start:\n${c.out}${c.err}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  async function stopCar(): Promise<number | null> {
    car!.proc.kill('SIGTERM');
    const code = await car!.exited;
    await car!.ctrl.close();
    controllers.splice(controllers.indexOf(car!.ctrl), 1);
    return code;
  }

  /** One phone CLI invocation; BLE ones get their own fresh controller. */
  async function phone(state: string, ble: boolean, ...argv: string[]): Promise<Ran> {
    const ctrl = ble ? await controller('phone') : undefined;
    const timeout = argv.includes('--timeout') ? [] : ['--timeout', '15000'];
    const args = [CLI, ...argv, '--state', join(work, state), '--json', ...timeout, ...(ctrl ? ['--uart', ctrl.port] : [])];
    const { code, out, err } = await runNode(args);
    if (ctrl) {
      await ctrl.close();
      controllers.splice(controllers.indexOf(ctrl), 1);
    }
    return { code, out, err, json: parseJsonLines(out) };
  }

  it('pairs, unlocks, shares, revokes, and survives a daemon restart', async () => {
    const boot = await startCar(true);
    const pairing = boot.find((e) => e.event === 'pairing')!;
    expect(pairing.code).toMatch(/^\d{8}$/);

    // The owner pairs with the code the car printed, then unlocks.
    let r = await phone('owner', true, 'pair', pairing.code);
    expect(r.code, r.err).toBe(0);
    expect(r.json[0]).toMatchObject({ paired: true, car: 'CI car', role: 'owner' });
    r = await phone('owner', true, 'unlock');
    expect(r.code, r.err).toBe(0);
    expect(r.json[0]).toMatchObject({ command: 'unlock', status: 'ok' });

    // A second phone identity asks for a key; the owner shares unlock+lock; the friend unlocks.
    r = await phone('friend', false, 'request-key', '--label', 'Friend');
    const { request } = r.json[0]!;
    r = await phone('owner', false, 'share', request, '--permissions', 'unlock,lock', '--days', '1');
    expect(r.code, r.err).toBe(0);
    const { share } = r.json[0]!;
    expect((await phone('friend', false, 'accept', share)).code).toBe(0);
    r = await phone('friend', true, 'unlock');
    expect(r.code, r.err).toBe(0);
    r = await phone('friend', true, 'start', '--intent');
    expect(r.code).toBe(1);
    expect(r.json[0]).toMatchObject({ status: 'not-permitted' });

    // The owner lists the keys and revokes the friend; the friend is denied.
    r = await phone('owner', true, 'keys');
    expect(r.code, r.err).toBe(0);
    const friendKey = (r.json[0]!.keys as { id: string; role: string }[]).find((k) => k.role === 'shared')!.id;
    const carSecret = () => readDoc(join(work, 'car', 'vehicle.json')).advertisingSecret as string;
    const phoneSecret = (who: string) => (readDoc(join(work, who, 'phone.json')).cars as { advertisingSecret: string }[])[0]!.advertisingSecret;
    const secretBefore = carSecret();
    expect(phoneSecret('friend')).toBe(secretBefore);
    r = await phone('owner', true, 'revoke', friendKey);
    expect(r.code, r.err).toBe(0);
    // the revocation rotated the car's advertising secret; the owner fetched it in the same session
    expect(carSecret()).not.toBe(secretBefore);
    expect(phoneSecret('owner')).toBe(carSecret());
    // the friend no longer recognises the car: it connects only after the fallback delay, is refused
    const t0 = Date.now();
    r = await phone('friend', true, 'unlock');
    expect(r.code).toBe(1);
    expect(r.json[0]).toMatchObject({ status: 'revoked' });
    expect(Date.now() - t0).toBeGreaterThanOrEqual(4_000);
    expect(phoneSecret('friend')).toBe(secretBefore);

    // The daemon stops cleanly, restarts, and still knows its keys.
    expect(await stopCar()).toBe(0);
    const again = await startCar(false);
    expect(again.find((e) => e.event === 'ready')).toMatchObject({ name: 'CI car', keys: 2, privateAddress: true });
    r = await phone('owner', true, 'unlock');
    expect(r.code, r.err).toBe(0);
    r = await phone('friend', true, 'unlock');
    expect(r.json[0]).toMatchObject({ status: 'revoked' });
    const decisions = parseJsonLines(car!.out).filter((e) => e.event === 'decision');
    expect(decisions.map((d) => d.result)).toEqual(['ok', 'revoked']);
    expect(await stopCar()).toBe(0);
  }, 300_000);

  it('a phone with no car in range reports "car not found" in one line', async () => {
    const r = await phone('owner', true, 'unlock', '--timeout', '3000');
    expect(r.code).toBe(1);
    expect(r.err.trim().split('\n')).toEqual([expect.stringMatching(/^error: car not found/)]);
  }, 60_000);
});
