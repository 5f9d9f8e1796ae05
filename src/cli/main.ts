#!/usr/bin/env node
/**
 * `proxkey` — the command line for people who do not write code: a phone (pair, unlock, share…)
 * and a car (serve, pair, keys, audit). Human output by default, `--json` for scripts. Every
 * failure prints one line saying what to do, and exits non-zero (1: failed or denied, 2: usage).
 *
 * Argument parsing uses Node's built-in `util.parseArgs` (strict, no dependency): the command set
 * is small and fixed, so a framework would add supply chain without adding much.
 */
import { homedir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { carAdmin, carServe, type CarArgs } from './car.js';
import { phoneAccept, phoneCommand, phoneKeys, phonePair, phoneRequestKey, phoneShare, phoneStatus, type PhoneArgs } from './phone.js';
import { createUi, describeError } from './ui.js';

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
  'scrypt-log2n': { type: 'string' },
} as const;

interface CommandHelp {
  readonly usage: string;
  readonly summary: string;
  readonly details: string;
}

export const COMMANDS: Record<string, CommandHelp> = {
  pair: { usage: 'pair <code | proxkey://pair?…>', summary: 'pair this phone with a car in pairing mode', details: 'Use the 8-digit code (or the QR payload) the car shows. The car enrolls this phone as an owner; both sides save before reporting success. With --sim and no code, the simulated car opens pairing mode itself.' },
  unlock: { usage: 'unlock [--car C]', summary: 'unlock the car (one round trip)', details: 'Connects, authenticates both ways and unlocks in one round trip.' },
  lock: { usage: 'lock [--car C]', summary: 'lock the car', details: 'Like unlock.' },
  start: { usage: 'start --intent [--car C]', summary: 'start the car (needs --intent)', details: 'By default the car requires the user-intent flag for start: --intent says you confirmed it.' },
  trunk: { usage: 'trunk [--car C]', summary: 'open the trunk', details: 'Like unlock.' },
  status: { usage: 'status', summary: "show this phone's key and known cars", details: 'Offline: reads the phone state only.' },
  'request-key': { usage: 'request-key [--label NAME]', summary: "print a key request for a car's owner", details: 'Send the printed pkreq1… string to the owner; they answer with a share string.' },
  share: { usage: 'share <pkreq1…> [--permissions unlock,lock] [--days N] [--car C]', summary: '(owner) give a friend a key', details: 'Signs a grant for the requesting phone (permissions among unlock, lock, start, trunk, custom:<code>; optional validity in days) and prints a pkshare1… string sealed to that phone.' },
  accept: { usage: 'accept <pkshare1…>', summary: 'store a key shared with you', details: 'The key is activated by your first command to the car.' },
  keys: { usage: 'keys [--car C]', summary: "(owner) list the car's keys", details: 'Asks the car over an authenticated session.' },
  revoke: { usage: 'revoke <keyId | grantId> [--car C]', summary: '(owner) revoke a key or grant', details: 'The car saves the revocation, closes that key\'s open sessions, then answers.' },
  'car serve': { usage: 'car serve --dir DIR [--config FILE] [--name N] [--pair] [--hci N | --uart PATH]', summary: 'run the car: advertise and serve phones', details: 'Keeps its key, enrolled phones and audit log in --dir (created 0700). Advertises a rotating id from a rotating private address (no name). --config sets the policy, actuators, GPIO button/LED and passive entry (walk-away lock on, approach unlock off); see docs/raspberry-pi.md. --pair opens pairing mode at start and prints the code and a QR code. SIGTERM/Ctrl-C stops cleanly.' },
  'car pair': { usage: 'car pair --dir DIR', summary: 'open pairing mode on the running car', details: 'Prints the 8-digit code and a QR code of the pairing payload (valid 120 s, 3 attempts).' },
  'car keys': { usage: 'car keys --dir DIR', summary: "list the car's enrolled keys", details: 'Through the running car, or its files when it is not running.' },
  'car revoke': { usage: 'car revoke <keyId | grantId> --dir DIR', summary: 'revoke a key at the car itself', details: 'Durable before it returns; open sessions of that key are closed.' },
  'car audit': { usage: 'car audit --dir DIR', summary: "print the car's audit log", details: 'Every decision with key, command, result, round-trip time.' },
  'car status': { usage: 'car status --dir DIR', summary: 'car name, id, keys, pairing state', details: '' },
};

