/**
 * Actuators for the car daemon: GPIO relays (lock / unlock / start / trunk pulses), a command
 * actuator (runs a script with the command name), and a log-only actuator for testing.
 */
import { execFile } from 'node:child_process';
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

/**
 * Run `path <command> <key id> <role>` for each authorized command; exit status 0 = done. Stdout
 * (first 64 bytes) is returned to the phone as result data. Bounded by `timeoutMs` (default 10 s);
 * when the car gives up on the command first (its own bound, shutdown), the script is killed.
 */
export function commandActuator(path: string, timeoutMs = 10_000): Actuator {
  return (command: Command, key: KeyRecord, context?: ActuatorContext) =>
    new Promise<ExecutionOutcome>((resolve) => {
      const options = { timeout: timeoutMs, ...(context?.signal && { signal: context.signal }) };
      execFile(path, [commandName(command), key.id, key.role], options, (err, stdout) => {
        if (err) resolve({ ok: false, reason: 'actuator-failed' });
        else resolve({ ok: true, data: new TextEncoder().encode(stdout.trim()).slice(0, 64) });
      });
    });
}

/** Print each command (testing, the two-laptop demo). */
export function logActuator(log: (line: string) => void = (l) => console.log(l)): Actuator {
  return (command: Command, key: KeyRecord) => {
    log(`actuator: ${commandName(command)} (key ${key.id})`);
  };
}
