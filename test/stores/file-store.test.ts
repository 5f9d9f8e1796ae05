import { appendFileSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { KeyRegistry, MemoryVehicleStore, StoreError } from '../../src/index.js';
import { FilePhoneStore, FileVehicleStore } from '../../src/node/index.js';
import { keyFor } from './crash-keys.js';
import { tempDirs } from '../helpers/temp-dirs.js';

const tmp = tempDirs('proxkey-store-');

describe('FileVehicleStore', () => {
  it('round-trips state and audit through a fresh instance; files are 0600', async () => {
    const dir = tmp();
    const reg = await KeyRegistry.open({ store: new FileVehicleStore(dir) });
    const rec = await reg.enroll(keyFor(1), { role: 'owner', label: 'me' });
    await reg.revoke((await reg.enroll(keyFor(2), { role: 'shared' })).id);
    await reg.store.appendAudit({ at: 1, event: 'command', keyId: rec.id, result: 'ok', command: 'unlock', rttMs: 12.5 });
    const again = await KeyRegistry.open({ store: new FileVehicleStore(dir) });
    expect(again.state).toEqual(reg.state);
    expect(await again.store.readAudit()).toEqual([{ at: 1, event: 'command', keyId: rec.id, result: 'ok', command: 'unlock', rttMs: 12.5 }]);
    expect(statSync(join(dir, 'vehicle.json')).mode & 0o777).toBe(0o600);
    expect(statSync(join(dir, 'audit.jsonl')).mode & 0o777).toBe(0o600);
  });

  it.each([
    ['truncated JSON', (t: string) => t.slice(0, t.length / 2)],
    ['a flipped byte in the data', (t: string) => t.replace('"owner"', '"ownar"')],
    ['garbage', () => 'hello'],
    ['an empty file', () => ''],
  ])('detects %s with StoreError and never resets', async (_what, corrupt) => {
    const dir = tmp();
    const reg = await KeyRegistry.open({ store: new FileVehicleStore(dir) });
    await reg.enroll(keyFor(1));
    const path = join(dir, 'vehicle.json');
    writeFileSync(path, corrupt(readFileSync(path, 'utf8')));
    const before = readFileSync(path);
    const err = await new FileVehicleStore(dir).load().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StoreError);
    expect(err).toMatchObject({ code: 'ERR_STORE_CORRUPT', message: expect.stringContaining(path) });
    expect(readFileSync(path)).toEqual(before); // untouched
  });

  it('refuses a state written by a newer schema', async () => {
    const dir = tmp();
    writeFileSync(join(dir, 'vehicle.json'), JSON.stringify({ schema: 99, sha256: 'x', data: {} }));
    await expect(new FileVehicleStore(dir).load()).rejects.toMatchObject({ code: 'ERR_STORE_VERSION' });
  });

  it('ignores a torn last audit line, cuts it before the next append, and rejects corruption elsewhere', async () => {
    const dir = tmp();
    const store = new FileVehicleStore(dir);
    await store.appendAudit({ at: 1, event: 'command', keyId: 'a', result: 'ok' });
    appendFileSync(join(dir, 'audit.jsonl'), '0123456789abcdef {"at":2,"ev'); // a crash mid-append
    expect(await new FileVehicleStore(dir).readAudit()).toHaveLength(1);
    const next = new FileVehicleStore(dir);
    await next.appendAudit({ at: 3, event: 'command', keyId: 'b', result: 'ok' });
    expect((await next.readAudit()).map((e) => e.at)).toEqual([1, 3]);
    writeFileSync(join(dir, 'audit.jsonl'), readFileSync(join(dir, 'audit.jsonl'), 'utf8').replace('"a"', '"z"'));
    await expect(new FileVehicleStore(dir).readAudit()).rejects.toMatchObject({ code: 'ERR_STORE_CORRUPT' });
  });
});

describe('FilePhoneStore', () => {
  it('round-trips and detects corruption', async () => {
    const path = join(tmp(), 'phone', 'state.json');
    const store = new FilePhoneStore(path);
    expect(await store.load()).toBeUndefined();
    const state = { identity: { secretKey: new Uint8Array(32).fill(1) }, cars: [] };
    await store.save(state);
    expect(await new FilePhoneStore(path).load()).toEqual(state);
    writeFileSync(path, readFileSync(path, 'utf8').replace('0101', '0202'));
    await expect(new FilePhoneStore(path).load()).rejects.toMatchObject({ code: 'ERR_STORE_CORRUPT' });
  });
});

describe('KeyRegistry durability order', () => {
  it('does not change memory when the save fails', async () => {
    const store = new MemoryVehicleStore();
    const reg = await KeyRegistry.open({ store });
    store.save = async () => {
      throw new Error('disk full');
    };
    await expect(reg.enroll(keyFor(1))).rejects.toThrow('disk full');
    expect(reg.state.keys).toEqual([]);
    expect(await reg.findKey(keyFor(1))).toBeUndefined();
  });
});
