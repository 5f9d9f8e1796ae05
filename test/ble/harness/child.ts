/**
 * Child processes for the app-level BLE tests: spawn with stdout/stderr collected, or run one to
 * exit with a hard bound (SIGKILL after `timeoutMs`).
 */
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';

export interface Collected {
  readonly proc: ChildProcess;
  readonly exited: Promise<number | null>;
  /** stdout so far. */
  readonly out: string;
  /** stderr so far. */
  readonly err: string;
}

/** Spawn `node args…` (stdin piped, so a test can type into it) and collect its output. */
export function spawnNode(args: readonly string[], options: SpawnOptions = {}): Collected {
  const proc = spawn(process.execPath, args, { ...options, stdio: ['pipe', 'pipe', 'pipe'] });
  const c = { proc, out: '', err: '', exited: new Promise<number | null>((r) => proc.on('exit', (code) => r(code))) };
  proc.stdout.on('data', (d: Buffer) => (c.out += d.toString()));
  proc.stderr.on('data', (d: Buffer) => (c.err += d.toString()));
  return c;
}

/** Run `node args…` to exit (killed after `timeoutMs`): its exit code and output. */
export async function runNode(
  args: readonly string[],
  options: SpawnOptions = {},
  timeoutMs = 60_000,
): Promise<{ code: number | null; out: string; err: string }> {
  const c = spawnNode(args, options);
  c.proc.stdin!.end();
  const timer = setTimeout(() => c.proc.kill('SIGKILL'), timeoutMs);
  const code = await c.exited;
  clearTimeout(timer);
  return { code, out: c.out, err: c.err };
}
