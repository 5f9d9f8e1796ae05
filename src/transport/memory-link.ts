/**
 * An in-memory `Link` pair for tests, the demo and simulations. Messages are delivered in order
 * (as within one BLE ATT bearer), optionally after a simulated one-way latency.
 */
import { LinkClosedError } from '../errors.js';
import type { Link, LinkCloseInfo, ReceiveOptions, SendOptions } from './link.js';
import { MessageQueue } from './message-queue.js';
import { withDeadline } from './deadline.js';

export interface MemoryLinkOptions {
  /** One-way delivery delay in ms (default 0: delivered on the next microtask). */
  readonly latencyMs?: number;
}

class MemoryLink implements Link {
  readonly #inbox = new MessageQueue();
  peer!: MemoryLink;
  constructor(private readonly options: MemoryLinkOptions) {}

  get closed(): Promise<LinkCloseInfo> {
    return this.#inbox.closed;
  }
  get isClosed(): boolean {
    return this.#inbox.isClosed;
  }

  async send(message: Uint8Array, options: SendOptions = {}): Promise<void> {
    if (this.isClosed) throw new LinkClosedError();
    const copy = message.slice();
    const latency = this.options.latencyMs ?? 0;
    if (latency <= 0) {
      queueMicrotask(() => this.peer.#deliver(copy));
      return;
    }
    await withDeadline('send', Promise.resolve(), options);
    setTimeout(() => this.peer.#deliver(copy), latency);
  }

  receive(options?: ReceiveOptions): Promise<Uint8Array> {
    return this.#inbox.receive(options);
  }

  close(reason = 'closed'): void {
    if (this.isClosed) return;
    this.#inbox.close({ by: 'local', reason });
    const latency = this.options.latencyMs ?? 0;
    const notify = () => this.peer.#inbox.close({ by: 'remote', reason });
    if (latency > 0) setTimeout(notify, latency);
    else queueMicrotask(notify);
  }

  #deliver(message: Uint8Array): void {
    this.#inbox.push(message);
  }
}

/** Two connected links: what one sends, the other receives. */
export function createMemoryLinkPair(options: MemoryLinkOptions = {}): [Link, Link] {
  const a = new MemoryLink(options);
  const b = new MemoryLink(options);
  a.peer = b;
  b.peer = a;
  return [a, b];
}
