/**
 * One writer of a car's state directory at a time: the daemon holds `<stateDir>/lock` from before
 * it loads the state until after its last write; a `proxkey car …` command that edits the files
 * (no daemon answering) holds it while it does. Without it, a revocation made on the files while
 * the daemon was starting (its state already in memory, its control socket not yet open) would be
 * honoured by no one and undone by the daemon's next save.
 *
 * The lock file holds its owner's pid, a random nonce and, on Linux, the boot id and the process's
 * start time. It is written to a temp file first and hard-linked into place, so it never exists
 * half-written. A lock whose process is gone — or was taken before the last reboot, or by an
 * earlier process with the same pid — is stale: one taker at a time (an exclusive breaker file,
 * itself judged like a lock) removes it, after checking it is still that stale lock, and links its own.
 */
import { randomBytes } from 'node:crypto';
import { linkSync, readFileSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { LocalError } from '../errors.js';
import { isProcessAlive, procStatFields } from './process-info.js';

/** What holds the lock: shown to whoever finds it held. */
export type StateLockHolder = 'car daemon' | 'proxkey command' | 'phone';

/** A held lock; `release()` is idempotent and removes the file only while it is still ours. */
export interface StateLock {
  readonly path: string;
  release(): void;
}

/** The lock is held by another live process (or, in this process, by another holder). */
export class StateLockHeldError extends LocalError {
  constructor(
    message: string,
    readonly holder: StateLockHolder,
  ) {
    super('ERR_INVALID_STATE', message);
    this.name = 'StateLockHeldError';
  }
}

interface LockContent {
  readonly pid: number;
  readonly holder: StateLockHolder;
  /** Absent in locks an earlier version wrote: those are judged by pid and boot id alone. */
  readonly nonce?: string;
  readonly bootId?: string;
  /** Linux: the process's start time (clock ticks since boot, /proc/<pid>/stat field 22). */
  readonly startedAt?: string;
}

export const stateLockPath = (dir: string) => join(dir, 'lock');

/** Lock files this process holds (a test may run the daemon and a command in one process). */
const HELD = new Map<string, LockContent>();

function readOr(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

const bootId = () => readOr('/proc/sys/kernel/random/boot_id')?.trim() || undefined;

/** Field 22 of /proc/<pid>/stat: the process's start time. */
function startTimeOf(pid: number): string | undefined {
  const stat = readOr(`/proc/${pid}/stat`);
  return stat === undefined ? undefined : procStatFields(stat)[19];
}

function parse(text: string | undefined): LockContent | undefined {
  try {
    const c = JSON.parse(text ?? '') as Partial<LockContent>;
    if (typeof c.pid !== 'number' || !Number.isInteger(c.pid) || c.pid <= 0) return undefined;
    const holder: StateLockHolder = c.holder === 'car daemon' || c.holder === 'phone' ? c.holder : 'proxkey command';
    return { pid: c.pid, holder, ...pickStrings(c) };
  } catch {
    return undefined;
  }
}

const pickStrings = (c: Partial<LockContent>) => ({
  ...(typeof c.nonce === 'string' && { nonce: c.nonce }),
  ...(typeof c.bootId === 'string' && { bootId: c.bootId }),
  ...(typeof c.startedAt === 'string' && { startedAt: c.startedAt }),
});

/** Whether the process that wrote `c` is still running (not a later one that got its pid). */
function isLive(path: string, c: LockContent): boolean {
  if (c.nonce !== undefined && HELD.get(path)?.nonce === c.nonce) return true;
  if (c.pid === process.pid) return false; // ours but not held by us: from before a reboot
  const boot = bootId();
  if (boot !== undefined && c.bootId !== undefined && boot !== c.bootId) return false;
  if (!isProcessAlive(c.pid)) return false;
  const started = c.startedAt === undefined ? undefined : startTimeOf(c.pid);
  return started === undefined || started === c.startedAt;
}

function heldError(dir: string, c: LockContent, acquirer: StateLockHolder): StateLockHeldError {
  if (c.holder === 'phone')
    return new StateLockHeldError(
      `another proxkey phone command (pid ${c.pid}) is changing the phone's state in ${dir}: try again when it has finished`,
      c.holder,
    );
  if (c.holder === 'proxkey command')
    return new StateLockHeldError(`another proxkey command (pid ${c.pid}) is changing the car in ${dir}: try again when it has finished`, c.holder);
  if (acquirer === 'car daemon')
    return new StateLockHeldError(`another car daemon (pid ${c.pid}) is running for ${dir}: stop it first (sudo systemctl stop proxkey-car)`, c.holder);
  return new StateLockHeldError(
    `the car daemon (pid ${c.pid}) holds ${dir} but does not answer on its control socket: it is starting or stopping, try again in a few seconds`,
    c.holder,
  );
}

/**
 * Link a complete file (`text`) into place at `path`; false when one is there. A file system
 * without hard links (FAT, exFAT: a state dir on a USB stick) gets an exclusive create instead,
 * written at once; a taker that reads it empty in between sees a lock younger than 3 s and
 * waits instead of breaking it.
 */
function tryLink(path: string, text: string): boolean {
  const temp = `${path}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
  writeFileSync(temp, text, { mode: 0o600 });
  try {
    linkSync(temp, path);
    return true;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') return false;
    if (code === 'EPERM' || code === 'ENOTSUP' || code === 'EOPNOTSUPP' || code === 'ENOSYS') return tryCreate(path, text);
    throw e;
  } finally {
    unlinkSync(temp);
  }
}

/** An unreadable lock younger than this is being written (see `tryCreate`), not stale (3 s: FAT keeps mtimes to 2 s). */
const FRESH_LOCK_MS = 3_000;

function modifiedWithin(path: string, ms: number): boolean {
  try {
    const age = Date.now() - statSync(path).mtimeMs;
    return age > -1_000 && age < ms; // an mtime well ahead of the clock (set back after a reboot) is not fresh
  } catch {
    return false;
  }
}

function tryCreate(path: string, text: string): boolean {
  try {
    writeFileSync(path, text, { mode: 0o600, flag: 'wx' });
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw e;
  }
}

/**
 * Remove the stale lock whose text is `stale`, under an exclusive breaker (`lock.break`, made and
 * judged the way a lock is): re-read under it, the lock is removed only if it is still that stale
 * one — a lock another process linked meanwhile is never touched. False when another live process
 * is breaking it right now (the caller tries again); a breaker whose process is gone is removed.
 */
function removeStale(path: string, stale: string, content: LockContent): boolean {
  const breaker = `${path}.break`;
  if (!tryLink(breaker, JSON.stringify(content))) {
    const text = readOr(breaker);
    if (text === undefined) return false; // released just now: try again
    const other = parse(text);
    if (!other || !isLive(breaker, other)) unlinkQuietly(breaker);
    return false;
  }
  try {
    if (readOr(path) === stale) unlinkQuietly(path);
  } finally {
    unlinkQuietly(breaker);
  }
  return true;
}

function unlinkQuietly(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // gone already
  }
}

/** Sleep `ms` synchronously (the lock is taken in one synchronous step; waits here are a few ms). */
const pause = (ms: number) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);

/**
 * Take the state lock of `dir` (which must exist; `name`: the lock file, `lock` for a car's
 * state directory), or throw `StateLockHeldError` naming the live process that holds it.
 */
export function acquireStateLock(dir: string, holder: StateLockHolder, name = 'lock'): StateLock {
  const path = join(dir, name);
  const boot = bootId();
  const started = startTimeOf(process.pid);
  const content: LockContent = {
    pid: process.pid,
    holder,
    nonce: randomBytes(8).toString('hex'),
    ...(boot !== undefined && { bootId: boot }),
    ...(started !== undefined && { startedAt: started }),
  };
  for (let attempt = 0; attempt < 50; attempt++) {
    if (tryLink(path, JSON.stringify(content))) return ownedLock(path, content);
    const text = readOr(path);
    if (text === undefined) continue; // released meanwhile
    const owner = parse(text);
    if (owner && isLive(path, owner)) throw heldError(dir, owner, holder);
    // Unreadable and just made: a taker without hard links between its create and its write.
    if (!owner && modifiedWithin(path, FRESH_LOCK_MS)) {
      pause(2);
      continue;
    }
    // Gone, an earlier boot or process, or not a lock at all: break it (or wait for whoever is).
    if (!removeStale(path, text, content)) pause(2);
  }
  throw new StateLockHeldError(`could not take the lock of ${dir}: another process is taking it right now, try again`, 'proxkey command');
}

function ownedLock(path: string, content: LockContent): StateLock {
  HELD.set(path, content);
  let held = true;
  return {
    path,
    release() {
      if (!held) return;
      held = false;
      HELD.delete(path);
      if (parse(readOr(path))?.nonce === content.nonce) unlinkSync(path);
    },
  };
}

/**
 * Take the state lock, waiting up to `waitMs` (monotonic clock) while a *command* holds it (its
 * edit takes milliseconds). Another daemon holding it is an error at once: two daemons cannot
 * serve one car.
 */
export async function acquireStateLockWaiting(dir: string, holder: StateLockHolder, waitMs: number, name = 'lock'): Promise<StateLock> {
  const until = performance.now() + waitMs;
  for (;;) {
    try {
      return acquireStateLock(dir, holder, name);
    } catch (e) {
      if (!(e instanceof StateLockHeldError) || e.holder === 'car daemon' || performance.now() >= until) throw e;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Run `work` holding the state lock of `dir`; the lock is released however it ends. */
export async function withStateLock<T>(dir: string, holder: StateLockHolder, work: () => Promise<T>): Promise<T> {
  const lock = acquireStateLock(dir, holder);
  try {
    return await work();
  } finally {
    lock.release();
  }
}
