/**
 * `proxkey unlock` with a shared key whose grant drop fails to save after the car ran the command:
 * the command succeeds (exit 0), a hint says the grant is kept, and the next command drops it.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { FilePhoneStore } from '../../src/node/file-stores.js';
import { cli } from './run-cli.js';

describe('proxkey unlock: the grant drop fails to save', () => {
  const home = mkdtempSync(join(tmpdir(), 'proxkey-grant-drop-'));
  afterAll(() => rmSync(home, { recursive: true, force: true }));

  it('the unlock is reported done, with a hint; the grant is dropped at the next command', async () => {
    const owner = ['--sim', '--state', join(home, 'owner')];
    const alice = ['--sim', '--state', join(home, 'alice')];
    process.env.PROXKEY_SIM_CAR = join(home, 'owner', 'sim-car');
    try {
      expect((await cli('pair', ...owner)).code).toBe(0);
      const { request } = JSON.parse((await cli('request-key', '--label', 'Alice', '--json', ...alice)).out);
      const { share } = JSON.parse((await cli('share', request, '--json', ...owner)).out);
      expect((await cli('accept', share, ...alice)).code).toBe(0);
      const grantKept = async () => (await new FilePhoneStore(join(home, 'alice', 'phone.json')).load())!.cars[0]!.grant !== undefined;
      expect(await grantKept()).toBe(true);

      const save = vi.spyOn(FilePhoneStore.prototype, 'save').mockRejectedValueOnce(new Error('disk full'));
      let r = await cli('unlock', ...alice);
      save.mockRestore();
      expect(r.code).toBe(0);
      expect(r.out).toMatch(/✓ unlock: ok/);
      expect(r.err).toMatch(/could not save this phone's state \(saving the grant drop: disk full\): the key's grant is kept/);
      expect(await grantKept()).toBe(true);

      r = await cli('lock', ...alice);
      expect(r.code).toBe(0);
      expect(r.err).toBe('');
      expect(await grantKept()).toBe(false);
    } finally {
      delete process.env.PROXKEY_SIM_CAR;
    }
  });
});
