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
  /** How long pairing mode stays open. Default 120. */
  readonly pairingTtlSeconds?: number;
  /**
   * Passive entry from the connected phones' RSSI (docs/PROXIMITY.md): `walkAwayLock` (default
   * true), `approachUnlock` (default false), grace periods, the path-loss calibration, and per key
   * id the same switches and calibration.
   */
  readonly proximity?: Omit<ProximityEngineOptions, 'now'> & { readonly keys?: Readonly<Record<string, KeyProximitySettings>> };
  /** Crypto provider: `node` (node:crypto, the default) or `noble` (pure JS); docs/PROTOCOL.md §2.1. */
  readonly crypto?: 'node' | 'noble';
  /** The radio's health check (see `RadioSupervisor`). */
  readonly health?: { readonly probeIntervalMs?: number; readonly maxRecoveryAttempts?: number };
}

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
  if (a.type === 'gpio' && (typeof a.chip !== 'string' || typeof a.lines !== 'object' || a.lines === null))
    bad(path, 'actuators', 'of type gpio needs chip and lines { unlock: <offset>, … }');
  if (a.type === 'command' && typeof a.path !== 'string') bad(path, 'actuators.path', 'must be the script to run');
  if (
    a.type === 'command' &&
    a.timeoutMs !== undefined &&
    !(Number.isInteger(a.timeoutMs) && Number(a.timeoutMs) > 0 && Number(a.timeoutMs) <= ACTUATOR_TIMEOUT_MS)
  )
    bad(
      path,
      'actuators.timeoutMs',
      `must be a whole number of ms in 1..${ACTUATOR_TIMEOUT_MS} (the car answers actuator-failed at ${ACTUATOR_TIMEOUT_MS} ms whatever the script does)`,
    );
}

function checkGpioLines(path: string, c: Fields): void {
  for (const f of ['pairingButton', 'statusLed'] as const) {
    if (c[f] === undefined) continue;
    const g = fieldsOf(c[f]);
    if (typeof g.chip !== 'string' || !Number.isInteger(g.line)) bad(path, f, 'needs { chip: "gpiochip0", line: <offset> }');
  }
}

function checkProximity(path: string, proximity: unknown): void {
  if (proximity === undefined) return;
  if (!isFields(proximity)) return bad(path, 'proximity', 'must be an object');
  const p = proximity;
  for (const f of ['walkAwayLock', 'approachUnlock'] as const)
    if (p[f] !== undefined && typeof p[f] !== 'boolean') bad(path, `proximity.${f}`, 'must be true or false');
  for (const f of ['lockGraceMs', 'linkLossGraceMs', 'staleAfterMs'] as const)
    if (p[f] !== undefined && !(typeof p[f] === 'number' && p[f] >= 0)) bad(path, `proximity.${f}`, 'must be a number of ms ≥ 0');
  if (p.keys !== undefined && (typeof p.keys !== 'object' || p.keys === null))
    bad(path, 'proximity.keys', 'must map key ids to { walkAwayLock, approachUnlock, pathLoss }');
}

function checkHealth(path: string, health: unknown): void {
  if (health === undefined) return;
  if (!isFields(health)) return bad(path, 'health', 'must be an object');
  const { probeIntervalMs, maxRecoveryAttempts } = health;
  if (probeIntervalMs !== undefined && !(typeof probeIntervalMs === 'number' && probeIntervalMs >= 100))
    bad(path, 'health.probeIntervalMs', 'must be a number of ms ≥ 100');
  if (maxRecoveryAttempts !== undefined && !(typeof maxRecoveryAttempts === 'number' && Number.isInteger(maxRecoveryAttempts) && maxRecoveryAttempts >= 1))
    bad(path, 'health.maxRecoveryAttempts', 'must be an integer ≥ 1');
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
  checkProximity(path, c.proximity);
  checkHealth(path, c.health);
  return c;
}
