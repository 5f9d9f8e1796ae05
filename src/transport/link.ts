/**
 * `Link`: an async duplex of whole protocol messages between one phone and one car.
 * Implementations: the in-memory pair (`createMemoryLinkPair`) and the BLE adapters (which add
 * framing underneath). A link is created once the phone has subscribed to the car's
 * notifications, so the car may push its challenge immediately.
 */

export interface ReceiveOptions {
  /** Give up after this many ms with `TimeoutError` (the message stays queued for a later call). */
  readonly timeoutMs?: number | undefined;
  readonly signal?: AbortSignal | undefined;
}

/** Options of `Link.send`: an abort signal. */
export interface SendOptions {
  readonly signal?: AbortSignal | undefined;
}

/** How a link closed: by whom, and why. */
export interface LinkCloseInfo {
  /** Who closed it: this side, the peer, or the transport (loss, timeout, error). */
  readonly by: 'local' | 'remote' | 'transport';
  readonly reason: string;
}

/** A message-oriented, ordered, reliable connection between a phone and a car: what the drivers speak over (BLE, memory, a byte stream). */
export interface Link {
  /** Send one whole message. Rejects with `LinkClosedError` once closed. */
  send(message: Uint8Array, options?: SendOptions): Promise<void>;
  /**
   * The next whole message. Rejects with `LinkClosedError`, `TimeoutError` or `AbortedError`.
   * Messages that arrived before the peer or the transport closed the link are still returned first.
   */
  receive(options?: ReceiveOptions): Promise<Uint8Array>;
  /** Close (idempotent). Pending and future receives reject with `LinkClosedError`. */
  close(reason?: string): void;
  /** Resolves once the link is closed, by either side. Never rejects. */
  readonly closed: Promise<LinkCloseInfo>;
  readonly isClosed: boolean;
}
