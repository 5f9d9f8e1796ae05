/**
 * Storage faults: a failed audit append leaves the log as it was, a lost state file is never
 * replaced by a new car, backups restore without undoing revocations, malformed files name
 * themselves, and the audit log is bounded by rotation.
 */
import { constants } from 'node:fs';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { deterministicRandom, generateP256KeyPair, nobleCrypto, softwareKey, StoreError, systemRandom } from '../../src/index.js';
import { backupVehicleState, FileVehicleStore, restoreVehicleState } from '../../src/node/index.js';
import { pairOwner, shareTo, world } from './world.js';

const faults = vi.hoisted(() => ({ tornAppends: 0 }));

// Fault injection below the store: the next `tornAppends` appends to an audit log write half
// their bytes, then fail with ENOSPC (a disk that filled up mid-write).
vi.mock('node:fs/promises', async (importOriginal) => {
  const fs = await importOriginal<typeof import('node:fs/promises')>();
  const open = async (...args: Parameters<typeof fs.open>) => {
    const fh = await fs.open(...args);
    const flags = typeof args[1] === 'number' ? args[1] : 0;
    if (faults.tornAppends === 0 || !String(args[0]).endsWith('.jsonl') || !(flags & constants.O_APPEND)) return fh;
    faults.tornAppends--;
    return new Proxy(fh, {
      get(target, prop) {
        if (prop === 'writeFile')
          return async (data: string | Uint8Array) => {
            const bytes = Buffer.from(data);
            await target.write(bytes.subarray(0, bytes.length >> 1));
            throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
          };
        const v: unknown = Reflect.get(target, prop);
        return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
      },
    });
  };
  return { ...fs, open, default: { ...fs, open } };
});

const dirs: string[] = [];
const tmp = () => {
  const d = mkdtempSync(join(tmpdir(), 'proxkey-hardening-'));
  dirs.push(d);
  return d;
};
/** A car on files in a new directory, with an owner and a friend whose shared key is enrolled (its first unlock done). */
async function carWithFriend() {
  const dir = tmp();
  const w = await world({ store: new FileVehicleStore(dir) });
  const owner = await pairOwner(w);
  const { friend } = await shareTo(w, owner, 'friend');
  expect((await friend.command(w.connect().link, 'unlock')).status).toBe('ok');
  return { dir, w, owner, friend };
}
afterEach(() => {
  faults.tornAppends = 0;
  dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true }));
});

describe('a failed audit append leaves the file as it was', () => {
  it('store level: the partial line is cut off and the next append is a clean line', async () => {
    const dir = tmp();
    const store = new FileVehicleStore(dir);
    await store.appendAudit({ at: 1, event: 'command', keyId: 'a', result: 'ok' });
    const before = readFileSync(store.auditPath);
    faults.tornAppends = 1;
    await expect(store.appendAudit({ at: 2, event: 'command', keyId: 'b', result: 'ok' })).rejects.toMatchObject({ code: 'ENOSPC' });
    expect(readFileSync(store.auditPath)).toEqual(before);
    await store.appendAudit({ at: 3, event: 'command', keyId: 'c', result: 'ok' });
    expect((await new FileVehicleStore(dir).readAudit()).map((e) => e.at)).toEqual([1, 3]);
  });

  it('car level: after a transient disk-full the car goes on serving and its log stays readable', async () => {
    const dir = tmp();
    const errors: string[] = [];
    const w = await world({ store: new FileVehicleStore(dir), car: { onError: (e) => errors.push(e.message) } });
    const owner = await pairOwner(w);
    faults.tornAppends = 1;
    const first = w.connect();
    expect((await owner.command(first.link, 'unlock')).status).toBe('ok');
    await expect(first.served).resolves.toMatchObject({ executed: 1 });
    expect(errors.join()).toMatch(/ENOSPC/);
    for (let i = 0; i < 3; i++) {
      const next = w.connect();
      expect((await owner.command(next.link, 'lock')).status).toBe('ok');
      await expect(next.served).resolves.toMatchObject({ executed: 1 });
    }
    const audit = await new FileVehicleStore(dir).readAudit();
    expect(audit.filter((e) => e.command === 'lock')).toHaveLength(3);
  });
});

