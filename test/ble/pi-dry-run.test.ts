/**
 * docs/raspberry-pi.md as a dry run, over the emulated controller, every step a separate process
 * as a newcomer types it: `proxkey car setup` (config + unit, checked by systemd-analyze), the
 * daemon with a command actuator and fake GPIO tools (gpioset/gpiomon on PATH) under a fake
 * systemd (NOTIFY_SOCKET + WATCHDOG_USEC), the pairing button and LED, a phone pairing and
 * unlocking, the control socket (`car status|keys|pair|audit`), pairing expiry and a wrong code
 * in the log, the car's controller killed and replaced under the running daemon (it recovers,
 * the phone unlocks again), Ctrl-C and SIGTERM stop it cleanly (SIGTERM during an action: it
 * finishes and the phone gets its RESULT first), a restart keeps its keys, and a
 * radio that never comes back makes it exit 3 (systemd restarts it).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { appendFileSync, chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { delimiter, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runNode, spawnNode, type Collected } from './harness/child.js';
import { bundleCli } from './harness/cli-bundle.js';
import { Emulator, which, type Controller } from './harness/emulator.js';
import { realStackGate } from './harness/gate.js';

const missing = realStackGate('Raspberry Pi dry run over BLE', ['@stoprocent/noble', '@stoprocent/bleno']);
if (!which('systemd-analyze') || !which('systemd-notify')) {
  missing.push('systemd (apt-get install systemd)');
  // like the gate: under CI a missing tool is a failure, not a skip
  if (process.env.CI === 'true')
    describe('Raspberry Pi dry run: tools', () => it('has systemd-analyze and systemd-notify', () => expect.fail('apt-get install systemd')));
}

const FAKE_GPIOSET = `#!/bin/sh
# fake libgpiod 2.x gpioset: logs its arguments; holds a line until killed unless -t is given
[ "$1" = "--version" ] && { echo "gpioset (libgpiod) v2.1"; exit 0; }
echo "gpioset $*" >> "$GPIO_LOG"
case " $* " in *" -t "*) exit 0 ;; esac
exec sleep 600
`;
const FAKE_GPIOMON = `#!/bin/sh
# fake gpiomon: one output line per line appended to $BUTTON (a press)
echo "gpiomon $*" >> "$GPIO_LOG"
exec tail -n 0 -F "$BUTTON" 2>/dev/null
`;
const CAR_ACTION = `#!/bin/sh
echo "$1 $2 $3" >> "$ACTION_LOG"
[ "$1" = "trunk" ] && sleep 2
echo "done: $1"
`;

describe.skipIf(missing.length > 0)('the Raspberry Pi guide as a dry run (daemon, fake GPIO, fake systemd)', () => {
  let emu: Emulator;
  let work: string;
  let cli: string;
  let env: NodeJS.ProcessEnv;
  const paths = { config: '', state: '', unit: '', gpioLog: '', actionLog: '', button: '', notifySocket: '' };
  let carCtrl: Controller | undefined;
  let car: Collected | undefined;

  beforeAll(async () => {
    cli = await bundleCli('pi');
    work = mkdtempSync(join(tmpdir(), 'proxkey-pi-'));
    const bin = join(work, 'bin');
    mkdirSync(bin);
    for (const [name, text] of [
      ['gpioset', FAKE_GPIOSET],
      ['gpiomon', FAKE_GPIOMON],
      ['car-action', CAR_ACTION],
    ] as const) {
      writeFileSync(join(bin, name), text);
      chmodSync(join(bin, name), 0o755);
    }
    Object.assign(paths, {
      config: join(work, 'etc', 'car.json'),
      state: join(work, 'var', 'proxkey'),
      unit: join(work, 'proxkey-car.service'),
      gpioLog: join(work, 'gpio.log'),
      actionLog: join(work, 'action.log'),
      button: join(work, 'button'),
      notifySocket: join(work, 'notify.sock'),
    });
    writeFileSync(paths.button, '');
    env = { ...process.env, PATH: `${bin}${delimiter}${process.env.PATH}`, GPIO_LOG: paths.gpioLog, ACTION_LOG: paths.actionLog, BUTTON: paths.button };
    emu = await Emulator.start();
  }, 240_000);

  afterAll(async () => {
    car?.proc.kill('SIGKILL');
    await car?.exited;
    await carCtrl?.close();
    notifyProc?.kill('SIGKILL');
    const pids = emu?.pids ?? [];
    await emu?.stop();
    for (const pid of pids) expect(() => process.kill(pid, 0), `process ${pid} left running`).toThrow();
    rmSync(work, { recursive: true, force: true });
  }, 60_000);

  let notifyProc: ChildProcess | undefined;
  let notified = '';
  /** A stand-in for systemd's notification socket: collects every datagram it receives. */
  function startNotifySocket(): void {
    notifyProc = spawn('timeout', ['300', 'socat', '-u', `UNIX-RECV:${paths.notifySocket}`, 'STDOUT'], { stdio: ['ignore', 'pipe', 'ignore'] });
    notifyProc.stdout!.on('data', (d: Buffer) => (notified += `${d.toString()}\n`));
  }

  async function until<T>(what: string, probe: () => T | undefined | false, timeoutMs = 30_000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const v = probe();
      if (v) return v;
      if (Date.now() > deadline) throw new Error(`${what}: not seen within ${timeoutMs} ms\n--- car stdout:\n${car?.out}\n--- car stderr:\n${car?.err}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  const carSaid = (pattern: RegExp, timeoutMs?: number) => until(`car output ${pattern}`, () => car!.out.match(pattern) ?? undefined, timeoutMs);

  function startCar(ctrl: Controller, withSystemd: boolean): Collected {
    const c = spawnNode([cli, 'car', 'serve', '--config', paths.config, '--uart', ctrl.port, '--scrypt-log2n', '12'], {
      env: withSystemd ? { ...env, NOTIFY_SOCKET: paths.notifySocket, WATCHDOG_USEC: '2000000' } : env,
    });
    car = c;
    return c;
  }

  /** A phone CLI command on its own fresh controller, as typed (human output). */
  async function phone(...argv: string[]): Promise<{ code: number | null; out: string; err: string }> {
    const ctrl = await emu.controller('phone');
    const r = await runNode([cli, ...argv, '--state', join(work, 'phone'), '--uart', ctrl.port, '--timeout', '15000'], { env });
    await ctrl.close();
    return r;
  }
  const admin = (...argv: string[]) => runNode([cli, 'car', ...argv, '--config', paths.config], { env });

  it('setup, serve, pair by button, unlock, control socket, recovery, Ctrl-C, restart', async () => {
    // 1. setup writes a commented config and a unit for this install, creates the state dir
    const user = userInfo().username;
    let r = await runNode(
      [cli, 'car', 'setup', '--config', paths.config, '--dir', paths.state, '--unit', paths.unit, '--user', user, '--name', 'Pi car', '--actuator', 'log'],
      { env },
    );
    expect(r.code, r.err).toBe(0);
    expect(r.out).toContain(`wrote ${paths.config}`);
    expect(r.out).toContain(`wrote ${paths.unit} (runs ${process.execPath} ${cli})`);
    expect(r.out).toMatch(/next:\n {2}1\. proxkey drives the adapter itself:\n {5}sudo systemctl disable --now bluetooth/);
    expect(statSync(paths.state).mode & 0o777).toBe(0o700);
    expect(statSync(paths.state).uid).toBe(userInfo().uid);
    const unit = readFileSync(paths.unit, 'utf8');
    expect(unit).toContain(`ExecStart=${process.execPath} ${cli} car serve --config ${paths.config}`);
    const verify = spawnSync('systemd-analyze', ['verify', paths.unit], { encoding: 'utf8' });
    expect(verify.status, verify.stderr).toBe(0);
    expect(verify.stderr.split('\n').filter((l) => l && !/Special user|is not safe/.test(l))).toEqual([]);
    // a rerun keeps what exists
    r = await runNode([cli, 'car', 'setup', '--config', paths.config, '--dir', paths.state, '--unit', paths.unit, '--user', user], { env });
    expect(r.out).toContain(`kept ${paths.config} (exists; --force replaces it)`);

    // 2. the user edits the config: a script actuator, the button and LED, short pairing, fast probes
    const config = readFileSync(paths.config, 'utf8')
      .replace(
        '"actuators": { "type": "log" },',
        `"actuators": { "type": "command", "path": "${join(work, 'bin', 'car-action')}" },\n  "pairingButton": { "chip": "gpiochip0", "line": 5 },\n  "statusLed": { "chip": "gpiochip0", "line": 6 },`,
      )
      .replace('"pairingTtlSeconds": 120', '"pairingTtlSeconds": 6')
      .replace('"maxRttMs": 300', '"maxRttMs": 5000')
      .replace('"probeIntervalMs": 10000, "maxRecoveryAttempts": 10', '"probeIntervalMs": 300, "maxRecoveryAttempts": 2');
    writeFileSync(paths.config, config);

    // 3. the daemon under a fake systemd: READY only once it advertises, then watchdog pings
    startNotifySocket();
    await until('notify socket', () => existsSync(paths.notifySocket), 5_000);
    carCtrl = await emu.controller('car');
    startCar(carCtrl, true);
    await carSaid(/created a new car in .*\n/);
    await carSaid(/car "Pi car" \([0-9a-f]{8}\) is advertising from a rotating private address; 0 key\(s\) enrolled\. Ctrl-C to stop\./);
    await until('READY=1', () => notified.includes('READY=1'), 10_000);
    await until('WATCHDOG=1', () => notified.includes('WATCHDOG=1'), 10_000);
    expect(notified).toMatch(/STATUS=car "Pi car" .* is advertising/);

    // 4. the pairing button opens pairing mode and lights the LED; a phone pairs; LED off
    appendFileSync(paths.button, 'press\n');
    await carSaid(/pairing mode opened by the pairing button/);
    const code = (await carSaid(/pairing mode open for \d+ s — code (\d{8})/))[1]!;
    r = await phone('pair', code);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/^✓ paired with "Pi car" \([0-9a-f]{8}\) as owner; this phone's key is [0-9a-f]{16}$/m);
    await carSaid(/ {2}paired a new owner phone: key [0-9a-f]{16}/);
    await carSaid(/pairing mode closed: a phone paired/);
    await until('LED off', () => readFileSync(paths.gpioLog, 'utf8').includes('gpioset -c gpiochip0 6=0'), 5_000);
    expect(readFileSync(paths.gpioLog, 'utf8')).toMatch(
      /gpiomon -c gpiochip0 -b pull-up -e falling 5[\s\S]*gpioset -c gpiochip0 6=1[\s\S]*gpioset -c gpiochip0 6=0/,
    );

    // 5. unlock runs the car's script
    r = await phone('unlock');
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/^✓ unlock: ok \(\d+ ms, of which \d+ ms the command itself\)$/m);
    await carSaid(/ {2}[0-9a-f]{16} unlock → ok \(rtt \d+ ms\)/);
    expect(readFileSync(paths.actionLog, 'utf8')).toMatch(/^unlock [0-9a-f]{16} owner$/m);

    // 6. the control socket: status, keys, pair (expires), a wrong code is logged, audit
    r = await admin('status');
    expect(r.out.trim()).toMatch(/^car "Pi car" \([0-9a-f]{8}\): 1 key\(s\), running, pairing mode closed \(a phone paired\)$/);
    r = await admin('keys');
    expect(r.out).toMatch(/^KEY ID {10} {2}ROLE {4}PERMISSIONS {6}LABEL\n[0-9a-f]{16} {2}owner {3}\*/);
    r = await admin('pair');
    expect(r.code, r.err).toBe(0);
    const opened = (r.out.match(/code (\d{8})/) ?? [])[1]!;
    await carSaid(/pairing mode opened by `proxkey car pair` for 6 s \(its code was shown there only\)\n/);
    expect(car!.out).not.toContain(opened); // the code the command showed stays out of the journal
    const wrong = opened === '11111111' ? '22222222' : '11111111';
    r = await phone('pair', wrong);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/^error: pairing failed/m);
    await carSaid(/ {2}pairing attempt failed: /);
    await carSaid(/pairing mode expired: nobody paired within 6 s/, 15_000);
    r = await admin('audit');
    expect(r.out).toMatch(/pairing +[0-9a-f]{16} +ok/);
    expect(r.out).toMatch(/command +[0-9a-f]{16} unlock +ok/);

    // 7. the car's controller dies under the running daemon; a new one comes up at the same port
    const port = carCtrl.port;
    await carCtrl.close();
    carCtrl = await emu.controller('car', { at: port });
    await carSaid(/radio recovered: .*; re-opened the adapter and advertising again \(attempt \d, [\d.]+ s\)/, 30_000);
    r = await phone('unlock');
    expect(r.code, r.err).toBe(0);
    expect(readFileSync(paths.actionLog, 'utf8').match(/^unlock /gm)).toHaveLength(2);

    // 8. Ctrl-C stops it like SIGTERM: "stopping…", exit 0, no control socket left, STOPPING=1
    car!.proc.kill('SIGINT');
    expect(await car!.exited).toBe(0);
    expect(car!.out).toMatch(/stopping… \(SIGINT\)\n$/);
    expect(existsSync(join(paths.state, 'control.sock'))).toBe(false);
    await until('STOPPING=1', () => notified.includes('STOPPING=1'), 10_000);

    const first = car!.out;
    // 9. restart: it kept its key and phone; SIGTERM stops it the same way
    startCar(carCtrl, false);
    await carSaid(/car "Pi car" \([0-9a-f]{8}\) is advertising from a rotating private address; 1 key\(s\) enrolled/);
    expect(car!.out).not.toMatch(/created a new car/);
    r = await phone('unlock');
    expect(r.code, r.err).toBe(0);
    // SIGTERM while a (2 s) action runs: it finishes, the phone gets its RESULT, then the daemon exits
    const trunk = phone('trunk');
    await until('trunk started', () => readFileSync(paths.actionLog, 'utf8').includes('trunk '), 15_000);
    car!.proc.kill('SIGTERM');
    r = await trunk;
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/^✓ trunk: ok/m);
    expect(await car!.exited).toBe(0);
    expect(car!.out).toMatch(/stopping… \(SIGTERM\)\n(.*\n)*? {2}[0-9a-f]{16} trunk → ok/);
    r = await admin('status');
    expect(r.out.trim()).toMatch(/: 1 key\(s\), not running$/);

    // 10. a radio that never comes back: bounded attempts, one line each, then exit 3
    startCar(carCtrl, false);
    await carSaid(/is advertising/);
    await carCtrl.close();
    carCtrl = undefined;
    expect(await until('exit', () => car!.proc.exitCode ?? false, 30_000)).toBe(3);
    if (process.env.PROXKEY_SHOW) console.log(car!.out, first);
    expect(car!.out).toMatch(
      /radio recovery attempt 1\/2 failed: no serial device .*; next in 2 s\nradio recovery attempt 2\/2 failed: .*\nradio cannot recover \(2 attempts failed\) from: .*; exiting so that systemd restarts the daemon/,
    );
  }, 180_000);
});
