/** A process contending for a car's state lock at an agreed instant (test/cli/state-lock.test.ts): prints `got` or `held`. */
import { acquireStateLock } from '../../src/node/state-lock.js';

const [dir, startAt] = [process.argv[2]!, Number(process.argv[3])];
while (Date.now() < startAt) {
  // spin: every contender tries at the same instant
}
try {
  const lock = acquireStateLock(dir, 'proxkey command');
  process.stdout.write('got\n');
  setTimeout(() => lock.release(), 800);
} catch {
  process.stdout.write('held\n');
}
