/**
 * A restore over another car that fails after it moved that car's logs aside puts them back (the
 * other car keeps its records), and a directory that holds only revocations.jsonl is still a car
 * whose state was lost (never silently a new car).
 */
import { readdirSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { deterministicRandom } from '../../src/index.js';
import { backupVehicleState, FileVehicleStore, restoreVehicleState } from '../../src/node/index.js';
import { pairOwner, shareTo, world } from './world.js';
import { tempDirs } from '../helpers/temp-dirs.js';

const fault = vi.hoisted(() => ({ failNextStateWrite: false }));
vi.mock('../../src/node/json-file.js', async (importOriginal) => {
  const m = await importOriginal<typeof import('../../src/node/json-file.js')>();
  return {
    ...m,
    writeJsonDocument: async (path: string, data: unknown) => {
      if (fault.failNextStateWrite && path.endsWith('vehicle.json')) {
        fault.failNextStateWrite = false;
        throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
      }
      return m.writeJsonDocument(path, data);
    },
  };
});

const tmp = tempDirs('proxkey-restore-');

describe('restore over another car, and lost state', () => {
  it("a restore whose state write fails puts the other car's logs back where it reads them", async () => {
    const dirA = tmp();
    await pairOwner(await world({ store: new FileVehicleStore(dirA) }));
    const backup = join(tmp(), 'car-backup.json');
    await backupVehicleState(dirA, backup);
    const dirB = tmp();
    const b = await world({ store: new FileVehicleStore(dirB), car: { random: deterministicRandom('car B') } });
    const owner = await pairOwner(b, 'b-owner');
    const { friend } = await shareTo(b, owner, 'friend');
    expect((await friend.command(b.connect().link, 'unlock')).status).toBe('ok');
    await b.car.revoke(friend.keyId);
    await b.car.flushAudit();
    const before = readdirSync(dirB).sort();
    fault.failNextStateWrite = true;
    await expect(restoreVehicleState(dirB, backup, { random: (n) => new Uint8Array(n), force: true })).rejects.toThrow(/ENOSPC/);
    expect(readdirSync(dirB).sort()).toEqual(before);
    expect(await new FileVehicleStore(dirB).readRevocations()).toContainEqual({ keyId: friend.keyId });
  });

  it('a directory holding only revocations.jsonl is a car whose state was lost: ERR_STORE_MISSING, not a new car', async () => {
    const dir = tmp();
    writeFileSync(join(dir, 'revocations.jsonl'), '');
    await expect(new FileVehicleStore(dir).load()).rejects.toMatchObject({ code: 'ERR_STORE_MISSING' });
    unlinkSync(join(dir, 'revocations.jsonl'));
    await expect(new FileVehicleStore(dir).load()).resolves.toBeUndefined();
  });
});
