/**
 * One BLE connection to a car, from `connectToCar`'s first GATT request until its link has closed
 * and the connection is released:
 *
 * - every setup request is bounded and also ends as soon as the car disconnects (`request`);
 * - the car's disconnect ends the link (in a later task, so that a notification that arrived just
 *   before is still received first);
 * - the connection is released once: when the link closes (unless the car already dropped it), or
 *   when setup fails (`abandon`), and `disconnected` resolves then.
 */
import type { RequestBound } from '../common.js';
import { copyOf } from '../../bytes.js';
import { LinkClosedError, notifyObserver } from '../../errors.js';
import { FramedLink, type FramedLinkOptions } from '../../transport/framed-link.js';
import type { LinkCloseInfo } from '../../transport/link.js';
import { settleable, withRadioDeadline } from '../common.js';
import type { NobleCharacteristic, NoblePeripheral } from './types.js';

/** Disconnect `peripheral` unless it already is (or cancel a pending connect); never throws. */
export async function disconnectQuietly(peripheral: NoblePeripheral, timeoutMs: number): Promise<void> {
  if (peripheral.state === 'disconnected') return;
  if (peripheral.state === 'connecting') {
    cancelConnectQuietly(peripheral);
    return;
  }
  await withRadioDeadline('disconnect', peripheral.disconnectAsync(), { timeoutMs }).catch(() => {});
}

function cancelConnectQuietly(peripheral: NoblePeripheral): void {
  notifyObserver(() => peripheral.cancelConnect?.());
}

/** The link-level options `CarConnection.openLink` passes on to the `FramedLink` (it supplies the close handling and the data path). */
export type CarLinkFraming = Omit<FramedLinkOptions, 'onClose'>;

export class CarConnection {
  readonly #peripheral: NoblePeripheral;
  readonly #bound: RequestBound;
  readonly #disconnectTimeoutMs: number;
  readonly #onDisconnected: ((info: LinkCloseInfo) => void) | undefined;
  /** Rejects when the car disconnects: every setup request races it. */
  readonly #lost = settleable<never>();
  readonly #releasedSignal = settleable<void>();
  /** Resolves once the BLE connection is released after the link closed, or after a failed setup (never rejects). */
  readonly disconnected = this.#releasedSignal.promise;
  #lostReason: string | undefined;
  #link: FramedLink | undefined;
  #notify: NobleCharacteristic | undefined;

  constructor(peripheral: NoblePeripheral, bound: RequestBound, disconnectTimeoutMs: number, onDisconnected?: (info: LinkCloseInfo) => void) {
    this.#peripheral = peripheral;
    this.#bound = bound;
    this.#disconnectTimeoutMs = disconnectTimeoutMs;
    this.#onDisconnected = onDisconnected;
    this.#lost.promise.catch(() => {});
    peripheral.on('disconnect', this.#onDisconnect);
  }

  /** A bounded GATT request that also fails (`LinkClosedError`) as soon as the car disconnects. */
  request<T>(what: string, work: Promise<T>, onCancel?: () => void): Promise<T> {
    return withRadioDeadline(what, Promise.race([work, this.#lost.promise]), this.#bound, onCancel);
  }

  /** Connect, asking for `mtu`; a connect that times out or is aborted is cancelled. */
  connect(mtu: number): Promise<void> {
    return this.request('connect', this.#peripheral.connectAsync({ mtu }), () => cancelConnectQuietly(this.#peripheral));
  }

  /**
   * The framed link over this connection: `notify`'s values are delivered to it, and its close
   * releases the connection (then `disconnected` resolves and `onDisconnected` is told).
   */
  openLink(framing: CarLinkFraming, notify: NobleCharacteristic): FramedLink {
    const link = new FramedLink({ ...framing, onClose: (info) => this.#release(info) });
    this.#link = link;
    this.#notify = notify;
    notify.on('data', this.#onData);
    return link;
  }

  /** After a failed setup: close the link if one was opened (which releases the connection), else release it here. */
  async abandon(): Promise<void> {
    if (this.#link) {
      this.#link.close('connect failed');
      await this.disconnected;
      return;
    }
    this.#detach();
    if (!this.#lostReason) await disconnectQuietly(this.#peripheral, this.#disconnectTimeoutMs);
  }

  readonly #onData = (data: Uint8Array): void => {
    this.#link?.deliver(copyOf(data));
  };

  readonly #onDisconnect = (reason?: unknown): void => {
    const why = `car disconnected (reason ${String(reason ?? 'unknown')})`;
    this.#lostReason = why;
    this.#lost.reject(new LinkClosedError(why));
    setTimeout(() => this.#link?.terminate('remote', why), 0);
  };

  #detach(): void {
    this.#peripheral.removeListener('disconnect', this.#onDisconnect);
    this.#notify?.removeListener('data', this.#onData);
  }

  #release(info: LinkCloseInfo): void {
    this.#detach();
    const release = this.#lostReason ? Promise.resolve() : disconnectQuietly(this.#peripheral, this.#disconnectTimeoutMs);
    void release.then(() => {
      this.#releasedSignal.resolve();
      notifyObserver(() => this.#onDisconnected?.(info));
    });
  }
}
