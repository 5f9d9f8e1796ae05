/**
 * BLE framing: whole protocol messages over ATT values of any MTU (23..517), plus the GATT
 * profile constants shared by the noble and bleno adapters.
 *
 * Every ATT value (a write from the phone, a notification from the car) carries ONE fragment:
 *
 * ```
 * header (1 byte):  bit 7 S = first fragment of a message
 *                   bit 6 E = last fragment of a message
 *                   bits 5-4 reserved, must be 0
 *                   bits 3-0 SEQ = fragment index within the message, mod 16 (0 on the S fragment)
 * S=1 E=1  header ‖ payload                  the whole message in one value (length = value length - 1)
 * S=1 E=0  header ‖ u16 BE total length ‖ payload   first of several; total > payload length
 * S=0      header ‖ payload (≥ 1 byte)       continuation; E=1 on the last, where the byte count
 *                                            must reach the announced total exactly
 * ```
 *
 * The receiver checks the announced total against its maximum message size BEFORE buffering
 * anything, rejects every inconsistency with a `RemoteError('ERR_DECODE')`, and resets so the
 * next message (the next S fragment) is received normally. A partial message that sees no
 * fragment for `partialTimeoutMs` is dropped. Pure code: the reassembler never reads a clock,
 * the caller passes `now`.
 *
 * `FramedLink` is the `Link` the BLE adapters and the in-memory link build on: it fragments on
 * send (one fragment write at a time, each bounded by a timeout) and reassembles on receive.
 * No Node built-ins here.
 */
import { AbortedError, LinkClosedError, LocalError, ProxkeyError, RemoteError, assertArg, assertBytes } from '../errors.js';
import { withDeadline } from './deadline.js';
import type { Link, LinkCloseInfo, ReceiveOptions, SendOptions } from './link.js';
import { MessageQueue } from './message-queue.js';

// ---------------------------------------------------------------------------------------------
// Constants

/** Header bit: first fragment of a message. */
export const FRAGMENT_START = 0x80;
/** Header bit: last fragment of a message. */
export const FRAGMENT_END = 0x40;
/** Header bits that must be zero (reserved for future use). */
export const FRAGMENT_RESERVED = 0x30;
/** Header bits holding the fragment index mod 16. */
export const FRAGMENT_SEQ_MASK = 0x0f;

/** Smallest ATT MTU (BLE 4.0 default): 20-byte values. */
export const MIN_ATT_MTU = 23;
/** Largest ATT MTU a peer may negotiate. */
export const MAX_ATT_MTU = 517;
/** ATT attribute values are at most 512 bytes, even when MTU - 3 would allow 514. */
export const MAX_ATT_VALUE = 512;
/** Default hard maximum of one protocol message (Tesla uses the same bound). */
export const DEFAULT_MAX_MESSAGE_SIZE = 1024;
/** Absolute maximum: the first fragment announces the total length as a u16. */
export const MAX_MESSAGE_SIZE_LIMIT = 0xffff;
/** Default: a partial message that receives no fragment for this long is dropped. */
export const DEFAULT_PARTIAL_TIMEOUT_MS = 1000;

/**
 * The largest ATT value (and so fragment) for a negotiated MTU: `MTU - 3` (opcode + handle),
 * capped at 512 (the ATT maximum attribute length). Throws `LocalError` outside 23..517.
 */
export function valueSizeForMtu(mtu: number): number {
  assertArg(Number.isInteger(mtu) && mtu >= MIN_ATT_MTU && mtu <= MAX_ATT_MTU, `mtu: expected an integer in ${MIN_ATT_MTU}..${MAX_ATT_MTU}, got ${mtu}`);
  return Math.min(mtu - 3, MAX_ATT_VALUE);
}

export interface FramingOptions {
  /** Hard maximum size of one message in bytes (default 1024, at most 65535). */
  readonly maxMessageSize?: number;
  /** Drop a partial message after this many ms without a fragment (default 1000). */
  readonly partialTimeoutMs?: number;
}

function resolveMaxMessageSize(options: FramingOptions): number {
  const max = options.maxMessageSize ?? DEFAULT_MAX_MESSAGE_SIZE;
  assertArg(Number.isInteger(max) && max >= 1 && max <= MAX_MESSAGE_SIZE_LIMIT, `maxMessageSize: expected 1..${MAX_MESSAGE_SIZE_LIMIT}, got ${max}`);
  return max;
}

// ---------------------------------------------------------------------------------------------
// Fragmentation

/**
 * Split one message into ATT values of at most `valueSize` bytes (use {@link valueSizeForMtu}).
 * Throws `LocalError('ERR_INVALID_ARGUMENT')` for a message above the maximum or a value size
 * below 20 / above 512.
 */
