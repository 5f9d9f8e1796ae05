/**
 * Bound any promise by a timeout and/or an AbortSignal: every await in I/O code goes through
 * here, so a vanished peer yields a typed error instead of a hang.
 */
import { AbortedError, TimeoutError } from '../errors.js';

/** A bound on a wait: a timeout (ms; none when absent) and/or an abort signal. */
export interface DeadlineOptions {
  readonly timeoutMs?: number | undefined;
  readonly signal?: AbortSignal | undefined;
}

/**
 * Race `work` against `timeoutMs` and `signal`. `onCancel` runs when the deadline wins (to
 * release what `work` holds). Timers are always cleared.
 */
export function withDeadline<T>(what: string, work: Promise<T>, { timeoutMs, signal }: DeadlineOptions, onCancel?: () => void): Promise<T> {
  if (timeoutMs === undefined && !signal) return work;
  return new Promise<T>((resolve, reject) => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const cleanup = () => {
      if (timer !== undefined) clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
    };
    const fail = (err: Error) => {
      cleanup();
      onCancel?.();
      reject(err);
    };
    const onAbort = () => fail(new AbortedError(what, signal?.reason));
    if (signal?.aborted) {
      work.catch(() => undefined); // abandoned: its own failure must not go unhandled
      return fail(new AbortedError(what, signal.reason));
    }
    signal?.addEventListener('abort', onAbort, { once: true });
    if (timeoutMs !== undefined) timer = setTimeout(() => fail(new TimeoutError(what, timeoutMs)), timeoutMs);
    work.then(
      (v) => {
        cleanup();
        resolve(v);
      },
      (e: unknown) => {
        cleanup();
        reject(e);
      },
    );
  });
}

/**
 * How long a driver may wait for a role's next input: until the role's `deadline`, never longer
 * than `boundMs` whatever the injected clock says, and `idleMs` when the role has no deadline.
 */
export function waitMsUntil(deadline: number | undefined, now: number, boundMs: number, idleMs = boundMs): number {
  return deadline === undefined ? idleMs : Math.min(Math.max(deadline - now, 0), boundMs);
}
