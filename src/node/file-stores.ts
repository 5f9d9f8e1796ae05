/**
 * File-backed stores for Node (the car daemon, the CLI): `FileVehicleStore` keeps
 * `<dir>/vehicle.json` (atomic replace) and `<dir>/audit.jsonl` (durable append, one checksummed
 * JSON line per entry); `FilePhoneStore` keeps one JSON document. Files are mode 0600.
 *
 * Audit log recovery: a crash can leave only a torn *last* line (its append never completed, so it
 * was never acknowledged): it is ignored when reading and cut off before the next append. Any
 * other bad line is corruption (`StoreError`).
 */
import { createHash } from 'node:crypto';
import { open, readFile, truncate } from 'node:fs/promises';
import { join } from 'node:path';
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
import { appendDurable, ensureDir } from './atomic-file.js';
import { readJsonDocument, removeStaleTemps, writeJsonDocument } from './json-file.js';

const crc = (s: string) => createHash('sha256').update(s).digest('hex').slice(0, 16);

export class FileVehicleStore implements VehicleStore {
  readonly statePath: string;
  readonly auditPath: string;
  #auditChecked = false;

  constructor(readonly dir: string) {
    this.statePath = join(dir, 'vehicle.json');
    this.auditPath = join(dir, 'audit.jsonl');
  }

  async load(): Promise<VehicleState | undefined> {
    await ensureDir(this.dir);
    await removeStaleTemps(this.statePath);
    const data = await readJsonDocument(this.statePath);
    if (data === undefined) return undefined;
    try {
      return vehicleStateFromJson(data);
    } catch (e) {
      throw new StoreError('ERR_STORE_CORRUPT', `${this.statePath}: ${(e as Error).message}`, { cause: e });
    }
  }

  async save(state: VehicleState): Promise<void> {
    await ensureDir(this.dir);
    await writeJsonDocument(this.statePath, vehicleStateToJson(state));
  }

  async appendAudit(entry: AuditEntry): Promise<void> {
    if (!this.#auditChecked) {
      await this.#repairTornTail();
      this.#auditChecked = true;
    }
    const json = JSON.stringify(entry);
    await appendDurable(this.auditPath, `${crc(json)} ${json}\n`);
  }

  async readAudit(): Promise<AuditEntry[]> {
    return (await this.#readAudit()).entries;
  }

  async #readAudit(): Promise<{ entries: AuditEntry[]; goodBytes: number; torn: boolean }> {
    let text: string;
    try {
      text = await readFile(this.auditPath, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { entries: [], goodBytes: 0, torn: false };
      throw e;
    }
    const lines = text.split('\n');
    const last = lines.pop()!; // '' when the file ends with a newline
    const entries: AuditEntry[] = [];
    let goodBytes = 0;
    for (const [i, line] of lines.entries()) {
      const sp = line.indexOf(' ');
      const json = line.slice(sp + 1);
      let entry: AuditEntry | undefined;
      try {
        if (sp === 16 && crc(json) === line.slice(0, 16)) entry = auditEntryFromJson(JSON.parse(json));
      } catch {
        entry = undefined;
      }
      if (!entry)
        throw new StoreError('ERR_STORE_CORRUPT', `${this.auditPath}: line ${i + 1} is corrupt; the log was not modified (move it away to start a new one)`);
      entries.push(entry);
      goodBytes += Buffer.byteLength(line) + 1;
    }
    return { entries, goodBytes, torn: last.length > 0 };
  }

  async #repairTornTail(): Promise<void> {
    const { goodBytes, torn } = await this.#readAudit();
    if (!torn) return;
    await truncate(this.auditPath, goodBytes);
    const fd = await open(this.auditPath, 'r+');
    try {
      await fd.sync();
    } finally {
      await fd.close();
    }
  }
}

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
}
