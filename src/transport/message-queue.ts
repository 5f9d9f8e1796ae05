/**
 * The receive side shared by every `Link` implementation: a FIFO of whole messages with waiting
 * receivers, closing, timeouts and aborts. Implementations push what arrives and call `close`.
 */
import { AbortedError, assertBytes, LinkClosedError } from '../errors.js';
import type { LinkCloseInfo, ReceiveOptions, SendOptions } from './link.js';
import { Waiters } from './waiters.js';

/**
 * Messages kept that nobody has read yet. The protocol has at most a few outstanding in either
 * direction (a RESULT and a CLOSE; one command at a time): a peer that sends more is broken or
 * hostile, and the link closes (`transport`) rather than buffering without bound.
 */
export const MAX_QUEUED_MESSAGES = 16;

/**
 * A FIFO of whole received messages with waiting receivers, closing, timeouts and aborts (the
 * receive side of every `Link`). After the peer or the transport closed the link, the messages
 * that had arrived can still be read (a car's CLOSE just before it hung up); a local close drops them.
 */
export class MessageQueue {
  #queue: Uint8Array[] = [];
  readonly #waiters = new Waiters<Uint8Array>();
  #closed: LinkCloseInfo | undefined;
  #onClosed!: (info: LinkCloseInfo) => void;
  readonly closed: Promise<LinkCloseInfo> = new Promise((r) => (this.#onClosed = r));

  get isClosed(): boolean {
    return this.#closed !== undefined;
  }

  get closeInfo(): LinkCloseInfo | undefined {
    return this.#closed;
  }

  /** The error every operation on the closed link fails with (says who closed it and why). */
  closedError(): LinkClosedError {
    const info = this.#closed;
    return new LinkClosedError(info ? `link closed (${info.by}): ${info.reason}` : 'link closed');
  }

  /** What every `Link.send` checks first: bytes, an open link, a signal not aborted. */
  assertCanSend(message: Uint8Array, options: SendOptions = {}): void {
    assertBytes(message, 'message');
    if (this.#closed) throw this.closedError();
    if (options.signal?.aborted) throw new AbortedError('send', options.signal.reason);
  }

  push(message: Uint8Array): void {
    if (this.#closed) return;
    if (this.#waiters.serve(message)) return;
    if (this.#queue.length >= MAX_QUEUED_MESSAGES) return this.close({ by: 'transport', reason: `more than ${MAX_QUEUED_MESSAGES} messages arrived unread` });
    this.#queue.push(message);
  }

  receive(options: ReceiveOptions = {}): Promise<Uint8Array> {
    const queued = this.#queue.shift();
    if (queued) return Promise.resolve(queued);
    if (this.#closed) return Promise.reject(this.closedError());
    return this.#waiters.wait('receive', options);
  }

  close(info: LinkCloseInfo): void {
    if (this.#closed) return;
    this.#closed = info;
    if (info.by === 'local') this.#queue = [];
    this.#waiters.rejectAll(this.closedError());
    this.#onClosed(info);
  }
}
