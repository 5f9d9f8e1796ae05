/**
 * One writer of a car's files at a time: a `proxkey car …` command never edits them while a
 * daemon holds them (starting or stopping, its control socket not answering), and stale locks —
 * a process that is gone, a lock from before a reboot — never keep anyone out.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
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

  it('a held lock names its holder; a lock of a gone process, of this pid, or from before a reboot is taken over', async () => {
    const { dir } = await carWithOwner();
    const path = stateLockPath(dir);
    const live = process.ppid; // a process that exists, not this one
    writeFileSync(path, JSON.stringify({ pid: live, holder: 'car daemon' }));
    expect(() => acquireStateLock(dir, 'proxkey command')).toThrow(new RegExp(`the car daemon \\(pid ${live}\\).*starting or stopping`));
    for (const stale of [
      { pid: 2147483646, holder: 'car daemon' },
      { pid: process.pid, holder: 'car daemon' },
      { pid: live, holder: 'car daemon', bootId: 'an-earlier-boot' },
      'garbage',
    ]) {
      writeFileSync(path, typeof stale === 'string' ? stale : JSON.stringify(stale));
      const lock = acquireStateLock(dir, 'proxkey command');
      lock.release();
    }
  });
});
