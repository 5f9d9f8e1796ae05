/**
 * The BLE test bench: BlueZ's emulated controller (`btvirt`) with virtual controllers bridged to
 * ptys by `socat`, so the real noble and bleno stacks talk HCI over a "serial dongle" on a
 * machine without Bluetooth.
 *
 *   btvirt -s            unix socket /tmp/bt-server-bredrle; each client = one new controller,
 *     │                  all on one emulated radio
 *     ├── socat pty,link=<dir>/hci-phone  ⇄  UNIX-CONNECT  ← noble (UART HCI driver)
 *     └── socat pty,link=<dir>/hci-car    ⇄  UNIX-CONNECT  ← bleno
 *
 * - Kernels without AF_ALG make stock btvirt drop every client at once; an LD_PRELOAD shim built
 *   here with gcc fakes those sockets (only LE encryption/RPA generation then fail, unused).
 * - Stock btvirt listens on fixed /tmp paths: one emulator per machine. A machine-wide lock (a
 *   unix socket we listen on; it dies with the process, so it never goes stale) serializes runs.
 * - Everything started is wrapped in `timeout` (so nothing outlives a crashed run for long) and
 *   stopped by PID, in reverse order; the temp dir with the pty links is removed.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants, existsSync, mkdtempSync, openSync, closeSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { connect, createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';

const SOCKET_DIR = '/tmp'; // stock btvirt hard-codes it
const SERVER = join(SOCKET_DIR, 'bt-server-bredrle');
const ALL_SOCKETS = ['bredrle', 'bredr', 'amp', 'le', 'mon'].map((s) => join(SOCKET_DIR, `bt-server-${s}`));
const LOCK = join(tmpdir(), 'proxkey-btvirt.lock');
/** Upper bound on the life of anything we start (seconds), in case the test process dies. */
const MAX_LIFETIME_S = 900;

/** Find an executable on PATH (no shell). */
export function which(cmd: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    const p = join(dir, cmd);
    try {
      accessSync(p, constants.X_OK);
      return p;
    } catch {
      /* next */
    }
  }
  return undefined;
}

/** Which of the tools the bench needs are missing (empty: ready). */
export function missingTools(): string[] {
  const need: [string, string][] = [
    ['btvirt', 'btvirt (Debian/Ubuntu: apt-get install bluez-test-tools)'],
    ['socat', 'socat (apt-get install socat)'],
    ['gcc', 'gcc (apt-get install gcc; builds the AF_ALG shim for btvirt)'],
    ['timeout', 'timeout (coreutils)'],
  ];
  if (process.platform !== 'linux') return ['Linux (btvirt is Linux-only)'];
  return need.filter(([c]) => !which(c)).map(([, what]) => what);
}

const SHIM_C = `#define _GNU_SOURCE
#include <dlfcn.h>
#include <fcntl.h>
#include <sys/socket.h>
#ifndef AF_ALG
#define AF_ALG 38
#endif
/* btvirt needs AF_ALG (kernel crypto) sockets for every LE controller; fake them on /dev/null */
int socket(int domain, int type, int protocol) {
  static int (*real_socket)(int, int, int);
  if (!real_socket) real_socket = (int (*)(int, int, int))dlsym(RTLD_NEXT, "socket");
  if (domain == AF_ALG) {
    int fd = real_socket(domain, type, protocol);
    return fd >= 0 ? fd : open("/dev/null", O_RDWR | O_CLOEXEC);
  }
  return real_socket(domain, type, protocol);
}
int bind(int fd, const struct sockaddr *addr, socklen_t len) {
  static int (*real_bind)(int, const struct sockaddr *, socklen_t);
  if (!real_bind) real_bind = (int (*)(int, const struct sockaddr *, socklen_t))dlsym(RTLD_NEXT, "bind");
  int r = real_bind(fd, addr, len);
  if (r < 0 && addr && addr->sa_family == AF_ALG) return 0;
  return r;
}
`;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function waitFor(what: string, ms: number, ok: () => boolean, alive?: () => boolean): Promise<void> {
  const end = Date.now() + ms;
  while (!ok()) {
    if (alive && !alive()) throw new Error(`${what}: process exited early`);
    if (Date.now() > end) throw new Error(`${what}: not ready after ${ms} ms`);
    await sleep(10);
  }
}

