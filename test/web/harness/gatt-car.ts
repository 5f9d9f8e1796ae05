/**
 * The Node side of the Web Bluetooth fake: a real `VehicleService` behind GATT semantics, reached
 * by pages through the `__proxkeyGatt` binding. What it enforces is what a real car over BLE
 * would: ATT_MTU 23 (a value above 20 bytes is refused), the write characteristic takes writes
 * without response (counted, so tests can assert it), the car's fragments arrive as
 * notifications only after the page subscribed, a dropped connection fires
 * `gattserverdisconnected` in the page. Knobs make the chooser cancel, the adapter be off, and
 * the car vanish after N writes (mid-command).
 */
import type { BrowserContext, Page } from 'playwright-core';
import {
  FramedLink,
  MemoryVehicleStore,
  PROXKEY_INFO_CHAR_UUID,
  PROXKEY_NOTIFY_CHAR_UUID,
  PROXKEY_SERVICE_UUID,
  PROXKEY_WRITE_CHAR_UUID,
  VehicleService,
  defaultPolicy,
  encodeGattInfo,
  type Command,
} from '../../../src/index.js';
import type { GattReply } from './fake-bluetooth.js';

export const FAKE_MTU = 23;
const VALUE_SIZE = FAKE_MTU - 3;
export const CAR_DEVICE_ID = 'car-device-1';

export const UUIDS = {
  service: PROXKEY_SERVICE_UUID,
  write: PROXKEY_WRITE_CHAR_UUID,
  notify: PROXKEY_NOTIFY_CHAR_UUID,
  info: PROXKEY_INFO_CHAR_UUID,
} as const;

interface Connection {
  readonly page: Page;
  link?: FramedLink;
  writes: number;
}

export interface GattCarKnobs {
  /** The user closes the chooser (Chrome: NotFoundError "User cancelled the requestDevice() chooser."). */
  cancelChooser?: boolean;
  /** Bluetooth is off (Chrome: NotFoundError "Bluetooth adapter not available."). */
  adapterOff?: boolean;
  /** The car drops the connection when it receives this write (1-based, counted per connection). */
  dropAtWrite?: number;
}

const domError = (name: string, message: string): GattReply => ({ error: { name, message } });

export class GattCar {
  readonly knobs: GattCarKnobs = {};
  /** Every command the actuator ran. */
  readonly executed: string[] = [];
  /** The car's challenge-to-handshake round trip of every authenticated session (ms). */
  readonly rttsMs: number[] = [];
  /** Largest value the page wrote, and how many writes asked for a response. */
  maxWriteSize = 0;
  writesWithResponse = 0;
  oversizedWrites = 0;
  readonly #connections = new Map<Page, Connection>();
  #notifyTail: Promise<unknown> = Promise.resolve();

  private constructor(readonly service: VehicleService) {}

  static async open(name = 'Test car'): Promise<GattCar> {
    let car: GattCar | undefined;
    const service = await VehicleService.open({
      store: new MemoryVehicleStore(),
      name,
      // The relay bound is not what these tests are about: on a loaded machine the CDP bridge adds
      // milliseconds per 20-byte fragment. The measured round trips are kept in `rttsMs`.
      policy: defaultPolicy({ maxRttMs: Infinity }),
      onEvent: (e) => {
        if (e.type === 'authenticated') car?.rttsMs.push(e.rttMs);
      },
      actuator: (command: Command) => {
        car?.executed.push(command.kind);
      },
    });
    car = new GattCar(service);
    return car;
  }

