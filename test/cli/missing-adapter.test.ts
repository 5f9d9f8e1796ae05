/**
 * Without a usable Bluetooth adapter (here: a controller index that does not exist), BLE commands
 * print one actionable line and exit 1, also in --json mode. Runs the CLI as a real process.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { run } from '../../src/cli/main.js';

const TSX = createRequire(import.meta.url).resolve('tsx');
const MAIN = new URL('../../src/cli/main.ts', import.meta.url).pathname;
const state = mkdtempSync(join(tmpdir(), 'proxkey-noadapter-'));
afterAll(() => rmSync(state, { recursive: true, force: true }));

describe('a missing Bluetooth adapter', () => {
  it('is one clear line with what to do, exit 1', async () => {
    // A phone that knows a car (paired with the simulated one), so the command reaches the radio.
    const quiet = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    expect(await run(['pair', '--sim', '--state', state])).toBe(0);
    quiet.mockRestore();
    for (const json of [false, true]) {
      const r = spawnSync(process.execPath, ['--import', TSX, MAIN, 'unlock', '--hci', '9', '--state', state, ...(json ? ['--json'] : [])], {
        encoding: 'utf8',
        timeout: 60_000,
        env: { ...process.env, PROXKEY_DEBUG: '' },
      });
      expect(r.status).toBe(1);
      const lines = r.stderr.trim().split('\n');
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(/^error: Bluetooth unavailable: .*(setcap|bluetoothd|adapter)/);
      if (json) expect(JSON.parse(r.stdout)).toMatchObject({ ok: false, code: 'ERR_BLE_UNAVAILABLE' });
    }
  }, 120_000);
});
