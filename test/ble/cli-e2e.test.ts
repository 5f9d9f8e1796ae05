/**
 * docs/two-laptops.md as a newcomer types it, over the emulated controller: the car daemon
 * (`proxkey car serve`) and each phone command (`proxkey …`) as separate processes with the real
 * stoprocent noble/bleno, the radio picked by PROXKEY_HCI (as the guide's "without two laptops"
 * section says), human output checked against what the guide shows. Pair with the code the car
 * printed, unlock, lock, start without and with --intent, share to a friend (who cannot start),
 * revoke the friend (denied after the fallback scan), restart the daemon (it kept its keys).
 * The only addition to the guide's commands: a config with a relaxed relay bound (2 shared cores
 * run both stacks and pure-JS crypto; the bound itself is tested in test/proximity).
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
}

/** The `data` of a state file written by the file stores. */
const readDoc = (path: string): Record<string, unknown> => JSON.parse(readFileSync(path, 'utf8')).data;

describe.skipIf(missing.length > 0)('docs/two-laptops.md: the car daemon and phone commands as separate processes over BLE', () => {
  let emu: Emulator;
  let work: string;
  const controllers: Controller[] = [];
  let car: (Collected & { ctrl: Controller }) | undefined;

  beforeAll(async () => {
    CLI = await bundleCli('e2e');
    work = mkdtempSync(join(tmpdir(), 'proxkey-cli-ble-'));
    writeFileSync(join(work, 'ci.json'), '{ "policy": { "maxRttMs": 5000 } }');
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

  const carSaid = async (pattern: RegExp, timeoutMs = 30_000): Promise<RegExpMatchArray> => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const m = car!.out.match(pattern);
      if (m) return m;
      if (car!.proc.exitCode !== null || Date.now() > deadline) throw new Error(`car daemon: no ${pattern}:\n${car!.out}${car!.err}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  };

  /** `proxkey car serve --dir ./car --name "Laptop car" [--pair]` in the work dir, on a fresh controller. */
  async function startCar(pair: boolean): Promise<void> {
    const ctrl = await controller('car');
    const args = [CLI, 'car', 'serve', '--dir', './car', '--name', 'Laptop car', ...(pair ? ['--pair'] : []), '--config', 'ci.json', '--scrypt-log2n', '12'];
    car = Object.assign(spawnNode(args, { cwd: work, env: { ...process.env, PROXKEY_HCI: ctrl.port } }), { ctrl });
    await carSaid(/is advertising/);
  }

  async function stopCar(signal: NodeJS.Signals): Promise<number | null> {
    car!.proc.kill(signal);
    const code = await car!.exited;
    await car!.ctrl.close();
    controllers.splice(controllers.indexOf(car!.ctrl), 1);
    return code;
  }

  /** `[PROXKEY_HOME=…] proxkey <argv>` on the phone laptop; BLE commands get their own controller. */
  async function phone(home: string, ble: boolean, ...argv: string[]): Promise<Ran> {
    const ctrl = ble ? await controller('phone') : undefined;
    const env = { ...process.env, PROXKEY_HOME: join(work, home), ...(ctrl && { PROXKEY_HCI: ctrl.port }) };
    const r = await runNode([CLI, ...argv], { cwd: work, env });
    if (ctrl) {
      await ctrl.close();
      controllers.splice(controllers.indexOf(ctrl), 1);
    }
    return r;
  }

  it('pair, unlock, lock, start, share, revoke, restart — the outputs the guide shows', async () => {
    await startCar(true);
    // §2: what the car prints
    expect(car!.out).toMatch(
      /^created a new car in \.\/car \(its key, phones and audit log live there\)\ncar "Laptop car" \(([0-9a-f]{8})\) is advertising from a rotating private address; 0 key\(s\) enrolled\. Ctrl-C to stop\.\n/,
    );
    const carId = car!.out.match(/\(([0-9a-f]{8})\) is advertising/)![1]!;
    const code = (await carSaid(/pairing mode open for 120 s — code (\d{8})\n/))[1]!;
    await carSaid(new RegExp(`  payload: proxkey://pair\\?v=1&code=${code}&car=${carId}&name=Laptop\\+car\\n  on the phone: proxkey pair ${code}\\n`));

    // §3: the phone laptop
    let r = await phone('owner', true, 'pair', code);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(new RegExp(`^✓ paired with "Laptop car" \\(${carId}\\) as owner; this phone's key is [0-9a-f]{16}\\n$`));
    await carSaid(/ {2}paired a new owner phone: key [0-9a-f]{16}/);
    await carSaid(/pairing mode closed: a phone paired/);
    r = await phone('owner', true, 'unlock');
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/^✓ unlock: ok \(\d+ ms, of which \d+ ms the command itself\)\n$/);
    r = await phone('owner', true, 'lock');
    expect(r.out).toMatch(/^✓ lock: ok/);
    r = await phone('owner', true, 'start');
    expect(r.code).toBe(1);
    expect(r.out).toBe('✗ start: denied — intent-required: confirm the action: add --intent\n');
    r = await phone('owner', true, 'start', '--intent');
    expect(r.out).toMatch(/^✓ start: ok/);
    r = await phone('owner', false, 'status');
    expect(r.out).toMatch(new RegExp(`^this phone: key [0-9a-f]{16} \\(state in .*owner\\)\\n  Laptop car \\(${carId}\\)  owner\\n$`));
    r = await phone('owner', true, 'keys');
    expect(r.out).toMatch(/^KEY ID {10} {2}ROLE {4}PERMISSIONS\n[0-9a-f]{16} {2}owner {3}all \(\*\) +← this phone\n/);

    // §4: sharing with a friend (PROXKEY_HOME=…-alice)
    r = await phone('alice', false, 'request-key', '--label', 'Alice');
    const request = r.out.trim();
    expect(request).toMatch(/^pkreq1\.\S+$/);
    expect(r.err).toMatch(/send this to the car's owner/);
    r = await phone('owner', false, 'share', request, '--permissions', 'unlock,lock', '--days', '7');
    expect(r.code, r.err).toBe(0);
    const share = r.out.trim();
    expect(share).toMatch(/^pkshare1\.\S+$/);
    r = await phone('alice', false, 'accept', share);
    expect(r.out).toMatch(new RegExp(`^✓ key to "Laptop car" \\(${carId}\\) stored; it is activated by your first unlock\\n$`));
    r = await phone('alice', true, 'unlock');
    expect(r.code, r.err).toBe(0);
    await carSaid(/ {2}enrolled shared key [0-9a-f]{16}/);
    r = await phone('alice', true, 'start', '--intent');
    expect(r.code).toBe(1);
    expect(r.out).toBe('✗ start: denied — not-permitted: this key is not allowed to do that\n');
    r = await phone('owner', true, 'keys');
    const alice = r.out.match(/^([0-9a-f]{16}) {2}shared {2}unlock,lock/m)?.[1];
    expect(alice, r.out).toBeDefined();
    const carSecret = () => readDoc(join(work, 'car', 'vehicle.json')).advertisingSecret as string;
    const phoneSecret = (who: string) => (readDoc(join(work, who, 'phone.json')).cars as { advertisingSecret: string }[])[0]!.advertisingSecret;
    const secretBefore = carSecret();
    r = await phone('owner', true, 'revoke', alice!);
    expect(r.out).toMatch(/^✓ revoke: ok/);
    await carSaid(new RegExp(`  revoked key ${alice} \\(`));
    // the revocation rotated the car's advertising secret; the owner fetched it in the same session
    expect(carSecret()).not.toBe(secretBefore);
    expect(phoneSecret('owner')).toBe(carSecret());
    // the friend no longer recognises the car: it connects only after the fallback delay, is refused
    const t0 = Date.now();
    r = await phone('alice', true, 'unlock');
    expect(r.code).toBe(1);
    expect(r.out).toBe('✗ unlock: denied — revoked: this key was revoked by the owner\n');
    expect(Date.now() - t0).toBeGreaterThanOrEqual(4_000);

    // the car's decisions, one line each
    expect(car!.out).toMatch(/^ {2}[0-9a-f]{16} unlock → ok \(rtt \d+ ms\)$/m);
    expect(car!.out).toMatch(/^ {2}[0-9a-f]{16} start → intent-required \(rtt \d+ ms\)$/m);

    // Ctrl-C stops it cleanly; it restarts with its keys; SIGTERM the same
    expect(await stopCar('SIGINT')).toBe(0);
    expect(car!.out).toMatch(/stopping… \(SIGINT\)\n$/);
    await startCar(false);
    expect(car!.out).toMatch(/^car "Laptop car" \([0-9a-f]{8}\) is advertising from a rotating private address; 2 key\(s\) enrolled/);
    r = await phone('owner', true, 'unlock');
    expect(r.code, r.err).toBe(0);
    expect(await stopCar('SIGTERM')).toBe(0);
  }, 300_000);

  it('a phone with no car in range reports "car not found" in one line', async () => {
    const r = await phone('owner', true, 'unlock', '--timeout', '3000');
    expect(r.code).toBe(1);
    expect(r.err.trim().split('\n')).toEqual([expect.stringMatching(/^error: car not found/)]);
  }, 60_000);
});