describe('a lost state file is never a new car', () => {
  it('vehicle.json deleted next to an audit log: open refuses with ERR_STORE_MISSING and says how to restore', async () => {
    const dir = tmp();
    const w = await world({ store: new FileVehicleStore(dir) });
    await pairOwner(w);
    unlinkSync(join(dir, 'vehicle.json'));
    const err = await w.reopen().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StoreError);
    expect(err).toMatchObject({ code: 'ERR_STORE_MISSING', message: expect.stringMatching(/restore/) });
    expect((err as Error).message).toContain(join(dir, 'vehicle.json'));
    expect(readdirSync(dir)).not.toContain('vehicle.json'); // nothing was created
  });

  it('backup, lose the state, restore: the same car and keys; a revocation made after the backup stays in force', async () => {
    const { dir, w, owner, friend } = await carWithFriend();
    const backup = join(tmp(), 'car-backup.json');
    const carId = w.car.carId;
    await expect(backupVehicleState(dir, backup)).resolves.toEqual({ keys: 2 });
    expect(statSync(backup).mode & 0o777).toBe(0o600);
    await w.car.revoke(friend.keyId); // after the backup
    unlinkSync(join(dir, 'vehicle.json'));
    const restored = await restoreVehicleState(dir, backup, { random: (n) => new Uint8Array(n).fill(7) });
    expect(restored.reapplied).toEqual([friend.keyId]);
    await w.reopen();
    expect(w.car.carId).toBe(carId);
    expect((await owner.command(w.connect().link, 'unlock')).status).toBe('ok');
    expect((await friend.command(w.connect().link, 'unlock')).status).toBe('revoked');
  });

  it('a forced restore over a readable car keeps its revocations, even with revocations.jsonl and the audit log gone', async () => {
    const { dir, w, friend } = await carWithFriend();
    const backup = join(tmp(), 'car-backup.json');
    await backupVehicleState(dir, backup);
    await w.car.revoke(friend.keyId);
    for (const f of ['revocations.jsonl', 'audit.jsonl']) unlinkSync(join(dir, f)); // moved away, say after a 'corrupt' error
    const restored = await restoreVehicleState(dir, backup, { random: (n) => new Uint8Array(n).fill(9), force: true });
    expect(restored).toMatchObject({ reapplied: [friend.keyId], unverified: false });
    await w.reopen();
    expect((await friend.command(w.connect().link, 'unlock')).status).toBe('revoked');
  });

  it('a restore into a directory that records no revocation (a new SD card) says so: it cannot know what was revoked after the backup', async () => {
    const dir = tmp();
    const w = await world({ store: new FileVehicleStore(dir) });
    await pairOwner(w);
    const backup = join(tmp(), 'car-backup.json');
    await backupVehicleState(dir, backup);
    const fresh = tmp();
    expect(await restoreVehicleState(fresh, backup, { random: (n) => new Uint8Array(n) })).toMatchObject({ reapplied: [], unverified: true });
    expect(await restoreVehicleState(dir, backup, { random: (n) => new Uint8Array(n), force: true })).toMatchObject({ unverified: false }); // its audit log records the pairing
  });

  it("a forced restore over another car (a new SD card on which a new car was started): unverified, and that car's revocations are not applied", async () => {
    const { dir: dirA, friend: friendOfA } = await carWithFriend();
    const backup = join(tmp(), 'car-backup.json');
    await backupVehicleState(dirA, backup);
    const dirB = tmp();
    // another car (its own key), the same phones (a phone has one key id at every car)
    const b = await world({ store: new FileVehicleStore(dirB), car: { random: deterministicRandom('another car') } });
    const bOwner = await pairOwner(b, 'b-owner');
    const { friend: bFriend } = await shareTo(b, bOwner, 'friend');
    expect(bFriend.keyId).toBe(friendOfA.keyId);
    expect((await bFriend.command(b.connect().link, 'unlock')).status).toBe('ok');
    await b.car.revoke(bFriend.keyId); // revoked at car B: still a key of car A
    await b.car.flushAudit();
    const restore = () => restoreVehicleState(dirB, backup, { random: (n) => new Uint8Array(n).fill(1), force: true });
    expect(await restore()).toMatchObject({ keys: 2, reapplied: [], unverified: true });
    // car B's logs are moved aside, so a second restore does not take them for car A's
    expect(readdirSync(dirB).filter((f) => /^(revocations|audit)/.test(f) && !f.includes('.other-car-'))).toEqual([]);
    expect(readdirSync(dirB).some((f) => f.startsWith('revocations.jsonl.other-car-'))).toBe(true);
    expect(await restore()).toMatchObject({ keys: 2, reapplied: [], unverified: true });
  });

  it('a car whose key is in custody elsewhere keeps no identity in its state: a forced restore cannot tell the car, so it is unverified', async () => {
    const custody = async () => softwareKey(nobleCrypto, (await generateP256KeyPair(nobleCrypto, systemRandom)).secretKey);
    const dirA = tmp();
    const a = await world({ store: new FileVehicleStore(dirA), car: { identity: await custody() } });
    await pairOwner(a);
    const backup = join(tmp(), 'car-backup.json');
    await backupVehicleState(dirA, backup);
    expect((await restoreVehicleState(dirA, backup, { random: (n) => new Uint8Array(n), force: true })).unverified).toBe(true);
    expect((await restoreVehicleState(tmp(), backup, { random: (n) => new Uint8Array(n) })).unverified).toBe(true); // nothing recorded there
  });

  it('a corrupt line in revocations.jsonl is reported with advice to repair it, never to delete the record', async () => {
    const { dir, w, friend } = await carWithFriend();
    await w.car.revoke(friend.keyId);
    const log = join(dir, 'revocations.jsonl');
    writeFileSync(log, 'garbage line\n' + readFileSync(log, 'utf8'));
    await expect(new FileVehicleStore(dir).readRevocations()).rejects.toThrow(/line 1 is corrupt; .*repair that line, never delete the file/);
  });

  it('a revocation stays in force after restore even when the audit log rotated it away', async () => {
    const dir = tmp();
    const backup = join(tmp(), 'car-backup.json');
    const store = new FileVehicleStore(dir, { maxAuditBytes: 2_048, keepAuditFiles: 1 });
    const w = await world({ store });
    const owner = await pairOwner(w);
    const { friend } = await shareTo(w, owner, 'friend');
    expect((await friend.command(w.connect().link, 'unlock')).status).toBe('ok');
    await backupVehicleState(dir, backup);
    await w.car.revoke(friend.keyId);
    for (let i = 0; i < 60; i++) await store.appendAudit({ at: i, event: 'command', keyId: owner.keyId, result: 'ok', detail: 'x'.repeat(40) });
    expect((await store.readAudit()).some((e) => e.event === 'revoke')).toBe(false); // rotated away
    unlinkSync(join(dir, 'vehicle.json'));
    const restored = await restoreVehicleState(dir, backup, { random: (n) => new Uint8Array(n).fill(5) });
    expect(restored.reapplied).toEqual([friend.keyId]);
    await w.reopen();
    expect((await friend.command(w.connect().link, 'unlock')).status).toBe('revoked');
  });

  it('a revocation torn by a power loss mid-append: the next one is a clean line, and restore still re-applies both', async () => {
    const dir = tmp();
    const backup = join(tmp(), 'car-backup.json');
    const w = await world({ store: new FileVehicleStore(dir) });
    const owner = await pairOwner(w);
    const { friend } = await shareTo(w, owner, 'friend');
    const { friend: other } = await shareTo(w, owner, 'other');
    for (const phone of [friend, other]) expect((await phone.command(w.connect().link, 'unlock')).status).toBe('ok'); // enrolled by first use
    await backupVehicleState(dir, backup);
    await w.car.revoke(friend.keyId);
    const log = join(dir, 'revocations.jsonl');
    writeFileSync(log, readFileSync(log, 'utf8') + '0123456789abcdef {"keyId":"ab'); // a line the crash cut short
    await w.reopen();
    await w.car.revoke(other.keyId);
    unlinkSync(join(dir, 'vehicle.json'));
    const restored = await restoreVehicleState(dir, backup, { random: (n) => new Uint8Array(n).fill(3) });
    expect(restored.reapplied).toEqual([friend.keyId, other.keyId]);
  });

  it('a log an older car left with a fragment glued to the next revocation: revoking still works, and restore re-applies every record', async () => {
    const dir = tmp();
    const backup = join(tmp(), 'car-backup.json');
    const w = await world({ store: new FileVehicleStore(dir) });
    const owner = await pairOwner(w);
    const friends = [];
    for (const name of ['one', 'two', 'three']) {
      const { friend } = await shareTo(w, owner, name);
      expect((await friend.command(w.connect().link, 'unlock')).status).toBe('ok');
      friends.push(friend);
    }
    await backupVehicleState(dir, backup);
    await w.car.revoke(friends[0]!.keyId);
    const log = join(dir, 'revocations.jsonl');
    writeFileSync(log, '0123456789abcdef {"keyId":"ab' + readFileSync(log, 'utf8')); // torn, then completed by the next append
    await w.reopen();
    await w.car.revoke(friends[1]!.keyId); // not blocked by the bad line before it
    await w.car.revoke(friends[2]!.keyId);
    unlinkSync(join(dir, 'vehicle.json'));
    const restored = await restoreVehicleState(dir, backup, { random: (n) => new Uint8Array(n).fill(4) });
    expect(restored.reapplied).toEqual(friends.map((f) => f.keyId));
  });

  it('restore refuses to overwrite a car, and refuses a file that is not a backup', async () => {
    const dir = tmp();
    const w = await world({ store: new FileVehicleStore(dir) });
    await pairOwner(w);
    const bogus = join(tmp(), 'bogus.json');
    writeFileSync(bogus, '{"hello":1}');
    await expect(restoreVehicleState(dir, join(dir, 'vehicle.json'), { random: (n) => new Uint8Array(n) })).rejects.toMatchObject({
      code: 'ERR_INVALID_STATE',
    });
    await expect(restoreVehicleState(tmp(), bogus, { random: (n) => new Uint8Array(n) })).rejects.toMatchObject({ code: 'ERR_STORE_CORRUPT' });
  });
});

