/**
 * Parent side: run a role (car = bleno, phone = noble) in its own Node process (noble and bleno
 * are process-global), talk to it over IPC, stop it by PID.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { RpcError } from '../roles/rpc.js';

const TSX = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
const ROLES = fileURLToPath(new URL('../roles/', import.meta.url));

export type Impl = 'stoprocent' | 'abandonware';

/** A command failed in the role process: carries the typed error's name and code. */
export class RoleError extends Error {
  readonly code: string | undefined;
  readonly remoteName: string;
  constructor(role: string, cmd: string, e: RpcError) {
    super(`${role}.${cmd}: ${e.name}${e.code ? ` [${e.code}]` : ''}: ${e.message}`);
    this.code = e.code;
    this.remoteName = e.name;
  }
}

export interface RoleEvent {
  readonly event: string;
  readonly [k: string]: unknown;
}

export class RoleProcess {
  readonly role: string;
  readonly child: ChildProcess;
  /** Wall clock (ms) just before the process was forked. */
  readonly spawnedAt: number;
  readonly events: RoleEvent[] = [];
  #output = '';
  #nextId = 0;
  readonly #pending = new Map<number, { resolve: (v: any) => void; reject: (e: Error) => void; cmd: string }>();
  readonly #eventWaiters = new Set<() => void>();
  readonly exited: Promise<number | null>;

  private constructor(role: string, script: string, env: NodeJS.ProcessEnv) {
    this.role = role;
    this.spawnedAt = Date.now();
    this.child = fork(`${ROLES}${script}.ts`, [], {
      execArgv: ['--import', TSX],
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    });
    const keep = (d: Buffer) => {
      this.#output = (this.#output + d.toString()).slice(-8000);
    };
    this.child.stdout!.on('data', keep);
    this.child.stderr!.on('data', keep);
    this.child.on('message', (m: any) => {
      if (typeof m?.id === 'number') {
        const p = this.#pending.get(m.id);
        if (!p) return;
        this.#pending.delete(m.id);
        if (m.ok) p.resolve(m.result);
        else p.reject(new RoleError(this.role, p.cmd, m.error));
      } else if (m?.event) {
        this.events.push(m);
        for (const w of [...this.#eventWaiters]) w();
      }
    });
    this.exited = new Promise((resolve) =>
      this.child.once('exit', (code) => {
        for (const [, p] of this.#pending) p.reject(new Error(`${this.role} exited (code ${code}) during ${p.cmd}\n${this.#output}`));
        this.#pending.clear();
        for (const w of [...this.#eventWaiters]) w();
        resolve(code);
      }),
    );
  }

  /** Fork `roles/<script>.ts` and wait for its `ready` event. */
  static async start(role: string, script: 'car' | 'phone' | 'rn-phone', env: NodeJS.ProcessEnv, readyTimeoutMs = 15_000): Promise<RoleProcess> {
    const p = new RoleProcess(role, script, env);
    try {
      await p.waitEvent((e) => e.event === 'ready', readyTimeoutMs);
    } catch (err) {
      await p.stop();
      throw err;
    }
    return p;
  }

  get output(): string {
    return this.#output;
  }
  get alive(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Run a command in the role process; rejects with `RoleError` (typed error name + code). */
  call<T = any>(cmd: string, args: unknown = {}, timeoutMs = 30_000): Promise<T> {
    if (!this.alive) return Promise.reject(new Error(`${this.role} is not running`));
    const id = ++this.#nextId;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        reject(new Error(`${this.role}.${cmd}: no answer within ${timeoutMs} ms\n${this.#output}`));
      }, timeoutMs);
      this.#pending.set(id, {
        cmd,
        resolve: (v) => {
          clearTimeout(timer);
          resolve(v);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      });
      this.child.send({ id, cmd, args });
    });
  }

  /** The first event (already received or future) matching `pred`. */
  async waitEvent(pred: (e: RoleEvent) => boolean, timeoutMs = 15_000): Promise<RoleEvent> {
    return (await this.waitEvents(pred, 1, timeoutMs))[0]!;
  }

  /** Wait until `count` events (received or future) match `pred`; returns all matching. */
  waitEvents(pred: (e: RoleEvent) => boolean, count: number, timeoutMs = 15_000): Promise<RoleEvent[]> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const matching = this.events.filter(pred);
        if (matching.length >= count) return done(() => resolve(matching));
        if (!this.alive) return done(() => reject(new Error(`${this.role} exited before the awaited event\n${this.#output}`)));
      };
      const timer = setTimeout(
        () =>
          done(() =>
            reject(new Error(`${this.role}: saw ${this.events.filter(pred).length} of ${count} awaited events within ${timeoutMs} ms\n${this.#output}`)),
          ),
        timeoutMs,
      );
      const done = (f: () => void) => {
        clearTimeout(timer);
        this.#eventWaiters.delete(check);
        f();
      };
      this.#eventWaiters.add(check);
      check();
    });
  }

  /** SIGTERM (the role shuts its stack down), SIGKILL after `graceMs`. */
  async stop(graceMs = 4000): Promise<void> {
    if (!this.alive) return;
    this.child.kill('SIGTERM');
    const t = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
    await this.exited;
    clearTimeout(t);
  }
}
