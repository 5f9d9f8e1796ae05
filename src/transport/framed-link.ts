/**
 * `FramedLink` is the `Link` the BLE adapters and the in-memory link build on: it fragments on
 * send (one fragment write at a time, each bounded by a timeout) and reassembles on receive,
 * arming a timer for the reassembler's partial-message deadline. No Node built-ins here.
 */
import { TurnQueue } from './turn-queue.js';
import { copyOf } from '../bytes.js';
import { QueuedLink } from './queued-link.js';
import { AbortedError, LinkClosedError, LocalError, ProxkeyError, RemoteError, assertArg, assertBytes, messageOf } from '../errors.js';
import { withDeadline } from './deadline.js';
import { fragmentMessage, type FramingOptions } from './fragment-codec.js';
import type { LinkCloseInfo, SendOptions } from './link.js';
import { Reassembler } from './reassembler.js';

/** Options of {@link FramedLink}: the live value size, how a fragment is written (bounded), and what happens on close. */
export interface FramedLinkOptions extends FramingOptions {
  /**
   * Largest value the transport accepts now (MTU - 3, capped at 512; see {@link valueSizeForMtu}).
   * A function when it can change (MTU exchange); read once per message.
   */
  readonly valueSize: number | (() => number);
  /** Write one fragment (one ATT value). Resolves when the transport accepted it. */
  readonly writeFragment: (fragment: Uint8Array) => Promise<void>;
  /** Bound on each fragment write in ms (default 5000). A timeout closes the link. */
  readonly writeTimeoutMs?: number | undefined;
  /**
   * Called once when the link closes, however it closes: `by: 'local'` after `close()`,
   * `'transport'` after a write failure or framing error, or the `by` passed to `terminate()`.
   * Adapters disconnect the BLE connection here (it must be idempotent).
   */
  readonly onClose?: (info: LinkCloseInfo) => void;
  /** Told about every framing error (malformed input from the peer). */
  readonly onFramingError?: (error: RemoteError) => void;
  /**
   * Close the link on a framing error (default true: a peer sending garbage is broken or
   * hostile, and a lost message would stall the session anyway). With `false` the error is only
   * reported and the next message is received normally.
   */
  readonly closeOnFramingError?: boolean | undefined;
  /** Clock for the partial-message timeout (default `Date.now`). */
  readonly now?: (() => number) | undefined;
}

/**
 * A `Link` that carries whole messages as fragments over some value transport (a GATT
 * characteristic pair, a simulated channel). The transport calls `deliver()` for every value
 * received and `terminate()` when the connection is gone.
 */
export class FramedLink extends QueuedLink {
  readonly #reassembler: Reassembler;
  readonly #options: FramedLinkOptions;
  readonly #now: () => number;
  readonly #writeTimeoutMs: number;
  readonly #sends = new TurnQueue(); // one message at a time
  #timer: ReturnType<typeof setTimeout> | undefined;
  #closeNotified = false;
  /** Rejects (LinkClosedError) once the link closes: a pending fragment write races it. */
  readonly #closedWhileWriting: Promise<never>;

