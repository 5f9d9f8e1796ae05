/**
 * `proxkey doctor` and the diagnosis behind "Bluetooth unavailable": the first failing check is
 * the one line shown, with the CLI's own flags; exit 1 when something needed is missing.
 */
import { spawn } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { adapterCheck, allChecks, bluetoothdCheck, bluetoothProblem, packageCheck } from '../../src/cli/doctor.js';
import { cli } from './run-cli.js';

const dir = mkdtempSync(join(tmpdir(), 'proxkey-doctor-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('proxkey doctor', () => {
  it('a serial device that does not exist is the problem, with the --uart fix', async () => {
    const port = join(dir, 'ttyUSB9');
    expect(adapterCheck({ uart: port })).toMatchObject({ ok: false, detail: 'no such device', fix: expect.stringMatching(/--uart/) });
    expect(bluetoothProblem('phone', { uart: port })).toMatch(/^serial HCI controller .*ttyUSB9: no such device — check the path given to --uart/);
    const r = await cli('doctor', '--uart', port);
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/^✗ serial HCI controller .*: no such device\n {4}fix: /m);
    expect(r.out).toMatch(/problem\(s\): fix them in this order/);
  });

  it('a file that is not a tty is refused as a serial controller', () => {
    const file = join(dir, 'not-a-tty');
    writeFileSync(file, '');
    expect(adapterCheck({ uart: file })).toMatchObject({ ok: false, detail: 'not a serial device' });
  });

  it('an adapter index that does not exist names the adapters there are, or says there are none', () => {
    const c = adapterCheck({ hci: 9 });
    expect(c.ok).toBe(false);
    expect(c.detail).toMatch(/^not found \(this machine has (no Bluetooth adapter|hci\d)/);
    expect(c.fix).toMatch(/--hci \d|--uart/);
  });

  it('finds the installed BLE packages (dev dependencies here)', () => {
    expect(packageCheck('phone')).toMatchObject({ ok: true, detail: expect.stringMatching(/^@stoprocent\/noble \d/) });
    expect(packageCheck('car')).toMatchObject({ ok: true, detail: expect.stringMatching(/^@stoprocent\/bleno \d/) });
  });

  it('--json lists every check', async () => {
    const r = await cli('doctor', '--json', '--hci', '9');
    const answer = JSON.parse(r.out) as { ok: boolean; checks: { name: string }[] };
    expect(answer.checks.map((c) => c.name)).toEqual(allChecks({ hci: 9 }).map((c) => c.name));
    expect(answer.ok).toBe(false);
  });

  it('with --hci other than 0, a running bluetoothd is informative (it may leave that adapter alone), not a failure', async () => {
    // a fake bluetoothd: a copy of sleep under that name (what /proc/<pid>/comm says)
    const fake = join(dir, 'bluetoothd');
    copyFileSync('/bin/sleep', fake);
    const proc = spawn(fake, ['60'], { stdio: 'ignore' });
    try {
      await new Promise((r) => proc.once('spawn', r));
      expect(readFileSync(`/proc/${proc.pid}/comm`, 'utf8').trim()).toBe('bluetoothd');
      expect(bluetoothdCheck()).toMatchObject({ ok: false, detail: 'bluetoothd is running and holds the adapter' });
      expect(bluetoothdCheck().optional).toBeUndefined();
      expect(bluetoothdCheck(1)).toMatchObject({
        name: 'adapter hci1 not held by bluetoothd',
        ok: false,
        optional: true,
        detail: 'bluetoothd is running; whether it holds hci1 cannot be told from here',
        fix: expect.stringMatching(/^if proxkey cannot open hci1: sudo systemctl stop bluetooth/),
      });
      const check = allChecks({ hci: 1 }).find((c) => c.name.includes('bluetoothd'));
      expect(check).toMatchObject({ optional: true });
      const { out } = await cli('doctor', '--hci', '1');
      expect(out).toMatch(/^– adapter hci1 not held by bluetoothd: bluetoothd is running; whether it holds hci1 cannot be told from here$/m);
      expect(out).not.toMatch(/^✗ .*bluetoothd/m);
    } finally {
      proc.kill();
    }
  });
});
