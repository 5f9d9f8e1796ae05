/**
 * Shared by the noble (phone) and bleno (car) adapters: the typed "BLE unavailable" error,
 * bounded event waits, UUID and MTU helpers (the lazy package loader is `ble-stack-loader.ts`). Node-only code (the core never imports this).
 */
import { LinkClosedError, ProxkeyError, TimeoutError, messageOf } from '../errors.js';
import { withDeadline } from '../transport/deadline.js';
import { MAX_ATT_MTU, MIN_ATT_MTU } from '../transport/framing.js';
import type { Link, LinkCloseInfo } from '../transport/link.js';

/**
 * BLE cannot be used here: no noble/bleno package installed, no adapter, no permission, or the
 * adapter did not power on. `hint` says what to install or configure.
 */
export class BleUnavailableError extends ProxkeyError {
  readonly hint: string;
  constructor(message: string, hint: string, options?: { cause?: unknown }) {
    super('ERR_BLE_UNAVAILABLE', `${message}\n${hint}`, options);
    this.hint = hint;
  }
}

/** How to reach the HCI controller, for the `load*` helpers. */
export interface HciOptions {
  /**
   * HCI over a serial port (H:4 UART): a USB/UART dongle in HCI mode, or an emulated controller
   * reached through a pty. Without it the stack's default is used (Linux: hci0 via raw socket).
   */
  readonly uart?: { readonly port: string; readonly baudRate?: number };
  /** Linux HCI device id (`hciN`), when not hci0. */
  readonly deviceId?: number;
}

export const LINUX_HINT =
  'On Linux: the machine needs a Bluetooth LE adapter (`hciconfig` or `btmgmt info` lists it), ' +
  'node needs raw-socket rights (run as root, or `sudo setcap cap_net_raw,cap_net_admin+eip $(readlink -f $(which node))`), ' +
  'and bluetoothd must not hold the adapter (`sudo systemctl stop bluetooth`, or give proxkey its own adapter via deviceId). ' +
  'A serial HCI controller (or an emulated one) is used with { uart: { port } }.';

/**
 * A listener on a BLE stack's event emitter. The stacks' payloads are untyped, each adapter
 * narrows them; declared as a method so listeners with their own (narrower) parameter types fit
 * (method parameters are checked bivariantly) — no `any`.
 */
export type StackListener = { handle(...args: unknown[]): void }['handle'];

/** Minimal event-emitter shape (noble, bleno, peripherals and characteristics all have it). */
export interface Emitter {
  on(event: string, listener: StackListener): unknown;
  once?(event: string, listener: StackListener): unknown;
  removeListener(event: string, listener: StackListener): unknown;
}

/** Bound on one setup request of a BLE adapter: a timeout, and an abort signal. */
export interface RequestBound {
  readonly timeoutMs: number;
  readonly signal?: AbortSignal | undefined;
}

/** Wait (bounded) for an adapter `state` of `poweredOn`; a typed, explained error otherwise. */
export async function waitPoweredOn(stack: Emitter & { readonly state: string }, who: 'noble' | 'bleno', { timeoutMs, signal }: RequestBound): Promise<void> {
  if (stack.state === 'poweredOn') return;
  let listener!: (s: string) => void;
  const work = new Promise<void>((resolve, reject) => {
    listener = (s: string) => {
      if (s === 'poweredOn') resolve();
      else if (s === 'unsupported' || s === 'unauthorized')
        reject(
          new BleUnavailableError(`${who}: Bluetooth adapter is ${s}`, s === 'unauthorized' ? `Grant ${who} access to the adapter. ${LINUX_HINT}` : LINUX_HINT),
        );
    };
    stack.on('stateChange', listener);
  });
  // the state getter initializes the bindings lazily in some versions: read it after subscribing
  const now = stack.state;
  try {
    if (now === 'poweredOn') return;
    await withDeadline(`${who} power-on`, work, { timeoutMs, signal });
  } catch (err) {
    if (err instanceof TimeoutError)
      throw new BleUnavailableError(`${who}: the Bluetooth adapter did not power on within ${timeoutMs} ms (state: ${stack.state})`, LINUX_HINT, {
        cause: err,
      });
    throw err;
  } finally {
    stack.removeListener('stateChange', listener);
  }
}

/**
 * Bound a radio operation: `TimeoutError` / `AbortedError` as they are, any other failure of
 * the stack becomes `LinkClosedError` naming the step (the phone may retry).
 */