  constructor(options: FramedLinkOptions) {
    super();
    this.#options = options;
    this.#reassembler = new Reassembler(options);
    this.#now = options.now ?? Date.now;
    this.#writeTimeoutMs = options.writeTimeoutMs ?? 5000;
    assertArg(this.#writeTimeoutMs > 0, 'writeTimeoutMs: expected > 0');
    this.#closedWhileWriting = this.inbox.closed.then(() => Promise.reject(this.inbox.closedError()));
    this.#closedWhileWriting.catch(() => {}); // observed by the writes that race it, if any
    void this.inbox.closed.then((info) => {
      if (this.#timer !== undefined) clearTimeout(this.#timer);
      this.#timer = undefined;
      this.#reassembler.reset();
      if (!this.#closeNotified) {
        this.#closeNotified = true;
        this.#options.onClose?.(info);
      }
    });
  }

  /** Why the link closed, once closed. */
  get closeInfo(): LinkCloseInfo | undefined {
    return this.inbox.closeInfo;
  }
  /** The largest message this link sends or accepts. */
  get maxMessageSize(): number {
    return this.#reassembler.maxMessageSize;
  }

  async send(message: Uint8Array, options: SendOptions = {}): Promise<void> {
    assertBytes(message, 'message');
    if (this.isClosed) throw this.inbox.closedError();
    const max = this.#reassembler.maxMessageSize;
    if (message.length > max) throw new LocalError('ERR_INVALID_ARGUMENT', `message: ${message.length} bytes exceeds the maximum message size ${max}`);
    const copy = copyOf(message); // also of a Buffer, whose slice would be a view the caller may reuse
    // the next message waits for this one AND everything before it, even if this one is aborted early
    const { previous, release } = this.#sends.take();
    try {
      // one message at a time: fragments of two messages must never interleave
      await withDeadline('send (waiting for the previous message)', previous, { signal: options.signal });
      if (this.isClosed) throw this.inbox.closedError();
      const vs = this.#options.valueSize;
      const fragments = fragmentMessage(copy, typeof vs === 'function' ? vs() : vs, { maxMessageSize: max });
      for (let i = 0; i < fragments.length; i++) {
        if (this.isClosed) throw this.inbox.closedError();
        if (options.signal?.aborted) {
          if (i > 0) this.terminate('transport', 'send aborted in the middle of a message');
          throw new AbortedError('send', options.signal.reason);
        }
        await this.#writeFragment(fragments[i]!, `BLE write of fragment ${i + 1}/${fragments.length}`, fragments.length === 1, options.signal);
      }
    } finally {
      release();
    }
  }

  /** Write one fragment within the write timeout; any failure but an abort of a lone fragment closes the link. */
  async #writeFragment(fragment: Uint8Array, what: string, onlyFragment: boolean, signal: AbortSignal | undefined): Promise<void> {
    let write: Promise<void>;
    try {
      write = Promise.resolve(this.#options.writeFragment(fragment));
    } catch (e) {
      write = Promise.reject(e);
    }
    try {
      // A link that closes meanwhile ends the wait at once: a stack whose write never settles after
      // a disconnect (noble's promisified write) must not hold the sender for the write timeout.
      await withDeadline(what, Promise.race([write, this.#closedWhileWriting]), { timeoutMs: this.#writeTimeoutMs, signal });
    } catch (e) {
      write.catch(() => {}); // a late rejection of an abandoned write is not unhandled
      if (this.isClosed) throw this.inbox.closedError();
      if (e instanceof AbortedError && onlyFragment) throw e; // nothing half-sent
      if (e instanceof ProxkeyError) {
        this.terminate('transport', e.message);
        throw e;
      }
      const detail = messageOf(e);
      this.terminate('transport', `write failed: ${detail}`);
      throw new LinkClosedError(`link closed (transport): write failed: ${detail}`);
    }
  }

  close(reason = 'closed'): void {
    this.inbox.close({ by: 'local', reason });
  }

  /** The transport received one value (fragment). */
  deliver(fragment: Uint8Array): void {
    if (this.isClosed) return;
    const now = this.#now();
    for (const item of this.#reassembler.push(fragment, now)) {
      if (item instanceof Uint8Array) this.inbox.push(item);
      else this.#framingError(item);
      if (this.isClosed) return;
    }
    this.#armTimer(now);
  }

  /** The transport is gone (peer disconnected, unsubscribed, link loss). Idempotent. */
  terminate(by: 'remote' | 'transport', reason: string): void {
    this.inbox.close({ by, reason });
  }

  #framingError(err: RemoteError): void {
    this.#options.onFramingError?.(err);
    if (this.#options.closeOnFramingError ?? true) this.terminate('transport', err.message);
  }

  #armTimer(now: number): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    const deadline = this.#reassembler.deadline;
    if (deadline === undefined || this.isClosed) return;
    this.#timer = setTimeout(
      () => {
        this.#timer = undefined;
        if (this.isClosed) return;
        const t = this.#now();
        const err = this.#reassembler.expire(t);
        if (err) this.#framingError(err);
        else this.#armTimer(t);
      },
      Math.max(0, deadline - now),
    );
  }
}
