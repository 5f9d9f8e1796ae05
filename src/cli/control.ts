/**
 * The running car's local control socket (`<stateDir>/control.sock`, mode 0600): lets
 * `proxkey car pair|keys|revoke|audit` act on a running daemon without touching its files
 * concurrently. One JSON request line per connection (at most 4 096 characters; anything after
 * its newline is ignored), answered exactly once with one JSON line.
 */
import { ProxkeyError } from '../errors.js';
import { chmodSync, existsSync, unlinkSync } from 'node:fs';
import { createConnection, createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { TimeoutError } from '../errors.js';

export type ControlRequest =
  | { readonly op: 'pair' }
  | { readonly op: 'keys' }
  | { readonly op: 'audit' }
  | { readonly op: 'revoke'; readonly target: string; readonly cascade?: boolean }
  | { readonly op: 'status' };
export type ControlHandler = (req: ControlRequest) => Promise<Record<string, unknown>>;

/** The longest request line the socket reads (the longest real one, a revoke, is under 100). */
const MAX_REQUEST_CHARS = 4_096;

export const controlPath = (dir: string) => join(dir, 'control.sock');

export function serveControl(dir: string, handler: ControlHandler): Server {
  const path = controlPath(dir);
  if (existsSync(path)) unlinkSync(path); // a stale socket from a crash
  const server = createServer((sock) => {
    let buf = '';
    sock.setTimeout(10_000, () => sock.destroy());
    const answerLine = async (line: string) => {
      let answer: Record<string, unknown>;
      try {
        answer = { ok: true, ...(await handler(JSON.parse(line) as ControlRequest)) };
      } catch (e) {
        // The error's stable code travels with it, so the CLI reports the same code as in-process.
        answer = { ok: false, error: (e as Error).message, ...(e instanceof ProxkeyError && { code: e.code }) };
      }
      sock.end(`${JSON.stringify(answer)}\n`);
    };
    let read = true;
    sock.on('data', (d) => {
      if (!read) return; // one request per connection: whatever follows its line is ignored
      buf += d.toString();
      const end = buf.indexOf('\n');
      if (end < 0 && buf.length <= MAX_REQUEST_CHARS) return;
      read = false;
      sock.pause();
      if (end >= 0) return void answerLine(buf.slice(0, end));
      const error = `request longer than ${MAX_REQUEST_CHARS} characters`;
      sock.end(`${JSON.stringify({ ok: false, error, code: 'ERR_INVALID_ARGUMENT' })}\n`);
    });
    sock.on('error', () => undefined);
  });
  server.listen(path, () => chmodSync(path, 0o600));
  return server;
}

/** Ask the running car; undefined when no car daemon is running for `dir`. */
export function askControl(dir: string, req: ControlRequest, timeoutMs = 15_000): Promise<Record<string, unknown> | undefined> {
  const path = controlPath(dir);
  if (!existsSync(path)) return Promise.resolve(undefined);
  return new Promise((resolve, reject) => {
    const sock = createConnection(path);
    let buf = '';
    const timer = setTimeout(() => {
      sock.destroy();
      reject(new TimeoutError('the car daemon', timeoutMs));
    }, timeoutMs);
    sock.on('connect', () => sock.write(`${JSON.stringify(req)}\n`));
    sock.on('data', (d) => (buf += d.toString()));
    sock.on('end', () => {
      clearTimeout(timer);
      try {
        resolve(JSON.parse(buf) as Record<string, unknown>);
      } catch {
        reject(new Error('the car daemon sent an invalid answer'));
      }
    });
    sock.on('error', (e: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      // ECONNREFUSED/ENOENT: a stale socket, no daemon.
      if (e.code === 'ECONNREFUSED' || e.code === 'ENOENT') resolve(undefined);
      else reject(e);
    });
  });
}
