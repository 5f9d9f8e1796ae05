/**
 * The car daemon's configuration file: JSON with `//` line comments (as `proxkey car setup` writes
 * it). Every field is optional; errors name the field. See docs/raspberry-pi.md.
 */
import { readFileSync } from 'node:fs';
import type { CryptoProvider } from '../crypto/provider.js';
import { nobleCrypto } from '../crypto/noble.js';
import { LocalError, messageOf } from '../errors.js';
import { nodeCrypto } from '../node/node-crypto.js';
import { ACTUATOR_TIMEOUT_MS } from '../transport/actuation.js';
import type { DefaultPolicyOptions } from '../policy/default-policy.js';
import type { GpioRelayConfig } from '../node/actuators.js';
import type { GpioLineRef } from '../node/gpio.js';
import type { KeyProximitySettings, ProximityEngineOptions } from '../proximity/engine.js';

export interface CarConfig {
  readonly name?: string;
  /** Where the car keeps its key, enrolled phones and audit log (0700 directory). */
  readonly stateDir?: string;
  /** Bluetooth controller: `hci` device number, or a serial HCI `uart` path. */
  readonly bluetooth?: { readonly hci?: number; readonly uart?: string; readonly baudRate?: number };
  readonly policy?: DefaultPolicyOptions;
  readonly actuators?:
    ({ readonly type: 'gpio' } & GpioRelayConfig) | { readonly type: 'command'; readonly path: string; readonly timeoutMs?: number } | { readonly type: 'log' };
  readonly pairingButton?: GpioLineRef;
  readonly statusLed?: GpioLineRef;
  /** How long pairing mode stays open (s, 1..`MAX_PAIRING_TTL_SECONDS`). Default 120. */
  readonly pairingTtlSeconds?: number;
  /**
   * Passive entry from the connected phones' RSSI (docs/PROXIMITY.md): `walkAwayLock` (default
   * true), `approachUnlock` (default false), grace periods, the path-loss calibration, and per key
   * id the same switches and calibration.
   */
  readonly proximity?: Omit<ProximityEngineOptions, 'now'> & { readonly keys?: Readonly<Record<string, KeyProximitySettings>> };
  /** Crypto provider: `node` (node:crypto, the default) or `noble` (pure JS); docs/PROTOCOL.md §2.1. */
  readonly crypto?: 'node' | 'noble';
  /** The radio's health check (see `RadioSupervisor`): only these keys, each bounded (`HEALTH_BOUNDS`). */
  readonly health?: { readonly probeIntervalMs?: number; readonly maxRecoveryAttempts?: number };
}

/**
 * The longest relay pulse (ms): half the car's actuator bound (`ACTUATOR_TIMEOUT_MS`, 10 s), so a
 * pulse, the `gpioset` start-up around it and libgpiod 1.x's second `gpioset` (the line driven
 * inactive) finish well inside it, and the car never answers `actuator-failed` for a pulse that
 * ran in full (nor holds its one-action-at-a-time lock for longer).
 */
export const MAX_PULSE_MS = ACTUATOR_TIMEOUT_MS / 2;
/** The longest pairing mode (s): 10 minutes. */
export const MAX_PAIRING_TTL_SECONDS = 600;
/** The health check's settings and their bounds: `[min, max]`, integers. */
export const HEALTH_BOUNDS = {
  /** The adapter is probed every 0.1 s to 10 min. */
  probeIntervalMs: [100, 600_000],
  /** At most 60 re-opens (≈ 30 min at the 30 s back-off cap) before the daemon exits for systemd. */
  maxRecoveryAttempts: [1, 60],
} as const;
/** Bounds of the other numeric settings. */
const MAX_HCI_INDEX = 63;
const MAX_BAUD_RATE = 4_000_000;
const MAX_GRACE_MS = 3_600_000;
const MAX_RTT_MS = 10_000;

/** The car's CryptoProvider: nodeCrypto unless the config says `"crypto": "noble"`. */
export function carCrypto(c: CarConfig): CryptoProvider {
  return c.crypto === 'noble' ? nobleCrypto : nodeCrypto;
}

/** JSON text without its `//` line comments (a `//` inside a string is kept). */
export function stripLineComments(text: string): string {
  let out = '';
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (inString) {
      out += ch;
      if (ch === '\\') out += text[++i] ?? '';
      else if (ch === '"') inString = false;
    } else if (ch === '/' && text[i + 1] === '/') {
      while (i < text.length && text[i] !== '\n') i++;
      out += '\n';
    } else {
      if (ch === '"') inString = true;
      out += ch;
    }
  }
  return out;
}

const bad = (path: string, field: string, what: string): never => {
  throw new LocalError('ERR_INVALID_ARGUMENT', `config ${path}: ${field} ${what}`);
};

type Fields = Record<string, unknown>;

/** An integer in `min..max`. */
const isIntIn = (v: unknown, min: number, max: number): v is number => Number.isInteger(v) && (v as number) >= min && (v as number) <= max;

