/**
 * One writer of a car's state directory at a time: the daemon holds `<stateDir>/lock` from before
 * it loads the state until after its last write; a `proxkey car …` command that edits the files
 * (no daemon answering) holds it while it does. Without it, a revocation made on the files while
 * the daemon was starting (its state already in memory, its control socket not yet open) would be
 * honoured by no one and undone by the daemon's next save.
 *
 * The lock is a file created exclusively (`O_EXCL`) holding the owner's pid and, on Linux, the boot
 * id. A lock whose process is gone, or which was taken before the last reboot (a Pi that lost
 * power: the same pid may be running something else now), is stale and taken over.
 */
import { closeSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { LocalError } from '../errors.js';
import { isProcessAlive } from './process-alive.js';

/** What holds the lock: shown to whoever finds it held. */
export type StateLockHolder = 'car daemon' | 'proxkey command';

/** A held lock; `release()` is idempotent and removes the file only while it is still ours. */
export interface StateLock {
  readonly path: string;
  release(): void;
}

interface LockContent {
  readonly pid: number;
  readonly holder: StateLockHolder;
  readonly bootId?: string;
}

export const stateLockPath = (dir: string) => join(dir, 'lock');

/** The lock is held by another live process (or, in this process, by another holder). */
export class StateLockHeldError extends LocalError {
  constructor(message: string) {
    super('ERR_INVALID_STATE', message);
    this.name = 'StateLockHeldError';
  }
}

/** Lock files this process holds (a test may run the daemon and a command in one process). */
const HELD = new Map<string, StateLockHolder>();

/** This boot's id (Linux), so that a lock from before a reboot is known stale whatever its pid. */
function bootId(): string | undefined {
  try {
    return readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim() || undefined;
  } catch {
    return undefined;
  }
}

/** The live owner of the lock at `path`, or undefined when there is none (no file, or a stale one). */
function liveOwner(path: string): LockContent | undefined {
  let content: Partial<LockContent>;
  try {
    content = JSON.parse(readFileSync(path, 'utf8')) as Partial<LockContent>;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    return undefined; // torn or garbage: its writer died mid-write
  }
  const ours = HELD.get(path);
  if (ours) return { pid: process.pid, holder: ours };
  const { pid, holder, bootId: theirBoot } = content;
  // Our own pid but not held by us: a lock from before a reboot (pids repeat from boot to boot).
  if (typeof pid !== 'number' || !Number.isInteger(pid) || pid <= 0 || pid === process.pid) return undefined;
  const ourBoot = bootId();
  if (ourBoot !== undefined && theirBoot !== undefined && ourBoot !== theirBoot) return undefined;
  return isProcessAlive(pid) ? { pid, holder: holder === 'car daemon' ? holder : 'proxkey command' } : undefined;
}

/** Create the lock file exclusively; false when it exists. */
function tryCreate(path: string, content: LockContent): boolean {
  let fd: number;
  try {
    fd = openSync(path, 'wx', 0o600);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw e;
  }
  try {
    writeSync(fd, JSON.stringify(content));
  } finally {
    closeSync(fd);
  }
  return true;
}

/**
 * Take the state lock of `dir` (which must exist), or throw `LocalError('ERR_INVALID_STATE')`
 * naming the live process that holds it.
 */
export function acquireStateLock(dir: string, holder: StateLockHolder): StateLock {
  const path = stateLockPath(dir);
  const boot = bootId();
  const content: LockContent = { pid: process.pid, holder, ...(boot !== undefined && { bootId: boot }) };
  for (let attempt = 0; attempt < 3; attempt++) {
    if (tryCreate(path, content)) return ownedLock(path, holder);
    const owner = liveOwner(path);
    if (owner)
      throw new StateLockHeldError(
        owner.holder === 'car daemon'
          ? `the car daemon (pid ${owner.pid}) holds ${dir} but does not answer on its control socket yet: it is starting or stopping, try again in a few seconds`
          : `another proxkey command (pid ${owner.pid}) is changing the car in ${dir}: try again when it has finished`,
      );
    try {
      unlinkSync(path); // stale: its owner is gone
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    }
  }
  throw new LocalError('ERR_INVALID_STATE', `could not take the lock of ${dir} (${path} keeps coming back): another process is starting on it`);
}

function ownedLock(path: string, holder: StateLockHolder): StateLock {
  let held = true;
  HELD.set(path, holder);
  return {
    path,
    release() {
      if (!held) return;
      held = false;
      HELD.delete(path);
      try {
        const content = JSON.parse(readFileSync(path, 'utf8')) as Partial<LockContent>;
        if (content.pid === process.pid) unlinkSync(path);
      } catch {
        // gone already
      }
    },
  };
}

/**
 * Take the state lock, waiting up to `waitMs` while another process holds it (a command's edit
 * takes milliseconds; a daemon's start-up seconds). Throws `StateLockHeldError` after that.
 */
export async function acquireStateLockWaiting(dir: string, holder: StateLockHolder, waitMs: number): Promise<StateLock> {
  const until = Date.now() + waitMs;
  for (;;) {
    try {
      return acquireStateLock(dir, holder);
    } catch (e) {
      if (!(e instanceof StateLockHeldError) || Date.now() >= until) throw e;
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
