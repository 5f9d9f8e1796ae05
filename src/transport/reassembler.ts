/**
 * The receiving half of the fragment codec (format in `fragment-codec.ts`).
 *
 * The receiver checks the announced total against its maximum message size BEFORE buffering
 * anything, rejects every inconsistency with a `RemoteError('ERR_DECODE')`, and resets so the
 * next message (the next S fragment) is received normally. A partial message that sees no
 * fragment for `partialTimeoutMs` is dropped. Pure code: the reassembler never reads a clock,
 * the caller passes `now`.
 */
import { copyOf } from '../bytes.js';
import { RemoteError, assertArg, assertBytes } from '../errors.js';
import { FRAGMENT_END, FRAGMENT_RESERVED, FRAGMENT_SEQ_MASK, FRAGMENT_START, resolveMaxMessageSize, type FramingOptions } from './fragment-codec.js';

/** Default: a partial message that receives no fragment for this long is dropped. */
export const DEFAULT_PARTIAL_TIMEOUT_MS = 1000;

/** What one `push` produced, in order: complete messages and/or framing errors. */
export type ReassemblyOutput = Uint8Array | RemoteError;

/** The E bit and sequence number of one fragment's header. */
interface FragmentHeader {
  readonly end: boolean;
  readonly seq: number;
}

function decodeError(message: string): RemoteError {
  return new RemoteError('ERR_DECODE', `framing: ${message}`);
}

/**
 * Reassembles fragments into messages. Pure: time is passed in by the caller (`now`, in ms, any
 * monotonic origin). After any error it drops the broken message (later continuations of it
 * are discarded silently) and the next S fragment starts afresh.
 */
export class Reassembler {
  readonly maxMessageSize: number;
  readonly partialTimeoutMs: number;
  #buffer: Uint8Array | undefined;
  #received = 0;
  #seq = 0;
  #lastAt = 0;
  #discarding = false;

  constructor(options: FramingOptions = {}) {
    this.maxMessageSize = resolveMaxMessageSize(options);
    const t = options.partialTimeoutMs ?? DEFAULT_PARTIAL_TIMEOUT_MS;
    assertArg(t > 0, `partialTimeoutMs: expected > 0, got ${t}`);
    this.partialTimeoutMs = t;
  }

  /** Bytes held for the partial message (0 when idle). */
  get pendingBytes(): number {
    return this.#buffer ? this.#received : 0;
  }

  /** When the partial message expires (same clock as `now`), or `undefined` when idle. */
  get deadline(): number | undefined {
    return this.#buffer ? this.#lastAt + this.partialTimeoutMs : undefined;
  }

  /** Drop any partial message. */
  reset(): void {
    this.#buffer = undefined;
    this.#received = 0;
    this.#seq = 0;
    this.#discarding = false;
  }

  /** Drop the partial message if it timed out; returns the error to report, if any. */
  expire(now: number): RemoteError | undefined {
    if (!this.#buffer || now < this.#lastAt + this.partialTimeoutMs) return undefined;
    const err = decodeError(`partial message timed out after ${this.partialTimeoutMs} ms (${this.#received}/${this.#buffer.length} bytes)`);
    this.reset();
    this.#discarding = true; // late continuations of the dropped message are ignored
    return err;
  }

  /** Feed one ATT value. Returns the completed message and/or errors, in order (often empty). */
  push(fragment: Uint8Array, now: number): ReassemblyOutput[] {
    assertBytes(fragment, 'fragment');
    const out: ReassemblyOutput[] = [];
    const expired = this.expire(now);
    if (expired) out.push(expired);
    if (fragment.length === 0) return this.#fail(out, 'empty fragment', false);
    const h = fragment[0]!;
    if (h & FRAGMENT_RESERVED) return this.#fail(out, `reserved header bits set (0x${h.toString(16).padStart(2, '0')})`, false);
    const header = { end: (h & FRAGMENT_END) !== 0, seq: h & FRAGMENT_SEQ_MASK };
    return (h & FRAGMENT_START) !== 0 ? this.#first(fragment, header, now, out) : this.#continuation(fragment, header, now, out);
  }

  /** Drop the broken message, report `message`; with `discardRest`, its later continuations are ignored. */
  #fail(out: ReassemblyOutput[], message: string, discardRest: boolean): ReassemblyOutput[] {
    this.reset();
    this.#discarding = discardRest;
    out.push(decodeError(message));
    return out;
  }

  /** An S fragment: a whole message, or the first of several (announcing the total). */
  #first(fragment: Uint8Array, { end, seq }: FragmentHeader, now: number, out: ReassemblyOutput[]): ReassemblyOutput[] {
    if (this.#buffer) out.push(decodeError(`new message started before the previous one completed (${this.#received}/${this.#buffer.length} bytes)`));
    this.reset();
    if (seq !== 0) return this.#fail(out, `first fragment with sequence ${seq}`, !end);
    if (end) {
      const size = fragment.length - 1;
      if (size > this.maxMessageSize) return this.#fail(out, `message of ${size} bytes exceeds the maximum ${this.maxMessageSize}`, false);
      out.push(copyOf(fragment.subarray(1)));
      return out;
    }
    if (fragment.length < 3) return this.#fail(out, 'first fragment shorter than its header', true);
    const total = (fragment[1]! << 8) | fragment[2]!;
    // checked before anything is buffered
    if (total > this.maxMessageSize) return this.#fail(out, `announced message of ${total} bytes exceeds the maximum ${this.maxMessageSize}`, true);
    const payload = fragment.length - 3;
    if (total <= payload) return this.#fail(out, `announced length ${total} fits in the first fragment (${payload} bytes) but the end bit is missing`, true);
    this.#buffer = new Uint8Array(total);
    this.#buffer.set(fragment.subarray(3), 0);
    this.#received = payload;
    this.#seq = 1;
    this.#lastAt = now;
    return out;
  }

  /** A continuation fragment: appended in sequence; the E bit must come exactly with the last byte. */
  #continuation(fragment: Uint8Array, { end, seq }: FragmentHeader, now: number, out: ReassemblyOutput[]): ReassemblyOutput[] {
    if (!this.#buffer) {
      if (this.#discarding) {
        if (end) this.#discarding = false;
        return out;
      }
      return this.#fail(out, 'continuation fragment without a first fragment', !end);
    }
    const expected = this.#seq & FRAGMENT_SEQ_MASK;
    if (seq !== expected) return this.#fail(out, `fragment sequence ${seq}, expected ${expected} (lost or repeated fragment)`, !end);
    const payload = fragment.length - 1;
    if (payload === 0) return this.#fail(out, 'empty continuation fragment', !end);
    const total = this.#buffer.length;
    if (this.#received + payload > total) return this.#fail(out, `too many bytes: ${this.#received + payload} > announced ${total}`, !end);
    this.#buffer.set(fragment.subarray(1), this.#received);
    this.#received += payload;
    this.#seq++;
    this.#lastAt = now;
    const complete = this.#received === total;
    if (end !== complete) {
      return this.#fail(out, end ? `end bit at ${this.#received}/${total} bytes` : `message complete (${total} bytes) without the end bit`, false);
    }
    if (complete) {
      const message = this.#buffer;
      this.reset();
      out.push(message);
    }
    return out;
  }
}