  /** Let every page of `context` reach this car. */
  async attach(context: BrowserContext): Promise<void> {
    await context.exposeBinding('__proxkeyGatt', ({ page }: { page: Page }, op: string, arg: Record<string, unknown>) => this.#handle(page, op, arg));
  }

  async #handle(page: Page, op: string, arg: Record<string, unknown>): Promise<GattReply> {
    switch (op) {
      case 'availability':
        return { value: !this.knobs.adapterOff };
      case 'requestDevice':
        if (this.knobs.adapterOff) return domError('NotFoundError', 'Bluetooth adapter not available.');
        if (this.knobs.cancelChooser) return domError('NotFoundError', 'User cancelled the requestDevice() chooser.');
        return { value: CAR_DEVICE_ID };
      case 'connect':
        this.#drop(page, 'replaced by a new connection');
        this.#connections.set(page, { page, writes: 0 });
        return { value: true };
      case 'read':
        return arg.uuid === UUIDS.info ? { value: Array.from(encodeGattInfo({ framingVersion: 1, maxMessageSize: 1024, protocolVersions: [1] })) } : domError('NotSupportedError', 'GATT operation not permitted.');
      case 'subscribe':
        return this.#subscribe(page);
      case 'write':
        return this.#write(page, arg);
      case 'disconnect':
        this.#connections.get(page)?.link?.terminate('remote', 'phone disconnected');
        this.#connections.delete(page);
        return { value: true };
      default:
        return domError('NotSupportedError', `unknown operation ${op}`);
    }
  }

  #subscribe(page: Page): GattReply {
    const conn = this.#connections.get(page);
    if (!conn) return domError('NetworkError', 'GATT Server is disconnected.');
    const link = new FramedLink({
      valueSize: VALUE_SIZE,
      writeFragment: (fragment) => this.#notify(page, fragment),
      onClose: (info) => {
        if (info.by !== 'remote' && this.#connections.get(page) === conn) this.#disconnectPage(page); // the car hangs up
      },
    });
    conn.link = link;
    void this.service.serve(link).catch(() => {});
    return { value: true };
  }

  #write(page: Page, arg: Record<string, unknown>): GattReply {
    const conn = this.#connections.get(page);
    if (!conn?.link) return domError('NetworkError', 'GATT Server is disconnected.');
    const bytes = Array.isArray(arg.bytes) ? Uint8Array.from(arg.bytes.map(Number)) : new Uint8Array(0);
    if (arg.uuid !== UUIDS.write) return domError('NotSupportedError', 'GATT operation not permitted.');
    if (arg.withResponse === true) this.writesWithResponse++;
    this.maxWriteSize = Math.max(this.maxWriteSize, bytes.length);
    if (bytes.length > VALUE_SIZE) {
      this.oversizedWrites++;
      return domError('NotSupportedError', `GATT operation failed: value of ${bytes.length} bytes exceeds ATT_MTU - 3 = ${VALUE_SIZE}`);
    }
    conn.writes++;
    if (this.knobs.dropAtWrite !== undefined && conn.writes >= this.knobs.dropAtWrite) {
      this.knobs.dropAtWrite = undefined;
      this.#drop(page, 'car vanished mid-command');
      this.#disconnectPage(page);
      return domError('NetworkError', 'GATT Server is disconnected. Cannot perform GATT operations.');
    }
    conn.link.deliver(bytes);
    return { value: true };
  }

  /** One notification, in order with the ones before it. */
  #notify(page: Page, fragment: Uint8Array): Promise<void> {
    const bytes = Array.from(fragment);
    const sent = this.#notifyTail.then(() => page.evaluate(([id, b]) => window.__proxkeyFake?.notify(id, b), [CAR_DEVICE_ID, bytes] as const));
    this.#notifyTail = sent.catch(() => {});
    return sent;
  }

  #drop(page: Page, reason: string): void {
    this.#connections.get(page)?.link?.terminate('transport', reason);
    this.#connections.delete(page);
  }

  #disconnectPage(page: Page): void {
    this.#connections.delete(page);
    this.#notifyTail = this.#notifyTail.then(() => page.evaluate((id) => window.__proxkeyFake?.disconnect(id), CAR_DEVICE_ID)).catch(() => {});
  }
}
