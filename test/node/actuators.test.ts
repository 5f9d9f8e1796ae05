/** GPIO (libgpiod tools, both syntaxes), command and log actuators, with a fake runner. */
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { execFile } from 'node:child_process';
import { tmpdir } from 'node:os';
import { promisify } from 'node:util';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { commandActuator, Gpio, gpioRelayActuator, logActuator, resetGpioRelays, systemRunner, type GpioRunner } from '../../src/node/index.js';
import type { KeyRecord } from '../../src/index.js';
import { ACTUATOR_TIMEOUT_MS } from '../../src/transport/actuation.js';

function fakeRunner(version: string) {
  const calls: { cmd: string; args: readonly string[] }[] = [];
  const lines: ((l: string) => void)[] = [];
  const killed: string[] = [];
  const runner: GpioRunner = {
    run: async (cmd, args) => {
      calls.push({ cmd, args });
      return args[0] === '--version' ? version : '';
    },
    start: (cmd, args, onLine) => {
      calls.push({ cmd, args });
      lines.push(onLine);
      return { kill: (s: string) => killed.push(`${cmd}:${s}`) } as never;
    },
  };
  return { runner, calls, lines, killed };
}

/** Whether process `pid` still exists (a zombie counts as gone: it has exited). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  const stat = existsSync(`/proc/${pid}/stat`) ? readFileSync(`/proc/${pid}/stat`, 'utf8') : '';
  return !/^\d+ \(.*\) Z/.test(stat);
}

async function pidIn(file: string): Promise<number> {
  await vi.waitFor(() => expect(existsSync(file) && readFileSync(file, 'utf8').trim()).toBeTruthy());
  return Number(readFileSync(file, 'utf8').trim());
}

/** What `gpioset --version` really prints (libgpiod's tools-common.c print_version), licence lines included. */
const V1_TEXT =
  'gpioset (libgpiod) v1.6.3\nCopyright (C) 2017-2018 Bartosz Golaszewski\nLicense: LGPLv2.1\nThis is free software: you are free to change and redistribute it.\nThere is NO WARRANTY, to the extent permitted by law.\n';
const V2_TEXT =
  'gpioset (libgpiod) v2.1\nCopyright (C) 2017-2023 Bartosz Golaszewski\nLicense: GPL-2.0-or-later\nThis is free software: you are free to change and redistribute it.\nThere is NO WARRANTY, to the extent permitted by law.\n';

const key: KeyRecord = { id: '0011223344556677', publicKey: new Uint8Array(65), role: 'owner', permissions: ['*'] };

