/**
 * Backing up and restoring a car's durable state (`vehicle.json`: its private key, advertising
 * secret and every key record). A backup is the same checksummed document, written 0600 —
 * it holds the car's private key: keep it offline.
 *
 * Restoring never loses a revocation: every revocation recorded in the car's audit log after
 * (or before) the backup was made is applied again to the restored state, and the advertising
 * secret is replaced if that changed anything, so a phone revoked since the backup stays locked out.
 */
import { copyFile, constants, existsSync } from 'node:fs';
import { open, readdir, rename } from 'node:fs/promises';
import { promisify } from 'node:util';
import { join } from 'node:path';
import { equalBytes } from '../bytes.js';
import { LocalError, StoreError } from '../errors.js';
import { vehicleStateFromJson, vehicleStateToJson, type AuditEntry, type VehicleState } from '../keys/state.js';
import { ensureDir, fsyncDir } from './atomic-file.js';
import { FileVehicleStore } from './file-stores.js';
import { readJsonDocument, writeJsonDocument } from './json-file.js';

const copy = promisify(copyFile);

/** Copy `<dir>/vehicle.json` to `file` (refuses to overwrite an existing file). */
export async function backupVehicleState(dir: string, file: string): Promise<{ keys: number }> {
  const store = new FileVehicleStore(dir);
  const state = await store.load(); // validates (checksum, schema) before copying
  if (!state) throw new LocalError('ERR_INVALID_STATE', `${dir}: no car here to back up`);
  await copy(store.statePath, file, constants.COPYFILE_EXCL);
  const fd = await open(file, 'r');
  try {
    await fd.sync(); // the copy itself is durable, not only its directory entry
  } finally {
    await fd.close();
  }
  await fsyncDir(join(file, '..'));
  return { keys: state.keys.length };
}

/** Options of `restoreVehicleState`: the randomness for re-applied revocations. */
export interface RestoreOptions {
  /** Fresh random bytes (the new advertising secret when a revocation is re-applied). */
  readonly random: (n: number) => Uint8Array;
  /** Replace an existing `vehicle.json` (default: refuse). */
  readonly force?: boolean;
}

/**
 * Restore `<dir>/vehicle.json` from `file` (validated first), re-applying the revocations of
 * the audit log in `dir`. Refuses to replace an existing state unless `force`.
 */
export async function restoreVehicleState(
  dir: string,
  file: string,
  options: RestoreOptions,
): Promise<{ keys: number; reapplied: string[]; unverified: boolean }> {
  const data = await readJsonDocument(file);
  if (data === undefined) throw new LocalError('ERR_INVALID_ARGUMENT', `${file}: no such backup file`);
  let state: VehicleState;
  try {
    state = vehicleStateFromJson(data);
  } catch (e) {
    throw new StoreError('ERR_STORE_CORRUPT', `${file}: not a car backup: ${(e as Error).message}`, { cause: e });
  }
  const store = new FileVehicleStore(dir);
  await ensureDir(dir);
  if (!options.force && (await readJsonDocument(store.statePath).catch(() => 'unreadable')) !== undefined)
    throw new LocalError('ERR_INVALID_STATE', `${store.statePath} exists: refusing to overwrite a car (pass force to replace it)`);
  const replaced = await replacedState(store.statePath);
  const same = sameCar(replaced, state);
  // Another car's records (a new SD card on which a new car was started) say nothing about this
  // one, and its revocations must not spread (a phone has one key id at every car): not read, and
  // moved aside before the write, so that no later restore reads them as this car's.
  const audit = same === false ? [] : await store.readAudit().catch((): AuditEntry[] => []); // the durable record is revocations.jsonl
  const recorded = same === false ? [] : [...(await store.readRevocations()), ...revocationsOf(replaced)];
  const { state: restored, reapplied } = reapplyRevocations(state, audit, options.random, recorded);
  // Nothing here records this car's revocations (or it cannot tell whose they are): one made
  // after the backup cannot be known.
  const unrecorded = !existsSync(store.revocationsPath) && audit.length === 0 && recorded.length === 0;
  const moved = same === false ? await moveRecordsAside(dir) : [];
  await writeJsonDocument(store.statePath, vehicleStateToJson(restored)).catch(async (e: unknown) => {
    await putBack(dir, moved); // the other car stays as it was, its records with it
    throw e;
  });
  return { keys: restored.keys.length, reapplied, unverified: same !== true || unrecorded };
}

