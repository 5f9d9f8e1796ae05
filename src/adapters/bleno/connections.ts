/**
 * The car's GATT service and its connections: the three characteristics of the proxkey profile
 * (docs/BLE.md), one `FramedLink` per subscribed phone, and what happens when a phone connects,
 * subscribes, writes, unsubscribes or disconnects. Callbacks: stoprocent bleno passes a connection
 * handle first, abandonware does not (one connection); the arguments are taken from the end.
 */
import { copyOf } from '../../bytes.js';
import { notifyObserver } from '../../errors.js';
import { FramedLink } from '../../transport/framed-link.js';
import { MAX_ATT_VALUE, MIN_ATT_MTU } from '../../transport/fragment-codec.js';
import { PROXKEY_INFO_CHAR_UUID, PROXKEY_NOTIFY_CHAR_UUID, PROXKEY_WRITE_CHAR_UUID } from '../../transport/gatt-profile.js';
import type { LinkCloseInfo } from '../../transport/link.js';
import { extendLink, stackUuid, usableRssi } from '../common.js';
import type { LinkQueue } from './link-queue.js';
import { sampleRssi, type RssiSource } from './rssi-sampling.js';
import type { BlenoLike, PhoneLink } from './types.js';

/** The key of abandonware's one connection (its callbacks carry no handle). */
const ONLY_CONNECTION = Symbol('the one connection');

const keyOf = (handle: unknown): unknown => handle ?? ONLY_CONNECTION;
const handleOf = (key: unknown): unknown => (key === ONLY_CONNECTION ? undefined : key);

interface Connection {
  address: string | undefined;
  link?: FramedLink | undefined;
  graceTimer?: ReturnType<typeof setTimeout> | undefined;
}

export interface CarConnectionsOptions {
  readonly bleno: BlenoLike;
  readonly queue: LinkQueue;
  readonly rssi: RssiSource;
  readonly maxMessageSize: number;
  readonly partialTimeoutMs: number | undefined;
  readonly disconnectGraceMs: number;
  /** RSSI sampling period per open link (0: none). */
  readonly rssiIntervalMs: number;
  readonly onRssi: ((link: PhoneLink, rssi: number) => void) | undefined;
  /** Abandonware's one connection went away (a deferred rotation may run). */
  readonly onOnlyConnectionGone: () => void;
}

export class CarConnections {
  readonly #options: CarConnectionsOptions;
  readonly #connections = new Map<unknown, Connection>();
  readonly #open = new Set<PhoneLink>();
  #stopped = false;

  constructor(options: CarConnectionsOptions) {
    this.#options = options;
  }

  /** Links currently open. */
  get links(): ReadonlySet<PhoneLink> {
    return this.#open;
  }

  /** Whether abandonware's one connection is up. */
  get onlyConnectionUp(): boolean {
    return this.#connections.has(ONLY_CONNECTION);
  }

  /** The three characteristics of the proxkey service; `info` is the info characteristic's value. */
  characteristics(info: Uint8Array): unknown[] {
    const { Characteristic } = this.#options.bleno;
    const write = new Characteristic({
      uuid: stackUuid(PROXKEY_WRITE_CHAR_UUID),
      properties: ['write', 'writeWithoutResponse'],
      onWriteRequest: (...args: unknown[]) => this.#onWrite(args),
    });
    const notify = new Characteristic({
      uuid: stackUuid(PROXKEY_NOTIFY_CHAR_UUID),
      properties: ['notify'],
      onSubscribe: (...args: unknown[]) => this.#onSubscribe(args),
      onUnsubscribe: (...args: unknown[]) => {
        const handle = args.length > 0 ? args[0] : undefined;
        this.#connections.get(keyOf(handle))?.link?.terminate('remote', 'phone unsubscribed');
      },
    });
    const infoChar = new Characteristic({ uuid: stackUuid(PROXKEY_INFO_CHAR_UUID), properties: ['read'], value: Buffer.from(info) });
    return [write, notify, infoChar];
  }

  /** bleno's `accept` event: a phone connected (not yet subscribed). */
  readonly onAccept = (address: string, handle?: unknown): void => {
    const key = keyOf(handle);
    const old = this.#connections.get(key);
    old?.link?.terminate('remote', 'replaced by a new connection');
    if (old?.graceTimer) clearTimeout(old.graceTimer);
    this.#connections.set(key, { address });
  };

