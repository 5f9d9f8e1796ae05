/**
 * A versioned, checksummed JSON document on disk:
 * `{"schema":1,"sha256":"<hex of the canonical data JSON>","data":{…}}`, written atomically.
 * Loading verifies the schema and the checksum: a corrupt file is a `StoreError` naming the file
 * and what to do, never an empty state.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { StoreError } from '../errors.js';
import { STATE_SCHEMA_VERSION } from '../keys/state.js';
import { removeStaleTemps, writeFileAtomic } from './atomic-file.js';

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

/** The document's data, or undefined when the file does not exist. */
export async function readJsonDocument(path: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
  const fail = (what: string): never => {
    throw new StoreError(
      'ERR_STORE_CORRUPT',
      `${path}: ${what}. The file was not modified; restore it from a backup or move it away to start over (this forgets every key).`,
    );
  };
  let doc: { schema?: unknown; sha256?: unknown; data?: unknown };
  try {
    doc = JSON.parse(text) as typeof doc;
  } catch {
    return fail('not valid JSON (truncated or overwritten)');
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) return fail('not a proxkey state file');
  if (typeof doc.schema !== 'number') return fail('no schema version');
  if (doc.schema > STATE_SCHEMA_VERSION)
    throw new StoreError('ERR_STORE_VERSION', `${path}: written by a newer proxkey (schema ${doc.schema}); upgrade proxkey to read it`);
  if (doc.schema !== STATE_SCHEMA_VERSION) return fail(`unknown schema ${doc.schema}`);
  if (!('data' in doc) || typeof doc.data !== 'object' || doc.data === null) return fail('no "data" object');
  if (typeof doc.sha256 !== 'string' || sha256(JSON.stringify(doc.data)) !== doc.sha256) return fail('checksum mismatch');
  return doc.data;
}

export async function writeJsonDocument(path: string, data: unknown): Promise<void> {
  const json = JSON.stringify(data);
  await writeFileAtomic(path, `${JSON.stringify({ schema: STATE_SCHEMA_VERSION, sha256: sha256(json), data: JSON.parse(json) as unknown })}\n`);
}

export { removeStaleTemps };
