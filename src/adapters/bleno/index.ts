/**
 * `proxkey/bleno` — the car side over Bluetooth LE (GATT peripheral) on bleno.
 *
 * ```ts
 * import { loadBleno, startCarPeripheral } from 'proxkey/bleno';
 * import { serveVehicleSession } from 'proxkey';
 * const bleno = await loadBleno();                       // @stoprocent/bleno or @abandonware/bleno
 * const car = await startCarPeripheral({ bleno, onLink: (link) => void serveVehicleSession(link, options) });
 * // ... later
 * await car.stop();
 * ```
 *
 * Serves the proxkey GATT profile (docs/BLE.md) and yields one `Link` per connected phone once
 * it has subscribed to notifications. `@stoprocent/bleno` 0.12 serves several phones at once
 * (its callbacks carry a connection handle first); `@abandonware/bleno` one at a time. The
 * difference is hidden here. Importing this module never touches Bluetooth.
 */
import { LinkClosedError, LocalError, assertArg } from '../../errors.js';
import {
  DEFAULT_MAX_MESSAGE_SIZE,
  FRAMING_VERSION,
  FramedLink,
  MAX_ATT_VALUE,
  MIN_ATT_MTU,
  PROXKEY_INFO_CHAR_UUID,
  PROXKEY_NOTIFY_CHAR_UUID,
  PROXKEY_SERVICE_UUID,
  PROXKEY_WRITE_CHAR_UUID,
  encodeGattInfo,
  type FramingOptions,
} from '../../transport/framing.js';
import type { Link, LinkCloseInfo, ReceiveOptions, SendOptions } from '../../transport/link.js';
import { withDeadline } from '../../transport/deadline.js';
import { BleUnavailableError, callbackToPromise, importFirst, stackUuid, step, waitPoweredOn, type Emitter, type HciOptions } from '../common.js';

export { BleUnavailableError, type HciOptions } from '../common.js';
export { PROXKEY_SERVICE_UUID, PROXKEY_WRITE_CHAR_UUID, PROXKEY_NOTIFY_CHAR_UUID, PROXKEY_INFO_CHAR_UUID } from '../../transport/framing.js';

// ---------------------------------------------------------------------------------------------
// The parts of bleno we use (structural: both families match)

type BlenoCtor = new (options: Record<string, unknown>) => unknown;

/** A bleno instance (`@stoprocent/bleno` or `@abandonware/bleno`). */
export interface BlenoLike extends Emitter {
  readonly state: string;
  readonly address?: string;
  readonly Characteristic: BlenoCtor & { readonly RESULT_SUCCESS: number; readonly RESULT_ATTR_NOT_LONG: number; readonly RESULT_UNLIKELY_ERROR: number };
  readonly PrimaryService: BlenoCtor;
  setServices(services: unknown[], callback?: (err?: unknown) => void): void;
  startAdvertisingWithEIRData(advertisementData: Uint8Array, scanData: Uint8Array, callback?: (err?: unknown) => void): void;
  stopAdvertising(callback?: () => void): void;
  /** stoprocent: `disconnect(handle?)`; abandonware: `disconnect()` (its one connection). */
  disconnect(handle?: unknown): void;
  stop?(): void;
}

// ---------------------------------------------------------------------------------------------
// Loader

export interface LoadBlenoOptions extends HciOptions {
  /** Use this package (default: the first installed of `@stoprocent/bleno`, `@abandonware/bleno`). */
  readonly package?: '@stoprocent/bleno' | '@abandonware/bleno';
}

const BLENO_PACKAGES = ['@stoprocent/bleno', '@abandonware/bleno'] as const;

/**
 * Load whichever bleno is installed and bind it to the HCI controller. Throws
 * `BleUnavailableError` (with a hint) when none is installed or it cannot load.
 * `@abandonware/bleno` is configured through the environment, once per process (see `loadNoble`).
 */
