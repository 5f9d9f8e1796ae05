/**
 * `proxkey car backup` / `car restore` and `car revoke --cascade`, in process: a lost state file
 * is refused (never a new car), a backup brings the same car back without undoing revocations.
 */
import { existsSync, mkdtempSync, rmSync, statSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateP256KeyPair, nobleCrypto, systemRandom } from '../../src/index.js';
import { FileVehicleStore } from '../../src/node/file-stores.js';
import { VehicleService } from '../../src/service/vehicle-service.js';
import { cli } from './run-cli.js';

let home: string;
beforeAll(() => {
  home = mkdtempSync(join(tmpdir(), 'proxkey-backup-'));
});
afterAll(() => rmSync(home, { recursive: true, force: true }));

const key = async () => (await generateP256KeyPair(nobleCrypto, systemRandom)).publicKey;

describe('car backup and restore', () => {
  it('backs up, refuses a lost state, restores the same car and keeps later revocations', async () => {
    const dir = join(home, 'car');
    const car = await VehicleService.open({ store: new FileVehicleStore(dir), actuator: () => undefined, name: 'Backup car' });
    const owner = await car.registry.enroll(await key(), { role: 'owner' });
    const friend = await car.registry.enroll(await key(), { role: 'shared' });
    await car.flushAudit();
    const file = join(home, 'car-backup.json');

    const b = await cli('car', 'backup', file, '--dir', dir);
    expect(b.code).toBe(0);
    expect(b.out).toMatch(/backed up .* \(2 key\(s\)\) .*keep it offline/);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect((await cli('car', 'backup', file, '--dir', dir)).code).not.toBe(0); // never overwrites

    const r = await cli('car', 'revoke', friend.id, '--dir', dir);
    expect(r.code).toBe(0);
    unlinkSync(join(dir, 'vehicle.json'));
    const lost = await cli('car', 'status', '--dir', dir);
    expect(lost.code).not.toBe(0);
    expect(lost.err).toMatch(/ERR_STORE_MISSING|restore/);
    expect(existsSync(join(dir, 'vehicle.json'))).toBe(false);

    const restored = await cli('car', 'restore', file, '--dir', dir);
    expect(restored.code).toBe(0);
    expect(restored.out).toContain(`re-applied 1 revocation(s) recorded in ${dir}: ${friend.id}`);
    const again = await VehicleService.open({ store: new FileVehicleStore(dir), actuator: () => undefined });
    expect(again.carId).toBe(car.carId);
    expect(again.registry.state.keys.find((k) => k.id === owner.id)?.revoked).toBeUndefined();
    expect(again.registry.state.keys.find((k) => k.id === friend.id)?.revoked).toBe(true);
    expect((await cli('car', 'restore', file, '--dir', dir)).code).not.toBe(0); // refuses to overwrite a car
  });

  it('car revoke --cascade revokes an owner and the keys it shared', async () => {
    const dir = join(home, 'cascade');
    const car = await VehicleService.open({ store: new FileVehicleStore(dir), actuator: () => undefined });
    await car.registry.enroll(await key(), { role: 'owner' });
    const owner = await car.registry.enroll(await key(), { role: 'owner' });
    await car.registry.update((s) => ({
      state: {
        ...s,
        keys: [...s.keys, { id: '00112233aabbccdd', publicKey: s.keys[0]!.publicKey, role: 'shared', permissions: ['unlock'], issuerKeyId: owner.id }],
      },
      value: undefined,
    }));
    const r = await cli('car', 'revoke', owner.id, '--cascade', '--dir', dir);
    expect(r.code).toBe(0);
    expect(r.out).toContain('and 1 key(s) it shared: 00112233aabbccdd');
  });
});
