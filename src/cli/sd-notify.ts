/**
 * systemd's readiness and watchdog protocol (sd_notify) without a native addon: each message is
 * sent by the `systemd-notify` tool (package systemd) to `$NOTIFY_SOCKET`, a unix datagram
 * socket Node cannot open itself. The unit needs `NotifyAccess=all` (the sender is a child).
 * Outside systemd (no `NOTIFY_SOCKET`) every call is a no-op.
 */
import { execFile } from 'node:child_process';

export interface Notifier {
  /** Whether systemd listens (NOTIFY_SOCKET set). */
  readonly active: boolean;
  /** The watchdog period systemd expects pings within (ms), or undefined without `WatchdogSec=`. */
  readonly watchdogMs: number | undefined;
  /** `READY=1` with a status line: the service is up. */
  ready(status: string): void;
  /** `STATUS=…`: shown by `systemctl status`. */
  status(text: string): void;
  /** `WATCHDOG=1`: still alive and well. */
  ping(): void;
  /** `STOPPING=1`. */
  stopping(): void;
}

/** Bound on one systemd-notify run (it waits for systemd to have read the message). */
const SEND_TIMEOUT_MS = 10_000;

/** A notifier for this process's environment (`NOTIFY_SOCKET`, `WATCHDOG_USEC`, `WATCHDOG_PID`). */
export function systemdNotifier(env: NodeJS.ProcessEnv = process.env, onError: (e: Error) => void = () => undefined): Notifier {
  const socket = env.NOTIFY_SOCKET;
  const usec = Number(env.WATCHDOG_USEC);
  const forUs = env.WATCHDOG_PID === undefined || Number(env.WATCHDOG_PID) === process.pid;
  const watchdogMs = socket && forUs && Number.isFinite(usec) && usec > 0 ? usec / 1000 : undefined;
  let warned = false;
  const send = (...assignments: string[]) => {
    if (!socket) return;
    // fire and forget: a slow systemd must never stall the car; failures are reported once
    execFile('systemd-notify', assignments, { timeout: SEND_TIMEOUT_MS, env: { ...process.env, NOTIFY_SOCKET: socket } }, (err) => {
      if (!err || warned) return;
      warned = true;
      const missing = (err as NodeJS.ErrnoException).code === 'ENOENT';
      onError(
        new Error(
          missing
            ? 'systemd-notify not found: install the systemd package (the unit uses Type=notify: without it the service never becomes ready)'
            : `systemd did not confirm a notification (systemd-notify: ${err.message.split('\n')[0]}); the unit needs NotifyAccess=all`,
        ),
      );
    });
  };
  const oneLine = (text: string) => text.replace(/\s+/g, ' ').slice(0, 200);
  return {
    active: !!socket,
    watchdogMs,
    ready: (status) => send('READY=1', `STATUS=${oneLine(status)}`, `MAINPID=${process.pid}`),
    status: (text) => send(`STATUS=${oneLine(text)}`),
    ping: () => send('WATCHDOG=1'),
    stopping: () => send('STOPPING=1'),
  };
}