export async function loadBleno(options: LoadBlenoOptions = {}): Promise<BlenoLike> {
  const { name, module } = await importFirst(options.package ? [options.package] : BLENO_PACKAGES, 'bleno', (pkg) => {
    if (pkg !== '@abandonware/bleno') return;
    if (options.uart) {
      process.env.BLUETOOTH_HCI_SOCKET_UART_PORT = options.uart.port;
      if (options.uart.baudRate) process.env.BLUETOOTH_HCI_SOCKET_UART_BAUDRATE = String(options.uart.baudRate);
    }
    if (options.deviceId !== undefined) process.env.BLENO_HCI_DEVICE_ID = String(options.deviceId);
  });
  if (name === '@stoprocent/bleno' && typeof module.withBindings === 'function') {
    if (options.uart) {
      return module.withBindings('hci', { hciDriver: 'uart', bindParams: { uart: { port: options.uart.port, baudRate: options.uart.baudRate ?? 1_000_000 } } });
    }
    if (options.deviceId !== undefined) return module.withBindings('hci', { deviceId: options.deviceId });
  }
  return module as BlenoLike;
}

// ---------------------------------------------------------------------------------------------
// The car peripheral

export interface CarPeripheralOptions extends FramingOptions {
  /** The injected bleno instance (see `loadBleno`). */
  readonly bleno: BlenoLike;
  /** Service UUID (default: the proxkey service). */
  readonly serviceUuid?: string;
  /** Advertised local name (default: none; a static name lets anyone track the car). */
  readonly localName?: string;
  /** Protocol versions announced in the info characteristic, most preferred first (default [1]). */
  readonly protocolVersions?: readonly number[];
  /**
   * Each connected phone's session link, once it subscribed. Without `onLink`, links queue for
   * `accept()`. Exceptions thrown here are ignored.
   */
  readonly onLink?: (link: PhoneLink) => void;
  /** Bound on power-on, service setup and advertising start, each (default 10 000 ms). */
  readonly startTimeoutMs?: number;
  /**
   * After the car closes a link, give the phone this long to disconnect itself (so the last
   * notification is not cut off by the disconnect) before the car disconnects it (default 250 ms).
   */
  readonly disconnectGraceMs?: number;
  readonly signal?: AbortSignal;
}

/** One connected, subscribed phone. */
export interface PhoneLink extends Link {
  /** The phone's BLE address as the controller reported it (random/private for real phones). */
  readonly address: string | undefined;
  /** The connection handle (stoprocent bleno) or `undefined` (abandonware: one connection). */
  readonly handle: unknown;
  /** Largest notification value for this phone (MTU - 3 at subscription, at most 512). */
  readonly maxValueSize: number;
}

export interface CarPeripheral {
  /** The next phone link (from the queue when no `onLink` is set). */
  accept(options?: ReceiveOptions): Promise<PhoneLink>;
  /** Links currently open. */
  readonly links: ReadonlySet<PhoneLink>;
  /** The controller's address. */
  readonly address: string | undefined;
  /** Disconnect every phone now (a "drop the link" for tests and emergencies). */
  disconnectAll(): void;
  /** Stop advertising, close every link, remove the service and our listeners (idempotent). */
  stop(): Promise<void>;
}

interface Connection {
  address: string | undefined;
  link?: FramedLink;
  public?: PhoneLink;
  graceTimer?: ReturnType<typeof setTimeout>;
}

