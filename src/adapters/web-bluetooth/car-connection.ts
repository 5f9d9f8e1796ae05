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
import type { RequestBound } from '../common.js';
import { LinkClosedError } from '../../errors.js';
import type { FramedLink } from '../../transport/framed-link.js';
import { settleable, withRadioDeadline } from '../common.js';
import type { BluetoothDeviceLike, GattCharacteristicLike, GattServerLike } from './types.js';

/** A copy of a characteristic's value (undefined when it has none). */
export const bytesOf = (v: DataView | undefined): Uint8Array | undefined => (v ? new Uint8Array(v.buffer, v.byteOffset, v.byteLength).slice() : undefined);

export class WebCarConnection {
  readonly #device: BluetoothDeviceLike;
  readonly #server: GattServerLike;
  readonly #bound: RequestBound;
  /** Rejects when the car disconnects: every setup request races it. */
  readonly #lost = settleable<never>();
  readonly #releasedSignal = settleable<void>();
  /** Resolves once the BLE connection is released after the link closed, or after a failed setup (never rejects). */
  readonly disconnected = this.#releasedSignal.promise;
  #link: FramedLink | undefined;
  #notify: GattCharacteristicLike | undefined;
  #carDisconnected = false;
  #released = false;

  constructor(device: BluetoothDeviceLike, server: GattServerLike, bound: RequestBound) {
    this.#device = device;
    this.#server = server;
    this.#bound = bound;
    this.#lost.promise.catch(() => {});
    device.addEventListener('gattserverdisconnected', this.#onGone);
  }

  /** A bounded GATT request that fails (`LinkClosedError`) as soon as the car disconnects; a timeout or abort releases the connection. */
  request<T>(what: string, work: Promise<T>): Promise<T> {
    return withRadioDeadline(what, Promise.race([this.#lost.promise, work]), this.#bound, this.#release);
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
    this.#releasedSignal.resolve();
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
    this.#lost.reject(new LinkClosedError('the car disconnected (out of range, or it ended the connection)'));
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
