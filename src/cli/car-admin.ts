/**
 * `proxkey car pair|keys|revoke|audit|status|backup|restore`: act on the running car through its
 * control socket, or on its files when it is not running. Only `car serve` (and `car setup`) create a car: these
 * refuse a directory that holds none (a typo must not mint a new car key).
 */
import { existsSync } from 'node:fs';
import { isErrorCode, LocalError, ProxkeyError } from '../errors.js';
import { systemRandom } from '../crypto/random.js';
import { FileVehicleStore } from '../node/file-stores.js';
import { StateLockHeldError, withStateLock } from '../node/state-lock.js';
import { backupVehicleState, restoreVehicleState } from '../node/vehicle-backup.js';
import { VehicleService } from '../service/vehicle-service.js';
import { resolveConfig, type CarArgs } from './car-args.js';
import { ensureStateDir } from './car-open.js';
import { carCrypto, type CarConfig } from './config.js';
import { keySummary, revokeLocally } from './car-control.js';
import { askControl, type ControlRequest } from './control.js';
import { pairingStateText } from './daemon-log.js';
import { showPairing } from './pairing-display.js';
import { assertNotRootOnOthersCar } from './state-owner.js';
import type { Ui } from './ui.js';

type Answer = Record<string, unknown>;

/** The car in the state directory when no daemon runs; refuses a directory without one. */
async function openStoppedCar(c: CarConfig & { stateDir: string }): Promise<VehicleService> {
  const dir = c.stateDir;
  assertNotRootOnOthersCar(dir, 'car …');
  const store = new FileVehicleStore(dir);
  if (!existsSync(dir) || (await store.load()) === undefined)
    throw new LocalError(
      'ERR_INVALID_STATE',
      `no car in ${dir}: check the path (--dir, or stateDir in --config); only \`proxkey car serve --dir ${dir}\` creates a new car`,
    );
  return VehicleService.open({ store, crypto: carCrypto(c), actuator: () => undefined });
}

async function answerFromFiles(op: ControlRequest['op'], c: CarConfig & { stateDir: string }, target: string, cascade: boolean): Promise<Answer> {
  const dir = c.stateDir;
  const car = await openStoppedCar(c);
  switch (op) {
    case 'pair':
      throw new LocalError('ERR_INVALID_STATE', `no car is running for ${dir}: start it with \`proxkey car serve --dir ${dir} --pair\``);
    case 'revoke':
      return { ok: true, ...(await revokeLocally(car, target, cascade, true)) }; // this process exits right after
    case 'audit':
      return { ok: true, entries: await car.audit() };
    case 'status':
      return { ok: true, name: car.name, carId: car.carId, pairing: 'closed', keys: (await car.registry.list()).length, running: false };
    case 'keys':
      return { ok: true, all: keySummary(await car.registry.list()) };
  }
}

/** How long a command waits for a car daemon that is starting or stopping (it holds the files, its socket does not answer). */
const DAEMON_BUSY_WAIT_MS = 20_000;

/**
 * The running car's answer; when no daemon answers, `fromFiles` under the state lock, so that a
 * daemon starting meanwhile reads the files only after the edit. While a daemon holds the lock
 * without answering (starting, stopping), ask again until it answers or lets go (bounded).
 */
async function answerFromCarOrFiles(dir: string, req: ControlRequest, fromFiles: () => Promise<Answer>): Promise<Answer> {
  if (!existsSync(dir)) return fromFiles(); // no car there: it says so, and no lock file is made
  const until = performance.now() + DAEMON_BUSY_WAIT_MS; // monotonic: a clock step never stretches it
  for (;;) {
    const answer = await askControl(dir, req);
    if (answer) return answer;
    try {
      return await withStateLock(dir, 'proxkey command', fromFiles);
    } catch (e) {
      if (!(e instanceof StateLockHeldError) || performance.now() >= until) throw e;
    }
    await new Promise((r) => setTimeout(r, 250));
  }
}

interface KeyRow {
  id: string;
  role: string;
  label: string;
  permissions: string[];
  revoked: boolean;
}
interface AuditRow {
  at: number;
  event: string;
  keyId: string;
  command?: string;
  result: string;
  rttMs?: number;
}

function keysText(all: readonly KeyRow[]): string {
  if (all.length === 0) return 'no keys enrolled';
  const header = `${'KEY ID'.padEnd(16)}  ${'ROLE'.padEnd(6)}  ${'PERMISSIONS'.padEnd(16)} LABEL`;
  return [header, ...all.map((k) => `${k.id}  ${k.role.padEnd(6)}  ${k.permissions.join(',').padEnd(16)} ${k.label}${k.revoked ? ' (revoked)' : ''}`)].join(
    '\n',
  );
}

