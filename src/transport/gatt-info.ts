/** The info characteristic's value (docs/BLE.md): what framing and protocol versions a car speaks. */
import { RemoteError, assertArg, assertBytes } from '../errors.js';
import { MAX_MESSAGE_SIZE_LIMIT } from './fragment-codec.js';
import { FRAMING_VERSION } from './gatt-profile.js';

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

/** What a phone reads from the car's info characteristic: decoded, and `RemoteError('ERR_UNSUPPORTED')` for another framing version. */
export function readableCarInfo(bytes: Uint8Array): GattInfo {
  const info = decodeGattInfo(bytes);
  if (info.framingVersion !== FRAMING_VERSION)
    throw new RemoteError('ERR_UNSUPPORTED', `the car speaks framing version ${info.framingVersion}, this phone ${FRAMING_VERSION}: update the app or the car`);
  return info;
}