  /** bleno's `disconnect` event. */
  readonly onDisconnect = (_address: string, handle?: unknown): void => {
    const key = keyOf(handle);
    const conn = this.#connections.get(key);
    if (!conn) return;
    this.#connections.delete(key);
    if (conn.graceTimer) clearTimeout(conn.graceTimer);
    // in a later task: a write that arrived just before is still received first
    const link = conn.link;
    if (link) setTimeout(() => link.terminate('remote', 'phone disconnected'), 0);
    if (!this.onlyConnectionUp) this.#options.onOnlyConnectionGone();
  };

  /** Drop every phone now (`by: 'transport'`, `reason`). */
  disconnectAll(reason: string): void {
    for (const [key, conn] of this.#connections) {
      conn.link?.terminate('transport', reason);
      this.#disconnect(handleOf(key));
    }
  }

  /** The car stops: no new links; every phone is dropped and forgotten. */
  stop(): void {
    this.#stopped = true;
    for (const conn of this.#connections.values()) if (conn.graceTimer) clearTimeout(conn.graceTimer);
    this.disconnectAll('car stopped');
    this.#connections.clear();
  }

  /** Stop new links without dropping the phones (the first step of stopping). */
  halt(): void {
    this.#stopped = true;
  }

  #disconnect(handle: unknown): void {
    try {
      if (handle === undefined) this.#options.bleno.disconnect();
      else this.#options.bleno.disconnect(handle);
    } catch {
      /* already gone */
    }
  }

  #onWrite(args: unknown[]): void {
    const { Characteristic } = this.#options.bleno;
    const callback = args.pop() as (result: number) => void;
    args.pop(); // withoutResponse
    const offset = args.pop() as number;
    const data = args.pop() as Uint8Array;
    const handle = args.length > 0 ? args[0] : undefined;
    if (offset) return callback(Characteristic.RESULT_ATTR_NOT_LONG);
    const conn = this.#connections.get(keyOf(handle));
    if (!conn?.link || conn.link.isClosed) return callback(Characteristic.RESULT_UNLIKELY_ERROR);
    callback(Characteristic.RESULT_SUCCESS);
    conn.link.deliver(copyOf(data));
  }

  #onSubscribe(args: unknown[]): void {
    const update = args.pop() as (data: Uint8Array) => void;
    const maxValueSize = Math.max(MIN_ATT_MTU - 3, Math.min(MAX_ATT_VALUE, Number(args.pop()) || MIN_ATT_MTU - 3));
    const handle = args.length > 0 ? args[0] : undefined;
    if (this.#stopped) return;
    const key = keyOf(handle);
    let conn = this.#connections.get(key);
    if (!conn) {
      conn = { address: undefined };
      this.#connections.set(key, conn);
    }
    conn.link?.terminate('remote', 'phone subscribed again');
    const c = conn;
    const link = new FramedLink({
      valueSize: maxValueSize,
      maxMessageSize: this.#options.maxMessageSize,
      partialTimeoutMs: this.#options.partialTimeoutMs,
      writeFragment: async (fragment) => {
        update(Buffer.from(fragment));
      },
      onClose: (closeInfo: LinkCloseInfo) => {
        this.#open.delete(phoneLink);
        if (c.link === link) c.link = undefined;
        if (closeInfo.by === 'remote') return; // the phone went away or unsubscribed
        // the car ended the session: let the phone disconnect, then make sure
        if (c.graceTimer) clearTimeout(c.graceTimer);
        c.graceTimer = setTimeout(() => {
          c.graceTimer = undefined;
          if (this.#connections.get(key) === c && !c.link) this.#disconnect(handle);
        }, this.#options.disconnectGraceMs);
      },
    });
    conn.link = link;
    const phoneLink = this.#phoneLink(link, conn.address, handle, maxValueSize);
    this.#open.add(phoneLink);
    this.#options.queue.offer(phoneLink);
  }

  /** The public face of one subscribed phone's link, with its RSSI. */
  #phoneLink(link: FramedLink, address: string | undefined, handle: unknown, maxValueSize: number): PhoneLink {
    const { rssi, rssiIntervalMs, onRssi } = this.#options;
    let lastRssi: number | undefined;
    const alive = () => !link.isClosed && !this.#stopped;
    const phoneLink: PhoneLink = extendLink(link, {
      address,
      handle,
      maxValueSize,
      get rssi() {
        return lastRssi;
      },
      readRssi: async (o: { readonly timeoutMs?: number } = {}) => (alive() ? usableRssi(await rssi.read(handle, o.timeoutMs ?? 1000, alive)) : undefined),
    });
    if (rssiIntervalMs > 0) {
      const onReading = (value: number) => {
        lastRssi = value;
        notifyObserver(() => onRssi?.(phoneLink, value));
      };
      sampleRssi({ rssi, handle, intervalMs: rssiIntervalMs, alive, closed: link.closed, onReading });
    }
    return phoneLink;
  }
}
