/**
 * What each `proxkey` command runs: one entry per command of `COMMANDS` (help.ts), building the
 * command's arguments from the parsed line. A missing required positional is a `UsageError`.
 */
import { readFileSync } from 'node:fs';
import { carArgs, conformanceArgs, phoneArgs, radio, setupArgs, shareArgs, UsageError, type Values } from './arguments.js';
import { carAdmin, carBackup, carRestore } from './car-admin.js';
import { carServe } from './car-daemon.js';
import { conformance, ConformanceUsageError } from './conformance.js';
import type { ControlRequest } from './control.js';
import { decodeMessages, inputMessages, sessionKeys } from './decode.js';
import { doctor } from './doctor.js';
import { phoneAccept, phoneCommand, phoneKeys, phonePair, phoneRequestKey, phoneShare, phoneStatus } from './phone.js';
import { carSetup } from './setup.js';
import type { Ui } from './ui.js';

/** One command: its positionals (after the command's name), the option values, the output. Resolves with the exit code. */
export type CommandRun = (args: readonly string[], v: Values, ui: Ui) => Promise<number> | number;

/** The positional `arg`, or a `UsageError` saying what is missing. */
function required(arg: string | undefined, missing: string): string {
  if (!arg) throw new UsageError(missing);
  return arg;
}

/** A car command answered by the running daemon over its control socket (or offline, from the state). */
const adminRun =
  (op: ControlRequest['op']): CommandRun =>
  (_args, v, ui) =>
    carAdmin(op, carArgs(v), ui);

/** A command the phone sends to its car. */
const carCommandRun =
  (kind: 'unlock' | 'lock' | 'start' | 'trunk'): CommandRun =>
  async (_args, v, ui) =>
    (await phoneCommand(phoneArgs(v), kind, ui)).code;

async function runConformance(v: Values): Promise<number> {
  const args = conformanceArgs(v);
  try {
    return await conformance(args, (text) => process.stdout.write(text));
  } catch (e) {
    if (e instanceof ConformanceUsageError) throw new UsageError(e.message);
    throw e;
  }
}

async function runDecode(input: string | undefined, v: Values): Promise<number> {
  if (!input) throw new UsageError('decode needs the bytes: hex, or @file');
  const keys = v.keys ? sessionKeys(JSON.parse(readFileSync(v.keys, 'utf8'))) : undefined;
  const decoded = await decodeMessages(inputMessages(input), keys);
  // Exactly one message given inline: an object; a capture (@file, whatever its length) or several lines: an array.
  process.stdout.write(`${JSON.stringify(input.startsWith('@') || decoded.length !== 1 ? decoded : decoded[0], null, 2)}\n`);
  const failed = decoded.find((d) => 'error' in d);
  if (failed) process.stderr.write(`error: ${String(failed.error)}\n`);
  return failed ? 1 : 0;
}

/** Every command's run, by the name `COMMANDS` (help.ts) lists it under. */
export const COMMAND_RUNS: Readonly<Record<string, CommandRun>> = {
  pair: (args, v, ui) => phonePair(phoneArgs(v), args[0], ui),
  unlock: carCommandRun('unlock'),
  lock: carCommandRun('lock'),
  start: carCommandRun('start'),
  trunk: carCommandRun('trunk'),
  status: (_args, v, ui) => phoneStatus(phoneArgs(v), ui),
  'request-key': (_args, v, ui) => phoneRequestKey(phoneArgs(v), ui),
  share: (args, v, ui) => phoneShare(phoneArgs(v), args[0], shareArgs(v), ui),
  accept: (args, v, ui) => phoneAccept(phoneArgs(v), args[0], ui),
  keys: (_args, v, ui) => phoneKeys(phoneArgs(v), ui),
  revoke: async (args, v, ui) => {
    const target = required(args[0], 'revoke needs a key id (16 hex) or grant id (32 hex)');
    return (await phoneCommand(phoneArgs(v), { kind: 'revoke', target, ...(v.cascade && { cascade: true }) }, ui)).code;
  },
  doctor: (_args, v, ui) => doctor(radio(v), ui),
  conformance: (_args, v) => runConformance(v),
  decode: (args, v) => runDecode(args[0], v),
  'car serve': (_args, v, ui) => carServe(carArgs(v), ui),
  'car setup': (_args, v, ui) => carSetup(setupArgs(v), ui),
  'car revoke': (args, v, ui) => {
    const target = required(args[0], 'car revoke needs a key id (16 hex) or grant id (32 hex)');
    return carAdmin('revoke', { ...carArgs(v), target, ...(v.cascade && { cascade: true }) }, ui);
  },
  'car backup': (args, v, ui) => {
    const file = required(args[0], 'car backup needs the file to write');
    return carBackup(carArgs(v), file, ui);
  },
  'car restore': (args, v, ui) => {
    const file = required(args[0], 'car restore needs the backup file');
    return carRestore(carArgs(v), file, { force: v.force === true }, ui);
  },
  'car pair': adminRun('pair'),
  'car keys': adminRun('keys'),
  'car audit': adminRun('audit'),
  'car status': adminRun('status'),
};