/** Advertising data: flags + the complete list of 128-bit service UUIDs (little-endian). */
function advertisementFor(serviceUuid: string): Uint8Array {
  const hex = stackUuid(serviceUuid);
  assertArg(/^[0-9a-f]{32}$/.test(hex), `serviceUuid: expected a 128-bit UUID, got ${serviceUuid}`);
  const le = new Uint8Array(16);
  for (let i = 0; i < 16; i++) le[15 - i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return Uint8Array.of(0x02, 0x01, 0x06, 0x11, 0x07, ...le);
}

function scanResponseFor(localName: string | undefined): Uint8Array {
  if (!localName) return new Uint8Array(0);
  const name = new TextEncoder().encode(localName);
  assertArg(name.length <= 29, 'localName: at most 29 bytes (scan response limit)');
  return Uint8Array.of(name.length + 1, 0x09, ...name);
}

/**
 * Power on, serve the proxkey GATT service, and advertise. Resolves once advertising; every
 * step is bounded (`BleUnavailableError` when the adapter is missing or refuses, `TimeoutError`).
 */
export async function startCarPeripheral(options: CarPeripheralOptions): Promise<CarPeripheral> {
  const { bleno, signal } = options;
  const startTimeoutMs = options.startTimeoutMs ?? 10_000;
  const graceMs = options.disconnectGraceMs ?? 250;
  const maxMessageSize = options.maxMessageSize ?? DEFAULT_MAX_MESSAGE_SIZE;
  const serviceUuid = options.serviceUuid ?? PROXKEY_SERVICE_UUID;
  const adv = advertisementFor(serviceUuid);
  const scan = scanResponseFor(options.localName);
  const info = encodeGattInfo({ framingVersion: FRAMING_VERSION, maxMessageSize, protocolVersions: options.protocolVersions ?? [1] });
  const { Characteristic, PrimaryService } = bleno;
  if (typeof Characteristic !== 'function' || typeof PrimaryService !== 'function') {
    throw new LocalError('ERR_INVALID_ARGUMENT', 'bleno: expected a bleno instance (with Characteristic and PrimaryService)');
  }

  const connections = new Map<unknown, Connection>();
  const open = new Set<PhoneLink>();
  const pending: PhoneLink[] = [];
  let waiters: { resolve: (l: PhoneLink) => void; reject: (e: Error) => void }[] = [];
  let stopped = false;

  const keyOf = (handle: unknown) => handle ?? 'single';
  const disconnect = (handle: unknown) => {
    try {
      if (handle === undefined) bleno.disconnect();
      else bleno.disconnect(handle);
    } catch {
      /* already gone */
    }
  };

  const offer = (link: PhoneLink) => {
    if (options.onLink) {
      try {
        options.onLink(link);
      } catch {
        /* the application's problem; the link stays usable */
      }
      return;
    }
    const w = waiters.shift();
    if (w) w.resolve(link);
    else pending.push(link);
  };

  // The three characteristics. Callbacks: stoprocent passes a connection handle first,
  // abandonware does not; the arguments are taken from the end.
  const writeChar = new Characteristic({
    uuid: stackUuid(PROXKEY_WRITE_CHAR_UUID),
    properties: ['write', 'writeWithoutResponse'],
    onWriteRequest(...args: unknown[]) {
      const callback = args.pop() as (result: number) => void;
      args.pop(); // withoutResponse
      const offset = args.pop() as number;
      const data = args.pop() as Uint8Array;
      const handle = args.length > 0 ? args[0] : undefined;
      if (offset) return callback(Characteristic.RESULT_ATTR_NOT_LONG);
      const conn = connections.get(keyOf(handle));
      if (!conn?.link || conn.link.isClosed) return callback(Characteristic.RESULT_UNLIKELY_ERROR);
      callback(Characteristic.RESULT_SUCCESS);
      conn.link.deliver(new Uint8Array(data.buffer, data.byteOffset, data.byteLength).slice());
    },
  });

  const notifyChar = new Characteristic({
    uuid: stackUuid(PROXKEY_NOTIFY_CHAR_UUID),
    properties: ['notify'],
    onSubscribe(...args: unknown[]) {
      const update = args.pop() as (data: Uint8Array) => void;
      const maxValueSize = Math.max(MIN_ATT_MTU - 3, Math.min(MAX_ATT_VALUE, Number(args.pop()) || MIN_ATT_MTU - 3));
      const handle = args.length > 0 ? args[0] : undefined;
      if (stopped) return;
      const key = keyOf(handle);
      let conn = connections.get(key);
      if (!conn) {
        conn = { address: undefined };
        connections.set(key, conn);
      }
      conn.link?.terminate('remote', 'phone subscribed again');
      const c = conn;
      const link = new FramedLink({
        valueSize: maxValueSize,
        maxMessageSize,
        partialTimeoutMs: options.partialTimeoutMs,
        writeFragment: async (fragment) => {
          update(Buffer.from(fragment));
        },
        onClose: (closeInfo: LinkCloseInfo) => {
          open.delete(publicLink);
          if (c.link === link) c.link = undefined;
          if (closeInfo.by === 'remote') return; // the phone went away or unsubscribed
          // the car ended the session: let the phone disconnect, then make sure
          if (c.graceTimer) clearTimeout(c.graceTimer);
          c.graceTimer = setTimeout(() => {
            c.graceTimer = undefined;
            if (connections.get(key) === c && !c.link) disconnect(handle);
          }, graceMs);
        },
      });
      conn.link = link;
      const publicLink: PhoneLink = {
        address: conn.address,
        handle,
        maxValueSize,
        get closed() {
          return link.closed;
        },
        get isClosed() {
          return link.isClosed;
        },
        send: (message: Uint8Array, o?: SendOptions) => link.send(message, o),
        receive: (o?: ReceiveOptions) => link.receive(o),
        close: (reason?: string) => link.close(reason),
      };
      conn.public = publicLink;
      open.add(publicLink);
      offer(publicLink);
    },
    onUnsubscribe(...args: unknown[]) {
      const handle = args.length > 0 ? args[0] : undefined;
      connections.get(keyOf(handle))?.link?.terminate('remote', 'phone unsubscribed');
    },
  });

  const infoChar = new Characteristic({
    uuid: stackUuid(PROXKEY_INFO_CHAR_UUID),
    properties: ['read'],
    value: Buffer.from(info),
  });

  const onAccept = (address: string, handle?: unknown) => {
    const key = keyOf(handle);
    const old = connections.get(key);
    old?.link?.terminate('remote', 'replaced by a new connection');
    if (old?.graceTimer) clearTimeout(old.graceTimer);
    connections.set(key, { address });
  };
  const onDisconnect = (_address: string, handle?: unknown) => {
    const key = keyOf(handle);
    const conn = connections.get(key);
    if (!conn) return;
    connections.delete(key);
    if (conn.graceTimer) clearTimeout(conn.graceTimer);
    // in a later task: a write that arrived just before is still received first
    const link = conn.link;
    if (link) setTimeout(() => link.terminate('remote', 'phone disconnected'), 0);
  };
  bleno.on('accept', onAccept);
  bleno.on('disconnect', onDisconnect);
  const detach = () => {
    bleno.removeListener('accept', onAccept);
    bleno.removeListener('disconnect', onDisconnect);
  };

  try {
    const bound = { timeoutMs: startTimeoutMs, signal };
    await waitPoweredOn(bleno, 'bleno', bound);
    const service = new PrimaryService({ uuid: stackUuid(serviceUuid), characteristics: [writeChar, notifyChar, infoChar] });
    await step('set GATT services', callbackToPromise((cb) => bleno.setServices([service], cb)), bound);
    await step('start advertising', callbackToPromise((cb) => bleno.startAdvertisingWithEIRData(Buffer.from(adv), Buffer.from(scan), cb)), bound);
  } catch (err) {
    detach();
    throw err;
  }

  const car: CarPeripheral = {
    get links() {
      return open;
    },
    get address() {
      return bleno.address;
    },
    async accept(o: ReceiveOptions = {}): Promise<PhoneLink> {
      for (let ready = pending.shift(); ready; ready = pending.shift()) if (!ready.isClosed) return ready;
      if (stopped) throw new LinkClosedError('car peripheral stopped');
      let waiter!: (typeof waiters)[number];
      const work = new Promise<PhoneLink>((resolve, reject) => (waiter = { resolve, reject }));
      waiters.push(waiter);
      return withDeadline('accept', work, o, () => {
        waiters = waiters.filter((w) => w !== waiter);
      });
    },
    disconnectAll() {
      for (const [key, conn] of connections) {
        conn.link?.terminate('transport', 'car dropped the connection');
        disconnect(key === 'single' ? undefined : key);
      }
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      await step('stop advertising', callbackToPromise((cb) => bleno.stopAdvertising(() => cb())), { timeoutMs: 2000 }).catch(() => {});
      for (const [key, conn] of connections) {
        if (conn.graceTimer) clearTimeout(conn.graceTimer);
        conn.link?.terminate('transport', 'car stopped');
        disconnect(key === 'single' ? undefined : key);
      }
      connections.clear();
      await step('remove GATT services', callbackToPromise((cb) => bleno.setServices([], cb)), { timeoutMs: 2000 }).catch(() => {});
      detach();
      for (const w of waiters.splice(0)) w.reject(new LinkClosedError('car peripheral stopped'));
    },
  };
  return car;
}
