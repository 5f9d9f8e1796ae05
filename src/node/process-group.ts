/**
 * A child process run as the leader of its own process group (POSIX `setsid`, Node's
 * `detached`), so that stopping it reaches whatever it started: SIGTERM to the whole group, SIGKILL
 * after a grace, done once no process of the group is left. Groups still running when this
 * process exits get SIGKILL (a car stopped with Ctrl-C leaves no action script behind; under
 * systemd the unit's cgroup is killed anyway). Windows has no process groups: there the child
 * alone is signalled.
 */
import type { ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { procStatFields } from './process-info.js';

const WINDOWS = process.platform === 'win32';
/** Spawn option: a new process group where there are groups. */
export const OWN_PROCESS_GROUP = { detached: !WINDOWS } as const;
/** After SIGKILL, how long to wait for the group to be gone before giving up on it (a process in uninterruptible sleep). */
const AFTER_KILL_MS = 5_000;
const POLL_MS = 50;

/** The groups being run: one set per process, however many copies of this module are loaded. */
const RUNNING = Symbol.for('proxkey.node.process-groups');
const holder = globalThis as { [RUNNING]?: Set<ChildProcess> };

/** Track `child` until it is stopped: it gets SIGKILL (its group) if this process exits first. The first one installs that exit hook. */
export function trackGroup(child: ChildProcess): void {
  let running = holder[RUNNING];
  if (!running) {
    const groups = (running = holder[RUNNING] = new Set());
    process.once('exit', () => {
      for (const c of groups) signalGroup(c, 'SIGKILL');
    });
  }
  running.add(child);
}

function signalGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined) return;
  try {
    if (WINDOWS) child.kill(signal);
    else process.kill(-child.pid, signal);
  } catch {
    // gone already (ESRCH), or not ours to signal (EPERM): groupAlive decides when it is over
  }
}

/** Whether any process of the child's group is left running (a group id is not reused while it has members). */
function groupAlive(child: ChildProcess): boolean {
  if (child.pid === undefined) return false;
  if (WINDOWS) return child.exitCode === null && child.signalCode === null;
  try {
    process.kill(-child.pid, 0);
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
  return process.platform !== 'linux' || hasLiveMember(child.pid);
}

/**
 * Linux: whether a process of group `pgid` is still running, not a zombie. A killed grandchild is
 * reparented to init and counts as a member until init reaps it, which a container's init may do
 * only every second or so.
 */
function hasLiveMember(pgid: number): boolean {
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return true; // no /proc to ask: the group exists
  }
  // Newest first: a group's members are recent, so a live group is found after a few reads.
  const pids = entries.filter((e) => /^\d+$/.test(e)).sort((x, y) => Number(y) - Number(x));
  for (const entry of pids) {
    let stat: string;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
    } catch {
      continue; // gone meanwhile
    }
    const { state, pgrp } = parseStat(stat);
    if (pgrp === pgid && (!DEAD.has(state) || hasLiveThread(entry))) return true;
  }
  return false;
}

/** States of a process that runs no more: zombie, dead (`X`, and `x` on kernels 2.6.33–3.13). */
const DEAD = new Set(['Z', 'X', 'x']);

/** `pid (comm) state ppid pgrp …`: the state and process group. */
function parseStat(stat: string): { state: string; pgrp: number } {
  const [state = '', , pgrp] = procStatFields(stat);
  return { state, pgrp: Number(pgrp) };
}

/** Whether a process whose main thread is dead still has a running thread (a leader that called pthread_exit). */
function hasLiveThread(pid: string): boolean {
  let tids: string[];
  try {
    tids = readdirSync(`/proc/${pid}/task`);
  } catch {
    return false; // gone meanwhile
  }
  return tids.some((tid) => {
    try {
      return !DEAD.has(parseStat(readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8')).state);
    } catch {
      return false;
    }
  });
}

/**
 * Stop the child's group: nothing to do if it is gone; else SIGTERM, and SIGKILL once `graceMs`
 * has passed. Resolves once no process of the group is left, or 5 s after SIGKILL whatever.
 */
export function stopGroup(child: ChildProcess, graceMs: number): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      holder[RUNNING]?.delete(child);
      resolve();
    };
    if (!groupAlive(child)) return done();
    signalGroup(child, 'SIGTERM');
    const since = performance.now();
    let killed = false;
    const poll = setInterval(() => {
      const elapsed = performance.now() - since;
      if (!groupAlive(child) || elapsed >= graceMs + AFTER_KILL_MS) {
        clearInterval(poll);
        return done();
      }
      if (!killed && elapsed >= graceMs) {
        killed = true;
        signalGroup(child, 'SIGKILL');
      }
    }, POLL_MS);
  });
}