/** Connects to a unix socket; resolves true when something listens there. */
function listening(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(path);
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

/** Machine-wide mutex: listen on a unix socket path; a dead holder leaves a stale path we reclaim. */
async function acquireLock(timeoutMs: number): Promise<Server> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const server = createServer();
    const ok = await new Promise<boolean>((resolve) => {
      server.once('error', () => resolve(false));
      server.listen(LOCK, () => resolve(true));
    });
    if (ok) {
      server.unref();
      return server;
    }
    server.close();
    if (!(await listening(LOCK))) {
      try {
        unlinkSync(LOCK); // stale: its holder died
      } catch {
        /* raced with another reclaimer */
      }
      continue;
    }
    if (Date.now() > end) throw new Error(`another BLE emulator run holds ${LOCK} (waited ${timeoutMs} ms)`);
    await sleep(200);
  }
}

/** Send HCI_Reset to a fresh controller; a working one answers Command Complete. */
function probe(timeoutMs = 3000): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = connect(SERVER);
    let got = Buffer.alloc(0);
    const timer = setTimeout(() => finish(new Error(`no answer to HCI_Reset within ${timeoutMs} ms (got ${got.toString('hex') || 'nothing'})`)), timeoutMs);
    const finish = (err?: Error) => {
      clearTimeout(timer);
      s.destroy();
      if (err) reject(err);
      else resolve(got.toString('hex'));
    };
    s.once('connect', () => s.write(Buffer.from([0x01, 0x03, 0x0c, 0x00])));
    s.on('data', (d) => {
      got = Buffer.concat([got, d]);
      if (got.includes(Buffer.from([0x04, 0x0e, 0x04, 0x01, 0x03, 0x0c, 0x00]))) finish();
    });
    s.once('close', () => finish(new Error(`controller closed the connection (got ${got.toString('hex') || 'nothing'}): kernel without AF_ALG and no shim?`)));
    s.once('error', (e) => finish(e));
  });
}

interface Managed {
  name: string;
  child: ChildProcess;
  exited: Promise<void>;
}

function startManaged(name: string, cmd: string, args: string[], logDir: string, env?: NodeJS.ProcessEnv): Managed {
  const out = openSync(join(logDir, `${name}.log`), 'a');
  // `timeout` bounds the lifetime and forwards our SIGTERM to the command
  const child = spawn('timeout', ['-k', '3', String(MAX_LIFETIME_S), cmd, ...args], { stdio: ['ignore', out, out], env: env ?? process.env });
  closeSync(out);
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  return { name, child, exited };
}

async function stopManaged(m: Managed, graceMs = 3000): Promise<void> {
  if (m.child.exitCode !== null || m.child.signalCode !== null) return;
  m.child.kill('SIGTERM');
  const t = setTimeout(() => m.child.kill('SIGKILL'), graceMs);
  await m.exited;
  clearTimeout(t);
}

/** One virtual controller reachable as a pty (serial HCI, H:4). */
export interface Controller {
  readonly name: string;
  /** The pty path to give the stack as its UART port. */
  readonly port: string;
  readonly pid: number | undefined;
  close(): Promise<void>;
}

export class Emulator {
  readonly dir: string;
  readonly #lock: Server;
  readonly #btvirt: Managed;
  readonly #controllers = new Set<Managed>();
  #seq = 0;
  #stopped = false;
  static #live = new Set<Emulator>();

  private constructor(dir: string, lock: Server, btvirt: Managed) {
    this.dir = dir;
    this.#lock = lock;
    this.#btvirt = btvirt;
  }

