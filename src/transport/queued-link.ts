/**
 * What every in-process `Link` shares: incoming whole messages wait in a `MessageQueue`, which
 * also holds the close state. Subclasses decide how messages leave (`send`) and how closing
 * propagates (`close`); they feed `inbox` as messages arrive.
 */
import type { Link, LinkCloseInfo, ReceiveOptions, SendOptions } from './link.js';
import { MessageQueue } from './message-queue.js';

export abstract class QueuedLink implements Link {
  protected readonly inbox = new MessageQueue();

  get closed(): Promise<LinkCloseInfo> {
    return this.inbox.closed;
  }

  get isClosed(): boolean {
    return this.inbox.isClosed;
  }

  receive(options?: ReceiveOptions): Promise<Uint8Array> {
    return this.inbox.receive(options);
  }

  abstract send(message: Uint8Array, options?: SendOptions): Promise<void>;
  abstract close(reason?: string): void;
}