export async function withRadioDeadline<T>(what: string, work: Promise<T>, bound: RequestBound, onCancel?: () => void): Promise<T> {
  try {
    return await withDeadline(what, work, bound, onCancel);
  } catch (err) {
    work.catch(() => {}); // an abandoned radio call may reject later
    if (err instanceof ProxkeyError) throw err;
    throw new LinkClosedError(`BLE ${what} failed: ${messageOf(err)}`);
  }
}

/** Promisify a callback-style call `fn(...args, cb(err?))`. */
export function callbackToPromise(fn: (cb: (err?: unknown, ...rest: unknown[]) => void) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    fn((err) => (err ? reject(err instanceof Error ? err : new Error(String(err))) : resolve()));
  });
}

/** Lower-case, dash-less UUID as noble and bleno compare them. */
export function stackUuid(uuid: string): string {
  return uuid.replace(/-/g, '').toLowerCase();
}

/** The 16 bytes of a 128-bit UUID in the little-endian order AD structures use (empty if not 128-bit). */
export function uuidToLittleEndian(uuid: string): Uint8Array {
  const hex = stackUuid(uuid);
  if (!/^[0-9a-f]{32}$/.test(hex)) return new Uint8Array(0);
  const le = new Uint8Array(16);
  for (let i = 0; i < 16; i++) le[15 - i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return le;
}

/** Bounds and observers of a phone's GATT link to a car, the same for every phone-side adapter. */
export interface GattLinkOptions {
  /** Bound on each GATT step: connect, discovery, MTU, info read, subscribe (default 5000 ms). */
  readonly stepTimeoutMs?: number;
  /** Bound on each fragment write; a timeout closes the link (default 5000 ms). */
  readonly writeTimeoutMs?: number;
  /**
   * Write without response (faster: no round trip per fragment; a value a busy stack drops is
   * caught by the framing's sequence numbers). Default false: with response, flow-controlled.
   */
  readonly writeWithoutResponse?: boolean;
  /** Bound on the disconnect when the link closes (default 2000 ms). */
  readonly disconnectTimeoutMs?: number;
  /** Called with the close info once the BLE connection is released. */
  readonly onDisconnected?: (info: LinkCloseInfo) => void;
}

/** A stack's MTU report as a usable ATT MTU: 23 while unknown, clamped to 23..517. */
export function clampMtu(mtu: number | null | undefined): number {
  return Math.max(MIN_ATT_MTU, Math.min(MAX_ATT_MTU, mtu ?? MIN_ATT_MTU));
}

/**
 * Advertising id length when it travels as manufacturer data (`companyId`): the 10 bytes the
 * primary advertisement has left after flags and the 128-bit UUID list, minus length, type and
 * the 2-byte company id.
 */
export const COMPANY_ID_ADVERTISING_ID_LENGTH = 6;

/**
 * A connection RSSI reading (dBm) worth using, or undefined. HCI reports a signed byte, 127 meaning
 * "not available". Also dropped: 0 and above (what some controllers answer on error) and −1 (what
 * BlueZ's emulated controller answers to every Read RSSI, even for an unknown handle). A real link
 * never reads above about −10 dBm (the strongest input a BLE receiver must handle), so nothing
 * real is lost.
 */
export function usableRssi(raw: number | undefined): number | undefined {
  return raw !== undefined && Number.isInteger(raw) && raw >= -127 && raw <= -2 ? raw : undefined;
}

/**
 * A `Link` that is `link` plus adapter-specific fields (`extra`; its getters stay live getters):
 * the one way every adapter hands out its framed link.
 */
export function extendLink<T extends object>(link: Link, extra: T): Link & T {
  const base: Link = {
    get closed() {
      return link.closed;
    },
    get isClosed() {
      return link.isClosed;
    },
    send: (message, options) => link.send(message, options),
    receive: (options) => link.receive(options),
    close: (reason) => link.close(reason),
  };
  return Object.defineProperties(base, Object.getOwnPropertyDescriptors(extra)) as Link & T;
}

/** A promise and the functions that settle it (what `Promise.withResolvers` gives on Node ≥ 22). */
export interface Settleable<T> {
  readonly promise: Promise<T>;
  readonly resolve: (value: T) => void;
  readonly reject: (err: Error) => void;
}

/** A promise settled from outside: a connection's "lost" and "disconnected" signals. */
export function settleable<T>(): Settleable<T> {
  let resolve: (value: T) => void = () => {};
  let reject: (err: Error) => void = () => {};
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}