function auditText(entries: readonly AuditRow[]): string {
  return (
    entries
      .map(
        (e) =>
          `${new Date(e.at).toISOString()}  ${e.event.padEnd(8)} ${(e.keyId || '-').padEnd(16)} ${(e.command ?? '').padEnd(9)} ${e.result}${e.rttMs !== undefined ? ` (rtt ${e.rttMs} ms)` : ''}`,
      )
      .join('\n') || 'audit log is empty'
  );
}

export async function carAdmin(op: ControlRequest['op'], a: CarArgs & { target?: string; cascade?: boolean }, ui: Ui): Promise<number> {
  const c = resolveConfig(a);
  const target = a.target ?? '';
  const cascade = a.cascade === true;
  const req: ControlRequest = op === 'revoke' ? { op, target, ...(cascade && { cascade: true }) } : { op };
  const answer = await answerFromCarOrFiles(c.stateDir, req, () => answerFromFiles(op, c, target, cascade));
  if (!answer.ok) throw new ProxkeyError(isErrorCode(answer.code) ? answer.code : 'ERR_INVALID_ARGUMENT', String(answer.error));
  switch (op) {
    case 'pair':
      await showPairing(ui, { code: String(answer.code), payload: String(answer.payload), expiresAt: Number(answer.expiresAt) });
      break;
    case 'keys':
      ui.result({ keys: answer.all }, keysText(answer.all as KeyRow[]));
      break;
    case 'audit':
      ui.result({ entries: answer.entries }, auditText(answer.entries as AuditRow[]));
      break;
    case 'revoke': {
      if (typeof answer.warning === 'string') ui.hint(`warning: ${answer.warning}`);
      const also =
        Array.isArray(answer.cascaded) && answer.cascaded.length ? ` and ${answer.cascaded.length} key(s) it shared: ${answer.cascaded.join(' ')}` : '';
      ui.result({ revoked: answer }, `revoked ${target}${also}`);
      break;
    }
    case 'status':
      ui.result(
        answer,
        `car "${String(answer.name)}" (${String(answer.carId).slice(0, 8)}): ${String(answer.keys)} key(s), ${answer.running === false ? 'not running' : `running, ${pairingStateText(String(answer.pairing))}`}`,
      );
      break;
  }
  return 0;
}

/**
 * `proxkey car backup FILE`: copy the car's state (its private key and every key record: keep
 * the file offline, mode 0600). Safe while the car runs (the state file is replaced atomically).
 */
export async function carBackup(a: CarArgs, file: string, ui: Ui): Promise<number> {
  const c = resolveConfig(a);
  assertNotRootOnOthersCar(c.stateDir, 'car backup');
  const { keys } = await backupVehicleState(c.stateDir, file);
  ui.result({ backup: file, keys }, `backed up the car in ${c.stateDir} (${keys} key(s)) to ${file} — it holds the car's private key: keep it offline`);
  return 0;
}

/**
 * `proxkey car restore FILE`: put a backup back while the car is stopped. Refuses to overwrite a
 * car unless --force; re-applies every revocation recorded in the directory (revocations.jsonl,
 * the audit log, the state it replaces), and warns when the directory records none.
 */
export async function carRestore(a: CarArgs, file: string, options: { readonly force: boolean }, ui: Ui): Promise<number> {
  const c = resolveConfig(a);
  assertNotRootOnOthersCar(c.stateDir, 'car restore');
  if (await askControl(c.stateDir, { op: 'status' }))
    throw new LocalError('ERR_INVALID_STATE', `the car for ${c.stateDir} is running: stop it first (sudo systemctl stop proxkey-car)`);
  // A daemon that is starting or stopping holds the lock: restore refuses rather than race it.
  ensureStateDir(c.stateDir); // what restore would create: made first, so that the lock covers the whole restore
  const r = await withStateLock(c.stateDir, 'proxkey command', () => restoreVehicleState(c.stateDir, file, { random: systemRandom, force: options.force }));
  const again = r.reapplied.length ? `; re-applied ${r.reapplied.length} revocation(s) recorded in ${c.stateDir}: ${r.reapplied.join(' ')}` : '';
  ui.result(
    { restored: file, keys: r.keys, reapplied: r.reapplied, unverified: r.unverified },
    `restored the car in ${c.stateDir} from ${file} (${r.keys} key(s))${again}`,
  );
  if (r.unverified)
    ui.info(
      `  warning: ${c.stateDir} holds no record of this car's revocations (none at all, or another car's): a key revoked after this backup was taken is enabled again; list the keys (proxkey car keys) and revoke it again`,
    );
  return 0;
}
