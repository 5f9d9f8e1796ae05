/**
 * One Web Bluetooth GATT connection to a car, from the first request of `connectToCar` until its
 * link has closed and the connection is released:
 *
 * - every setup request is bounded and ends as soon as the car disconnects (`request`): the
 *   disconnect wins over a request that completed in the same tick;
 * - the car's disconnect ends the link in a later task (notifications queued before it come first);
 * - the connection is released once (listeners removed, `disconnect()` unless the car already
 *   dropped it): when a request times out or is aborted, when the link closes, or when setup fails.
 */
import { LinkClosedError } from '../../errors.js';
import type { FramedLink } from '../../transport/framed-link.js';
import { withRadioDeadline } from '../common.js';
import type { BluetoothDeviceLike, GattCharacteristicLike, GattServerLike } from './types.js';

/** Bound on each setup request. */
interface RequestBound {
  readonly timeoutMs: number;
  readonly signal?: AbortSignal;
}

/** A copy of a characteristic's value (undefined when it has none). */
export const bytesOf = (v: DataView | undefined): Uint8Array | undefined => (v ? new Uint8Array(v.buffer, v.byteOffset, v.byteLength).slice() : undefined);

export class WebCarConnection {
  /** Resolves once the link has closed and the connection is released (never rejects). */
  readonly disconnected: Promise<void>;
  readonly #device: BluetoothDeviceLike;
  readonly #server: GattServerLike;
  readonly #bound: RequestBound;
  /** Rejects when the car disconnects: every setup request races it. */
  readonly #lost: Promise<never>;
  readonly #rejectLost: (err: Error) => void;
  readonly #resolveDisconnected: () => void;
  #link: FramedLink | undefined;
  #notify: GattCharacteristicLike | undefined;
  #carDisconnected = false;
  #released = false;

  constructor(device: BluetoothDeviceLike, server: GattServerLike, bound: RequestBound) {
    this.#device = device;
    this.#server = server;
    this.#bound = bound;
    let rejectLost: (err: Error) => void = () => {};
    this.#lost = new Promise<never>((_, reject) => (rejectLost = reject));
    this.#lost.catch(() => {});
    this.#rejectLost = rejectLost;
    let resolveDisconnected: () => void = () => {};
    this.disconnected = new Promise<void>((resolve) => (resolveDisconnected = resolve));
    this.#resolveDisconnected = resolveDisconnected;
    device.addEventListener('gattserverdisconnected', this.#onGone);
  }

  /** A bounded GATT request that fails (`LinkClosedError`) as soon as the car disconnects; a timeout or abort releases the connection. */
  request<T>(what: string, work: Promise<T>): Promise<T> {
    return withRadioDeadline(what, Promise.race([this.#lost, work]), this.#bound, this.#release);
  }

  /** Deliver `notify`'s values to `link` from now on. */
  attach(link: FramedLink, notify: GattCharacteristicLike): void {
    this.#link = link;
    this.#notify = notify;
    notify.addEventListener('characteristicvaluechanged', this.#onData);
  }

  /** The link closed: release the connection, then `disconnected` resolves. */
  linkClosed(): void {
    this.#release();
    this.#resolveDisconnected();
  }

  /** After a failed setup: close the link if one was attached (which releases the connection), else release it here. */
  abandon(): void {
    if (this.#link) this.#link.close('connect failed');
    else this.#release();
  }

  readonly #onData = (): void => {
    const v = bytesOf(this.#notify?.value);
    if (v) this.#link?.deliver(v);
  };

  readonly #onGone = (): void => {
    this.#carDisconnected = true;
    this.#rejectLost(new LinkClosedError('the car disconnected (out of range, or it ended the connection)'));
    setTimeout(() => this.#link?.terminate('remote', 'car disconnected'), 0); // notifications queued before it come first
  };

  readonly #release = (): void => {
    if (this.#released) return;
    this.#released = true;
    this.#device.removeEventListener('gattserverdisconnected', this.#onGone);
    this.#notify?.removeEventListener('characteristicvaluechanged', this.#onData);
    if (this.#carDisconnected) return;
    try {
      this.#server.disconnect();
    } catch {
      /* already gone */
    }
  };
}
