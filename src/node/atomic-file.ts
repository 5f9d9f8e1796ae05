/**
 * Crash-safe file primitives (POSIX): atomic replace and durable append.
 *
 * Atomic replace: write a temp file in the same directory (mode 0600), fsync it, rename it over
 * the target, fsync the directory. After a crash at any instant the target holds the old or the
 * new content, never a mix; once `writeFileAtomic` resolves, the new content survives power loss.
 */
import { constants } from 'node:fs';
import { open, rename, unlink, mkdir, readdir, stat } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import { isProcessAlive } from './process-info.js';

const MODE = 0o600;

export async function fsyncDir(dir: string): Promise<void> {
  const fd = await open(dir, constants.O_RDONLY);
  try {
    await fd.sync();
  } finally {
    await fd.close();
  }
}

/**
 * Create `dir` (0700) and any missing parents, each made durable: the parent of every directory
 * created is fsync'd, so the files written into it next are not lost with its entry on power loss.
 */
export async function ensureDir(dir: string): Promise<void> {
  const first = await mkdir(dir, { recursive: true, mode: 0o700 });
  if (first === undefined) return; // it existed
  const created: string[] = [];
  for (let d = resolve(dir); d !== dirname(first) && d !== dirname(d); d = dirname(d)) created.push(d);
  for (const d of created) await fsyncDir(dirname(d)).catch(() => undefined); // best effort where fsync of a directory is unsupported
}

/**
 * Replace `path` with `data` atomically and durably (temp file, fsync, rename, fsync of the directory; mode 0600).
 * @throws the file system's error (the temp file is removed); the target then still holds its old content.
 */
export async function writeFileAtomic(path: string, data: Uint8Array | string): Promise<void> {
  const dir = dirname(path);
  const tmp = join(dir, `.${basename(path)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  const fd = await open(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, MODE);
  try {
    await fd.writeFile(data);
    await fd.sync();
  } catch (e) {
    await fd.close().catch(() => undefined);
    await unlink(tmp).catch(() => undefined);
    throw e;
  }
  await fd.close();
  await rename(tmp, path);
  await fsyncDir(dir);
}

/** Append bytes and fsync before resolving (the file is created 0600 if missing). */
export async function appendDurable(path: string, data: Uint8Array | string): Promise<void> {
  const fd = await open(path, constants.O_WRONLY | constants.O_CREAT | constants.O_APPEND, MODE);
  try {
    await fd.writeFile(data);
    await fd.sync();
  } finally {
    await fd.close();
  }
}

/** A temp file older than this is stale whoever wrote it: a write takes milliseconds. */
const STALE_TEMP_MS = 10 * 60_000;

/**
 * Remove temp files a crash left behind (they never replaced anything): those of a process that
 * is gone, and any older than 10 minutes. A live writer's temp (another process, or this one
 * saving meanwhile: `car backup` runs beside the daemon) is left alone.
 */
export async function removeStaleTemps(path: string): Promise<void> {
  const dir = dirname(path);
  const prefix = `.${basename(path)}.`;
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return;
  }
  const temps = names.filter((n) => n.startsWith(prefix) && n.endsWith('.tmp'));
  await Promise.all(
    temps.map(async (name) => {
      const file = join(dir, name);
      const writer = Number(name.slice(prefix.length).split('.')[0]);
      if (isProcessAlive(writer) && !(await olderThan(file, STALE_TEMP_MS))) return;
      await unlink(file).catch(() => undefined);
    }),
  );
}

async function olderThan(file: string, ms: number): Promise<boolean> {
  try {
    return Date.now() - (await stat(file)).mtimeMs > ms;
  } catch {
    return false; // gone meanwhile: nothing to remove
  }
}
