/**
 * Callers waiting for the next item of a queue, first come first served, each bounded by its own
 * timeout / abort signal (a caller that gave up is removed, never handed an item).
 */
import { withDeadline, type DeadlineOptions } from './deadline.js';

interface Waiter<T> {
  resolve(item: T): void;
  reject(error: Error): void;
}

export class Waiters<T> {
  #waiting: Waiter<T>[] = [];

  /** Hand `item` to the longest-waiting caller; false when no one waits. */
  serve(item: T): boolean {
    const w = this.#waiting.shift();
    w?.resolve(item);
    return w !== undefined;
  }

  /** Wait for the next item served, within `options` (`what` names the wait in its timeout or abort error). */
  wait(what: string, options: DeadlineOptions): Promise<T> {
    let waiter!: Waiter<T>;
    const next = new Promise<T>((resolve, reject) => (waiter = { resolve, reject }));
    this.#waiting.push(waiter);
    return withDeadline(what, next, options, () => {
      this.#waiting = this.#waiting.filter((w) => w !== waiter);
    });
  }

  /** Fail every waiting caller with `error`. */
  rejectAll(error: Error): void {
    for (const w of this.#waiting.splice(0)) w.reject(error);
  }
}
