/**
 * The BLE fragment codec: one protocol message as ATT values of any MTU (23..517).
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
 * The receiving side is `reassembler.ts`. Pure code, no Node built-ins.
 */
import { assertArg, assertBytes } from '../errors.js';

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

/**
 * The largest ATT value (and so fragment) for a negotiated MTU: `MTU - 3` (opcode + handle),
 * capped at 512 (the ATT maximum attribute length). Throws `LocalError` outside 23..517.
 */
export function valueSizeForMtu(mtu: number): number {
  assertArg(Number.isInteger(mtu) && mtu >= MIN_ATT_MTU && mtu <= MAX_ATT_MTU, `mtu: expected an integer in ${MIN_ATT_MTU}..${MAX_ATT_MTU}, got ${mtu}`);
  return Math.min(mtu - 3, MAX_ATT_VALUE);
}

/** Limits of the BLE framing (docs/BLE.md §2): the largest message and the partial-message timeout. */
export interface FramingOptions {
  /** Hard maximum size of one message in bytes (default 1024, at most 65535). */
  readonly maxMessageSize?: number | undefined;
  /** Drop a partial message after this many ms without a fragment (default 1000). */
  readonly partialTimeoutMs?: number | undefined;
}

/** The configured maximum message size, checked (1..65535, default 1024). */
export function resolveMaxMessageSize(options: FramingOptions): number {
  const max = options.maxMessageSize ?? DEFAULT_MAX_MESSAGE_SIZE;
  assertArg(Number.isInteger(max) && max >= 1 && max <= MAX_MESSAGE_SIZE_LIMIT, `maxMessageSize: expected 1..${MAX_MESSAGE_SIZE_LIMIT}, got ${max}`);
  return max;
}

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
