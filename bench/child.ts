/** A benchmark's child process (a tsx script of bench/) talking in lines: its `line(prefix)` resolves with the first line not yet read that starts with `prefix`. */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

const TSX = join(import.meta.dirname, '../node_modules/.bin/tsx');
/** No benchmark child takes this long to print a line it was asked for. */
const LINE_TIMEOUT_MS = 120_000;

export interface BenchChild {
  readonly proc: ChildProcess;
  /** The next unread line starting with `prefix`; rejects if the child has ended (or ends) without one, or after 2 min. */
  line(prefix: string): Promise<string>;
  /** Write one line to the child's stdin (nothing once it has ended). */
  send(line: string): void;
}

/** Start `script` (a path under bench/) with `args`; its stderr goes to ours. */
export function child(script: string, args: readonly string[]): BenchChild {
  const proc = spawn(TSX, [join(import.meta.dirname, script), ...args], { stdio: ['pipe', 'pipe', 'inherit'] });
  const waiting: { prefix: string; resolve: (l: string) => void; reject: (e: Error) => void }[] = [];
  const unread: string[] = []; // lines no one waited for yet (a child may answer before we ask)
  let ended: Error | undefined;
  createInterface({ input: proc.stdout }).on('line', (l) => {
    const i = waiting.findIndex((w) => l.startsWith(w.prefix));
    if (i >= 0) waiting.splice(i, 1)[0]!.resolve(l);
    else unread.push(l);
  });
  proc.stdin.on('error', () => undefined); // a child that died: its 'close' reports it
  // 'close': the child has exited and every line it printed has been read.
  proc.on('close', (code, signal) => {
    ended = new Error(`bench: ${script} ${args.join(' ')} ended (${signal ?? code})`);
    for (const w of waiting.splice(0)) w.reject(new Error(`${ended.message} before printing "${w.prefix}"`));
  });
  const line = (prefix: string) => {
    const i = unread.findIndex((l) => l.startsWith(prefix));
    if (i >= 0) return Promise.resolve(unread.splice(i, 1)[0]!);
    if (ended) return Promise.reject(new Error(`${ended.message} before printing "${prefix}"`));
    return new Promise<string>((resolve, reject) => {
      const done =
        <T>(f: (x: T) => void) =>
        (x: T) => (clearTimeout(timer), f(x));
      const waiter = { prefix, resolve: done(resolve), reject: done(reject) };
      const timer = setTimeout(() => {
        waiting.splice(waiting.indexOf(waiter), 1); // a line printed later stays unread, for whoever asks next
        reject(new Error(`bench: ${script} printed no "${prefix}" in ${LINE_TIMEOUT_MS} ms`));
      }, LINE_TIMEOUT_MS);
      waiting.push(waiter);
    });
  };
  return {
    proc,
    line,
    send: (l) => {
      if (!ended && proc.stdin.writable) proc.stdin.write(`${l}\n`);
    },
  };
}
