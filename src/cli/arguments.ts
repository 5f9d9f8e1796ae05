/**
 * The CLI's options, parsed by Node's built-in `util.parseArgs` (strict, no dependency: the command set
 * is small and fixed, so a framework would add supply chain without adding much), and the argument
 * objects each command takes, built from them. A bad value is a `UsageError` (exit code 2).
 */
import { homedir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { CarArgs } from './car-args.js';
import type { PhoneArgs } from './phone.js';
import type { ConformanceArgs } from './conformance.js';
import type { SetupArgs } from './setup.js';

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

/** A mistake in how the command was called: printed with a pointer to `--help`, exit code 2. */
export class UsageError extends Error {}

/** The command line, parsed: option values and positionals. Throws (Node's own error) on an unknown option. */
export function parse(argv: readonly string[]) {
  return parseArgs({ args: [...argv], options: OPTIONS, allowPositionals: true, strict: true });
}

/** The option values of a parsed command line. */
export type Values = ReturnType<typeof parse>['values'];

/** The default phone state directory: `$PROXKEY_HOME`, else `$XDG_CONFIG_HOME/proxkey` (`~/.config/proxkey`). */
function defaultState(): string {
  return process.env.PROXKEY_HOME ?? join(process.env.XDG_CONFIG_HOME ?? join(homedir(), '.config'), 'proxkey');
}

/** A non-negative integer option (`what` names it in the error); undefined when the option is absent. */
export function int(v: string, what: string): number;
export function int(v: string | undefined, what: string): number | undefined;
export function int(v: string | undefined, what: string): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new UsageError(`${what}: expected a non-negative integer, got "${v}"`);
  return n;
}

/** An integer option within `min..max` (a timer above 2^31 − 1 ms would fire at once). */
export function intIn(v: string | undefined, what: string, min: number, max: number): number | undefined {
  const n = int(v, what);
  if (n !== undefined && (n < min || n > max)) throw new UsageError(`${what}: expected ${min}..${max}, got ${n}`);
  return n;
}

/** Bounds of --timeout (ms): at most 10 minutes. */
const TIMEOUT_MS = { min: 1, max: 600_000 } as const;
/** Bounds of `share --days`: a share of at least one day, at most 100 years (a key without end: leave --days out). */
const SHARE_DAYS = { min: 1, max: 36_500 } as const;

/** --timeout (1..600000 ms), default 10 s. */
const timeoutOf = (v: Values): number => intIn(v.timeout, '--timeout', TIMEOUT_MS.min, TIMEOUT_MS.max) ?? 10_000;

/**
 * The radio from --hci / --uart, else from PROXKEY_HCI (a number: hciN; a path: a serial or
 * emulated controller), so a whole guide can be followed over another controller unchanged.
 */
export function radio(v: Values): { hci?: number; uart?: string } {
  if (v.uart) return { uart: v.uart };
  if (v.hci !== undefined) return { hci: int(v.hci, '--hci') };
  const env = process.env.PROXKEY_HCI;
  if (!env) return {};
  return /^\d+$/.test(env) ? { hci: Number(env) } : { uart: env };
}

/** The phone commands' arguments. */
export function phoneArgs(v: Values): PhoneArgs {
  return {
    state: v.state ?? defaultState(),
    timeoutMs: timeoutOf(v),
    ...(v.car && { car: v.car }),
    ...(v.intent && { intent: true }),
    ...(v.sim && { sim: true }),
    ...radio(v),
    ...(v.label && { label: v.label }),
  };
}

/** The car commands' arguments (`car serve`, `car pair`, …). */
export function carArgs(v: Values): CarArgs {
  return {
    ...(v.dir && { dir: v.dir }),
    ...(v.config && { config: v.config }),
    ...(v.name && { name: v.name }),
    ...(v.pair && { pair: true }),
    ...radio(v),
    ...(v['scrypt-log2n'] && { scryptLog2N: int(v['scrypt-log2n'], '--scrypt-log2n') }),
  };
}

/** `car setup`'s arguments. */
export function setupArgs(v: Values): SetupArgs {
  return {
    ...(v.config && { config: v.config }),
    ...(v.dir && { dir: v.dir }),
    ...(v.user && { user: v.user }),
    ...(v.name && { name: v.name }),
    ...(v.unit && { unit: v.unit }),
    ...(v.actuator && { actuator: v.actuator }),
    ...(v.force && { force: true }),
    ...(v.hci !== undefined && { hci: int(v.hci, '--hci') }),
  };
}

/** `share`'s options. */
export function shareArgs(v: Values): { permissions?: string; days?: number } {
  const days = intIn(v.days, '--days', SHARE_DAYS.min, SHARE_DAYS.max);
  return { ...(v.permissions && { permissions: v.permissions }), ...(days !== undefined && { days }) };
}

/** `conformance`'s arguments (`--role car|phone` is required). */
export function conformanceArgs(v: Values): ConformanceArgs {
  if (v.role !== 'car' && v.role !== 'phone') throw new UsageError('--role: car or phone');
  return {
    role: v.role,
    ...(v.connect && { connect: v.connect }),
    ...(v.self && { self: true }),
    ...(v.code && { code: v.code }),
    ...(v['max-commands'] && { maxCommands: int(v['max-commands'], '--max-commands') }),
    timeoutMs: timeoutOf(v),
  };
}