describe('GPIO relays through libgpiod', () => {
  it('pulses with libgpiod 1.x syntax, then drives the line inactive explicitly (1.x leaves it undefined)', async () => {
    const f = fakeRunner(V1_TEXT);
    const act = gpioRelayActuator({ chip: 'gpiochip0', lines: { unlock: 17, start: 22 }, pulseMs: { default: 500, start: 1200 } }, new Gpio(f.runner));
    expect(await act({ kind: 'unlock' }, key)).toEqual({ ok: true });
    expect(await act({ kind: 'start' }, key)).toEqual({ ok: true });
    expect(f.calls.filter((c) => c.args[0] !== '--version')).toEqual([
      { cmd: 'gpioset', args: ['--mode=time', '--usec=500000', 'gpiochip0', '17=1'] },
      { cmd: 'gpioset', args: ['gpiochip0', '17=0'] },
      { cmd: 'gpioset', args: ['--mode=time', '--usec=1200000', 'gpiochip0', '22=1'] },
      { cmd: 'gpioset', args: ['gpiochip0', '22=0'] },
    ]);
  });

  it('libgpiod 1.x: a failed or timed-out pulse still drives the line inactive (active-low: 1), and stays a failure', async () => {
    const calls: (readonly string[])[] = [];
    const runner: GpioRunner = {
      run: async (_cmd, args) => {
        calls.push(args);
        if (args[0] === '--version') return V1_TEXT;
        if (args[0] === '--mode=time') throw new Error('gpioset --mode=time …: timed out');
        return '';
      },
      start: () => ({}) as never,
    };
    const act = gpioRelayActuator({ chip: 'gpiochip0', activeLow: true, lines: { unlock: 17 } }, new Gpio(runner));
    await expect(act({ kind: 'unlock' }, key)).rejects.toThrow(/timed out/);
    expect(calls.slice(1)).toEqual([
      ['--mode=time', '--usec=500000', 'gpiochip0', '17=0'],
      ['gpiochip0', '17=1'],
    ]);
  });

  it('libgpiod 2.x: a gpioset killed or failing mid-pulse is followed by one that drives the line inactive, and stays a failure', async () => {
    const calls: (readonly string[])[] = [];
    const runner: GpioRunner = {
      run: async (_cmd, args) => {
        calls.push(args);
        if (args[0] === '--version') return V2_TEXT;
        if (args.includes('500ms,0')) throw new Error('gpioset -c gpiochip0 -t 500ms,0 17=1: killed (SIGTERM)');
        return '';
      },
      start: () => ({}) as never,
    };
    const act = gpioRelayActuator({ chip: 'gpiochip0', lines: { unlock: 17 } }, new Gpio(runner));
    await expect(act({ kind: 'unlock' }, key)).rejects.toThrow(/killed/);
    expect(calls.slice(1)).toEqual([
      ['-c', 'gpiochip0', '-t', '500ms,0', '17=1'],
      ['-c', 'gpiochip0', '-t', '0', '17=0'],
    ]);
  });

  it('resetGpioRelays drives every relay line inactive once (both syntaxes, active-low), trying every line before it reports a failure', async () => {
    const config = { chip: 'gpiochip0', activeLow: true, lines: { unlock: 17, lock: 27, trunk: 17 } };
    const v2 = fakeRunner(V2_TEXT);
    await resetGpioRelays(config, new Gpio(v2.runner));
    expect(v2.calls.slice(1).map((c) => c.args)).toEqual([
      ['-c', 'gpiochip0', '-t', '0', '17=1'],
      ['-c', 'gpiochip0', '-t', '0', '27=1'],
    ]);
    const v1 = fakeRunner(V1_TEXT);
    await resetGpioRelays({ ...config, activeLow: false }, new Gpio(v1.runner));
    expect(v1.calls.slice(1).map((c) => c.args)).toEqual([
      ['gpiochip0', '17=0'],
      ['gpiochip0', '27=0'],
    ]);
    const tried: string[] = [];
    const failing: GpioRunner = {
      run: async (_c, args) => {
        if (args[0] === '--version') return V1_TEXT;
        tried.push(args[1]!);
        if (args[1] === '17=0') throw new Error('gpioset: line 17 busy');
        return '';
      },
      start: () => ({}) as never,
    };
    await expect(resetGpioRelays({ ...config, activeLow: false }, new Gpio(failing))).rejects.toThrow(/line 17 busy/);
    expect(tried).toEqual(['17=0', '27=0']);
  });

  it('the real runner runs a tool in its own process group (a Ctrl-C to the daemon does not cut a pulse), bounded, failures with their stderr', async () => {
    const [pid, pgid] = (await systemRunner.run('sh', ['-c', 'echo $$; cut -d" " -f5 /proc/$$/stat'], 5_000)).trim().split('\n');
    expect(pgid).toBe(pid); // the leader of a new group, not in ours
    expect(Number(pgid)).not.toBe(Number(readFileSync('/proc/self/stat', 'utf8').split(' ')[4]));
    await expect(systemRunner.run('sh', ['-c', 'echo line busy >&2; exit 1'], 5_000)).rejects.toThrow(/^sh -c .*: line busy$/);
    await expect(systemRunner.run('sh', ['-c', 'sleep 5'], 200)).rejects.toThrow(/stopped by SIGTERM after 200 ms/);
    await expect(systemRunner.run('no-such-gpioset-proxkey', [], 1_000)).rejects.toThrow(/ENOENT/);
  });

  it('bounds each gpioset of a pulse so that the longest pulse ends inside the car actuator bound', async () => {
    const bounds: number[] = [];
    for (const text of [V1_TEXT, V2_TEXT]) {
      const runner: GpioRunner = { run: async (_c, args, t) => (args[0] === '--version' ? text : (bounds.push(t), '')), start: () => ({}) as never };
      await new Gpio(runner).pulse({ chip: 'gpiochip0', line: 17 }, 5_000);
    }
    expect(bounds).toEqual([7_000, 2_000, 7_000]); // 1.x: the pulse, then the line driven inactive; 2.x: the pulse
    expect(bounds[0]! + bounds[1]!).toBeLessThan(ACTUATOR_TIMEOUT_MS); // the car's own bound, not a copy of it
  });

  it("reads libgpiod's major version from the first line of the real --version texts (not from the licence lines)", async () => {
    expect(await new Gpio(fakeRunner(V1_TEXT).runner).version()).toBe(1);
    expect(await new Gpio(fakeRunner(V2_TEXT).runner).version()).toBe(2);
    expect(await new Gpio(fakeRunner('gpioset (libgpiod) v2.1.3\n').runner).version()).toBe(2);
    const f = fakeRunner(V1_TEXT);
    await new Gpio(f.runner).watchButton({ chip: 'gpiochip0', line: 5 }, () => undefined);
    expect(f.calls.at(-1)).toEqual({ cmd: 'gpiomon', args: ['--bias=pull-up', '--falling-edge', 'gpiochip0', '5'] });
  });

  it('refuses a --version output it cannot read (no guess between the two syntaxes)', async () => {
    for (const text of ['', 'gpioset 1.6\n', 'gpioset (libgpiod) v3.0\n', 'License: LGPLv2.1\ngpioset (libgpiod) v1.6.3'])
      await expect(new Gpio(fakeRunner(text).runner).version()).rejects.toMatchObject({ code: 'ERR_UNSUPPORTED', message: /not libgpiod 1\.x or 2\.x/ });
  });

  it('pulses with libgpiod 2.x syntax, active-low', async () => {
    const f = fakeRunner('gpioset (libgpiod) v2.1.3');
    const act = gpioRelayActuator({ chip: 'gpiochip4', activeLow: true, lines: { lock: 27 } }, new Gpio(f.runner));
    expect(await act({ kind: 'lock' }, key)).toEqual({ ok: true });
    expect(f.calls.at(-1)).toEqual({ cmd: 'gpioset', args: ['-c', 'gpiochip4', '-t', '500ms,0', '27=0'] });
  });

  it('a command without a wired line is actuator-failed, and a failing gpioset throws (→ actuator-failed in the driver)', async () => {
    const f = fakeRunner(V1_TEXT);
    const act = gpioRelayActuator({ chip: 'gpiochip0', lines: { unlock: 17 } }, new Gpio(f.runner));
    expect(await act({ kind: 'trunk' }, key)).toEqual({ ok: false, reason: 'actuator-failed' });
    const broken = new Gpio({ ...f.runner, run: async () => Promise.reject(new Error('gpioset: not found')) });
    await expect(gpioRelayActuator({ chip: 'c', lines: { unlock: 1 } }, broken)({ kind: 'unlock' }, key)).rejects.toThrow(/apt install gpiod/);
  });

  it('watches a button (debounced) and drives an LED', async () => {
    const f = fakeRunner(V2_TEXT);
    const gpio = new Gpio(f.runner);
    let presses = 0;
    const stop = await gpio.watchButton({ chip: 'gpiochip0', line: 5 }, () => presses++, 10_000);
    expect(f.calls.at(-1)).toEqual({ cmd: 'gpiomon', args: ['-c', 'gpiochip0', '-b', 'pull-up', '-e', 'falling', '5'] });
    f.lines[0]!('123.4 falling gpiochip0 5');
    f.lines[0]!('123.5 falling gpiochip0 5'); // bounce
    expect(presses).toBe(1);
    stop();
    const led = await gpio.hold({ chip: 'gpiochip0', line: 6 }, true);
    expect(f.calls.at(-1)).toEqual({ cmd: 'gpioset', args: ['-c', 'gpiochip0', '6=1'] });
    led.release();
    expect(f.killed).toEqual(['gpiomon:SIGTERM', 'gpioset:SIGTERM']);
  });
});

