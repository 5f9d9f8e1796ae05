/**
 * Root must not act on a car that belongs to the daemon's user: every file root writes there (an
 * atomic replace makes a new file) would be root's, and the daemon could no longer read its own
 * keys. Root is told to run the command as the owner instead.
 */
import { execFileSync } from 'node:child_process';
import { statSync } from 'node:fs';
import { LocalError } from '../errors.js';

function userName(uid: number): string {
  try {
    return execFileSync('id', ['-nu', String(uid)], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 5_000 }).trim() || String(uid);
  } catch {
    return String(uid);
  }
}

/** Throws when this process is root and `dir` (if it exists) belongs to another user. */
export function assertNotRootOnOthersCar(dir: string, command: string): void {
  if (process.getuid?.() !== 0) return;
  let owner: number;
  try {
    owner = statSync(dir).uid;
  } catch {
    return; // nothing there yet
  }
  if (owner === 0) return;
  const user = userName(owner);
  throw new LocalError(
    'ERR_INVALID_STATE',
    `the car in ${dir} belongs to user ${user}: run this as ${user} (sudo -u ${user} proxkey ${command} …); files root wrote there would lock the daemon out of its own keys`,
  );
}
