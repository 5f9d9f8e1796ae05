/**
 * The Raspberry Pi guide's install route from a clone, in a temp prefix: `npm run build`,
 * `npm pack`, `npm install -g ./proxkey-*.tgz @stoprocent/bleno`; then the installed `proxkey`
 * finds its BLE stack (`doctor`), `car setup` writes a unit whose ExecStart is this install's
 * node and cli.js, and that ExecStart line, run as written, advertises over the emulated
 * controller and stops on SIGTERM.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnNode, type Collected } from './harness/child.js';
import { Emulator, type Controller } from './harness/emulator.js';
import { realStackGate } from './harness/gate.js';

const missing = realStackGate('Raspberry Pi install from a clone', ['@stoprocent/bleno']);
const ROOT = new URL('../../', import.meta.url).pathname;
const run = promisify(execFile);

describe.skipIf(missing.length > 0)('install from a clone into a temp prefix (docs/raspberry-pi.md)', () => {
  let work: string;
  let emu: Emulator | undefined;
  let ctrl: Controller | undefined;
  let car: Collected | undefined;

  beforeAll(() => {
    work = mkdtempSync(join(tmpdir(), 'proxkey-install-'));
  });

  afterAll(async () => {
    car?.proc.kill('SIGKILL');
    await car?.exited;
    await ctrl?.close();
    await emu?.stop();
    rmSync(work, { recursive: true, force: true });
  }, 60_000);

  it('build, pack, install -g with bleno; the installed daemon runs from its unit line', async () => {
    const npm = (args: string[], cwd: string) => run('npm', args, { cwd, timeout: 240_000, env: { ...process.env, npm_config_loglevel: 'error' } });
    await npm(['run', 'build'], ROOT);
    await npm(['pack', '--pack-destination', work], ROOT);
    const tarball = readdirSync(work).find((f) => /^proxkey-.*\.tgz$/.test(f))!;
    const prefix = join(work, 'prefix');
    await npm(['install', '-g', '--prefix', prefix, '--prefer-offline', '--no-audit', '--no-fund', `./${tarball}`, '@stoprocent/bleno'], work);
    const proxkey = join(prefix, 'bin', 'proxkey');

    const doctor = await run(proxkey, ['doctor']).catch((e: { stdout: string }) => e);
    expect(doctor.stdout).toMatch(/^✓ car BLE stack \(bleno\): @stoprocent\/bleno \d/m);

    const config = join(work, 'etc', 'car.json');
    const unitPath = join(work, 'proxkey-car.service');
    const setup = await run(proxkey, [
      'car',
      'setup',
      '--config',
      config,
      '--dir',
      join(work, 'state'),
      '--unit',
      unitPath,
      '--user',
      userInfo().username,
      '--actuator',
      'log',
    ]);
    expect(setup.stdout).toContain(`wrote ${unitPath}`);
    const cli = join(prefix, 'lib', 'node_modules', 'proxkey', 'dist', 'cli.js');
    const execStart = readFileSync(unitPath, 'utf8').match(/^ExecStart=(.*)$/m)![1]!;
    expect(execStart).toBe(`${process.execPath} ${cli} car serve --config ${config}`);

    emu = await Emulator.start();
    ctrl = await emu.controller('car');
    const [node, ...args] = execStart.split(' ');
    expect(node).toBe(process.execPath);
    car = spawnNode([...args, '--uart', ctrl.port]);
    const deadline = Date.now() + 30_000;
    while (!/is advertising/.test(car.out)) {
      if (car.proc.exitCode !== null || Date.now() > deadline) throw new Error(`installed daemon did not start:\n${car.out}${car.err}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(car.out).toMatch(/^car "My car" \([0-9a-f]{8}\) is advertising from a rotating private address; 0 key\(s\) enrolled/m);
    car.proc.kill('SIGTERM');
    expect(await car.exited).toBe(0);
  }, 300_000);
});
