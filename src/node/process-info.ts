/** Facts about another process: whether it exists, and (Linux) the fields of its /proc stat line. */

/** Whether process `pid` exists: signal 0 reaches it, or it exists but is not ours to signal (EPERM). */
export function isProcessAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * The fields of a `/proc/<pid>/stat` (or `task/<tid>/stat`) line after the parenthesised command
 * name, which may hold spaces and parentheses: [0] is field 3 (state), [2] field 5 (pgrp),
 * [19] field 22 (start time, clock ticks since boot).
 */
export function procStatFields(stat: string): string[] {
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
}
