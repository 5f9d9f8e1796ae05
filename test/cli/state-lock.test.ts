/**
 * One writer of a car's files at a time: a `proxkey car …` command never edits them while a
 * daemon holds them (starting or stopping, its control socket not answering), and stale locks —
 * a process that is gone, a lock from before a reboot — never keep anyone out.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { carAdmin } from '../../src/cli/car-admin.js';
import type { Ui } from '../../src/cli/ui.js';
import { generateP256KeyPair, systemRandom, VehicleService } from '../../src/index.js';
import { FileVehicleStore, nodeCrypto } from '../../src/node/index.js';
import { acquireStateLock, acquireStateLockWaiting, stateLockPath, StateLockHeldError } from '../../src/node/state-lock.js';

const quiet: Ui = { json: true, progress: () => () => undefined, info: () => undefined, hint: () => undefined, result: () => undefined };

async function carWithOwner() {
  const dir = mkdtempSync(join(tmpdir(), 'proxkey-lock-'));
  const car = await VehicleService.open({ store: new FileVehicleStore(dir), crypto: nodeCrypto, actuator: () => undefined });
  await car.registry.enroll((await generateP256KeyPair(nodeCrypto, systemRandom)).publicKey, { role: 'owner', label: 'a' });
  const second = await car.registry.enroll((await generateP256KeyPair(nodeCrypto, systemRandom)).publicKey, { role: 'owner', label: 'b' });
  await car.flushAudit({ final: true });
  return { dir, keyId: second.id };
}

const revokedOnDisk = async (dir: string, id: string) => (await new FileVehicleStore(dir).load())!.keys.find((k) => k.id === id)!.revoked === true;

describe('the state lock of a car directory', () => {
  it('a revoke waits while a daemon holds the files without answering, and is made once it lets go', async () => {
    const { dir, keyId } = await carWithOwner();
    const daemon = acquireStateLock(dir, 'car daemon'); // loaded the state; control socket not open yet
    let done = false;
    const revoking = carAdmin('revoke', { dir, target: keyId }, quiet).finally(() => (done = true));
    await new Promise((r) => setTimeout(r, 700));
    expect(done).toBe(false);
    expect(await revokedOnDisk(dir, keyId)).toBe(false); // not edited behind the daemon's back
    daemon.release(); // the daemon stopped
    await expect(revoking).resolves.toBe(0);
    expect(await revokedOnDisk(dir, keyId)).toBe(true);
  });

  it('a revoke whose audit entry cannot be written is still a revoke: saved, answered ok, with a warning', async () => {
    const { dir, keyId } = await carWithOwner();
    rmSync(join(dir, 'audit.jsonl'), { force: true });
    mkdirSync(join(dir, 'audit.jsonl')); // appending to it fails (EISDIR)
    const hints: string[] = [];
    await expect(carAdmin('revoke', { dir, target: keyId }, { ...quiet, hint: (t) => hints.push(t) })).resolves.toBe(0);
    expect(await revokedOnDisk(dir, keyId)).toBe(true);
    expect(hints).toEqual([expect.stringMatching(/^warning: the revocation is saved, but its audit entry could not be written/)]);
  });

  it('a daemon that starts while a command edits waits for it', async () => {
    const { dir } = await carWithOwner();
    const command = acquireStateLock(dir, 'proxkey command');
    setTimeout(() => command.release(), 300);
    const daemon = await acquireStateLockWaiting(dir, 'car daemon', 5_000);
    daemon.release();
    const again = acquireStateLock(dir, 'proxkey command');
    expect(() => acquireStateLock(dir, 'car daemon')).toThrow(StateLockHeldError);
    again.release();
    again.release(); // idempotent: does not remove someone else's lock
  });

  it('a held lock names its holder; a lock of a gone process, of this pid, of an earlier process with the same pid, from before a reboot, or garbage is taken over', async () => {
    const { dir } = await carWithOwner();
    const path = stateLockPath(dir);
    const live = process.ppid; // a process that exists, not this one
    const liveStart = readFileSync(`/proc/${live}/stat`, 'utf8').split(') ')[1]!.split(' ')[19];
    writeFileSync(path, JSON.stringify({ pid: live, holder: 'car daemon', nonce: 'n1', startedAt: liveStart }));
    expect(() => acquireStateLock(dir, 'proxkey command')).toThrow(new RegExp(`the car daemon \\(pid ${live}\\) holds .* does not answer`));
    expect(() => acquireStateLock(dir, 'car daemon')).toThrow(new RegExp(`another car daemon \\(pid ${live}\\) is running`));
    writeFileSync(path, JSON.stringify({ pid: live, holder: 'car daemon' })); // a live lock in the first version's format (no nonce)
    expect(() => acquireStateLock(dir, 'proxkey command')).toThrow(StateLockHeldError);
    const stale = [
      { pid: 2147483646, holder: 'car daemon', nonce: 'n2' },
      { pid: process.pid, holder: 'car daemon', nonce: 'n3' },
      { pid: live, holder: 'car daemon', nonce: 'n4', startedAt: '1' }, // the pid was reused
      { pid: live, holder: 'car daemon', nonce: 'n5', bootId: 'an-earlier-boot' },
      'garbage',
      '',
    ];
    for (const lock of stale) {
      writeFileSync(path, typeof lock === 'string' ? lock : JSON.stringify(lock));
      // unreadable and just written: a taker on a file system without hard links, writing it now
      if (typeof lock === 'string') expect(() => acquireStateLock(dir, 'proxkey command')).toThrow(StateLockHeldError);
      if (typeof lock === 'string') utimesSync(path, new Date(Date.now() - 4_000), new Date(Date.now() - 4_000));
      acquireStateLock(dir, 'proxkey command').release();
    }
    expect(readdirSync(dir).filter((n) => n.startsWith('lock'))).toEqual([]); // nothing left behind
    // A breaker left by a process that died while breaking a stale lock is stale too, whatever its
    // mtime says (a clock set back after a reboot); a live process's breaker is waited for.
    writeFileSync(path, JSON.stringify({ pid: 2147483646, holder: 'car daemon', nonce: 'n6' }));
    writeFileSync(`${path}.break`, JSON.stringify({ pid: 2147483645, holder: 'proxkey command', nonce: 'b1' }));
    utimesSync(`${path}.break`, new Date(Date.now() + 1_800_000), new Date(Date.now() + 1_800_000));
    acquireStateLock(dir, 'proxkey command').release();
    expect(readdirSync(dir).filter((n) => n.startsWith('lock'))).toEqual([]);
    writeFileSync(path, JSON.stringify({ pid: 2147483646, holder: 'car daemon', nonce: 'n7' }));
    writeFileSync(`${path}.break`, JSON.stringify({ pid: live, holder: 'proxkey command', nonce: 'b2', startedAt: liveStart }));
    expect(() => acquireStateLock(dir, 'proxkey command')).toThrow(StateLockHeldError); // retryable: acquireStateLockWaiting waits
    rmSync(`${path}.break`);
    acquireStateLock(dir, 'proxkey command').release();
  });

  it("a phone state's lock (its own file beside phone.json) names a phone command, not the car", () => {
    const dir = mkdtempSync(join(tmpdir(), 'proxkey-phone-lock-'));
    const live = process.ppid;
    const liveStart = readFileSync(`/proc/${live}/stat`, 'utf8').split(') ')[1]!.split(' ')[19];
    writeFileSync(join(dir, 'phone.json.lock'), JSON.stringify({ pid: live, holder: 'phone', nonce: 'p1', startedAt: liveStart }));
    expect(() => acquireStateLock(dir, 'phone', 'phone.json.lock')).toThrow(
      new RegExp(`another proxkey phone command \\(pid ${live}\\) is changing the phone's state in ${dir}`),
    );
    const car = acquireStateLock(dir, 'proxkey command'); // another file: not held
    car.release();
    rmSync(dir, { recursive: true, force: true });
  });

  it('processes racing for a stale lock at the same instant: exactly one gets it', async () => {
    const contender = join(import.meta.dirname, '../helpers/lock-contender.ts');
    const run = (dir: string, at: number) =>
      new Promise<string>((resolve) => {
        const p = spawn(process.execPath, ['--import', 'tsx', contender, dir, String(at)]);
        let out = '';
        p.stdout.on('data', (d: Buffer) => (out += d.toString()));
        p.on('close', () => resolve(out.trim()));
      });
    for (let round = 0; round < 3; round++) {
      const dir = mkdtempSync(join(tmpdir(), 'proxkey-lock-race-'));
      writeFileSync(stateLockPath(dir), JSON.stringify({ pid: 2147483646, holder: 'car daemon', nonce: 'gone' }));
      const at = Date.now() + 2_500; // all four are loaded by then
      const outcomes = await Promise.all([0, 1, 2, 3].map(() => run(dir, at)));
      expect(outcomes.sort()).toEqual(['got', 'held', 'held', 'held']);
    }
  }, 30_000);
});
