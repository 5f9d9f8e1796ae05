#!/usr/bin/env node
/**
 * `proxkey` — the command line for people who do not write code: a phone (pair, unlock, share…)
 * and a car (serve, pair, keys, audit). Human output by default, `--json` for scripts. Every
 * failure prints one line saying what to do, and exits non-zero (1: failed or denied, 2: usage).
 *
 * Argument parsing uses Node's built-in `util.parseArgs` (strict, no dependency): the command set
 * is small and fixed, so a framework would add supply chain without adding much.
 */
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { BleUnavailableError } from '../adapters/common.js';
import { carAdmin, carBackup, carRestore } from './car-admin.js';
import type { CarArgs } from './car-args.js';
import { carServe } from './car-daemon.js';
import { bluetoothProblem, doctor } from './doctor.js';
import { COMMANDS, carHelp, commandHelp, mainHelp } from './help.js';
import { phoneAccept, phoneCommand, phoneKeys, phonePair, phoneRequestKey, phoneShare, phoneStatus, type PhoneArgs } from './phone.js';
import { carSetup } from './setup.js';
import { conformance, ConformanceUsageError } from './conformance.js';
import { decodeMessages, inputMessages, sessionKeys } from './decode.js';
import { createUi, describeError } from './ui.js';

export { COMMANDS } from './help.js';

const OPTIONS = {
  help: { type: 'boolean', short: 'h' },
  json: { type: 'boolean' },
  sim: { type: 'boolean' },
  car: { type: 'string' },
  intent: { type: 'boolean' },
  state: { type: 'string' },
  dir: { type: 'string' },
  config: { type: 'string' },
  name: { type: 'string' },
  label: { type: 'string' },
  pair: { type: 'boolean' },
  hci: { type: 'string' },
  uart: { type: 'string' },
  timeout: { type: 'string' },
  permissions: { type: 'string' },
  days: { type: 'string' },
  user: { type: 'string' },
  unit: { type: 'string' },
  actuator: { type: 'string' },
  force: { type: 'boolean' },
  cascade: { type: 'boolean' },
  'scrypt-log2n': { type: 'string' },
  role: { type: 'string' },
  connect: { type: 'string' },
  self: { type: 'boolean' },
  code: { type: 'string' },
  'max-commands': { type: 'string' },
  keys: { type: 'string' },
} as const;

function defaultState(): string {
  return process.env.PROXKEY_HOME ?? join(process.env.XDG_CONFIG_HOME ?? join(homedir(), '.config'), 'proxkey');
}

function int(v: string | undefined, what: string): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new UsageError(`${what}: expected a non-negative integer, got "${v}"`);
  return n;
}

class UsageError extends Error {}

type Values = ReturnType<typeof parse>['values'];

function parse(argv: readonly string[]) {
  return parseArgs({ args: [...argv], options: OPTIONS, allowPositionals: true, strict: true });
}

/**
 * The radio from --hci / --uart, else from PROXKEY_HCI (a number: hciN; a path: a serial or
 * emulated controller), so a whole guide can be followed over another controller unchanged.
 */
function radio(v: Values): { hci?: number; uart?: string } {
  if (v.uart) return { uart: v.uart };
  if (v.hci !== undefined) return { hci: int(v.hci, '--hci')! };
  const env = process.env.PROXKEY_HCI;
  if (!env) return {};
  return /^\d+$/.test(env) ? { hci: Number(env) } : { uart: env };
}

function phoneArgs(v: Values): PhoneArgs {
  return {
    state: v.state ?? defaultState(),
    timeoutMs: int(v.timeout, '--timeout') ?? 10_000,
    ...(v.car && { car: v.car }),
    ...(v.intent && { intent: true }),
    ...(v.sim && { sim: true }),
    ...radio(v),
    ...(v.label && { label: v.label }),
  };
}

function carArgs(v: Values): CarArgs {
  return {
    ...(v.dir && { dir: v.dir }),
    ...(v.config && { config: v.config }),
    ...(v.name && { name: v.name }),
    ...(v.pair && { pair: true }),
    ...radio(v),
    ...(v['scrypt-log2n'] && { scryptLog2N: int(v['scrypt-log2n'], '--scrypt-log2n')! }),
  };
}

function dispatch(name: string, args: readonly string[], v: Values, ui: ReturnType<typeof createUi>): Promise<number> | number {
  const phone = () => phoneArgs(v);
  switch (name) {
    case 'pair':
      return phonePair(phone(), args[0], ui);
    case 'unlock':
    case 'lock':
    case 'start':
    case 'trunk':
      return phoneCommand(phone(), name, ui).then((r) => r.code);
    case 'status':
      return phoneStatus(phone(), ui);
    case 'request-key':
      return phoneRequestKey(phone(), ui);
    case 'share':
      return phoneShare(phone(), args[0], { ...(v.permissions && { permissions: v.permissions }), ...(v.days && { days: int(v.days, '--days')! }) }, ui);
    case 'accept':
      return phoneAccept(phone(), args[0], ui);
    case 'keys':
      return phoneKeys(phone(), ui);
    case 'revoke':
      if (!args[0]) throw new UsageError('revoke needs a key id (16 hex) or grant id (32 hex)');
      return phoneCommand(phone(), { kind: 'revoke', target: args[0], ...(v.cascade && { cascade: true }) }, ui).then((r) => r.code);
    case 'doctor':
      return doctor(radio(v), ui);
    case 'conformance':
      return runConformance(v);
    case 'decode':
      return runDecode(args[0], v);
    case 'car serve':
      return carServe(carArgs(v), ui);
    case 'car setup':
      return carSetup(
        {
          ...(v.config && { config: v.config }),
          ...(v.dir && { dir: v.dir }),
          ...(v.user && { user: v.user }),
          ...(v.name && { name: v.name }),
          ...(v.unit && { unit: v.unit }),
          ...(v.actuator && { actuator: v.actuator }),
          ...(v.force && { force: true }),
          ...(v.hci !== undefined && { hci: int(v.hci, '--hci')! }),
        },
        ui,
      );
    case 'car revoke':
      if (!args[0]) throw new UsageError('car revoke needs a key id (16 hex) or grant id (32 hex)');
      return carAdmin('revoke', { ...carArgs(v), target: args[0], ...(v.cascade && { cascade: true }) }, ui);
    case 'car backup':
      if (!args[0]) throw new UsageError('car backup needs the file to write');
      return carBackup(carArgs(v), args[0], ui);
    case 'car restore':
      if (!args[0]) throw new UsageError('car restore needs the backup file');
      return carRestore(carArgs(v), args[0], { force: v.force === true }, ui);
    case 'car pair':
    case 'car keys':
    case 'car audit':
    case 'car status':
      return carAdmin(name.slice(4) as 'pair' | 'keys' | 'audit' | 'status', carArgs(v), ui);
    default:
      throw new UsageError(`unknown command "${name}"`);
  }
}

