/**
 * GPIO through libgpiod's command-line tools (`gpioset`, `gpiomon`; Debian/Raspberry Pi OS
 * package `gpiod`): the supported route on current Raspberry Pi OS (the character device), with
 * no native addon to build. Both libgpiod 1.x (bookworm) and 2.x (trixie) syntaxes are handled.
 * The runner is injectable so the command lines are testable without hardware.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { ProxkeyError } from '../errors.js';

/**
 * How long a `gpioset` may take beyond its pulse (process start-up and exit: tens of ms on a Pi
 * Zero). A 5 s pulse (the config's longest) and, on libgpiod 1.x, the second `gpioset` that drives
 * the line inactive stay under 5 + 2 + 2 = 9 s: inside the car's 10 s actuator bound.
 */
const GPIOSET_MARGIN_MS = 2_000;

/** How `Gpio` runs libgpiod's tools: injectable, so the command lines are testable without hardware. */
export interface GpioRunner {
  /** Run to completion; rejects on a non-zero exit. */
  run(cmd: string, args: readonly string[], timeoutMs: number): Promise<string>;
  /** Start a long-running process (line monitor, held output). */
  start(cmd: string, args: readonly string[], onLine: (line: string) => void): ChildProcess;
}

/**
 * Run a tool to completion, bounded, in its own process group: a Ctrl-C (SIGINT to the terminal's
 * foreground group) stops the daemon, which lets a relay pulse finish, not the pulse itself.
 */
function runDetached(cmd: string, args: readonly string[], timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, [...args], { detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGTERM'), timeoutMs);
    const fail = (why: string) => reject(new Error(`${cmd} ${args.join(' ')}: ${stderr.trim() || why}`));
    child.on('error', (e) => {
      clearTimeout(timer);
      fail(e.message);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve(stdout);
      else fail(signal ? `stopped by ${signal}${signal === 'SIGTERM' ? ` after ${timeoutMs} ms` : ''}` : `exit status ${code}`);
    });
  });
}

