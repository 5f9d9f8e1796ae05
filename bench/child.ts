/** A benchmark's child process (a tsx script of bench/) talking in lines: its `line(prefix)` resolves with the first line not yet read that starts with `prefix`. */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

const TSX = join(import.meta.dirname, '../node_modules/.bin/tsx');

export interface BenchChild {
  readonly proc: ChildProcess;
  line(prefix: string): Promise<string>;
  /** Write one line to the child's stdin. */
  send(line: string): void;
}

/** Start `script` (a path under bench/) with `args`; its stderr goes to ours. */
export function child(script: string, args: readonly string[]): BenchChild {
  const proc = spawn(TSX, [join(import.meta.dirname, script), ...args], { stdio: ['pipe', 'pipe', 'inherit'] });
  const waiting: { prefix: string; resolve: (l: string) => void; reject: (e: Error) => void }[] = [];
  const unread: string[] = []; // lines no one waited for yet (a child may answer before we ask)
  createInterface({ input: proc.stdout }).on('line', (l) => {
    const i = waiting.findIndex((w) => l.startsWith(w.prefix));
    if (i >= 0) waiting.splice(i, 1)[0]!.resolve(l);
    else unread.push(l);
  });
  proc.on('exit', (code) => {
    for (const w of waiting.splice(0)) w.reject(new Error(`bench: ${script} exited (${code}) before printing "${w.prefix}"`));
  });
  return {
    proc,
    line: (prefix) => {
      const i = unread.findIndex((l) => l.startsWith(prefix));
      if (i >= 0) return Promise.resolve(unread.splice(i, 1)[0]!);
      return new Promise((resolve, reject) => waiting.push({ prefix, resolve, reject }));
    },
    send: (l) => void proc.stdin.write(`${l}\n`),
  };
}
