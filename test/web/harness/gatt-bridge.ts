/**
 * The Node side of the Web Bluetooth fake: pages reach a car through the `__proxkeyGatt` binding.
 * The bridge enforces what a real central would see at ATT_MTU 23 (a value above 20 bytes is
 * refused; writes without response are counted, so tests can assert them), forwards the car's
 * notifications in order, and turns a car-side disconnect into `gattserverdisconnected` in the
 * page. Behind it, a `GattBackend`: a `VehicleService` behind a FramedLink in this process
 * (service-backend.ts), or the real bleno car over the emulated controller through real noble
 * (noble-backend.ts). Knobs make the chooser cancel, Bluetooth be off, and the car vanish at
 * the Nth write (mid-command).
 */
import type { BrowserContext, Page } from 'playwright-core';
import { PROXKEY_INFO_CHAR_UUID, PROXKEY_NOTIFY_CHAR_UUID, PROXKEY_SERVICE_UUID, PROXKEY_WRITE_CHAR_UUID } from '../../../src/index.js';
import type { GattReply } from './fake-bluetooth.js';

export const FAKE_MTU = 23;
export const VALUE_SIZE = FAKE_MTU - 3;
export const CAR_DEVICE_ID = 'car-device-1';

export const UUIDS = {
  service: PROXKEY_SERVICE_UUID,
  write: PROXKEY_WRITE_CHAR_UUID,
  notify: PROXKEY_NOTIFY_CHAR_UUID,
  info: PROXKEY_INFO_CHAR_UUID,
} as const;

/** One page's GATT connection, as a backend sees it. */
export interface PageConnection {
  /** Deliver a notification to the page (in order with the ones before it). */
  notify(value: Uint8Array): Promise<void>;
  /** The car ended the connection: the page gets `gattserverdisconnected`. */
  carDisconnected(): void;
}

/** A car behind GATT. Every method may throw: the page gets a `NetworkError`. */
export interface GattBackend {
  connect(conn: PageConnection): Promise<void>;
  readInfo(conn: PageConnection): Promise<Uint8Array>;
  subscribe(conn: PageConnection): Promise<void>;
  write(conn: PageConnection, value: Uint8Array): Promise<void>;
  /** The page disconnected. */
  disconnect(conn: PageConnection): Promise<void>;
  /** The car drops this connection (a vanishing car, for the mid-command test). */
  drop(conn: PageConnection): Promise<void>;
}

export interface GattKnobs {
  /** The user closes the chooser (Chrome: NotFoundError "User cancelled the requestDevice() chooser."). */
  cancelChooser?: boolean;
  /** Bluetooth is off (Chrome: NotFoundError "Bluetooth adapter not available."). */
  adapterOff?: boolean;
  /** The car drops the connection when it receives this write (1-based, counted per connection). */
  dropAtWrite?: number | undefined;
  /** The car is out of range: connecting fails (Chrome: NetworkError "Connection failed for unknown reason."). */
  outOfRange?: boolean;
}

const domError = (name: string, message: string): GattReply => ({ error: { name, message } });
const networkError = (e: unknown): GattReply => domError('NetworkError', `GATT operation failed: ${e instanceof Error ? e.message : String(e)}`);

interface Connection extends PageConnection {
  writes: number;
  subscribed: boolean;
}

export class GattBridge {
  readonly knobs: GattKnobs = {};
  /** Largest value a page wrote, writes that asked for a response, values refused as too long. */
  maxWriteSize = 0;
  writesWithResponse = 0;
  oversizedWrites = 0;
  /** How many times a page showed the chooser. */
  choosers = 0;
  readonly #connections = new Map<Page, Connection>();

  constructor(readonly backend: GattBackend) {}

  /** Let every page of `context` reach the car. */
  async attach(context: BrowserContext): Promise<void> {
    await context.exposeBinding('__proxkeyGatt', ({ page }: { page: Page }, op: string, arg: Record<string, unknown>) => this.#handle(page, op, arg));
  }

  async #handle(page: Page, op: string, arg: Record<string, unknown>): Promise<GattReply> {
    const conn = this.#connections.get(page);
    try {
      switch (op) {
        case 'availability':
          return { value: !this.knobs.adapterOff };
        case 'requestDevice':
          this.choosers++;
          if (this.knobs.adapterOff) return domError('NotFoundError', 'Bluetooth adapter not available.');
          if (this.knobs.cancelChooser) return domError('NotFoundError', 'User cancelled the requestDevice() chooser.');
          return { value: CAR_DEVICE_ID };
        case 'connect':
          if (this.knobs.outOfRange) return domError('NetworkError', 'Connection failed for unknown reason.');
          return await this.#connect(page);
        case 'read':
          if (!conn) return domError('NetworkError', 'GATT Server is disconnected.');
          if (arg.uuid !== UUIDS.info) return domError('NotSupportedError', 'GATT operation not permitted.');
          return { value: Array.from(await this.backend.readInfo(conn)) };
        case 'subscribe':
          if (!conn) return domError('NetworkError', 'GATT Server is disconnected.');
          conn.subscribed = true;
          await this.backend.subscribe(conn);
          return { value: true };
        case 'write':
          return await this.#write(conn, arg);
        case 'disconnect':
          this.#connections.delete(page);
          if (conn) await this.backend.disconnect(conn);
          return { value: true };
        default:
          return domError('NotSupportedError', `unknown operation ${op}`);
      }
    } catch (e) {
      return networkError(e);
    }
  }

  async #connect(page: Page): Promise<GattReply> {
    const old = this.#connections.get(page);
    if (old) await this.backend.disconnect(old).catch(() => {});
    let tail: Promise<unknown> = Promise.resolve();
    const conn: Connection = {
      writes: 0,
      subscribed: false,
      notify: (value) => {
        const bytes = Array.from(value);
        const sent = tail.then(() => page.evaluate(([id, b]) => window.__proxkeyFake?.notify(id, b), [CAR_DEVICE_ID, bytes] as const));
        tail = sent.catch(() => {});
        return sent;
      },
      carDisconnected: () => {
        if (this.#connections.get(page) !== conn) return;
        this.#connections.delete(page);
        tail = tail.then(() => page.evaluate((id) => window.__proxkeyFake?.disconnect(id), CAR_DEVICE_ID)).catch(() => {});
      },
    };
    this.#connections.set(page, conn);
    await this.backend.connect(conn);
    return { value: true };
  }

  async #write(conn: Connection | undefined, arg: Record<string, unknown>): Promise<GattReply> {
    if (!conn?.subscribed) return domError('NetworkError', 'GATT Server is disconnected.');
    if (arg.uuid !== UUIDS.write) return domError('NotSupportedError', 'GATT operation not permitted.');
    const value = Array.isArray(arg.bytes) ? Uint8Array.from(arg.bytes.map(Number)) : new Uint8Array(0);
    if (arg.withResponse === true) this.writesWithResponse++;
    this.maxWriteSize = Math.max(this.maxWriteSize, value.length);
    if (value.length > VALUE_SIZE) {
      this.oversizedWrites++;
      return domError('NotSupportedError', `GATT operation failed: value of ${value.length} bytes exceeds ATT_MTU - 3 = ${VALUE_SIZE}`);
    }
    conn.writes++;
    if (this.knobs.dropAtWrite !== undefined && conn.writes >= this.knobs.dropAtWrite) {
      this.knobs.dropAtWrite = undefined;
      await this.backend.drop(conn);
      conn.carDisconnected();
      return domError('NetworkError', 'GATT Server is disconnected. Cannot perform GATT operations.');
    }
    await this.backend.write(conn, value);
    return { value: true };
  }
}
