/**
 * File-backed stores for Node (the car daemon, the CLI): `FileVehicleStore` keeps
 * `<dir>/vehicle.json` (atomic replace) and `<dir>/audit.jsonl` (durable append, one checksummed
 * JSON line per entry); `FilePhoneStore` keeps one JSON document. Files are mode 0600.
 *
 * Audit log recovery: a crash can leave only a torn *last* line (its append never completed, so it
 * was never acknowledged): it is ignored when reading and cut off before the next append. A
 * failed append (disk full) is cut off at once, so the car goes on logging. Any other bad line is
 * corruption (`StoreError`). The log is bounded: rotated by size into `audit.1.jsonl` … (default
 * 1 MiB × (1 + 4 kept files)); rotated files past the age limit are deleted.
 */
import { createHash } from 'node:crypto';
import { open, readFile, rename, rm, stat, truncate } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { StoreError } from '../errors.js';
import {
  auditEntryFromJson,
  phoneStateFromJson,
  phoneStateToJson,
  vehicleStateFromJson,
  vehicleStateToJson,
  type AuditEntry,
  type PhoneState,
  type VehicleState,
} from '../keys/state.js';
import type { PhoneStore, VehicleStore } from '../keys/store.js';
import { appendDurable, ensureDir, fsyncDir } from './atomic-file.js';
import { readJsonDocument, removeStaleTemps, writeJsonDocument } from './json-file.js';
import { acquireStateLockWaiting } from './state-lock.js';

const crc = (s: string) => createHash('sha256').update(s).digest('hex').slice(0, 16);

/** Options of {@link FileVehicleStore}: how its audit log is rotated and aged out. */
export interface FileVehicleStoreOptions {
  /** Rotate `audit.jsonl` once it reaches this size (bytes). Default 1 MiB. */
  readonly maxAuditBytes?: number;
  /** Rotated audit files kept (`audit.1.jsonl` newest … `audit.N.jsonl` oldest). Default 4. */
  readonly keepAuditFiles?: number;
  /** Rotated audit files older than this (ms, by modification time) are deleted at rotation. Default 365 days. */
  readonly maxAuditAgeMs?: number;
}

export const AUDIT_MAX_BYTES = 1024 * 1024;
export const AUDIT_KEEP_FILES = 4;
export const AUDIT_MAX_AGE_MS = 365 * 24 * 3600_000;

/** The car's state (`<dir>/vehicle.json`, atomic replace) and audit log (`<dir>/audit.jsonl`, durable checksummed append), for Node. */
export class FileVehicleStore implements VehicleStore {
  readonly statePath: string;
  readonly auditPath: string;
  readonly revocationsPath: string;
  readonly #limits: Required<FileVehicleStoreOptions>;
  #auditChecked = false;
  #lastSaved: VehicleState | undefined;