/** Refuse the keys of `o` that are not in `known` (a typo is never silently ignored). */
function checkKeys(path: string, field: string, o: Fields, known: readonly string[]): void {
  for (const k of Object.keys(o)) if (!known.includes(k)) bad(path, `${field}.${k}`, `is not a known setting (known: ${known.join(', ')})`);
}

/** A JSON object (not null, not an array). */
const isFields = (v: unknown): v is Fields => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The fields of a value that should be an object; anything else has none, so each check names what is missing. */
const fieldsOf = (v: unknown): Fields => (typeof v === 'object' && v !== null ? Object.fromEntries(Object.entries(v)) : {});

const KNOWN_SETTINGS = [
  'name',
  'stateDir',
  'bluetooth',
  'policy',
  'actuators',
  'pairingButton',
  'statusLed',
  'pairingTtlSeconds',
  'proximity',
  'health',
  'crypto',
  '$comment',
];

/** The file's text, or one line saying why it cannot be read. */
function readConfigText(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (e) {
    const code = typeof e === 'object' && e !== null && 'code' in e && typeof e.code === 'string' ? e.code : undefined;
    if (code === 'ENOENT') return bad(path, '', 'does not exist: write one with `sudo proxkey car setup` (docs/raspberry-pi.md)');
    return bad(path, '', `cannot be read (${code ?? messageOf(e)}): is it readable by this user?`);
  }
}

/** The top-level JSON object (comments stripped). */
function parseConfigObject(path: string, text: string): Fields {
  let raw: unknown;
  try {
    raw = JSON.parse(stripLineComments(text));
  } catch (e) {
    return bad(path, '', `cannot be read as JSON (${messageOf(e)})`);
  }
  if (!isFields(raw)) return bad(path, '', 'must be a JSON object');
  return raw;
}

function checkTopLevel(path: string, c: Fields): void {
  for (const k of Object.keys(c)) if (!KNOWN_SETTINGS.includes(k)) bad(path, k, `is not a known setting (known: ${KNOWN_SETTINGS.join(', ')})`);
  if (c.name !== undefined && typeof c.name !== 'string') bad(path, 'name', 'must be a string');
  if (c.stateDir !== undefined && typeof c.stateDir !== 'string') bad(path, 'stateDir', 'must be a path');
  if (c.crypto !== undefined && c.crypto !== 'node' && c.crypto !== 'noble') bad(path, 'crypto', 'must be "node" or "noble"');
}

function checkActuators(path: string, actuators: unknown): void {
  if (actuators === undefined) return;
  const a = fieldsOf(actuators);
  if (a.type !== 'gpio' && a.type !== 'command' && a.type !== 'log') bad(path, 'actuators.type', 'must be gpio, command or log');
  if (a.type === 'gpio') return checkGpioActuator(path, a);
  if (a.type === 'log') return checkKeys(path, 'actuators', a, ['type']);
  checkKeys(path, 'actuators', a, ['type', 'path', 'timeoutMs']);
  if (typeof a.path !== 'string') bad(path, 'actuators.path', 'must be the script to run');
  if (a.timeoutMs !== undefined && !isIntIn(a.timeoutMs, 1, ACTUATOR_TIMEOUT_MS))
    bad(
      path,
      'actuators.timeoutMs',
      `must be a whole number of ms in 1..${ACTUATOR_TIMEOUT_MS} (the car answers actuator-failed at ${ACTUATOR_TIMEOUT_MS} ms whatever the script does)`,
    );
}

function checkGpioActuator(path: string, a: Fields): void {
  if (typeof a.chip !== 'string' || !isFields(a.lines)) bad(path, 'actuators', 'of type gpio needs chip and lines { unlock: <offset>, … }');
  checkKeys(path, 'actuators', a, ['type', 'chip', 'activeLow', 'lines', 'pulseMs']);
  if (a.activeLow !== undefined && typeof a.activeLow !== 'boolean') bad(path, 'actuators.activeLow', 'must be true or false (not a string)');
  for (const [name, line] of Object.entries(fieldsOf(a.lines)))
    if (!isIntIn(line, 0, Number.MAX_SAFE_INTEGER)) bad(path, `actuators.lines.${name}`, 'must be a line offset: an integer ≥ 0');
  if (a.pulseMs === undefined) return;
  if (!isFields(a.pulseMs)) return bad(path, 'actuators.pulseMs', 'must map command names (and "default") to ms');
  for (const [name, ms] of Object.entries(a.pulseMs))
    if (!isIntIn(ms, 1, MAX_PULSE_MS))
      bad(
        path,
        `actuators.pulseMs.${name}`,
        `must be a whole number of ms in 1..${MAX_PULSE_MS} (a pulse must end well inside the car's ${ACTUATOR_TIMEOUT_MS} ms actuator bound)`,
      );
}

