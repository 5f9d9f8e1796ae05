/**
 * Running the car's physical actions: one at a time per car, each bounded.
 *
 * - `ActuationLock`: a FIFO mutex. A command that cannot start within its wait bound is `busy`
 *   (nothing is driven); passive-entry decisions and every session of a car share one lock, so
 *   two phones sending `unlock` and `lock` at the same instant never energise two relays at once.
 * - `runActuator`: calls the application's actuator with an AbortSignal that fires at the time
 *   bound; a throw or a timeout is `actuator-failed`; any result is checked fail-closed by the role.
 */
import { ProxkeyError } from '../errors.js';
import type { Command } from '../protocol/commands.js';
import type { KeyRecord } from '../roles/types.js';
import type { ExecutionOutcome } from '../roles/vehicle-session.js';
import { withDeadline } from './deadline.js';

/** What an actuator is given besides the command: `signal` aborts when its time is up. */
export interface ActuatorContext {
  /** Aborted when the actuator's time bound passes: stop driving outputs then. */
  readonly signal: AbortSignal;
}

/**
 * Executes an authorized command (drives relays, runs a script…). Throwing means
 * `actuator-failed`; resolve `{ ok: false, reason }` to deny with a specific reason.
 */
export type Actuator = (command: Command, key: KeyRecord, context?: ActuatorContext) => Promise<ExecutionOutcome | void> | ExecutionOutcome | void;

/** Default bounds (ms). */
export const ACTUATOR_TIMEOUT_MS = 10_000;
export const ACTUATION_WAIT_MS = 3_000;

/** A FIFO mutex for one car's physical actions. */
export class ActuationLock {
  #tail: Promise<void> = Promise.resolve();
  #waiting = 0;

  /** Commands queued or running. */
  get pending(): number {
    return this.#waiting;
  }

  /**
   * Run `action` once every earlier action has finished, or resolve `busy` if that takes more
   * than `waitMs` (the action is then never run).
   */
  async run<T>(waitMs: number, action: () => Promise<T>): Promise<T | 'busy'> {
    let release!: () => void;
    const mine = new Promise<void>((resolve) => (release = resolve));
    const before = this.#tail;
    this.#tail = before.then(() => mine);
    this.#waiting++;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const gotTurn = await Promise.race([before.then(() => true), new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), waitMs)))]);
    clearTimeout(timer);
    if (!gotTurn) {
      // Give up our place without blocking those behind: release once our turn would come.
      void before.then(() => {
        this.#waiting--;
        release();
      });
      return 'busy';
    }
    try {
      return await action();
    } finally {
      this.#waiting--;
      release();
    }
  }
}

export interface RunActuatorOptions {
  readonly actuator: Actuator;
  /** Max time the actuator may take. Default 10 000 ms (then `actuator-failed`). */
  readonly actuatorTimeoutMs?: number;
  /** Serialises physical actions; without one the action runs at once. */
  readonly lock?: ActuationLock;
  /** Max wait for the lock before answering `busy`. Default 3 000 ms. */
  readonly actuationWaitMs?: number;
}

/**
 * Run the actuator, serialised by `lock` and bounded by `actuatorTimeoutMs`: a throw or a
 * timeout is `actuator-failed`, a full queue is `busy`, never an escape (an abort propagates).
 */
export async function runActuator(options: RunActuatorOptions, command: Command, key: KeyRecord): Promise<ExecutionOutcome> {
  const act = async (): Promise<ExecutionOutcome> => {
    const timeoutMs = options.actuatorTimeoutMs ?? ACTUATOR_TIMEOUT_MS;
    const control = new AbortController();
    try {
      const r = await withDeadline(
        'actuator',
        Promise.resolve().then(() => options.actuator(command, key, { signal: control.signal })),
        {
          timeoutMs,
        },
      );
      return r ?? { ok: true };
    } catch (err) {
      if (err instanceof ProxkeyError && err.code === 'ERR_ABORTED') throw err;
      return { ok: false, reason: 'actuator-failed' };
    } finally {
      control.abort();
    }
  };
  if (!options.lock) return act();
  const r = await options.lock.run(options.actuationWaitMs ?? ACTUATION_WAIT_MS, act);
  return r === 'busy' ? { ok: false, reason: 'busy' } : r;
}
