/**
 * Actuators for the car daemon: GPIO relays (lock / unlock / start / trunk pulses), a command
 * actuator (runs a script with the command name), and a log-only actuator for testing.
 */
import { spawn } from 'node:child_process';
import { OWN_PROCESS_GROUP, stopGroup, trackGroup } from './process-group.js';
import { commandName, type Command } from '../protocol/commands.js';
import type { KeyRecord } from '../keys/key-record.js';
import type { ExecutionOutcome } from '../roles/vehicle-requests.js';
import type { Actuator, ActuatorContext } from '../transport/vehicle-driver.js';
import { ACTUATOR_TIMEOUT_MS } from '../transport/actuation.js';
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

/**
 * Drive every relay line of `config` inactive (the car daemon does at start, before advertising:
 * a pulse cut short by a crash, a SIGKILL or a power loss may have left a relay on; and last when
 * it stops). All lines at once, each bounded (2 s); throws the first failure after trying every line.
 */
export async function resetGpioRelays(config: GpioRelayConfig, gpio = new Gpio()): Promise<void> {
  await gpio.version(); // once, before the lines are driven in parallel
  const lines = [...new Set(Object.values(config.lines))];
  const results = await Promise.allSettled(lines.map((line) => gpio.setInactive({ chip: config.chip, line, ...(config.activeLow && { activeLow: true }) })));
  const failed = results.find((r) => r.status === 'rejected');
  if (failed) throw failed.reason instanceof Error ? failed.reason : new Error(String(failed.reason));
}

/** How long a script's process group gets between SIGTERM and SIGKILL when it is stopped. */
const COMMAND_KILL_GRACE_MS = 2_000;
/** Stdout kept from a script: the first 64 bytes of it (trimmed) go back to the phone. */
const MAX_STDOUT_BYTES = 4_096;
/** After its group is gone, how long a script's output may take to be read to its end. */
const DRAIN_MS = 1_000;

/**
 * Run `path <command> <key id> <role>` for each authorized command, in its own process group;
 * exit status 0 = done, and the first 64 bytes of its trimmed stdout go back to the phone as
 * result data. The outcome is given once nothing of the script's group is left running: what it
 * left behind when it exited is stopped (SIGTERM, then SIGKILL after `killGraceMs`), and so is the
 * whole group when `timeoutMs` passes (default 10 s) or the car gives up on the action (its own
 * bound), which is `actuator-failed`. So the car's one-action-at-a-time lock is held until then.
 * A signal already aborted does not start the script. POSIX process groups; on Windows only the
 * script itself is stopped. Not tracked: processes that leave the group (`setsid`, daemons), and
 * one that survives SIGKILL for 5 s (uninterruptible sleep).
 */
export function commandActuator(path: string, timeoutMs = ACTUATOR_TIMEOUT_MS, killGraceMs = COMMAND_KILL_GRACE_MS): Actuator {
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
    const child = spawn(path, args, { ...OWN_PROCESS_GROUP, stdio: ['ignore', 'pipe', 'ignore'] });
    trackGroup(child);
    const stdout: Buffer[] = [];
    let kept = 0;
    child.stdout.on('data', (chunk: Buffer) => {
      if (kept < MAX_STDOUT_BYTES) stdout.push(chunk);
      kept += chunk.length;
    });
    const closed = new Promise<void>((r) => child.on('close', () => r()));
    let gaveUp = false;
    let finishing = false;
    const finish = async (code: number | null) => {
      if (finishing) return;
      finishing = true;
      clearTimeout(timer);
      o.signal?.removeEventListener('abort', giveUp);
      await stopGroup(child, o.killGraceMs); // what the script left running, or all of it
      let drain: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([closed, new Promise((r) => (drain = setTimeout(r, DRAIN_MS)))]);
      clearTimeout(drain);
      child.stdout.destroy();
      if (gaveUp || code !== 0) return resolve(FAILED);
      resolve({ ok: true, data: new TextEncoder().encode(Buffer.concat(stdout).toString('utf8').trim()).slice(0, 64) });
    };
    const giveUp = () => {
      gaveUp = true;
      void finish(null);
    };
    const timer = setTimeout(giveUp, o.timeoutMs);
    o.signal?.addEventListener('abort', giveUp, { once: true });
    child.on('error', () => void finish(null)); // could not start (ENOENT, EACCES)
    child.on('exit', (code) => void finish(code));
  });
}

/** Print each command (testing, the two-laptop demo). */
export function logActuator(log: (line: string) => void = (l) => console.log(l)): Actuator {
  return (command: Command, key: KeyRecord) => {
    log(`actuator: ${commandName(command)} (key ${key.id})`);
  };
}
