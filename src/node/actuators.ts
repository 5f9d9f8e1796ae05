/**
 * Actuators for the car daemon: GPIO relays (lock / unlock / start / trunk pulses), a command
 * actuator (runs a script with the command name), and a log-only actuator for testing.
 */
import { spawn } from 'node:child_process';
import { commandName, type Command } from '../protocol/commands.js';
import type { KeyRecord } from '../keys/key-record.js';
import type { ExecutionOutcome } from '../roles/vehicle-requests.js';
import type { Actuator, ActuatorContext } from '../transport/vehicle-driver.js';
import { Gpio, type GpioLineRef } from './gpio.js';

/** GPIO relays for `gpioRelayActuator`: the chip, polarity, a line per command, and pulse lengths. */
export interface GpioRelayConfig {
  readonly chip: string;
  readonly activeLow?: boolean;
  /** Line offset per command name (`unlock`, `lock`, `start`, `trunk`, `custom:130`…). */
  readonly lines: Readonly<Record<string, number>>;
  /** Pulse length per command name, ms (`default` for the rest). Default 500 ms. */
  readonly pulseMs?: Readonly<Record<string, number>>;
}

/** Pulse the relay wired to each command's line. Commands without a line fail (`actuator-failed`). */
export function gpioRelayActuator(config: GpioRelayConfig, gpio = new Gpio()): Actuator {
  return async (command: Command): Promise<ExecutionOutcome> => {
    const name = commandName(command);
    const line = config.lines[name];
    if (line === undefined) return { ok: false, reason: 'actuator-failed' };
    const ref: GpioLineRef = { chip: config.chip, line, ...(config.activeLow && { activeLow: true }) };
    await gpio.pulse(ref, config.pulseMs?.[name] ?? config.pulseMs?.default ?? 500);
    return { ok: true };
  };
}

/** How long a script the car gave up on gets between SIGTERM and SIGKILL (its whole process group). */
export const COMMAND_KILL_GRACE_MS = 2_000;
/** Stdout kept from a script: its first 64 bytes go back to the phone. */
const MAX_STDOUT_BYTES = 4_096;

/**
 * Run `path <command> <key id> <role>` for each authorized command; exit status 0 = done. Stdout
 * (first 64 bytes) is returned to the phone as result data. Bounded by `timeoutMs` (default 10 s).
 * When that passes, or the car gives up on the command first (its own bound, shutdown), the
 * script's whole process group gets SIGTERM, then SIGKILL after `killGraceMs`; the outcome
 * (`actuator-failed`) is only given once the script has exited, so the car's one-action-at-a-time
 * lock is held until then. A signal already aborted does not start the script.
 */
export function commandActuator(path: string, timeoutMs = 10_000, killGraceMs = COMMAND_KILL_GRACE_MS): Actuator {
  return (command: Command, key: KeyRecord, context?: ActuatorContext) =>
    runScript(path, [commandName(command), key.id, key.role], { timeoutMs, killGraceMs, signal: context?.signal });
}

const FAILED: ExecutionOutcome = { ok: false, reason: 'actuator-failed' };

function runScript(
  path: string,
  args: readonly string[],
  o: { timeoutMs: number; killGraceMs: number; signal: AbortSignal | undefined },
): Promise<ExecutionOutcome> {
  return new Promise((resolve) => {
    if (o.signal?.aborted) return resolve(FAILED);
    // Its own process group (detached), so giving up reaches what the script started too.
    const child = spawn(path, args, { detached: true, stdio: ['ignore', 'pipe', 'ignore'] });
    const stdout: Buffer[] = [];
    let kept = 0;
    child.stdout.on('data', (chunk: Buffer) => {
      if (kept < MAX_STDOUT_BYTES) stdout.push(chunk);
      kept += chunk.length;
    });
    const timers: ReturnType<typeof setTimeout>[] = [];
    let gaveUp = false;
    const killGroup = (signal: NodeJS.Signals) => {
      try {
        if (child.pid !== undefined) process.kill(-child.pid, signal);
      } catch {
        // the group is gone already
      }
    };
    const giveUp = () => {
      if (gaveUp) return;
      gaveUp = true;
      killGroup('SIGTERM');
      timers.push(setTimeout(() => killGroup('SIGKILL'), o.killGraceMs));
    };
    let settled = false;
    const settle = (outcome: ExecutionOutcome) => {
      if (settled) return;
      settled = true;
      for (const t of timers) clearTimeout(t);
      o.signal?.removeEventListener('abort', giveUp);
      resolve(outcome);
    };
    timers.push(setTimeout(giveUp, o.timeoutMs));
    o.signal?.addEventListener('abort', giveUp, { once: true });
    const outcome = (code: number | null): ExecutionOutcome =>
      gaveUp || code !== 0 ? FAILED : { ok: true, data: new TextEncoder().encode(Buffer.concat(stdout).toString('utf8').trim()).slice(0, 64) };
    child.on('error', () => settle(FAILED)); // could not start (ENOENT, EACCES)
    // Done when the script has exited and its output is read; a grandchild that keeps stdout
    // open does not hold the car once the script itself has exited (1 s to drain).
    child.on('exit', (code) => {
      if (!settled) timers.push(setTimeout(() => settle(outcome(code)), 1_000));
    });
    child.on('close', (code) => settle(outcome(code)));
  });
}

/** Print each command (testing, the two-laptop demo). */
export function logActuator(log: (line: string) => void = (l) => console.log(l)): Actuator {
  return (command: Command, key: KeyRecord) => {
    log(`actuator: ${commandName(command)} (key ${key.id})`);
  };
}