function checkGpioLines(path: string, c: Fields): void {
  for (const f of ['pairingButton', 'statusLed'] as const) {
    if (c[f] === undefined) continue;
    const g = fieldsOf(c[f]);
    if (typeof g.chip !== 'string' || !isIntIn(g.line, 0, Number.MAX_SAFE_INTEGER)) bad(path, f, 'needs { chip: "gpiochip0", line: <offset ≥ 0> }');
    checkKeys(path, f, g, ['chip', 'line', 'activeLow']);
    if (g.activeLow !== undefined && typeof g.activeLow !== 'boolean') bad(path, `${f}.activeLow`, 'must be true or false (not a string)');
  }
}

function checkBluetoothAndTtl(path: string, c: Fields): void {
  if (c.pairingTtlSeconds !== undefined && !isIntIn(c.pairingTtlSeconds, 1, MAX_PAIRING_TTL_SECONDS))
    bad(path, 'pairingTtlSeconds', `must be a whole number of seconds in 1..${MAX_PAIRING_TTL_SECONDS}`);
  if (c.bluetooth === undefined) return;
  if (!isFields(c.bluetooth)) return bad(path, 'bluetooth', 'must be { "hci": 0 } or { "uart": "/dev/ttyAMA0" }');
  const b = c.bluetooth;
  checkKeys(path, 'bluetooth', b, ['hci', 'uart', 'baudRate']);
  if (b.hci !== undefined && !isIntIn(b.hci, 0, MAX_HCI_INDEX)) bad(path, 'bluetooth.hci', `must be an adapter number in 0..${MAX_HCI_INDEX} (hciN)`);
  if (b.uart !== undefined && typeof b.uart !== 'string') bad(path, 'bluetooth.uart', 'must be a serial device path');
  if (b.baudRate !== undefined && !isIntIn(b.baudRate, 1, MAX_BAUD_RATE)) bad(path, 'bluetooth.baudRate', `must be an integer in 1..${MAX_BAUD_RATE}`);
}

function checkPolicy(path: string, policy: unknown): void {
  if (policy === undefined) return;
  if (!isFields(policy)) return bad(path, 'policy', 'must be an object');
  const { maxRttMs } = policy;
  if (maxRttMs !== undefined && !(typeof maxRttMs === 'number' && maxRttMs > 0 && maxRttMs <= MAX_RTT_MS))
    bad(path, 'policy.maxRttMs', `must be a number of ms in (0, ${MAX_RTT_MS}]`);
}

function checkProximity(path: string, proximity: unknown): void {
  if (proximity === undefined) return;
  if (!isFields(proximity)) return bad(path, 'proximity', 'must be an object');
  const p = proximity;
  for (const f of ['walkAwayLock', 'approachUnlock'] as const)
    if (p[f] !== undefined && typeof p[f] !== 'boolean') bad(path, `proximity.${f}`, 'must be true or false');
  for (const f of ['lockGraceMs', 'linkLossGraceMs', 'staleAfterMs'] as const)
    if (p[f] !== undefined && !(typeof p[f] === 'number' && p[f] >= 0 && p[f] <= MAX_GRACE_MS))
      bad(path, `proximity.${f}`, `must be a number of ms in 0..${MAX_GRACE_MS}`);
  if (p.keys !== undefined && (typeof p.keys !== 'object' || p.keys === null))
    bad(path, 'proximity.keys', 'must map key ids to { walkAwayLock, approachUnlock, pathLoss }');
}

function checkHealth(path: string, health: unknown): void {
  if (health === undefined) return;
  if (!isFields(health)) return bad(path, 'health', 'must be an object');
  const known = Object.keys(HEALTH_BOUNDS) as (keyof typeof HEALTH_BOUNDS)[];
  checkKeys(path, 'health', health, known);
  for (const k of known) {
    const [min, max] = HEALTH_BOUNDS[k];
    if (health[k] !== undefined && !isIntIn(health[k], min, max)) bad(path, `health.${k}`, `must be an integer in ${min}..${max}`);
  }
}

/** The health check's settings from a loaded config: only the known numeric keys (nothing else can reach the supervisor). */
export function healthOptions(c: CarConfig): { probeIntervalMs?: number; maxRecoveryAttempts?: number } {
  const h = c.health;
  return {
    ...(typeof h?.probeIntervalMs === 'number' && { probeIntervalMs: h.probeIntervalMs }),
    ...(typeof h?.maxRecoveryAttempts === 'number' && { maxRecoveryAttempts: h.maxRecoveryAttempts }),
  };
}

/**
 * Read and check the car's config file; every field is optional.
 * @throws {LocalError} `ERR_INVALID_ARGUMENT` naming the file and the field (a missing or unreadable file, bad JSON, an unknown setting, a wrong value).
 */
export function loadCarConfig(path: string): CarConfig {
  const c = parseConfigObject(path, readConfigText(path));
  checkTopLevel(path, c);
  checkActuators(path, c.actuators);
  checkGpioLines(path, c);
  checkBluetoothAndTtl(path, c);
  checkPolicy(path, c.policy);
  checkProximity(path, c.proximity);
  checkHealth(path, c.health);
  return c;
}
