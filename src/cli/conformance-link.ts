/**
 * Link wrappers the conformance runner drives a peer with: one that edits what we send (to
 * corrupt, truncate or replay a message the real role produced), one whose `close` leaves the
 * stream open (so a control frame can follow the session), and a reader that collects what the
 * peer sends until it closes.
 */
import { AbortedError, LinkClosedError, TimeoutError } from '../errors.js';
import { decodeMessage } from '../protocol/messages.js';
import type { Link, LinkCloseInfo, ReceiveOptions, SendOptions } from '../transport/link.js';
import { isControlFrame } from './conformance-control.js';

/** `edit(message, index)` returns the bytes to send instead (undefined: send it unchanged). */
export type SendEdit = (message: Uint8Array, index: number) => Uint8Array | undefined;

/** `inner` with some of its methods replaced; the close state is always `inner`'s. */
function delegate(inner: Link, replace: Partial<Pick<Link, 'send' | 'receive' | 'close'>>): Link {
  return {
    send: replace.send ?? ((m, o) => inner.send(m, o)),
    receive: replace.receive ?? ((o) => inner.receive(o)),
    close: replace.close ?? ((r) => inner.close(r)),
    get closed() {
      return inner.closed;
    },
    get isClosed() {
      return inner.isClosed;
    },
  };
}

/** A view of `inner` whose outgoing messages pass through `edit` first; `sent` records what went out. */
export function editedLink(inner: Link, edit: SendEdit): Link & { readonly sent: readonly Uint8Array[] } {
  const sent: Uint8Array[] = [];
  const send = (message: Uint8Array, options?: SendOptions) => {
    const out = edit(message, sent.length) ?? message;
    sent.push(out);
    return inner.send(out, options);
  };
  return Object.assign(delegate(inner, { send }), { sent });
}

/** `inner` whose `close` is ignored: the runner reads what the peer sends after our role hung up. */
export function heldOpen(inner: Link): Link {
  return delegate(inner, { close: () => undefined });
}

/** `inner` whose received messages are also appended to `into`. */
export function recording(inner: Link, into: Uint8Array[]): Link {
  return delegate(inner, {
    receive: async (options?: ReceiveOptions) => {
      const m = await inner.receive(options);
      into.push(m);
      return m;
    },
  });
}

/**
 * A session's view of `inner`: closing it ends the view, not the stream, and a control frame
 * from the peer ends the view too (kept in `control` for the runner), so the peer's report can
 * follow its session on the same stream.
 */
export class SessionLink implements Link {
  #closedInfo: LinkCloseInfo | undefined;
  #resolveClosed!: (info: LinkCloseInfo) => void;
  readonly closed: Promise<LinkCloseInfo> = new Promise((resolve) => (this.#resolveClosed = resolve));
  /** A control frame the peer sent while the session ran. */
  control: Uint8Array | undefined;
  /** Every protocol message received, in order. */
  readonly received: Uint8Array[] = [];

  constructor(private readonly inner: Link) {
    void inner.closed.then((info) => this.#end(info));
  }

  get isClosed(): boolean {
    return this.#closedInfo !== undefined;
  }

  send(message: Uint8Array, options?: SendOptions): Promise<void> {
    if (this.#closedInfo) return Promise.reject(new LinkClosedError(`session view closed: ${this.#closedInfo.reason}`));
    return this.inner.send(message, options);
  }

  async receive(options?: ReceiveOptions): Promise<Uint8Array> {
    if (this.#closedInfo) throw new LinkClosedError(`session view closed: ${this.#closedInfo.reason}`);
    const bytes = await this.inner.receive(options);
    if (isControlFrame(bytes)) {
      this.control = bytes;
      this.#end({ by: 'remote', reason: 'peer sent its report' });
      throw new LinkClosedError('peer ended the session with its report');
    }
    this.received.push(bytes);
    return bytes;
  }

  close(reason = 'closed'): void {
    this.#end({ by: 'local', reason });
  }

  #end(info: LinkCloseInfo): void {
    if (this.#closedInfo) return;
    this.#closedInfo = info;
    this.#resolveClosed(info);
  }
}

/** What a peer sent until it closed the link (or went quiet for `quietMs`). */
export interface PeerTail {
  readonly messages: readonly Uint8Array[];
  /** The first ALERT's reason, if any. */
  readonly alert: string | undefined;
  /** The peer (or the transport) closed the link. */
  readonly closed: boolean;
}

/** Read everything the peer sends until it closes the link; `quietMs` without a message ends the wait. */
export async function readUntilClosed(link: Link, quietMs: number): Promise<PeerTail> {
  const messages: Uint8Array[] = [];
  let alert: string | undefined;
  for (;;) {
    try {
      const m = await link.receive({ timeoutMs: quietMs });
      messages.push(m);
      if (alert === undefined && m[0] === 0x0f) alert = alertReason(m);
    } catch (e) {
      if (e instanceof LinkClosedError) return { messages, alert, closed: true };
      if (e instanceof TimeoutError) return { messages, alert, closed: link.isClosed };
      throw e;
    }
  }
}

function alertReason(m: Uint8Array): string {
  try {
    const d = decodeMessage(m);
    return d.type === 0x0f ? d.reason : 'malformed';
  } catch {
    return 'malformed';
  }
}

/**
 * `inner` read eagerly (one reader at a time): every message the peer sent before closing stays
 * receivable after the close — also after a local close, and beyond the 16 unread messages a
 * plain link keeps — so the runner judges everything the peer said: a CLOSE just before it hung
 * up, a report just before the end of the stream.
 */
export function drainedLink(inner: Link): Link {
  const kept: Uint8Array[] = [];
  let ended: LinkCloseInfo | undefined;
  let waiting: (() => void) | undefined;
  void (async () => {
    for (;;) {
      try {
        kept.push(await inner.receive());
        waiting?.();
      } catch {
        ended = await inner.closed;
        waiting?.();
        return;
      }
    }
  })();
  return {
    send: (m, o) => inner.send(m, o),
    receive: async (options?: ReceiveOptions) => {
      const timeoutMs = options?.timeoutMs;
      const deadline = timeoutMs === undefined ? undefined : Date.now() + timeoutMs;
      for (;;) {
        const next = kept.shift();
        if (next !== undefined) return next;
        if (options?.signal?.aborted) throw new AbortedError('receive', options.signal.reason);
        if (ended) throw new LinkClosedError(`link closed (${ended.by}): ${ended.reason}`);
        const left = deadline === undefined ? undefined : deadline - Date.now();
        if (timeoutMs !== undefined && left !== undefined && left <= 0) throw new TimeoutError('receive', timeoutMs);
        await new Promise<void>((resolve) => {
          const wake = () => {
            clearTimeout(timer);
            options?.signal?.removeEventListener('abort', wake);
            waiting = undefined;
            resolve();
          };
          const timer = left === undefined ? undefined : setTimeout(wake, left);
          options?.signal?.addEventListener('abort', wake, { once: true });
          waiting = wake;
        });
      }
    },
    close: (r) => inner.close(r),
    get closed() {
      return inner.closed;
    },
    get isClosed() {
      return kept.length === 0 && ended !== undefined;
    },
  };
}