describe('command and log actuators', () => {
  const dir = mkdtempSync(join(tmpdir(), 'proxkey-act-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('runs the script with command, key id and role; stdout becomes result data; failure is actuator-failed', async () => {
    const ok = join(dir, 'ok.sh');
    writeFileSync(ok, '#!/bin/sh\necho "$1 $2 $3"\n');
    chmodSync(ok, 0o755);
    expect(await commandActuator(ok)({ kind: 'custom', code: 130 }, key)).toEqual({
      ok: true,
      data: new TextEncoder().encode('custom:130 0011223344556677 owner'),
    });
    const bad = join(dir, 'bad.sh');
    writeFileSync(bad, '#!/bin/sh\nexit 3\n');
    chmodSync(bad, 0o755);
    expect(await commandActuator(bad)({ kind: 'unlock' }, key)).toEqual({ ok: false, reason: 'actuator-failed' });
    const slow = join(dir, 'slow.sh');
    writeFileSync(slow, '#!/bin/sh\nsleep 5\n');
    chmodSync(slow, 0o755);
    expect(await commandActuator(slow, 100)({ kind: 'unlock' }, key)).toEqual({ ok: false, reason: 'actuator-failed' });
  });

  it('kills the script when the car gives up on the command (its signal aborts)', async () => {
    const pidFile = join(dir, 'pid');
    const slow = join(dir, 'slow-abort.sh');
    writeFileSync(slow, `#!/bin/sh\necho $$ > ${pidFile}\nexec sleep 30\n`);
    chmodSync(slow, 0o755);
    const control = new AbortController();
    const outcome = commandActuator(slow, 60_000)({ kind: 'unlock' }, key, { signal: control.signal });
    const pid = await pidIn(pidFile);
    control.abort();
    expect(await outcome).toEqual({ ok: false, reason: 'actuator-failed' });
    expect(alive(pid)).toBe(false); // gone before the outcome is given, not left running
  });

  it('a script that ignores SIGTERM, and what it started, are killed after the grace; the outcome waits for them', async () => {
    const pids = join(dir, 'pids');
    const stubborn = join(dir, 'stubborn.sh');
    writeFileSync(stubborn, `#!/bin/sh\ntrap '' TERM\nsleep 30 &\necho $$ $! > ${pids}\nwait\nwait\n`);
    chmodSync(stubborn, 0o755);
    const control = new AbortController();
    let settled = false;
    const outcome = Promise.resolve(commandActuator(stubborn, 60_000, 300)({ kind: 'unlock' }, key, { signal: control.signal })).finally(
      () => (settled = true),
    );
    await vi.waitFor(() => expect(existsSync(pids) && readFileSync(pids, 'utf8').trim().split(' ').length).toBe(2));
    const [script, grandchild] = readFileSync(pids, 'utf8').trim().split(' ').map(Number) as [number, number];
    control.abort();
    await new Promise((r) => setTimeout(r, 100));
    expect(settled).toBe(false); // SIGTERM ignored: still running, so the car's action lock stays held
    expect(alive(script)).toBe(true);
    expect(await outcome).toEqual({ ok: false, reason: 'actuator-failed' });
    expect(alive(script)).toBe(false);
    await vi.waitFor(() => expect(alive(grandchild)).toBe(false)); // SIGKILL went to the whole group
  });

  it('a child that ignores SIGTERM is killed after the grace even when the script itself died at once', async () => {
    const pids = join(dir, 'pids-grandchild');
    const script = join(dir, 'leaves-stubborn.sh');
    writeFileSync(script, `#!/bin/sh\nsh -c 'trap "" TERM; exec sleep 30' &\necho $! > ${pids}\nsleep 30\n`);
    chmodSync(script, 0o755);
    const outcome = commandActuator(script, 200, 1_500)({ kind: 'unlock' }, key); // a grace longer than the 1 s output drain
    const grandchild = await pidIn(pids);
    expect(await outcome).toEqual({ ok: false, reason: 'actuator-failed' });
    expect(alive(grandchild)).toBe(false); // the outcome came only once the whole group was gone
  });

  it('a script that exits 0 but leaves a child running: that child is stopped before the outcome (ok)', async () => {
    const pids = join(dir, 'pids-background');
    const script = join(dir, 'leaves-background.sh');
    writeFileSync(script, `#!/bin/sh\nsleep 30 &\necho $! > ${pids}\necho done\n`);
    chmodSync(script, 0o755);
    const outcome = await commandActuator(script, 5_000, 300)({ kind: 'unlock' }, key);
    expect(outcome).toEqual({ ok: true, data: new TextEncoder().encode('done') });
    expect(alive(Number(readFileSync(pids, 'utf8').trim()))).toBe(false);
  });

  it('a left-behind process whose main thread has exited but another thread runs is stopped before the outcome', async (ctx) => {
    // A zombie main thread (pthread_exit) with a live thread: /proc shows the process as Z, yet it runs.
    const marker = join(dir, 'thread-still-ran');
    const source = join(dir, 'leader-exits.c');
    writeFileSync(
      source,
      `#include <pthread.h>\n#include <stdio.h>\n#include <unistd.h>\n` +
        `static void *late(void *p) { (void)p; usleep(800000); FILE *f = fopen("${marker}", "w"); if (f) fclose(f); return 0; }\n` +
        `int main(void) { pthread_t t; pthread_create(&t, 0, late, 0); pthread_exit(0); }\n`,
    );
    const program = join(dir, 'leader-exits');
    try {
      await promisify(execFile)('gcc', ['-o', program, source, '-lpthread']);
    } catch (e) {
      if (process.env.CI) throw e;
      ctx.skip('no gcc to build the multithreaded child (CI installs it)'); // reported as skipped, not passed
      return;
    }
    const script = join(dir, 'leaves-threaded.sh');
    writeFileSync(script, `#!/bin/sh\n${program} &\nsleep 0.2\necho done\n`);
    chmodSync(script, 0o755);
    expect(await commandActuator(script, 5_000, 300)({ kind: 'unlock' }, key)).toEqual({ ok: true, data: new TextEncoder().encode('done') });
    await new Promise((r) => setTimeout(r, 1_000)); // past the thread's 0.8 s
    expect(existsSync(marker)).toBe(false); // killed before the outcome, not left to act afterwards
  });

  it('a car process that exits leaves no action script running', async () => {
    const pidFile = join(dir, 'pid-orphan');
    const slow = join(dir, 'orphan.sh');
    writeFileSync(slow, `#!/bin/sh\necho $$ > ${pidFile}\nexec sleep 30\n`);
    chmodSync(slow, 0o755);
    const car = join(dir, 'car.ts');
    const actuators = join(import.meta.dirname, '../../src/node/actuators.ts');
    writeFileSync(
      car,
      `import { commandActuator } from ${JSON.stringify(actuators)};\n` +
        `void commandActuator(${JSON.stringify(slow)}, 60_000)({ kind: 'unlock' }, ${JSON.stringify({ ...key, publicKey: undefined })});\n` +
        `setInterval(() => { try { require('node:fs').statSync(${JSON.stringify(pidFile)}); process.exit(0); } catch {} }, 20);\n`,
    );
    await promisify(execFile)(join(import.meta.dirname, '../../node_modules/.bin/tsx'), [car], { timeout: 20_000 });
    const pid = Number(readFileSync(pidFile, 'utf8').trim());
    await vi.waitFor(() => expect(alive(pid)).toBe(false));
  });

  it('does not start the script for a signal that is already aborted', async () => {
    const marker = join(dir, 'ran');
    const touch = join(dir, 'touch.sh');
    writeFileSync(touch, `#!/bin/sh\ntouch ${marker}\n`);
    chmodSync(touch, 0o755);
    expect(await commandActuator(touch)({ kind: 'unlock' }, key, { signal: AbortSignal.abort() })).toEqual({ ok: false, reason: 'actuator-failed' });
    await new Promise((r) => setTimeout(r, 100));
    expect(existsSync(marker)).toBe(false);
  });

  it('a script that cannot start is actuator-failed', async () => {
    expect(await commandActuator(join(dir, 'missing.sh'))({ kind: 'unlock' }, key)).toEqual({ ok: false, reason: 'actuator-failed' });
  });

  it('logs', async () => {
    const lines: string[] = [];
    await logActuator((l) => lines.push(l))({ kind: 'lock' }, key);
    expect(lines).toEqual(['actuator: lock (key 0011223344556677)']);
  });
});
