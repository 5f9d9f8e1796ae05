/**
 * A `Link` over any reliable byte stream (TCP, a unix socket, a pty, a pipe): each message is
 * sent as `u16 length (big-endian) ‖ message`. Used between processes on one machine (the flood
 * benchmark, conformance runs against another implementation) — docs/BLE.md "Byte-stream binding".
 *
 * Sans-IO at its core: the owner passes `write` (bytes out) and `end` (close the stream), and
 * feeds received chunks to `deliver`. A length above `maxMessageSize` (default 1024, the
 * protocol's largest message) or an empty message closes the link as a transport error, so a
 * peer cannot make us buffer more than one maximal message.
 */
import { QueuedLink } from './queued-link.js';
import { concatBytes, copyOf } from '../bytes.js';
import { LinkClosedError } from '../errors.js';
import { LIMITS } from '../protocol/constants.js';
import type { LinkCloseInfo, SendOptions } from './link.js';

/** Options of {@link StreamLink}: how bytes are written and the stream ended, and the largest message accepted. */
export interface StreamLinkOptions {
  /** Write bytes to the stream (resolves once accepted). */
  readonly write: (bytes: Uint8Array) => Promise<void> | void;
  /** Close the underlying stream (called once, when the link closes for any reason). */
  readonly end: (reason: string) => void;
  /** Default 1024 (LIMITS.maxMessage). */
  readonly maxMessageSize?: number;
}

/** Bytes of the big-endian length before each message on a stream. */
export const STREAM_LENGTH_PREFIX = 2;

const EMPTY = new Uint8Array(0);

/** A `Link` over a reliable byte stream: `u16 length ‖ message` (see the module comment). */
export class StreamLink extends QueuedLink {
  readonly #options: StreamLinkOptions;
  readonly #max: number;
  #buffer = EMPTY;
  #ended = false;

  constructor(options: StreamLinkOptions) {
    super();
    this.#options = options;
    this.#max = options.maxMessageSize ?? LIMITS.maxMessage;
  }

  async send(message: Uint8Array, options: SendOptions = {}): Promise<void> {
    this.inbox.assertCanSend(message, options);
    if (message.length === 0 || message.length > this.#max) throw new LinkClosedError(`message of ${message.length} bytes cannot be framed`);
    const framed = new Uint8Array(STREAM_LENGTH_PREFIX + message.length);
    framed[0] = message.length >> 8; // u16 big-endian length
    framed[1] = message.length & 0xff;
    framed.set(message, STREAM_LENGTH_PREFIX);
    await this.#options.write(framed);
  }

  close(reason = 'closed'): void {
    this.#terminate('local', reason);
  }

  /** Feed bytes read from the stream (any chunking). */
  deliver(chunk: Uint8Array): void {
    if (this.isClosed) return;
    // The usual case, nothing carried over: read the chunk in place (messages are copied out).
    const joined = this.#buffer.length === 0 ? chunk : concatBytes(this.#buffer, chunk);
    let at = 0;
    while (joined.length - at >= STREAM_LENGTH_PREFIX) {
      const length = (joined[at]! << 8) | joined[at + 1]!;
      if (length === 0 || length > this.#max) return this.#terminate('transport', `stream framing: message length ${length} outside 1..${this.#max}`);
      if (joined.length - at - STREAM_LENGTH_PREFIX < length) break;
      this.inbox.push(copyOf(joined.subarray(at + STREAM_LENGTH_PREFIX, at + STREAM_LENGTH_PREFIX + length)));
      if (this.isClosed) return this.#end(this.inbox.closeInfo?.reason ?? 'closed'); // too many unread: the queue closed
      at += STREAM_LENGTH_PREFIX + length;
    }
    this.#buffer = at === joined.length ? EMPTY : copyOf(joined.subarray(at));
  }

  /** The stream ended (by the peer, or an I/O error). */
  terminate(by: 'remote' | 'transport', reason: string): void {
    this.#terminate(by, reason);
  }

  #terminate(by: LinkCloseInfo['by'], reason: string): void {
    if (!this.isClosed) this.inbox.close({ by, reason });
    this.#end(reason);
  }

  /** End the stream, once, whoever closed the link first. */
  #end(reason: string): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#buffer = EMPTY;
    this.#options.end(reason);
  }
}
