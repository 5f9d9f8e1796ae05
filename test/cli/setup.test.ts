/**
 * `proxkey car setup` and its templates: the example files are the templates rendered for a
 * standard install (one source), the written config loads (comments and all), the unit runs this
 * install's node and proxkey, the state dir gets its owner and 0700 (only a new, empty or car's
 * one, unless --force), reruns keep edits and refuse a --dir/--user the kept files contradict,
 * step 2 is quoted for the shell, and a missing user is one line with the command that creates it.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadCarConfig, stripLineComments } from '../../src/cli/config.js';
import { EXAMPLE_INSTALL, carConfigTemplate, systemdUnit } from '../../src/cli/templates.js';
import { keptInstall } from '../../src/cli/setup.js';
import { SHUTDOWN_WORST_CASE_MS } from '../../src/cli/car-daemon.js';
import { cli } from './run-cli.js';

const EXAMPLES = new URL('../../examples/raspberry-pi/', import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), 'proxkey-setup-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('templates', () => {
  it('examples/raspberry-pi/ holds the templates rendered for a standard install', () => {
    // to regenerate after changing src/cli/templates.ts: UPDATE_EXAMPLES=1 npx vitest run test/cli/setup.test.ts
    if (process.env.UPDATE_EXAMPLES) {
      writeFileSync(join(EXAMPLES, 'car.json'), carConfigTemplate(EXAMPLE_INSTALL));
      writeFileSync(join(EXAMPLES, 'proxkey-car.service'), systemdUnit(EXAMPLE_INSTALL));
    }
    expect(readFileSync(join(EXAMPLES, 'car.json'), 'utf8')).toBe(carConfigTemplate(EXAMPLE_INSTALL));
    expect(readFileSync(join(EXAMPLES, 'proxkey-car.service'), 'utf8')).toBe(systemdUnit(EXAMPLE_INSTALL));
  });

  it("the unit's comment says what a watchdog ping means (the event loop runs, also during a bounded recovery), not that the radio answers", () => {
    const unit = systemdUnit(EXAMPLE_INSTALL);
    expect(unit).not.toMatch(/while the radio answers/);
    expect(unit).toMatch(/^# READY once the car advertises\. The watchdog ping \(every 15 s\) means the daemon's event loop runs,$/m);
    expect(unit).toMatch(/^# also during a radio recovery: that one is bounded and logged, and exits 3 when it fails\.$/m);
    expect(unit).toMatch(/^WatchdogSec=30s$/m); // "every 15 s": the daemon pings at half the period
  });

  it('the unit is Type=notify with a watchdog, and quotes paths with spaces', () => {
    const unit = systemdUnit({ ...EXAMPLE_INSTALL, cli: '/opt/my tools/proxkey/dist/cli.js' });
    expect(unit).toMatch(/^Type=notify$/m);
    expect(unit).toMatch(/^NotifyAccess=all$/m);
    expect(unit).toMatch(/^WatchdogSec=\d+s$/m);
    // SIGTERM to the daemon alone (a relay pulse or script it runs finishes), and time for its bounded shutdown
    expect(unit).toMatch(/^KillMode=mixed$/m);
    expect(Number(/^TimeoutStopSec=(\d+)s$/m.exec(unit)![1]) * 1000).toBeGreaterThan(SHUTDOWN_WORST_CASE_MS);
    expect(unit).toMatch(/^ExecStartPre=-\+\/usr\/sbin\/rfkill unblock bluetooth$/m);
    expect(unit).toContain('ExecStart=/usr/bin/node "/opt/my tools/proxkey/dist/cli.js" car serve --config /etc/proxkey/car.json');
  });

  it('both configs (gpio and log) load; comments inside strings are kept', () => {
    for (const actuators of ['gpio', 'log'] as const) {
      const p = join(dir, `${actuators}.json`);
      writeFileSync(p, carConfigTemplate({ ...EXAMPLE_INSTALL, actuators, name: 'a // b "c"' }));
      expect(loadCarConfig(p)).toMatchObject({ name: 'a // b "c"', actuators: { type: actuators }, health: { maxRecoveryAttempts: 10 } });
    }
    expect(JSON.parse(stripLineComments('{"u": "http://x" // c\n}'))).toEqual({ u: 'http://x' });
  });

  it('a config that does not exist says how to write one', () => {
    expect(() => loadCarConfig(join(dir, 'nope.json'))).toThrow(/does not exist: write one with `sudo proxkey car setup`/);
  });
});

describe('proxkey car setup', () => {
  const me = userInfo();
  const paths = { config: join(dir, 'etc', 'car.json'), state: join(dir, 'state'), unit: join(dir, 'proxkey-car.service') };
  const setup = (...extra: string[]) =>
    cli('car', 'setup', '--config', paths.config, '--dir', paths.state, '--unit', paths.unit, '--user', me.username, ...extra);

  it('writes the config and the unit for this install, creates the state dir, prints the next steps', async () => {
    const r = await setup('--name', 'Test car', '--hci', '1');
    expect(r.code, r.err).toBe(0);
    expect(r.out).toContain(`wrote ${paths.config} (edit the name, GPIO lines and pulses)`);
    expect(r.out).toContain(`state directory ${paths.state} (0700, owner ${me.username})`);
    expect(r.out).toMatch(/next:\n {2}1\. .*\n {5}sudo systemctl disable --now bluetooth\n {2}2\. .*\n {5}sudo systemd-run --pty --uid=/);
    expect(loadCarConfig(paths.config)).toMatchObject({ name: 'Test car', stateDir: paths.state, bluetooth: { hci: 1 } });
    const unit = readFileSync(paths.unit, 'utf8');
    expect(unit).toContain(`ExecStart=${process.execPath} `);
    expect(unit).toMatch(/^ExecStartPre=-\+\/usr\/bin\/btmgmt --index 1 power on$/m);
    expect(unit).toContain(`User=${me.username}`);
    expect(unit).toContain(`ReadWritePaths=${paths.state}`);
    const st = statSync(paths.state);
    expect(st.mode & 0o777).toBe(0o700);
    expect(st.uid).toBe(me.uid);
  });

  it('a rerun keeps edited files; --force replaces them', async () => {
    writeFileSync(paths.config, '{ "name": "edited" }');
    let r = await setup();
    expect(r.out).toContain(`kept ${paths.config} (exists; --force replaces it)`);
    expect(loadCarConfig(paths.config).name).toBe('edited');
    r = await setup('--force');
    expect(r.out).toContain(`wrote ${paths.config}`);
    expect(loadCarConfig(paths.config).name).toBe('My car');
  });

  it('a missing user or a bad --actuator is one line saying what to do', async () => {
    let r = await setup('--user', 'no-such-user-proxkey');
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/^error: user "no-such-user-proxkey" does not exist: create it first \(sudo useradd --system/);
    r = await setup('--actuator', 'relay');
    expect(r.err).toMatch(/^error: --actuator: expected gpio or log, got "relay"/);
  });
});

describe('proxkey car setup: what it may take over, and reruns', () => {
  const me = userInfo();
  let n = 0;
  /** A fresh install root: config, unit and the setup command with only the flags given. */
  const install = () => {
    const root = join(dir, `install-${++n}`);
    const config = join(root, 'car.json');
    const unit = join(root, 'proxkey-car.service');
    const setup = (...extra: string[]) => cli('car', 'setup', '--config', config, '--unit', unit, ...extra);
    return { root, config, unit, setup };
  };

  it("refuses a --dir that exists and is neither empty nor a car's; an empty one or a car's is taken; --force takes any", async () => {
    const { root, config, setup } = install();
    const other = join(root, 'lib');
    mkdirSync(join(other, 'otherapp'), { recursive: true, mode: 0o755 });
    chmodSync(other, 0o755);
    let r = await setup('--dir', other, '--user', me.username);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(
      /^error: --dir .*lib is not empty and holds no car \(no vehicle\.json or audit\.jsonl\): setup would make it 0700 .*or --force to take this one over/,
    );
    expect(statSync(other).mode & 0o777).toBe(0o755);
    expect(existsSync(config)).toBe(false); // refused before writing anything
    for (const [name, file] of [
      ['empty', undefined],
      ['car', 'vehicle.json'],
      ['audited', 'audit.jsonl'],
      ['killed-serve', 'lock'], // a `car serve` killed before it created the car: proxkey's own leftover
    ] as const) {
      const d = join(root, name);
      mkdirSync(d, { mode: 0o755 });
      if (file) writeFileSync(join(d, file), '{}');
      r = await install().setup('--dir', d, '--user', me.username);
      expect(r.code, r.err).toBe(0);
      expect(statSync(d).mode & 0o777).toBe(0o700);
    }
    r = await setup('--dir', other, '--user', me.username, '--force');
    expect(r.code, r.err).toBe(0);
    expect(statSync(other).mode & 0o777).toBe(0o700);
  });

  it('a rerun with another --dir or --user than the kept files say is refused; without them it takes theirs; --force rewrites all', async () => {
    const { root, config, unit, setup } = install();
    const [a, b] = [join(root, 'stateA'), join(root, 'stateB')];
    expect((await setup('--dir', a, '--user', me.username)).code).toBe(0);
    let r = await setup('--dir', b, '--user', me.username);
    expect(r.code).toBe(1);
    expect(r.err).toContain(`error: ${config} (kept: it exists) says stateDir ${a}, not --dir ${b}: pass --dir ${a} to keep it, or --force to rewrite`);
    expect(existsSync(b)).toBe(false);
    r = await setup('--dir', a, '--user', 'nobody');
    expect(r.code).toBe(1);
    expect(r.err).toContain(`error: ${unit} (kept: it exists) says User=${me.username}, not --user nobody: pass --user ${me.username} to keep it`);
    r = await setup(); // no --dir, no --user: the kept files' own
    expect(r.code, r.err).toBe(0);
    expect(r.out).toContain(`state directory ${a} (0700, owner ${me.username})`);
    // the config lost, the unit kept: its ReadWritePaths says the old directory
    rmSync(config);
    r = await setup('--dir', b, '--user', me.username);
    expect(r.err).toContain(`error: ${unit} (kept: it exists) says ReadWritePaths=${a}, not --dir ${b}`);
    expect(existsSync(config)).toBe(false);
    r = await setup('--dir', b, '--user', me.username, '--force');
    expect(r.code, r.err).toBe(0);
    expect(loadCarConfig(config).stateDir).toBe(b);
    expect(readFileSync(unit, 'utf8')).toMatch(new RegExp(`^ReadWritePaths=${b}$`, 'm'));
    expect(statSync(b).uid).toBe(me.uid);
  });

  it("a rerun with another --config than the kept unit's ExecStart is refused (the daemon would read the old one); without it, the unit's is taken", async () => {
    const { root, config, unit } = install();
    const state = join(root, 'state');
    const run = (...extra: string[]) => cli('car', 'setup', '--unit', unit, '--dir', state, '--user', me.username, ...extra);
    expect((await run('--config', config)).code).toBe(0);
    const other = join(root, 'other.json');
    let r = await run('--config', other);
    expect(r.code).toBe(1);
    expect(r.err).toContain(`error: ${unit} (kept: it exists) says --config ${config}, not --config ${other}: pass --config ${config} to keep it, or --force`);
    expect(existsSync(other)).toBe(false); // refused before writing anything
    r = await run(); // no --config: the kept unit's own
    expect(r.code, r.err).toBe(0);
    expect(r.out).toContain(`kept ${config}`);
    r = await run('--config', other, '--force');
    expect(r.code, r.err).toBe(0);
    expect(readFileSync(unit, 'utf8')).toContain(`car serve --config ${other}`);
    expect(loadCarConfig(other).stateDir).toBe(state);
  });

  it("reads the kept unit's --config as systemd does: --config=, continuation lines, either quotes, %%, relative to /; none is refused", () => {
    const { root, unit } = install();
    mkdirSync(root, { recursive: true });
    const state = join(root, 'state');
    const configOfUnit = (execStart: string) => {
      writeFileSync(unit, `[Service]\nExecStartPre=/bin/true --config /nope\nExecStart=${execStart}\nUser=${me.username}\nReadWritePaths=${state}\n`);
      return keptInstall({ dir: state }, unit).config;
    };
    expect(configOfUnit('/usr/bin/node /cli.js car serve --config=/etc/a.json')).toBe('/etc/a.json');
    expect(configOfUnit('/usr/bin/node /cli.js car serve \\\n  --config /etc/b.json')).toBe('/etc/b.json');
    expect(configOfUnit("/usr/bin/node /cli.js car serve --config '/etc/my car.json'")).toBe('/etc/my car.json');
    expect(configOfUnit('/usr/bin/node /cli.js car serve --config "/etc/my \\"car\\".json"')).toBe('/etc/my "car".json');
    expect(configOfUnit('/usr/bin/node /cli.js car serve --config /etc/100%%.json')).toBe('/etc/100%.json');
    expect(configOfUnit('/usr/bin/node /cli.js car serve --config etc/c.json')).toBe('/etc/c.json');
    expect(() => configOfUnit('/usr/local/bin/my-car-wrapper')).toThrow(/has an ExecStart with no --config <path> that setup can read/);
    // what setup writes reads back (quotes, %)
    const odd = join(root, "50% 'odd' dir", 'car.json');
    writeFileSync(unit, systemdUnit({ ...EXAMPLE_INSTALL, config: odd, stateDir: state, user: me.username }));
    expect(readFileSync(unit, 'utf8')).toContain('50%% ');
    expect(keptInstall({ dir: state }, unit).config).toBe(odd);
  });

  it("step 2 quotes a config path with spaces (or quotes) for the shell, as the unit's ExecStart does", async () => {
    const root = join(dir, "my car's etc");
    const config = join(root, 'car.json');
    const r = await cli('car', 'setup', '--config', config, '--unit', join(root, 'u.service'), '--dir', join(root, 'state'), '--user', me.username);
    expect(r.code, r.err).toBe(0);
    const step2 = /^ {5}sudo systemd-run .* car serve --config (.*) --pair$/m.exec(r.out)![1]!;
    expect(step2).toBe(`'${config.replace(/'/g, `'\\''`)}'`);
    expect(execFileSync('sh', ['-c', `printf '%s\\n' ${step2}`], { encoding: 'utf8' })).toBe(`${config}\n`); // one word
  });
});