  constructor(
    readonly dir: string,
    options: FileVehicleStoreOptions = {},
  ) {
    this.statePath = join(dir, 'vehicle.json');
    this.auditPath = join(dir, 'audit.jsonl');
    this.revocationsPath = join(dir, 'revocations.jsonl');
    this.#limits = {
      maxAuditBytes: options.maxAuditBytes ?? AUDIT_MAX_BYTES,
      keepAuditFiles: options.keepAuditFiles ?? AUDIT_KEEP_FILES,
      maxAuditAgeMs: options.maxAuditAgeMs ?? AUDIT_MAX_AGE_MS,
    };
  }

  /**
   * The saved state, or undefined for a directory with no car at all. A missing `vehicle.json`
   * next to an audit log is not a new car but a lost one: `StoreError('ERR_STORE_MISSING')`.
   */
  async load(): Promise<VehicleState | undefined> {
    await ensureDir(this.dir);
    await removeStaleTemps(this.statePath);
    const data = await readJsonDocument(this.statePath);
    if (data === undefined) {
      if (await this.#hasAuditTraces())
        throw new StoreError(
          'ERR_STORE_MISSING',
          `${this.statePath} is missing, but its audit log or revocations.jsonl shows this directory held a car: refusing to create a new car ` +
            `(every paired phone would be locked out). Restore the state from a backup (\`proxkey car restore BACKUP --dir ${this.dir}\`), ` +
            `or move the audit log away to start a new car on purpose.`,
        );
      return undefined;
    }
    try {
      this.#lastSaved = vehicleStateFromJson(data);
      return this.#lastSaved;
    } catch (e) {
      throw new StoreError('ERR_STORE_CORRUPT', `${this.statePath}: ${(e as Error).message}`, { cause: e });
    }
  }

  /**
   * Save atomically. Revocations the new state adds are first appended (fsync'd) to
   * `revocations.jsonl`, which is never rotated: a restore from an older backup re-applies them.
   */
  async save(state: VehicleState): Promise<void> {
    await ensureDir(this.dir);
    const before = this.#lastSaved ?? (await this.load().catch(() => undefined));
    const added = newRevocations(before, state);
    if (added.length) {
      await repairTornTail(this.revocationsPath); // a power loss mid-append must not glue the next line onto a fragment
      await appendDurableOrRestore(this.revocationsPath, added.map((r) => checksummedLine(JSON.stringify(r))).join(''));
    }
    await writeJsonDocument(this.statePath, vehicleStateToJson(state));
    this.#lastSaved = state;
  }

  /** Every key and grant id ever revoked here, from `revocations.jsonl` (oldest first). */
  async readRevocations(): Promise<{ keyId?: string; grantId?: string }[]> {
    const ifCorrupt = 'repair that line, never delete the file: it is the durable record of every revocation';
    return (await readChecksummedLines(this.revocationsPath, ifCorrupt)).map((j) => JSON.parse(j) as { keyId?: string; grantId?: string });
  }

  /**
   * Append one entry durably. A failed append (disk full, I/O error) leaves the file as it was:
   * the partial line is cut off again before the error is reported. Rotates by size first.
   */
  async appendAudit(entry: AuditEntry): Promise<void> {
    if (!this.#auditChecked) {
      await repairTornTail(this.auditPath);
      this.#auditChecked = true;
    }
    const line = checksummedLine(JSON.stringify(entry));
    const size = await fileSize(this.auditPath);
    if (size > 0 && size + Buffer.byteLength(line) > this.#limits.maxAuditBytes) await this.#rotate();
    await appendDurableOrRestore(this.auditPath, line);
  }

  /** Every entry still kept, oldest first (rotated files, then the current one). */
  async readAudit(): Promise<AuditEntry[]> {
    const entries: AuditEntry[] = [];
    for (let i = this.#limits.keepAuditFiles; i >= 1; i--) entries.push(...(await readAuditFile(this.#rotated(i))));
    entries.push(...(await readAuditFile(this.auditPath)));
    return entries;
  }

  #rotated(i: number): string {
    return join(this.dir, `audit.${i}.jsonl`);
  }

  async #hasAuditTraces(): Promise<boolean> {
    for (const p of [this.auditPath, this.#rotated(1), this.revocationsPath]) if (await exists(p)) return true;
    return false;
  }

  /** audit.jsonl → audit.1.jsonl → … ; the oldest beyond `keepAuditFiles` (or `maxAuditAgeMs`) goes. */
  async #rotate(): Promise<void> {
    const { keepAuditFiles, maxAuditAgeMs } = this.#limits;
    await rm(this.#rotated(keepAuditFiles), { force: true });
    for (let i = keepAuditFiles - 1; i >= 1; i--) await rename(this.#rotated(i), this.#rotated(i + 1)).catch(ignoreMissing);
    await rename(this.auditPath, this.#rotated(1));
    // Age relative to the newest entry's file, not the wall clock: a clock that jumps ahead never deletes history.
    const newest = (await stat(this.#rotated(1)).catch(() => undefined))?.mtimeMs ?? 0;
    const cutoff = newest - maxAuditAgeMs;
    for (let i = 2; i <= keepAuditFiles; i++) {
      const st = await stat(this.#rotated(i)).catch(() => undefined);
      if (st && st.mtimeMs < cutoff) await rm(this.#rotated(i), { force: true });
    }
    await fsyncDir(this.dir);
  }
}

/**
 * Cut off a torn last line (an append a crash interrupted: no newline yet) before appending to a
 * checksummed log. Nothing before it is parsed: an old bad line never blocks a new entry (a
 * revocation must always be recordable).
 */
async function repairTornTail(path: string): Promise<void> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw e;
  }
  if (bytes.length === 0 || bytes[bytes.length - 1] === 0x0a) return;
  await truncateDurable(path, bytes.lastIndexOf(0x0a) + 1);
}

/**
 * The record inside a line that a crash tore and the next append completed (logs written before
 * torn tails were cut off): a fragment, then a whole `crc json` record. Undefined when there is none.
 */
function gluedRecord(line: string): string | undefined {
  for (const m of line.matchAll(/[0-9a-f]{16} /g)) {
    if (m.index === 0) continue;
    const json = line.slice(m.index + 17);
    if (crc(json) === m[0].slice(0, 16)) return json;
  }
  return undefined;
}

/** `crc ‖ ' ' ‖ json ‖ '\n'`: one line of the car's append-only logs. */
function checksummedLine(json: string): string {
  return `${crc(json)} ${json}\n`;
}

/**
 * The JSON of each checksummed line of a log file; a torn last line (an append that never
 * completed) is ignored, a torn line completed by the next append gives the record after the
 * fragment, any other bad line is corruption (`StoreError`).
 */
async function readChecksummedLines(path: string, ifCorrupt = 'move it away to start a new one'): Promise<string[]> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw e;
  }
  const raw = text.split('\n');
  raw.pop(); // '' when the file ends with a newline, else the torn last line
  const lines: string[] = [];
  for (const [i, line] of raw.entries()) {
    const sp = line.indexOf(' ');
    const whole = sp === 16 && crc(line.slice(17)) === line.slice(0, 16);
    const json = whole ? line.slice(17) : gluedRecord(line);
    if (json === undefined) throw new StoreError('ERR_STORE_CORRUPT', `${path}: line ${i + 1} is corrupt; the log was not modified (${ifCorrupt})`);
    lines.push(json);
  }
  return lines;
}

/** Entries of one audit file (see `readChecksummedLines`). */
async function readAuditFile(path: string): Promise<AuditEntry[]> {
  const lines = await readChecksummedLines(path);
  const entries = lines.map((json, i) => {
    try {
      return auditEntryFromJson(JSON.parse(json));
    } catch {
      throw new StoreError('ERR_STORE_CORRUPT', `${path}: line ${i + 1} is not an audit entry; the log was not modified (move it away to start a new one)`);
    }
  });
  return entries;
}

/** Keys and grants `after` revokes that `before` did not. */
function newRevocations(before: VehicleState | undefined, after: VehicleState): { keyId?: string; grantId?: string }[] {
  const keys = new Set(before?.keys.filter((k) => k.revoked).map((k) => k.id));
  const grants = new Set(before?.revokedGrants);
  return [
    ...after.keys.filter((k) => k.revoked && !keys.has(k.id)).map((k) => ({ keyId: k.id })),
    ...after.revokedGrants.filter((g) => !grants.has(g)).map((g) => ({ grantId: g })),
  ];
}

/** Size in bytes, or -1 when the file does not exist. */
async function fileSize(path: string): Promise<number> {
  try {
    return (await stat(path)).size;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return -1;
    throw e;
  }
}

async function exists(path: string): Promise<boolean> {
  return (await fileSize(path)) >= 0;
}

function ignoreMissing(e: unknown): void {
  if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
}

/** Cut a file back to `length` bytes and make that durable. */
async function truncateDurable(path: string, length: number): Promise<void> {
  await truncate(path, length);
  const fd = await open(path, 'r+');
  try {
    await fd.sync();
  } finally {
    await fd.close();
  }
}

/** Append durably; on failure cut the file back to its previous size, then rethrow. */
async function appendDurableOrRestore(path: string, line: string): Promise<void> {
  const before = Math.max(0, await fileSize(path));
  try {
    await appendDurable(path, line);
  } catch (e) {
    await truncateDurable(path, before).catch(() => undefined);
    throw e;
  }
}

/** The phone's state in one JSON file (atomic replace, mode 0600), for Node. */
export class FilePhoneStore implements PhoneStore {
  constructor(readonly path: string) {}

  async load(): Promise<PhoneState | undefined> {
    await removeStaleTemps(this.path);
    const data = await readJsonDocument(this.path);
    if (data === undefined) return undefined;
    try {
      return phoneStateFromJson(data);
    } catch (e) {
      throw new StoreError('ERR_STORE_CORRUPT', `${this.path}: ${(e as Error).message}`, { cause: e });
    }
  }

  async save(state: PhoneState): Promise<void> {
    await ensureDir(join(this.path, '..'));
    await writeJsonDocument(this.path, phoneStateToJson(state));
  }

  /**
   * Run `work` holding `<file>.lock` beside the file (waiting up to 5 s for another proxkey
   * process that holds it; a dead holder's lock is broken): two phone commands on one state never
   * save over each other's change.
   */
  async exclusive<T>(work: () => Promise<T>): Promise<T> {
    const dir = dirname(this.path);
    await ensureDir(dir);
    const lock = await acquireStateLockWaiting(dir, 'phone', PHONE_LOCK_WAIT_MS, `${basename(this.path)}.lock`);
    try {
      return await work();
    } finally {
      lock.release();
    }
  }
}

/** How long a phone command waits for another that is changing the same phone state. */
const PHONE_LOCK_WAIT_MS = 5_000;