const GLOBAL_HELP = `Options:
  --car <id|name>    which car, when this phone knows several
  --intent           you confirm the action (required by default for start)
  --sim              talk to a simulated car in this process (no Bluetooth needed;
                     its state: $PROXKEY_SIM_CAR or <state>/sim-car)
  --state <dir>      phone state (default $PROXKEY_HOME or ~/.config/proxkey)
  --dir <dir>        car state directory (car commands)
  --hci <n>          Bluetooth adapter hciN; --uart <path> for a serial HCI controller
  --timeout <ms>     bound for each wait on the radio (default 10000)
  --json             one JSON object per result, for scripts
  -h, --help         help (also: proxkey <command> --help)`;

function mainHelp(): string {
  const rows = Object.entries(COMMANDS).map(([name, h]) => `  ${name.padEnd(14)} ${h.summary}`);
  return `proxkey — a phone as a car key over Bluetooth LE\n\nUsage: proxkey <command> [options]\n\nCommands:\n${rows.join('\n')}\n\n${GLOBAL_HELP}\n\nExamples:\n  proxkey car serve --dir ./car --pair     # on the car laptop / Pi\n  proxkey pair 12345678                    # on the phone laptop\n  proxkey unlock\n  proxkey --sim pair && proxkey --sim unlock   # no Bluetooth at all\n`;
}

function commandHelp(name: string): string {
  const h = COMMANDS[name]!;
  return `proxkey ${h.usage}\n\n${h.summary}.${h.details ? ` ${h.details}` : ''}\n\n${GLOBAL_HELP}\n`;
}

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

export async function run(argv: readonly string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ args: [...argv], options: OPTIONS, allowPositionals: true, strict: true });
  } catch (e) {
    process.stderr.write(`error: ${(e as Error).message} (see proxkey --help)\n`);
    return 2;
  }
  const { values: v, positionals: pos } = parsed;
  const ui = createUi(!!v.json);
  const name = pos[0] === 'car' && pos[1] ? `car ${pos[1]}` : pos[0];
  if (!name) {
    process.stdout.write(mainHelp());
    return v.help ? 0 : 2;
  }
  if (!COMMANDS[name]) {
    process.stderr.write(`error: unknown command "${pos.join(' ')}" (see proxkey --help)\n`);
    return 2;
  }
  if (v.help) {
    process.stdout.write(commandHelp(name));
    return 0;
  }
  try {
    const args = name.startsWith('car ') ? pos.slice(2) : pos.slice(1);
    const timeoutMs = int(v.timeout, '--timeout') ?? 10_000;
    const phone: PhoneArgs = {
      state: v.state ?? defaultState(),
      timeoutMs,
      ...(v.car && { car: v.car }),
      ...(v.intent && { intent: true }),
      ...(v.sim && { sim: true }),
      ...(v.hci !== undefined && { hci: int(v.hci, '--hci')! }),
      ...(v.uart && { uart: v.uart }),
      ...(v.label && { label: v.label }),
    };
    const car: CarArgs = {
      ...(v.dir && { dir: v.dir }),
      ...(v.config && { config: v.config }),
      ...(v.name && { name: v.name }),
      ...(v.pair && { pair: true }),
      ...(v.hci !== undefined && { hci: int(v.hci, '--hci')! }),
      ...(v.uart && { uart: v.uart }),
      ...(v['scrypt-log2n'] && { scryptLog2N: int(v['scrypt-log2n'], '--scrypt-log2n')! }),
    };
    switch (name) {
      case 'pair':
        return await phonePair(phone, args[0], ui);
      case 'unlock':
      case 'lock':
      case 'start':
      case 'trunk':
        return (await phoneCommand(phone, name, ui)).code;
      case 'status':
        return await phoneStatus(phone, ui);
      case 'request-key':
        return await phoneRequestKey(phone, ui);
      case 'share':
        return await phoneShare(phone, args[0], { ...(v.permissions && { permissions: v.permissions }), ...(v.days && { days: int(v.days, '--days')! }) }, ui);
      case 'accept':
        return await phoneAccept(phone, args[0], ui);
      case 'keys':
        return await phoneKeys(phone, ui);
      case 'revoke':
        if (!args[0]) throw new UsageError('revoke needs a key id (16 hex) or grant id (32 hex)');
        return (await phoneCommand(phone, { kind: 'revoke', target: args[0] }, ui)).code;
      case 'car serve':
        return await carServe(car, ui);
      case 'car revoke':
        if (!args[0]) throw new UsageError('car revoke needs a key id (16 hex) or grant id (32 hex)');
        return await carAdmin('revoke', { ...car, target: args[0] }, ui);
      default:
        return await carAdmin(name.slice(4) as 'pair' | 'keys' | 'audit' | 'status', car, ui);
    }
  } catch (e) {
    if (e instanceof UsageError) {
      process.stderr.write(`error: ${e.message} (see proxkey ${name} --help)\n`);
      return 2;
    }
    const { code, message } = describeError(e);
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
