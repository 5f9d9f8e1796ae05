/** Phone links waiting for `accept()`, or handed to `onLink` as they come. */
import { LinkClosedError } from '../../errors.js';
import type { ReceiveOptions } from '../../transport/link.js';
import { Waiters } from '../../transport/waiters.js';
import type { PhoneLink } from './types.js';

export class LinkQueue {
  readonly #onLink: ((link: PhoneLink) => void) | undefined;
  readonly #pending: PhoneLink[] = [];
  readonly #waiters = new Waiters<PhoneLink>();
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
    if (!this.#waiters.serve(link)) this.#pending.push(link);
  }

  /** The next link still open (queued first); `LinkClosedError` once the car stopped. */
  async accept(options: ReceiveOptions = {}): Promise<PhoneLink> {
    for (let ready = this.#pending.shift(); ready; ready = this.#pending.shift()) if (!ready.isClosed) return ready;
    if (this.#closed) throw new LinkClosedError('car peripheral stopped');
    return this.#waiters.wait('accept', options);
  }

  /** The car stopped: later `accept` calls fail at once. */
  close(): void {
    this.#closed = true;
  }

  /** Fail every waiting `accept`. */
  rejectWaiters(): void {
    this.#waiters.rejectAll(new LinkClosedError('car peripheral stopped'));
  }
}