async function runConformance(v: Values): Promise<number> {
  if (v.role !== 'car' && v.role !== 'phone') throw new UsageError('--role: car or phone');
  try {
    return await conformance(
      {
        role: v.role,
        ...(v.connect && { connect: v.connect }),
        ...(v.self && { self: true }),
        ...(v.code && { code: v.code }),
        ...(v['max-commands'] && { maxCommands: int(v['max-commands'], '--max-commands')! }),
        timeoutMs: int(v.timeout, '--timeout') ?? 10_000,
      },
      (text) => process.stdout.write(text),
    );
  } catch (e) {
    if (e instanceof ConformanceUsageError) throw new UsageError(e.message);
    throw e;
  }
}

async function runDecode(input: string | undefined, v: Values): Promise<number> {
  if (!input) throw new UsageError('decode needs the bytes: hex, or @file');
  const keys = v.keys ? sessionKeys(JSON.parse(readFileSync(v.keys, 'utf8'))) : undefined;
  const decoded = await decodeMessages(inputMessages(input), keys);
  process.stdout.write(`${JSON.stringify(decoded.length === 1 ? decoded[0] : decoded, null, 2)}\n`);
  const failed = decoded.find((d) => 'error' in d);
  if (failed) process.stderr.write(`error: ${String(failed.error)}\n`);
  return failed ? 1 : 0;
}

/** One line for a failure; Bluetooth failures say which of the machine's causes applies. */
function failureLine(e: unknown, name: string, v: Values): { code: string; message: string } {
  if (!(e instanceof BleUnavailableError)) return describeError(e);
  const problem = bluetoothProblem(name.startsWith('car ') ? 'car' : 'phone', radio(v));
  // nothing on this machine explains it: the stack's own words, without its generic hint
  const own = e.message.slice(0, e.message.length - e.hint.length).trim();
  return { code: e.code, message: `Bluetooth unavailable: ${problem ?? own} (\`proxkey doctor\` checks everything)` };
}

export async function run(argv: readonly string[]): Promise<number> {
  let parsed;
  try {
    parsed = parse(argv);
  } catch (e) {
    process.stderr.write(`error: ${(e as Error).message} (see proxkey --help)\n`);
    return 2;
  }
  const { values: v, positionals: pos } = parsed;
  const ui = createUi(!!v.json);
  if (pos[0] === 'car' && !pos[1]) {
    process.stdout.write(carHelp());
    return v.help ? 0 : 2;
  }
  const name = pos[0] === 'car' ? `car ${pos[1]}` : pos[0];
  if (!name) {
    process.stdout.write(mainHelp());
    return v.help ? 0 : 2;
  }
  const command = COMMANDS[name];
  if (!command) {
    process.stderr.write(`error: unknown command "${pos.join(' ')}" (see proxkey --help)\n`);
    return 2;
  }
  if (v.help) {
    process.stdout.write(commandHelp(name));
    return 0;
  }
  const args = name.startsWith('car ') ? pos.slice(2) : pos.slice(1);
  try {
    if (args.length > command.maxArgs)
      throw new UsageError(
        `unexpected argument${args.length - command.maxArgs > 1 ? 's' : ''} ${args
          .slice(command.maxArgs)
          .map((x) => `"${x}"`)
          .join(' ')}: usage: proxkey ${command.usage}`,
      );
    return await dispatch(name, args, v, ui);
  } catch (e) {
    if (e instanceof UsageError) {
      process.stderr.write(`error: ${e.message} (see proxkey ${name} --help)\n`);
      return 2;
    }
    const { code, message } = failureLine(e, name, v);
    if (ui.json) process.stdout.write(`${JSON.stringify({ ok: false, code, error: message })}\n`);
    process.stderr.write(`error: ${message}\n`);
    return 1;
  }
}

// Run when executed directly (bin or tsx), not when imported by tests.
const invoked = process.argv[1] ?? '';
if (/(?:^|[/\\])(?:main\.(?:ts|js|cjs|mjs)|cli\.(?:js|cjs|mjs)|proxkey)$/.test(invoked)) {
  // The BLE stacks print their own warnings with console.*: keep the CLI's output to its one line
  // per result or error unless PROXKEY_DEBUG is set.
  if (!process.env.PROXKEY_DEBUG) console.log = console.warn = console.info = () => undefined;
  run(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (e: unknown) => {
      process.stderr.write(`error: ${describeError(e).message}\n`);
      process.exit(1);
    },
  );
}