  /** Start btvirt (with the AF_ALG shim when gcc is there), probe it. Throws with a clear reason. */
  static async start({ lockTimeoutMs = 180_000 }: { lockTimeoutMs?: number } = {}): Promise<Emulator> {
    const lock = await acquireLock(lockTimeoutMs);
    const dir = mkdtempSync(join(tmpdir(), 'proxkey-ble-'));
    try {
      if (await listening(SERVER)) throw new Error(`something else (not started by proxkey) already listens on ${SERVER}: stop that btvirt first`);
      for (const s of ALL_SOCKETS) rmSync(s, { force: true });
      const env: NodeJS.ProcessEnv = { ...process.env };
      if (process.env.BTVIRT_SHIM !== '0') {
        writeFileSync(join(dir, 'afalg_shim.c'), SHIM_C);
        await new Promise<void>((resolve, reject) =>
          execFile('gcc', ['-O2', '-shared', '-fPIC', '-o', join(dir, 'afalg_shim.so'), join(dir, 'afalg_shim.c'), '-ldl'], (err, _o, stderr) =>
            err ? reject(new Error(`building the AF_ALG shim failed: ${stderr || err.message}`)) : resolve(),
          ),
        );
        env.LD_PRELOAD = join(dir, 'afalg_shim.so');
      }
      const btvirt = startManaged('btvirt', 'btvirt', ['-s'], dir, env);
      const emu = new Emulator(dir, lock, btvirt);
      Emulator.#live.add(emu);
      try {
        // btvirt opens bredrle, bredr, amp, le, mon in that order
        await waitFor(
          'btvirt sockets',
          5000,
          () => existsSync(ALL_SOCKETS[4]!),
          () => btvirt.child.exitCode === null,
        );
        await probe();
      } catch (err) {
        await emu.stop();
        throw err;
      }
      return emu;
    } catch (err) {
      rmSync(dir, { recursive: true, force: true });
      lock.close();
      throw err;
    }
  }

  /**
   * A fresh controller (new address) on a pty. Close it after the stack using it has exited.
   * `at`: the pty link path to use (a replacement controller where a closed one was, e.g. to
   * test that a running car daemon re-opens its adapter).
   */
  async controller(name: string, { at }: { at?: string } = {}): Promise<Controller> {
    if (this.#stopped) throw new Error('emulator stopped');
    const id = `${name}-${++this.#seq}`;
    const port = at ?? join(this.dir, `hci-${id}`);
    const m = startManaged(`socat-${id}`, 'socat', ['-d', `pty,link=${port},raw,echo=0`, `UNIX-CONNECT:${SERVER}`], this.dir);
    this.#controllers.add(m);
    await waitFor(
      `socat pty for ${id}`,
      5000,
      () => existsSync(port),
      () => m.child.exitCode === null,
    );
    return {
      name: id,
      port,
      pid: m.child.pid,
      close: async () => {
        await stopManaged(m);
        this.#controllers.delete(m);
        rmSync(port, { force: true });
      },
    };
  }

  /** PIDs of everything running that we started (for leak checks). */
  get pids(): number[] {
    return [this.#btvirt, ...this.#controllers].filter((m) => m.child.exitCode === null && m.child.signalCode === null).map((m) => m.child.pid!);
  }

  /** Stop controllers (newest first), then btvirt; remove sockets, ptys, temp dir; release the lock. */
  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    for (const m of [...this.#controllers].reverse()) await stopManaged(m);
    this.#controllers.clear();
    await stopManaged(this.#btvirt);
    for (const s of ALL_SOCKETS) rmSync(s, { force: true });
    rmSync(this.dir, { recursive: true, force: true });
    this.#lock.close();
    Emulator.#live.delete(this);
  }

  /** Last resort on abrupt exit: SIGKILL everything synchronously. */
  static killAllSync(): void {
    for (const emu of Emulator.#live) {
      for (const m of [...emu.#controllers, emu.#btvirt]) {
        try {
          // `timeout` leads its own process group: take the command with it
          if (m.child.pid) process.kill(-m.child.pid, 'SIGKILL');
        } catch {
          /* gone */
        }
      }
    }
  }
}

process.once('exit', () => Emulator.killAllSync());