describe('temp files of atomic writes', () => {
  it('a load removes a crashed writer’s temp file but never a live writer’s (car backup runs beside the daemon)', async () => {
    const dir = tmp();
    const store = new FileVehicleStore(dir);
    await store.load();
    const live = join(dir, `.vehicle.json.${process.pid}.0a0b0c0d0e0f.tmp`); // this process, writing right now
    const dead = join(dir, '.vehicle.json.2147483646.0a0b0c0d0e0f.tmp'); // no such process
    writeFileSync(live, 'half');
    writeFileSync(dead, 'half');
    await new FileVehicleStore(dir).load();
    expect(readdirSync(dir).filter((n) => n.endsWith('.tmp'))).toEqual([`.vehicle.json.${process.pid}.0a0b0c0d0e0f.tmp`]);
  });
});

describe('malformed state files name the file and what is wrong', () => {
  it.each([
    ['"data" missing', (doc: Record<string, unknown>) => ({ schema: doc.schema, sha256: doc.sha256 })],
    ['"data" renamed', (doc: Record<string, unknown>) => ({ schema: doc.schema, sha256: doc.sha256, state: doc.data })],
    ['"data" not an object', (doc: Record<string, unknown>) => ({ ...doc, data: 'x' })],
    ['an array', () => []],
  ])('%s → StoreError naming vehicle.json', async (_what, mutate) => {
    const dir = tmp();
    const w = await world({ store: new FileVehicleStore(dir) });
    await pairOwner(w);
    const path = join(dir, 'vehicle.json');
    writeFileSync(path, JSON.stringify(mutate(JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>)));
    const err = await new FileVehicleStore(dir).load().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StoreError);
    expect(err).toMatchObject({ code: 'ERR_STORE_CORRUPT', message: expect.stringContaining(path) });
  });
});

describe('the audit log is bounded by rotation', () => {
  it('keeps at most (1 + keepAuditFiles) × maxAuditBytes on disk, oldest entries dropped first', async () => {
    const dir = tmp();
    const store = new FileVehicleStore(dir, { maxAuditBytes: 4_096, keepAuditFiles: 2 });
    for (let i = 0; i < 500; i++) await store.appendAudit({ at: i, event: 'command', keyId: 'k', result: 'ok', detail: 'x'.repeat(20) });
    const total = readdirSync(dir)
      .filter((f) => f.startsWith('audit'))
      .reduce((n, f) => n + statSync(join(dir, f)).size, 0);
    expect(total).toBeLessThanOrEqual(3 * 4_096);
    const kept = (await store.readAudit()).map((e) => e.at);
    expect(kept.at(-1)).toBe(499);
    expect(kept).toEqual([...kept].sort((a, b) => a - b)); // in order across files
    expect(kept.length).toBeGreaterThan(50);
  });
});
