/**
 * The conformance control frame (docs/CONFORMANCE.md "Phone under test"): a message of the
 * byte-stream binding whose first byte is 0x7E (no protocol message uses it), then UTF-8 JSON.
 * Only between the runner and a phone under test: the runner's directive opens a connection
 * (what the phone must do on it), the phone's report ends it (what the phone concluded).
 */
import { fromHex, toHex, utf8 } from '../bytes.js';
import { RemoteError } from '../errors.js';
import type { CommandInput } from '../protocol/commands.js';

export const CONTROL_FRAME_TYPE = 0x7e;

/** A directive command name as the wallet takes it (`custom:130` → a custom command). */
export function commandInput(name: string): CommandInput {
  const custom = /^custom:(\d+)$/.exec(name);
  return custom ? { kind: 'custom', code: Number(custom[1]) } : (name as CommandInput);
}

/** One command for the phone under test: a name (`unlock`, `list-keys`, `advertising-secret`, `custom:130`) and its intent flag. */
export interface DirectiveCommand {
  readonly command: string;
  readonly intent?: boolean;
}

/** What the phone must do on this connection. */
export type Directive =
  | { readonly action: 'pair'; readonly code: string }
  /** Open a session with the first command in the handshake, send the others on it, then close; with `awaitClose` wait for the car to end it instead. */
  | { readonly action: 'commands'; readonly commands: readonly DirectiveCommand[]; readonly awaitClose?: boolean };

/** What the phone concluded: one entry per result it accepted, then how the session ended. */
export interface Report {
  readonly results: readonly { readonly status: string; readonly data?: string }[];
  /** The reason in the car's authenticated CLOSE, if one arrived. */
  readonly closeReason?: string;
  /** Set when the phone stopped on an error (bad MAC, unexpected message, alert, timeout): its code. */
  readonly error?: string;
  /** For `pair`: the car's key id for this phone. */
  readonly paired?: boolean;
}

export function isControlFrame(bytes: Uint8Array): boolean {
  return bytes[0] === CONTROL_FRAME_TYPE;
}

export function encodeControl(value: Directive | Report): Uint8Array {
  const json = utf8(JSON.stringify(value));
  const out = new Uint8Array(1 + json.length);
  out[0] = CONTROL_FRAME_TYPE;
  out.set(json, 1);
  return out;
}

/** Parse a control frame's JSON; a frame that is not one throws `RemoteError('ERR_DECODE')`. */
export function decodeControl(bytes: Uint8Array): unknown {
  if (!isControlFrame(bytes)) throw new RemoteError('ERR_DECODE', 'control frame: first byte must be 0x7e');
  try {
    return JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(1))) as unknown;
  } catch {
    throw new RemoteError('ERR_DECODE', 'control frame: not UTF-8 JSON');
  }
}

/** Result data as the report carries it (hex). */
export const dataHex = (data: Uint8Array): string => toHex(data);
export const dataBytes = (hex: string | undefined): Uint8Array => (hex ? fromHex(hex) : new Uint8Array(0));