export function fragmentMessage(message: Uint8Array, valueSize: number, options: FramingOptions = {}): Uint8Array[] {
  assertBytes(message, 'message');
  assertArg(
    Number.isInteger(valueSize) && valueSize >= MIN_ATT_MTU - 3 && valueSize <= MAX_ATT_VALUE,
    `valueSize: expected ${MIN_ATT_MTU - 3}..${MAX_ATT_VALUE}, got ${valueSize}`,
  );
  const max = resolveMaxMessageSize(options);
  assertArg(message.length <= max, `message: ${message.length} bytes exceeds the maximum message size ${max}`);
  if (message.length <= valueSize - 1) {
    const v = new Uint8Array(message.length + 1);
    v[0] = FRAGMENT_START | FRAGMENT_END;
    v.set(message, 1);
    return [v];
  }
  const out: Uint8Array[] = [];
  const firstPayload = valueSize - 3;
  const first = new Uint8Array(valueSize);
  first[0] = FRAGMENT_START;
  first[1] = message.length >>> 8;
  first[2] = message.length & 0xff;
  first.set(message.subarray(0, firstPayload), 3);
  out.push(first);
  let offset = firstPayload;
  let seq = 1;
  while (offset < message.length) {
    const n = Math.min(valueSize - 1, message.length - offset);
    const v = new Uint8Array(n + 1);
    const last = offset + n === message.length;
    v[0] = (last ? FRAGMENT_END : 0) | (seq & FRAGMENT_SEQ_MASK);
    v.set(message.subarray(offset, offset + n), 1);
    out.push(v);
    offset += n;
    seq++;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Reassembly

/** What one `push` produced, in order: complete messages and/or framing errors. */
export type ReassemblyOutput = Uint8Array | RemoteError;

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
    const fail = (message: string, discardRest: boolean) => {
      this.reset();
      this.#discarding = discardRest;
      out.push(decodeError(message));
      return out;
    };
    if (fragment.length === 0) return fail('empty fragment', false);
    const h = fragment[0]!;
    if (h & FRAGMENT_RESERVED) return fail(`reserved header bits set (0x${h.toString(16).padStart(2, '0')})`, false);
    const start = (h & FRAGMENT_START) !== 0;
    const end = (h & FRAGMENT_END) !== 0;
    const seq = h & FRAGMENT_SEQ_MASK;

    if (start) {
      if (this.#buffer) out.push(decodeError(`new message started before the previous one completed (${this.#received}/${this.#buffer.length} bytes)`));
      this.reset();
      if (seq !== 0) return fail(`first fragment with sequence ${seq}`, !end);
      if (end) {
        const size = fragment.length - 1;
        if (size > this.maxMessageSize) return fail(`message of ${size} bytes exceeds the maximum ${this.maxMessageSize}`, false);
        out.push(fragment.slice(1));
        return out;
      }
      if (fragment.length < 3) return fail('first fragment shorter than its header', true);
      const total = (fragment[1]! << 8) | fragment[2]!;
      // checked before anything is buffered
      if (total > this.maxMessageSize) return fail(`announced message of ${total} bytes exceeds the maximum ${this.maxMessageSize}`, true);
      const payload = fragment.length - 3;
      if (total <= payload) return fail(`announced length ${total} fits in the first fragment (${payload} bytes) but the end bit is missing`, true);
      this.#buffer = new Uint8Array(total);
      this.#buffer.set(fragment.subarray(3), 0);
      this.#received = payload;
      this.#seq = 1;
      this.#lastAt = now;
      return out;
    }

    // continuation
    if (!this.#buffer) {
      if (this.#discarding) {
        if (end) this.#discarding = false;
        return out;
      }
      return fail('continuation fragment without a first fragment', !end);
    }
    if (seq !== (this.#seq & FRAGMENT_SEQ_MASK))
      return fail(`fragment sequence ${seq}, expected ${this.#seq & FRAGMENT_SEQ_MASK} (lost or repeated fragment)`, !end);
    const payload = fragment.length - 1;
    if (payload === 0) return fail('empty continuation fragment', !end);
    const total = this.#buffer.length;
    if (this.#received + payload > total) return fail(`too many bytes: ${this.#received + payload} > announced ${total}`, !end);
    this.#buffer.set(fragment.subarray(1), this.#received);
    this.#received += payload;
    this.#seq++;
    this.#lastAt = now;
    const complete = this.#received === total;
    if (end !== complete) {
      return fail(end ? `end bit at ${this.#received}/${total} bytes` : `message complete (${total} bytes) without the end bit`, false);
    }
    if (complete) {
      const message = this.#buffer;
      this.reset();
      out.push(message);
    }
    return out;
  }
}

// ---------------------------------------------------------------------------------------------
// GATT profile (shared by the adapters; documented in docs/BLE.md)

/** The proxkey primary service (128-bit UUID, advertised). */
export const PROXKEY_SERVICE_UUID = '9bfa0001-a120-4033-a9cc-7dfe62944c0d';
/** Phone → car: write (with response by default; without response allowed). One fragment per value. */
export const PROXKEY_WRITE_CHAR_UUID = '9bfa0002-a120-4033-a9cc-7dfe62944c0d';
/** Car → phone: notify. One fragment per value. */
export const PROXKEY_NOTIFY_CHAR_UUID = '9bfa0003-a120-4033-a9cc-7dfe62944c0d';
/** Read-only: framing version, maximum message size, supported protocol versions. */
export const PROXKEY_INFO_CHAR_UUID = '9bfa0004-a120-4033-a9cc-7dfe62944c0d';
/** The framing version this code speaks (first byte of the info value). */
export const FRAMING_VERSION = 1;

/** Contents of the info characteristic. */
export interface GattInfo {
  readonly framingVersion: number;
  /** The largest message the car accepts. */
  readonly maxMessageSize: number;
  /** Protocol versions the car supports, most preferred first (u16 each). */
  readonly protocolVersions: readonly number[];
}

/** `framingVersion u8 ‖ maxMessageSize u16 BE ‖ count u8 ‖ count × version u16 BE`. */
export function encodeGattInfo(info: GattInfo): Uint8Array {
  assertArg(Number.isInteger(info.framingVersion) && info.framingVersion >= 0 && info.framingVersion <= 0xff, 'framingVersion: expected a byte');
  assertArg(
    Number.isInteger(info.maxMessageSize) && info.maxMessageSize >= 1 && info.maxMessageSize <= MAX_MESSAGE_SIZE_LIMIT,
    'maxMessageSize: expected 1..65535',
  );
  assertArg(info.protocolVersions.length <= 255, 'protocolVersions: at most 255');
  const out = new Uint8Array(4 + 2 * info.protocolVersions.length);
  out[0] = info.framingVersion;
  out[1] = info.maxMessageSize >>> 8;
  out[2] = info.maxMessageSize & 0xff;
  out[3] = info.protocolVersions.length;
  info.protocolVersions.forEach((v, i) => {
    assertArg(Number.isInteger(v) && v >= 0 && v <= 0xffff, `protocolVersions[${i}]: expected a u16`);
    out[4 + 2 * i] = v >>> 8;
    out[5 + 2 * i] = v & 0xff;
  });
  return out;
}

/** Parse the info value; `RemoteError('ERR_DECODE')` when malformed (trailing bytes are ignored: later versions may append). */
export function decodeGattInfo(bytes: Uint8Array): GattInfo {
  assertBytes(bytes, 'info');
  if (bytes.length < 4) throw new RemoteError('ERR_DECODE', `info characteristic: ${bytes.length} bytes, expected at least 4`);
  const n = bytes[3]!;
  if (bytes.length < 4 + 2 * n) throw new RemoteError('ERR_DECODE', `info characteristic: ${n} versions announced, ${bytes.length} bytes`);
  const protocolVersions: number[] = [];
  for (let i = 0; i < n; i++) protocolVersions.push((bytes[4 + 2 * i]! << 8) | bytes[5 + 2 * i]!);
  const maxMessageSize = (bytes[1]! << 8) | bytes[2]!;
  if (maxMessageSize === 0) throw new RemoteError('ERR_DECODE', 'info characteristic: max message size 0');
  return { framingVersion: bytes[0]!, maxMessageSize, protocolVersions };
}

// ---------------------------------------------------------------------------------------------
// A Link over fragments

export interface FramedLinkOptions extends FramingOptions {
  /**
   * Largest value the transport accepts now (MTU - 3, capped at 512; see {@link valueSizeForMtu}).
   * A function when it can change (MTU exchange); read once per message.
   */
  readonly valueSize: number | (() => number);
  /** Write one fragment (one ATT value). Resolves when the transport accepted it. */
  readonly writeFragment: (fragment: Uint8Array) => Promise<void>;
  /** Bound on each fragment write in ms (default 5000). A timeout closes the link. */
  readonly writeTimeoutMs?: number;
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
  readonly closeOnFramingError?: boolean;
  /** Clock for the partial-message timeout (default `Date.now`). */
  readonly now?: () => number;
}

/**
 * A `Link` that carries whole messages as fragments over some value transport (a GATT
 * characteristic pair, a simulated channel). The transport calls `deliver()` for every value
 * received and `terminate()` when the connection is gone.
 */
export class FramedLink implements Link {
  readonly #inbox = new MessageQueue();
  readonly #reassembler: Reassembler;
  readonly #options: FramedLinkOptions;
  readonly #now: () => number;
  readonly #writeTimeoutMs: number;
  #sendTail: Promise<void> = Promise.resolve();
  #timer: ReturnType<typeof setTimeout> | undefined;
  #closeNotified = false;

  constructor(options: FramedLinkOptions) {
    this.#options = options;
    this.#reassembler = new Reassembler(options);
    this.#now = options.now ?? Date.now;
    this.#writeTimeoutMs = options.writeTimeoutMs ?? 5000;
    assertArg(this.#writeTimeoutMs > 0, 'writeTimeoutMs: expected > 0');
    void this.#inbox.closed.then((info) => {
      if (this.#timer !== undefined) clearTimeout(this.#timer);
      this.#timer = undefined;
      this.#reassembler.reset();
      if (!this.#closeNotified) {
        this.#closeNotified = true;
        this.#options.onClose?.(info);
      }
    });
  }

  get closed(): Promise<LinkCloseInfo> {
    return this.#inbox.closed;
  }
  get isClosed(): boolean {
    return this.#inbox.isClosed;
  }
  /** Why the link closed, once closed. */
  get closeInfo(): LinkCloseInfo | undefined {
    return this.#inbox.closeInfo;
  }
  /** The largest message this link sends or accepts. */
  get maxMessageSize(): number {
    return this.#reassembler.maxMessageSize;
  }

  #closedError(): LinkClosedError {
    const info = this.#inbox.closeInfo;
    return new LinkClosedError(info ? `link closed (${info.by}): ${info.reason}` : 'link closed');
  }

  async send(message: Uint8Array, options: SendOptions = {}): Promise<void> {
    assertBytes(message, 'message');
    if (this.isClosed) throw this.#closedError();
    const max = this.#reassembler.maxMessageSize;
    if (message.length > max) throw new LocalError('ERR_INVALID_ARGUMENT', `message: ${message.length} bytes exceeds the maximum message size ${max}`);
    const copy = message.slice();
    const previous = this.#sendTail;
    let release!: () => void;
    const mine = new Promise<void>((r) => (release = r));
    // the next message waits for this one AND everything before it, even if this one is aborted early
    this.#sendTail = previous.then(() => mine);
    try {
      // one message at a time: fragments of two messages must never interleave
      await withDeadline('send (waiting for the previous message)', previous, { signal: options.signal });
      if (this.isClosed) throw this.#closedError();
      const vs = this.#options.valueSize;
      const fragments = fragmentMessage(copy, typeof vs === 'function' ? vs() : vs, { maxMessageSize: max });
      for (let i = 0; i < fragments.length; i++) {
        if (this.isClosed) throw this.#closedError();
        if (options.signal?.aborted) {
          if (i > 0) this.#fail('transport', 'send aborted in the middle of a message');
          throw new AbortedError('send', options.signal.reason);
        }
        let write: Promise<void>;
        try {
          write = Promise.resolve(this.#options.writeFragment(fragments[i]!));
        } catch (e) {
          write = Promise.reject(e);
        }
        try {
          await withDeadline(`BLE write of fragment ${i + 1}/${fragments.length}`, write, { timeoutMs: this.#writeTimeoutMs, signal: options.signal });
        } catch (e) {
          write.catch(() => {}); // a late rejection of an abandoned write is not unhandled
          if (this.isClosed) throw this.#closedError();
          if (e instanceof AbortedError && fragments.length === 1) throw e; // nothing half-sent
          if (e instanceof ProxkeyError) {
            this.#fail('transport', e.message);
            throw e;
          }
          const detail = e instanceof Error ? e.message : String(e);
          this.#fail('transport', `write failed: ${detail}`);
          throw new LinkClosedError(`link closed (transport): write failed: ${detail}`);
        }
      }
    } finally {
      release();
    }
  }

  receive(options?: ReceiveOptions): Promise<Uint8Array> {
    return this.#inbox.receive(options);
  }

  close(reason = 'closed'): void {
    this.#inbox.close({ by: 'local', reason });
  }

  /** The transport received one value (fragment). */
  deliver(fragment: Uint8Array): void {
    if (this.isClosed) return;
    const now = this.#now();
    for (const item of this.#reassembler.push(fragment, now)) {
      if (item instanceof Uint8Array) this.#inbox.push(item);
      else this.#framingError(item);
      if (this.isClosed) return;
    }
    this.#armTimer(now);
  }

  /** The transport is gone (peer disconnected, unsubscribed, link loss). Idempotent. */
  terminate(by: 'remote' | 'transport', reason: string): void {
    this.#inbox.close({ by, reason });
  }

  #fail(by: 'transport', reason: string): void {
    this.#inbox.close({ by, reason });
  }

  #framingError(err: RemoteError): void {
    this.#options.onFramingError?.(err);
    if (this.#options.closeOnFramingError ?? true) this.#fail('transport', err.message);
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
