/**
 * RSSI of the phones connected to the car: one-at-a-time reads per connection handle, and the
 * periodic sampling of an open link. RSSI errors never affect a session.
 */
import { usableRssi } from '../common.js';
import { blenoHciLayer, type BlenoHciLayer } from './private-fields.js';
import type { BlenoLike } from './types.js';

/** Reads of a connection's raw RSSI, one at a time. */
export interface RssiSource {
  /**
   * The raw reading of the connection `handle` (undefined: abandonware's one connection), or
   * undefined when nothing answered within `timeoutMs` or the stack cannot read. `alive` is asked
   * again when the read's turn comes (a link closed meanwhile is not read). Never rejects.
   */
  read(handle: unknown, timeoutMs: number, alive?: () => boolean): Promise<number | undefined>;
  /** Stop listening; reads in flight resolve undefined. */
  dispose(): void;
}

/** An HCI layer that reads a connection's RSSI by handle (`readRssi` answered by `rssiRead`). */
type HciRssiReader = BlenoHciLayer & { readonly readRssi: (handle: number) => void };

function readsRssiByHandle(hci: BlenoHciLayer | undefined): hci is HciRssiReader {
  return !!hci && typeof hci.readRssi === 'function' && typeof hci.on === 'function';
}

/** Consecutive unanswered RSSI reads after which a link stops sampling. */
const MAX_RSSI_TIMEOUTS = 3;

/**
 * Per-connection RSSI reads, one at a time (answers carry no request id on abandonware).
 * stoprocent bleno 0.12.4: its public `updateRssi` never sends the command (the bindings' `_handle`
 * is never set), so the HCI layer's `readRssi(handle)` / `rssiRead(handle, rssi)` is used when
 * present. abandonware bleno 0.6: the public `updateRssi()` + `rssiUpdate` event (one connection).
 * Resolves the raw reading, or undefined when nothing answered in time or the stack cannot read.
 */
export function rssiSource(bleno: BlenoLike): RssiSource {
  return new OneAtATimeRssi(bleno);
}

/** The read in flight: which connection it is for, and how it ends. */
interface PendingRead {
  readonly handle: unknown;
  readonly done: (raw: number | undefined) => void;
}

class OneAtATimeRssi implements RssiSource {
  readonly #bleno: BlenoLike;
  /** The HCI layer, when it reads by connection handle (stoprocent); else only the public read (abandonware). */
  readonly #hci: HciRssiReader | undefined;
  #pending: PendingRead | undefined;
  #queue: Promise<unknown> = Promise.resolve();
  #listening: 'hci' | 'public' | undefined;
  #disposed = false;

  constructor(bleno: BlenoLike) {
    this.#bleno = bleno;
    const layer = blenoHciLayer(bleno);
    this.#hci = readsRssiByHandle(layer) ? layer : undefined;
  }

  read(handle: unknown, timeoutMs: number, alive: () => boolean = () => true): Promise<number | undefined> {
    const run = () => (alive() ? this.#readNow(handle, timeoutMs) : Promise.resolve(undefined));
    const p = this.#queue.then(run, run);
    this.#queue = p;
    return p;
  }

  dispose(): void {
    this.#disposed = true;
    this.#pending?.done(undefined);
    if (this.#listening === 'hci') this.#hci?.removeListener('rssiRead', this.#onHci);
    if (this.#listening === 'public') this.#bleno.removeListener('rssiUpdate', this.#onPublic);
    this.#listening = undefined;
  }

  readonly #onHci = (handle: number, rssi: number): void => {
    if (this.#pending && this.#pending.handle === handle) this.#pending.done(rssi);
  };

  readonly #onPublic = (rssi: number): void => {
    if (this.#pending && this.#pending.handle === undefined) this.#pending.done(rssi);
  };

  #listen(how: 'hci' | 'public'): void {
    if (this.#listening) return;
    this.#listening = how;
    if (how === 'hci') this.#hci?.on('rssiRead', this.#onHci);
    else this.#bleno.on('rssiUpdate', this.#onPublic);
  }

  /** What sends the read for `handle` (listening for its answer), or undefined when this stack cannot read it. */
  #requestFor(handle: unknown): (() => void) | undefined {
    const hci = this.#hci;
    if (handle !== undefined && hci) {
      this.#listen('hci');
      return () => hci.readRssi(handle as number);
    }
    if (handle === undefined && typeof this.#bleno.updateRssi === 'function') {
      this.#listen('public');
      return () => this.#bleno.updateRssi?.();
    }
    return undefined;
  }

  #readNow(handle: unknown, timeoutMs: number): Promise<number | undefined> {
    if (this.#disposed) return Promise.resolve(undefined);
    const request = this.#requestFor(handle);
    if (!request) return Promise.resolve(undefined);
    return new Promise((resolve) => {
      const timer = setTimeout(() => pending.done(undefined), timeoutMs);
      const pending: PendingRead = {
        handle,
        done: (raw) => {
          clearTimeout(timer);
          if (this.#pending === pending) this.#pending = undefined;
          resolve(raw);
        },
      };
      this.#pending = pending;
      try {
        request();
      } catch {
        pending.done(undefined);
      }
    });
  }
}

export interface RssiSampling {
  readonly rssi: RssiSource;
  readonly handle: unknown;
  /** Sampling period (> 0). */
  readonly intervalMs: number;
  /** Whether the link is still open (sampling ends when it is not). */
  readonly alive: () => boolean;
  /** Resolves when the link closed: the next sample is cancelled. */
  readonly closed: Promise<unknown>;
  /** Each usable reading (dBm). */
  readonly onReading: (rssi: number) => void;
}

/**
 * Sample a link's RSSI every `intervalMs` while it is open, starting now. After
 * `MAX_RSSI_TIMEOUTS` unanswered reads in a row the sampling ends (a silent stack), never the session.
 */
export function sampleRssi({ rssi, handle, intervalMs, alive, closed, onReading }: RssiSampling): void {
  let unanswered = 0;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const schedule = (delayMs: number) => {
    timer = setTimeout(() => void sample(), delayMs);
    timer.unref?.();
  };
  const sample = async () => {
    timer = undefined;
    if (!alive()) return;
    const raw = await rssi.read(handle, Math.max(200, Math.min(1000, 4 * intervalMs)), alive);
    if (!alive()) return;
    if (raw === undefined) {
      if (++unanswered >= MAX_RSSI_TIMEOUTS) return;
    } else {
      unanswered = 0;
      const value = usableRssi(raw);
      if (value !== undefined) onReading(value);
    }
    schedule(intervalMs);
  };
  schedule(0);
  void closed.then(() => {
    if (timer) clearTimeout(timer);
    timer = undefined;
  });
}