/**
 * Whether the state a restore replaces is the backup's car: true, false (another car), or
 * undefined when it cannot tell — a car whose key lives in custody elsewhere keeps no identity in
 * its state. No replaced state: the directory's records are taken as this car's (true).
 */
function sameCar(replaced: VehicleState | undefined, backup: VehicleState): boolean | undefined {
  if (!replaced) return true;
  if (replaced.identity && backup.identity) return equalBytes(replaced.identity.secretKey, backup.identity.secretKey);
  if (replaced.identity || backup.identity) return false;
  return undefined;
}

/** Rename another car's logs (`revocations.jsonl`, `audit*.jsonl`) to `<name>.other-car-<ms>`, durably; returns the renames. */
async function moveRecordsAside(dir: string): Promise<(readonly [from: string, to: string])[]> {
  const stamp = Date.now();
  const moved: (readonly [from: string, to: string])[] = [];
  for (const name of await readdir(dir)) {
    if (!/^(revocations|audit(\.\d+)?)\.jsonl$/.test(name)) continue;
    const move = [join(dir, name), join(dir, `${name}.other-car-${stamp}`)] as const;
    await rename(...move);
    moved.push(move);
  }
  await fsyncDir(dir);
  return moved;
}

/** Undo `moveRecordsAside` (best effort: the restore's own failure is what is reported). */
async function putBack(dir: string, moved: readonly (readonly [from: string, to: string])[]): Promise<void> {
  for (const [from, to] of moved) await rename(to, from).catch(() => undefined);
  if (moved.length) await fsyncDir(dir).catch(() => undefined);
}

/** The state a forced restore replaces, if it is still readable (its revocations must survive). */
async function replacedState(path: string): Promise<VehicleState | undefined> {
  try {
    const data = await readJsonDocument(path);
    return data === undefined ? undefined : vehicleStateFromJson(data);
  } catch {
    return undefined;
  }
}

/** The revocations a state holds: its revoked keys and revoked grants. */
function revocationsOf(state: VehicleState | undefined): { keyId?: string; grantId?: string }[] {
  if (!state) return [];
  return [...state.keys.filter((k) => k.revoked).map((k) => ({ keyId: k.id })), ...state.revokedGrants.map((grantId) => ({ grantId }))];
}

/** Apply every `revoke` in the audit log (key ids and grant ids) to `state`. */
export function reapplyRevocations(
  state: VehicleState,
  audit: readonly AuditEntry[],
  random: (n: number) => Uint8Array,
  recorded: readonly { keyId?: string; grantId?: string }[] = [],
): { state: VehicleState; reapplied: string[] } {
  const targets = new Set<string>(recorded.flatMap((r) => [r.keyId, r.grantId].filter((t): t is string => typeof t === 'string')));
  for (const e of audit) {
    if (e.event !== 'revoke') continue;
    if (e.keyId) targets.add(e.keyId);
    const target = e.detail?.split(' ')[0]; // "<target> by <who>…"
    if (target && /^([0-9a-f]{16}|[0-9a-f]{32})$/.test(target)) targets.add(target);
  }
  const reapplied: string[] = [];
  const keys = state.keys.map((k) => {
    if (k.revoked || !(targets.has(k.id) || (k.grantId && targets.has(k.grantId)))) return k;
    reapplied.push(k.id);
    return Object.freeze({ ...k, revoked: true });
  });
  const grants = new Set(state.revokedGrants);
  const before = grants.size;
  for (const t of targets) if (t.length === 32) grants.add(t);
  for (const k of keys) if (k.revoked && k.grantId) grants.add(k.grantId);
  const revokedGrants = [...grants];
  if (reapplied.length === 0 && grants.size === before) return { state, reapplied };
  return { state: { ...state, keys, revokedGrants, advertisingSecret: random(32) }, reapplied };
}