/** The real runner: the installed libgpiod tools, bounded (`run`, in their own process group) or long-running (`start`). */
export const systemRunner: GpioRunner = {
  run: runDetached,
  start: (cmd, args, onLine) => {
    const child = spawn(cmd, [...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let buf = '';
    child.stdout?.on('data', (d: Buffer) => {
      buf += d.toString();
      let i;
      while ((i = buf.indexOf('\n')) >= 0) {
        onLine(buf.slice(0, i));
        buf = buf.slice(i + 1);
      }
    });
    child.on('error', () => undefined);
    return child;
  },
};

/** One GPIO line: the chip, the line offset, and its polarity. */
export interface GpioLineRef {
  /** `gpiochip0` (or a path / label). */
  readonly chip: string;
  /** Line offset on the chip (BCM number on a Raspberry Pi's gpiochip0 / gpiochip4 on a Pi 5). */
  readonly line: number;
  /** The relay/LED is active when the line is low. */
  readonly activeLow?: boolean;
}

/** GPIO lines through libgpiod's `gpioset` / `gpiomon` (1.x and 2.x syntax): relay pulses, held outputs (an LED), a debounced button. */
export class Gpio {
  #major: 1 | 2 | undefined;
  constructor(private readonly runner: GpioRunner = systemRunner) {}

  /** libgpiod major version (from `gpioset --version`). */
  async version(): Promise<1 | 2> {
    if (this.#major) return this.#major;
    let out: string;
    try {
      out = await this.runner.run('gpioset', ['--version'], 5_000);
    } catch (e) {
      throw new Error(`gpioset not found or not working: install libgpiod's tools (\`sudo apt install gpiod\`) (${(e as Error).message})`, { cause: e });
    }
    this.#major = parseGpiosetMajor(out);
    return this.#major;
  }

  /**
   * Drive the line active for `ms`, then inactive (a relay pulse).
   *
   * libgpiod 2.x: `-t <ms>ms,0` sets the line active, toggles it back to inactive after `ms`, and
   * exits at once after that last toggle (period 0): the line is left inactive.
   * libgpiod 1.x: `--mode=time` sets the line and exits after the time with the line's state
   * undefined (on a Pi it usually stays active: the relay would latch on). So a second `gpioset`
   * drives it inactive explicitly.
   * Either version: when the timed set fails or times out (its `gpioset` killed mid-pulse, the
   * line still active), a second `gpioset` drives the line inactive (best effort: the pulse's own
   * failure is what is thrown).
   */
  async pulse(ref: GpioLineRef, ms: number): Promise<void> {
    const on = ref.activeLow ? 0 : 1;
    const major = await this.version();
    const timed =
      major === 2
        ? ['-c', ref.chip, '-t', `${Math.round(ms)}ms,0`, `${ref.line}=${on}`]
        : ['--mode=time', `--usec=${Math.round(ms * 1000)}`, ref.chip, `${ref.line}=${on}`];
    try {
      await this.runner.run('gpioset', timed, ms + GPIOSET_MARGIN_MS);
    } catch (e) {
      await this.setInactive(ref).catch(() => undefined);
      throw e;
    }
    if (major === 1) await this.setInactive(ref);
  }

  /**
   * Drive the line inactive and exit (2.x: `-t 0`, a sequence ending in 0 exits; 1.x: the default
   * mode exits at once). The state after `gpioset` exits is not guaranteed by libgpiod, but a
   * Raspberry Pi keeps the last value driven; the daemon also runs this for every relay line at
   * start, so a pulse cut short by a crash or a power loss never leaves a relay on.
   */
  async setInactive(ref: GpioLineRef): Promise<void> {
    const off = `${ref.line}=${ref.activeLow ? 1 : 0}`;
    const args = (await this.version()) === 2 ? ['-c', ref.chip, '-t', '0', off] : [ref.chip, off];
    await this.runner.run('gpioset', args, GPIOSET_MARGIN_MS);
  }

  /** Hold the line at a level until `release()` (LEDs). */
  async hold(ref: GpioLineRef, active: boolean): Promise<{ release(): void }> {
    const v = active !== !!ref.activeLow ? 1 : 0;
    const args = (await this.version()) === 2 ? ['-c', ref.chip, `${ref.line}=${v}`] : ['--mode=signal', ref.chip, `${ref.line}=${v}`];
    const child = this.runner.start('gpioset', args, () => undefined);
    return { release: () => void child.kill('SIGTERM') };
  }

  /**
   * Watch a push button (to ground, with the internal pull-up): calls `onPress` per press,
   * debounced. Returns a stop function.
   */
  async watchButton(ref: GpioLineRef, onPress: () => void, debounceMs = 300): Promise<() => void> {
    const args =
      (await this.version()) === 2
        ? ['-c', ref.chip, '-b', 'pull-up', '-e', 'falling', String(ref.line)]
        : ['--bias=pull-up', '--falling-edge', ref.chip, String(ref.line)];
    let last = 0;
    const child = this.runner.start('gpiomon', args, (line) => {
      if (!line.trim()) return;
      const now = Date.now();
      if (now - last < debounceMs) return;
      last = now;
      onPress();
    });
    return () => void child.kill('SIGTERM');
  }
}

/**
 * libgpiod's major version from `gpioset --version`, read from its first line only
 * (`gpioset (libgpiod) v1.6.3`, `gpioset (libgpiod) v2.1`): the licence lines that follow
 * (`LGPLv2.1` in 1.x, `GPL-2.0-or-later` in 2.x) contain version-like numbers too.
 * @throws {ProxkeyError} `ERR_UNSUPPORTED` for any other output or major version (no guess: the two syntaxes differ).
 */
function parseGpiosetMajor(versionText: string): 1 | 2 {
  const first = versionText.split('\n', 1)[0]!.trim();
  const major = /\(libgpiod\) v?(\d+)\./.exec(first)?.[1];
  if (major === '1' || major === '2') return Number(major) as 1 | 2;
  throw new ProxkeyError(
    'ERR_UNSUPPORTED',
    `gpioset --version printed ${JSON.stringify(first)}: not libgpiod 1.x or 2.x (expected "gpioset (libgpiod) v1.6.3" or "… v2.1"); install Debian's gpiod package`,
  );
}
