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
  const layer = blenoHciLayer(bleno);
  const hci = readsRssiByHandle(layer) ? layer : undefined;
  let waiting: { handle: unknown; done: (raw: number | undefined) => void } | undefined;
  let queue: Promise<unknown> = Promise.resolve();
  let listening: 'hci' | 'public' | undefined;
  let disposed = false;
  const onHci = (handle: number, rssi: number) => {
    if (waiting && waiting.handle === handle) waiting.done(rssi);
  };
  const onPublic = (rssi: number) => {
    if (waiting && waiting.handle === undefined) waiting.done(rssi);
  };
  const listen = (how: 'hci' | 'public') => {
    if (listening) return;
    listening = how;
    if (how === 'hci') hci?.on('rssiRead', onHci);
    else bleno.on('rssiUpdate', onPublic);
  };
  const once = (handle: unknown, timeoutMs: number): Promise<number | undefined> => {
    let trigger: () => void;
    if (disposed) return Promise.resolve(undefined);
    if (handle !== undefined && hci) {
      listen('hci');
      trigger = () => hci.readRssi(handle as number);
    } else if (handle === undefined && typeof bleno.updateRssi === 'function') {
      listen('public');
      trigger = () => bleno.updateRssi?.();
    } else return Promise.resolve(undefined);
    return new Promise((resolve) => {
      const timer = setTimeout(() => w.done(undefined), timeoutMs);
      const w = {
        handle,
        done: (raw: number | undefined) => {
          clearTimeout(timer);
          if (waiting === w) waiting = undefined;
          resolve(raw);
        },
      };
      waiting = w;
      try {
        trigger();
      } catch {
        w.done(undefined);
      }
    });
  };
  return {
    read(handle: unknown, timeoutMs: number, alive: () => boolean = () => true): Promise<number | undefined> {
      const run = () => (alive() ? once(handle, timeoutMs) : Promise.resolve(undefined));
      const p = queue.then(run, run);
      queue = p;
      return p;
    },
    dispose() {
      disposed = true;
      waiting?.done(undefined);
      if (listening === 'hci') hci?.removeListener('rssiRead', onHci);
      if (listening === 'public') bleno.removeListener('rssiUpdate', onPublic);
      listening = undefined;
    },
  };
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
