/**
 * Running the car's physical actions: one at a time per car, each bounded.
 *
 * - `ActuationLock`: a FIFO mutex. A command that cannot start within its wait bound is `busy`
 *   (nothing is driven); passive-entry decisions and every session of a car share one lock, so
 *   two phones sending `unlock` and `lock` at the same instant never energise two relays at once.
 * - `runActuator`: once the lock is held, re-checks that the command is still allowed (the key
 *   may have been revoked while it waited), then calls the application's actuator with an
 *   AbortSignal that fires at the time bound; a throw or a timeout is `actuator-failed` (the lock
 *   is held until the actuator really returns); any result is checked fail-closed by the role.
 */
import { TurnQueue } from './turn-queue.js';
import type { Command } from '../protocol/commands.js';
import type { DenyReason } from '../protocol/reasons.js';
import type { KeyRecord } from '../keys/key-record.js';
import type { ExecutionOutcome } from '../roles/vehicle-requests.js';

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
  readonly #turns = new TurnQueue();
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
    const { previous: before, release } = this.#turns.take();
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

/** Options of `runActuator`: the actuator, its time bound, and the lock that serialises physical actions. */
export interface RunActuatorOptions {
  readonly actuator: Actuator;
  /** Max time the actuator may take. Default 10 000 ms (then `actuator-failed`). */
  readonly actuatorTimeoutMs?: number;
  /** Serialises physical actions; without one the action runs at once. */
  readonly lock?: ActuationLock;
  /** Max wait for the lock before answering `busy`. Default 3 000 ms. */
  readonly actuationWaitMs?: number;
  /**
   * Asked once the lock is held, right before acting: a reason here (the key was revoked, the
   * session ended while the command waited) denies it and nothing is driven.
   */
  readonly stillAllowed?: () => Promise<DenyReason | undefined> | DenyReason | undefined;
}

/**
 * Run the actuator, serialised by `lock` and bounded by `actuatorTimeoutMs`: a throw or a
 * timeout is `actuator-failed`, a full queue is `busy`, never an escape (an abort propagates).
 */
export async function runActuator(options: RunActuatorOptions, command: Command, key: KeyRecord): Promise<ExecutionOutcome> {
  let answer!: (outcome: ExecutionOutcome) => void;
  const answered = new Promise<ExecutionOutcome>((resolve) => (answer = resolve));
  const act = async (): Promise<void> => {
    const denied = await Promise.resolve()
      .then(() => options.stillAllowed?.())
      .catch((): DenyReason => 'internal-error');
    if (denied) return answer({ ok: false, reason: denied });
    const control = new AbortController();
    const timer = setTimeout(() => {
      // Answer at the bound, but keep the lock until the actuator really returns: one physical
      // action at a time holds even for an actuator that ignores its signal.
      control.abort();
      answer({ ok: false, reason: 'actuator-failed' });
    }, options.actuatorTimeoutMs ?? ACTUATOR_TIMEOUT_MS);
    try {
      const r = await Promise.resolve().then(() => options.actuator(command, key, { signal: control.signal }));
      // Only `undefined` (a void actuator) means success; anything else is checked fail-closed by the role.
      answer(r === undefined ? { ok: true } : r);
    } catch {
      answer({ ok: false, reason: 'actuator-failed' });
    } finally {
      clearTimeout(timer);
      control.abort();
    }
  };
  if (!options.lock) {
    void act();
    return answered;
  }
  const turn = options.lock.run(options.actuationWaitMs ?? ACTUATION_WAIT_MS, act);
  const first = await Promise.race([answered, turn]);
  return first === 'busy' ? { ok: false, reason: 'busy' } : answered;
}
