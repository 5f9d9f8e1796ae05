/** Phone links waiting for `accept()`, or handed to `onLink` as they come. */
import { LinkClosedError } from '../../errors.js';
import { withDeadline } from '../../transport/deadline.js';
import type { ReceiveOptions } from '../../transport/link.js';
import type { PhoneLink } from './types.js';

interface Waiter {
  readonly resolve: (l: PhoneLink) => void;
  readonly reject: (e: Error) => void;
}

export class LinkQueue {
  readonly #onLink: ((link: PhoneLink) => void) | undefined;
  readonly #pending: PhoneLink[] = [];
  #waiters: Waiter[] = [];
  #closed = false;

  constructor(onLink: ((link: PhoneLink) => void) | undefined) {
    this.#onLink = onLink;
  }

  /** A phone subscribed: to `onLink`, else to the first waiting `accept`, else queued. */
  offer(link: PhoneLink): void {
    if (this.#onLink) {
      try {
        this.#onLink(link);
      } catch {
        /* the application's problem; the link stays usable */
      }
      return;
    }
    const w = this.#waiters.shift();
    if (w) w.resolve(link);
    else this.#pending.push(link);
  }

  /** The next link still open (queued first); `LinkClosedError` once the car stopped. */
  async accept(options: ReceiveOptions = {}): Promise<PhoneLink> {
    for (let ready = this.#pending.shift(); ready; ready = this.#pending.shift()) if (!ready.isClosed) return ready;
    if (this.#closed) throw new LinkClosedError('car peripheral stopped');
    let waiter!: Waiter;
    const work = new Promise<PhoneLink>((resolve, reject) => (waiter = { resolve, reject }));
    this.#waiters.push(waiter);
    return withDeadline('accept', work, options, () => {
      this.#waiters = this.#waiters.filter((w) => w !== waiter);
    });
  }

  /** The car stopped: later `accept` calls fail at once. */
  close(): void {
    this.#closed = true;
  }

  /** Fail every waiting `accept`. */
  rejectWaiters(): void {
    for (const w of this.#waiters.splice(0)) w.reject(new LinkClosedError('car peripheral stopped'));
  }
}
