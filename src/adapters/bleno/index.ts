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
 * it has subscribed to notifications. With `advertising: { secret }` the car advertises its
 * rotating identifier (docs/PRIVACY.md) and re-advertises at each epoch boundary; with `onRssi`
 * it samples each connected phone's RSSI while its link is open. `@stoprocent/bleno` 0.12 serves
 * several phones at once (its callbacks carry a connection handle first); `@abandonware/bleno`
 * one at a time. The difference is hidden here. Importing this module never touches Bluetooth.
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
import { nobleCrypto } from '../../crypto/noble.js';
import type { CryptoProvider, RandomSource } from '../../crypto/provider.js';
import { systemRandom } from '../../crypto/random.js';
import { deriveAddressIrk, formatAddress, resolvablePrivateAddress } from '../../protocol/private-address.js';
import { rawHci, setRandomAddress, useRandomAddressForAdvertising } from './hci-privacy.js';
import {
  DEFAULT_ADVERTISING_ID_LENGTH,
  DEFAULT_ROTATION_SECONDS,
  MIN_ADVERTISING_SECRET_LENGTH,
  advertisingEpoch,
  currentAdvertisingId,
  encodeAdvertisingServiceData,
} from '../../protocol/advertising-id.js';
import {
  COMPANY_ID_ADVERTISING_ID_LENGTH,
  callbackToPromise,
  importFirst,
  stackUuid,
  step,
  usableRssi,
  uuidToLittleEndian,
  waitPoweredOn,
  type Emitter,
  type HciOptions,
} from '../common.js';

export { BleUnavailableError, COMPANY_ID_ADVERTISING_ID_LENGTH, usableRssi, type HciOptions } from '../common.js';
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
  /**
   * Read the RSSI of the connection; answered by an `rssiUpdate` event. Works on abandonware
   * (one connection). On stoprocent 0.12.4 it is a no-op (its bindings never record a handle), so
   * the adapter asks the HCI layer per connection handle instead (see `readRssi`).
   */
  updateRssi?(callback?: (err: unknown, rssi: number) => void): void;
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
  const bind = module.withBindings;
  if (name === '@stoprocent/bleno' && typeof bind === 'function') {
    if (options.uart) {
      return bind('hci', { hciDriver: 'uart', bindParams: { uart: { port: options.uart.port, baudRate: options.uart.baudRate ?? 1_000_000 } } }) as BlenoLike;
    }
    if (options.deviceId !== undefined) return bind('hci', { deviceId: options.deviceId }) as BlenoLike;
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
  /**
   * Advertised local name (default: none; a static name lets anyone track the car). Goes into the
   * scan response, which must also fit the advertising id (27 bytes of 31): at most 2 bytes then.
   */
  readonly localName?: string;
  /**
   * Advertise the car's rotating identifier (docs/PRIVACY.md) and re-advertise at each epoch
   * boundary. Without it the car advertises only flags and the service UUID.
   */
  readonly advertising?: CarAdvertisingOptions;
  /** Called when re-advertising at an epoch boundary failed (it is retried with back-off). */
  readonly onAdvertisingError?: (error: Error) => void;
  /**
   * A usable RSSI reading (dBm) of a phone's connection, sampled every `rssiIntervalMs` while its
   * link is open (from subscription to close). Readings the controller marks "not available"
   * are dropped (see `usableRssi`); RSSI errors never affect the session. Exceptions thrown here
   * are ignored.
   */
  readonly onRssi?: (link: PhoneLink, rssi: number) => void;
  /** RSSI sampling period per open link (default 250 ms when `onRssi` is set; 0 disables sampling). */
  readonly rssiIntervalMs?: number;
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
  /** The latest usable RSSI (dBm) sampled on this connection (with `onRssi`), or undefined. */
  readonly rssi: number | undefined;
  /**
   * Read this connection's RSSI now: dBm, or undefined when the stack or controller cannot say
   * (no answer within `timeoutMs`, default 1000; "not available" values; link closed). Never rejects.
   */
  readRssi(options?: { readonly timeoutMs?: number }): Promise<number | undefined>;
}

/** The car's rotating advertising identifier (docs/PRIVACY.md). */
export interface CarAdvertisingOptions {
  /** The car's advertising secret (`VehicleService.advertisingSecret`; ≥ 16 bytes). */
  readonly secret: Uint8Array;
  /** Wall clock, ms since the Unix epoch (default `Date.now`): the car needs real time (RTC or NTP). */
  readonly now?: () => number;
  /** Default: the pure-JS provider (`nobleCrypto`). */
  readonly crypto?: CryptoProvider;
  /** Seconds per epoch (default 900); phones must use the same. */
  readonly rotationSeconds?: number;
  /** Identifier length in bytes (default 8, or 6 with `companyId`); phones must use the same. */
  readonly length?: number;
  /**
   * With a Bluetooth SIG company identifier: carry the id as manufacturer-specific data in the
   * primary advertisement (`09 ff <company LE> <id: 6 B>`) instead of service data in the scan
   * response, so passive scanners see it too. Phones must pass the same `companyId`.
   */
  readonly companyId?: number;
  /**
   * Advertise from a resolvable private address that changes with the id (docs/PRIVACY.md), so
   * the device address is not a static identifier either. `'auto'` (default): when the stack
   * allows it (Linux HCI bindings); `true`: required (start fails otherwise); `false`: the
   * controller's own address.
   */
  readonly privateAddress?: boolean | 'auto';
  /** Randomness for private addresses (default: the platform CSPRNG). */
  readonly random?: RandomSource;
}

/** The AD structures on air (legacy advertising: at most 31 bytes each). */
export interface CarAdvertisement {
  /** Advertising data: flags, 128-bit service UUID list (and manufacturer data with `companyId`). */
  readonly advertisement: Uint8Array;
  /** Scan response data: service data with the rotating id (and the local name, if any). */
  readonly scanResponse: Uint8Array;
  /** The rotating identifier now on air, when `advertising` is set. */
  readonly id?: Uint8Array;
  /** Its epoch. */
  readonly epoch?: number;
  /** The resolvable private address advertised from ("aa:bb:…"); undefined: the controller's own. */
  readonly address?: string;
}

export interface CarPeripheral {
  /** The next phone link (from the queue when no `onLink` is set). */
  accept(options?: ReceiveOptions): Promise<PhoneLink>;
  /** Links currently open. */
  readonly links: ReadonlySet<PhoneLink>;
  /** The controller's address. */
  readonly address: string | undefined;
  /** What the car advertises now (changes at each epoch boundary with `advertising`). */
  readonly advertisement: CarAdvertisement;
  /**
   * Advertise under a new secret now (a fresh id and private address), e.g. after a revocation
   * rotated it (`VehicleService.onAdvertisingSecretChange`). Resolves once the new advertisement
   * is on air (or the attempt failed and was handed to the retry loop: see `onAdvertisingError`).
   */
  updateAdvertisingSecret(secret: Uint8Array): Promise<void>;
  /** Disconnect every phone now (a "drop the link" for tests and emergencies). */
  disconnectAll(): void;
  /** Stop advertising and rotating, close every link, remove the service and our listeners (idempotent). */
  stop(): Promise<void>;
}

interface Connection {
  address: string | undefined;
  link?: FramedLink;
  public?: PhoneLink;
  graceTimer?: ReturnType<typeof setTimeout>;
}

const AD_FLAGS = 0x01;
const AD_UUID128_COMPLETE = 0x07;
const AD_LOCAL_NAME = 0x09;
const AD_SERVICE_DATA_128 = 0x21;
const AD_MANUFACTURER_DATA = 0xff;
/** Legacy advertising: at most 31 bytes of AD structures per packet. */
export const MAX_LEGACY_AD_LENGTH = 31;

function ad(type: number, data: Uint8Array): number[] {
  return [data.length + 1, type, ...data];
}

/**
 * The AD structures a proxkey car puts on air (docs/BLE.md, docs/PRIVACY.md):
 *
 * ```
 * advertisement   02 01 06                                flags: LE General Discoverable, no BR/EDR
 *                 11 07 <service UUID, 16 B LE>           complete list of 128-bit service UUIDs
 *                [09 ff <company, 2 B LE> <id, 6 B>]      with companyId: manufacturer data
 * scan response  [1a 21 <service UUID, 16 B LE> 01 <id>]  service data: format 1 ‖ id (8 B: 27 B)
 *                [len 09 <name>]                          only if localName is set
 * ```
 *
 * Throws `ERR_INVALID_ARGUMENT` when a packet would exceed 31 bytes.
 */
export function encodeCarAdvertisement(o: {
  readonly serviceUuid?: string;
  readonly id?: Uint8Array;
  readonly companyId?: number;
  readonly localName?: string;
}): { readonly advertisement: Uint8Array; readonly scanResponse: Uint8Array } {
  const serviceUuid = o.serviceUuid ?? PROXKEY_SERVICE_UUID;
  const le = uuidToLittleEndian(serviceUuid);
  assertArg(le.length === 16, `serviceUuid: expected a 128-bit UUID, got ${serviceUuid}`);
  const advertisement = [...ad(AD_FLAGS, Uint8Array.of(0x06)), ...ad(AD_UUID128_COMPLETE, le)];
  const scanResponse: number[] = [];
  if (o.id) {
    if (o.companyId !== undefined) {
      assertArg(Number.isInteger(o.companyId) && o.companyId >= 0 && o.companyId <= 0xffff, 'companyId: expected a u16');
      advertisement.push(...ad(AD_MANUFACTURER_DATA, Uint8Array.of(o.companyId & 0xff, o.companyId >> 8, ...o.id)));
    } else {
      scanResponse.push(...ad(AD_SERVICE_DATA_128, Uint8Array.of(...le, ...encodeAdvertisingServiceData(o.id))));
    }
  }
  if (o.localName) scanResponse.push(...ad(AD_LOCAL_NAME, new TextEncoder().encode(o.localName)));
  assertArg(
    advertisement.length <= MAX_LEGACY_AD_LENGTH,
    `advertisement: ${advertisement.length} bytes, over the ${MAX_LEGACY_AD_LENGTH}-byte limit (with companyId the id must be at most ${COMPANY_ID_ADVERTISING_ID_LENGTH} bytes)`,
  );
  assertArg(
    scanResponse.length <= MAX_LEGACY_AD_LENGTH,
    `scan response: ${scanResponse.length} bytes, over the ${MAX_LEGACY_AD_LENGTH}-byte limit${o.localName && o.id ? ' (the advertising id leaves room for a 2-byte localName at most: drop the name)' : ' (localName: at most 29 bytes)'}`,
  );
  return { advertisement: Uint8Array.from(advertisement), scanResponse: Uint8Array.from(scanResponse) };
}

/** Re-check the clock at least this often (a car that boots with a stale clock and then syncs NTP). */
const MAX_ROTATION_CHECK_MS = 60_000;
/** Rotate this long after the boundary, so a slightly early timer does not miss it. */
const ROTATION_MARGIN_MS = 20;
/** Consecutive unanswered RSSI reads after which a link stops sampling. */
const MAX_RSSI_TIMEOUTS = 3;

/**
 * Per-connection RSSI reads, one at a time (answers carry no request id on abandonware).
 * stoprocent bleno 0.12.4: its public `updateRssi` never sends the command (the bindings' `_handle`
 * is never set), so the HCI layer's `readRssi(handle)` / `rssiRead(handle, rssi)` is used when
 * present. abandonware bleno 0.6: the public `updateRssi()` + `rssiUpdate` event (one connection).
 * Resolves the raw reading, or undefined when nothing answered in time or the stack cannot read.
 */
function rssiSource(bleno: BlenoLike) {
  type Hci = Emitter & { readRssi?: (handle: number) => void };
  const hci = (bleno as unknown as { _bindings?: { _hci?: Hci } })._bindings?._hci;
  const canHci = !!hci && typeof hci.readRssi === 'function' && typeof hci.on === 'function';
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
    if (how === 'hci') hci!.on('rssiRead', onHci);
    else bleno.on('rssiUpdate', onPublic);
  };
  const once = (handle: unknown, timeoutMs: number): Promise<number | undefined> => {
    let trigger: () => void;
    if (disposed) return Promise.resolve(undefined);
    if (handle !== undefined && canHci) {
      listen('hci');
      trigger = () => hci.readRssi!(handle as number);
    } else if (handle === undefined && typeof bleno.updateRssi === 'function') {
      listen('public');
      trigger = () => bleno.updateRssi!();
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
    /** `alive` is asked again when the read's turn comes (a link closed meanwhile is not read). */
    read(handle: unknown, timeoutMs: number, alive: () => boolean = () => true): Promise<number | undefined> {
      const run = () => (alive() ? once(handle, timeoutMs) : Promise.resolve(undefined));
      const p = queue.then(run, run);
      queue = p;
      return p;
    },
    dispose() {
      disposed = true;
      waiting?.done(undefined);
      if (listening === 'hci') hci!.removeListener('rssiRead', onHci);
      if (listening === 'public') bleno.removeListener('rssiUpdate', onPublic);
      listening = undefined;
    },
  };
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
  const rotating = options.advertising && {
    secret: options.advertising.secret,
    now: options.advertising.now ?? Date.now,
    crypto: options.advertising.crypto ?? nobleCrypto,
    companyId: options.advertising.companyId,
    rotationSeconds: options.advertising.rotationSeconds ?? DEFAULT_ROTATION_SECONDS,
    length: options.advertising.length ?? (options.advertising.companyId !== undefined ? COMPANY_ID_ADVERTISING_ID_LENGTH : DEFAULT_ADVERTISING_ID_LENGTH),
  };
  /** What to advertise at wall-clock `unixMs`, and when that changes. */
  const advertisementAt = (unixMs: number): CarAdvertisement & { readonly nextRotationMs?: number } => {
    if (!rotating) return encodeCarAdvertisement({ serviceUuid, ...(options.localName && { localName: options.localName }) });
    const { id, epoch, nextRotationMs } = currentAdvertisingId(rotating.crypto, rotating.secret, unixMs, rotating);
    const layout = encodeCarAdvertisement({
      serviceUuid,
      id,
      ...(rotating.companyId !== undefined && { companyId: rotating.companyId }),
      ...(options.localName && { localName: options.localName }),
    });
    return { ...layout, id, epoch, nextRotationMs };
  };
  // validated before touching the stack
  let onAir: CarAdvertisement & { readonly nextRotationMs?: number } = advertisementAt(rotating ? rotating.now() : 0);
  const wantPrivate = options.advertising?.privateAddress ?? 'auto';
  const hci = rotating && wantPrivate !== false ? rawHci(bleno) : undefined;
  if (rotating && wantPrivate === true && !hci)
    throw new LocalError(
      'ERR_INVALID_ARGUMENT',
      'privateAddress: this bleno has no raw HCI socket (Linux HCI bindings needed); use privateAddress: "auto" or false',
    );
  const privacy = hci &&
    rotating && {
      hci,
      irk: deriveAddressIrk(rotating.crypto, rotating.secret),
      random: options.advertising?.random ?? systemRandom,
      intervalMs: Number(process.env.BLENO_ADVERTISING_INTERVAL) || 100,
    };
  /** With privacy: a fresh resolvable private address in the controller (advertising must be off). */
  const newAddress = async (timeoutMs: number): Promise<string | undefined> => {
    if (!privacy) return undefined;
    const address = resolvablePrivateAddress(privacy.irk, privacy.random);
    await step('set random address', setRandomAddress(privacy.hci, address, timeoutMs), { timeoutMs });
    return formatAddress(address);
  };
  const rssiIntervalMs = options.rssiIntervalMs ?? (options.onRssi ? 250 : 0);
  assertArg(Number.isFinite(rssiIntervalMs) && rssiIntervalMs >= 0, 'rssiIntervalMs: expected a number ≥ 0');
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
  const rssi = rssiSource(bleno);

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
      let lastRssi: number | undefined;
      let rssiTimer: ReturnType<typeof setTimeout> | undefined;
      const alive = () => !link.isClosed && !stopped;
      const readRssi = async (o: { readonly timeoutMs?: number } = {}) =>
        alive() ? usableRssi(await rssi.read(handle, o.timeoutMs ?? 1000, alive)) : undefined;
      const publicLink: PhoneLink = {
        address: conn.address,
        handle,
        maxValueSize,
        get rssi() {
          return lastRssi;
        },
        readRssi,
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
      if (rssiIntervalMs > 0) {
        // Sample while the link is open; a silent stack ends the sampling, never the session.
        let unanswered = 0;
        const sample = async () => {
          rssiTimer = undefined;
          if (!alive()) return;
          const raw = await rssi.read(handle, Math.max(200, Math.min(1000, 4 * rssiIntervalMs)), alive);
          if (!alive()) return;
          if (raw === undefined) {
            if (++unanswered >= MAX_RSSI_TIMEOUTS) return;
          } else {
            unanswered = 0;
            const value = usableRssi(raw);
            if (value !== undefined) {
              lastRssi = value;
              try {
                options.onRssi?.(publicLink, value);
              } catch {
                /* the application's problem */
              }
            }
          }
          rssiTimer = setTimeout(() => void sample(), rssiIntervalMs);
          rssiTimer.unref?.();
        };
        rssiTimer = setTimeout(() => void sample(), 0);
        rssiTimer.unref?.();
        void link.closed.then(() => {
          if (rssiTimer) clearTimeout(rssiTimer);
          rssiTimer = undefined;
        });
      }
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
    // a rotation deferred while the only connection (abandonware) was up
    if (rotationDeferred && !connections.has('single')) {
      rotationDeferred = false;
      scheduleRotation(0);
    }
  };
  bleno.on('accept', onAccept);
  bleno.on('disconnect', onDisconnect);
  const detach = () => {
    bleno.removeListener('accept', onAccept);
    bleno.removeListener('disconnect', onDisconnect);
    rssi.dispose();
  };

  // Rotation: a timer for the next epoch boundary (re-checking the clock at least every minute),
  // then stop + start advertising with the new data, one operation at a time. On abandonware
  // (one connection, advertising resumes by itself on disconnect) a rotation due while the phone
  // is connected waits for the disconnect: re-enabling advertising would invite a second phone
  // that stack cannot serve.
  let rotationTimer: ReturnType<typeof setTimeout> | undefined;
  let rotationDeferred = false;
  let advertisingOk = true;
  let failures = 0;
  let advertisingOp: Promise<void> = Promise.resolve();
  const scheduleRotation = (delayMs: number) => {
    if (rotationTimer) clearTimeout(rotationTimer);
    rotationTimer = undefined;
    if (stopped || !rotating) return;
    rotationTimer = setTimeout(onRotationTimer, Math.max(0, Math.min(MAX_ROTATION_CHECK_MS, delayMs)));
    rotationTimer.unref?.();
  };
  /** A new secret waits to go on air; `secretGeneration` counts updates (a rotation in flight may predate one). */
  let secretChanged = false;
  let secretGeneration = 0;
  const onRotationTimer = () => {
    rotationTimer = undefined;
    if (stopped || !rotating) return;
    const now = rotating.now();
    if (advertisingOk && !secretChanged && advertisingEpoch(now, rotating.rotationSeconds) === onAir.epoch) {
      scheduleRotation((onAir.nextRotationMs ?? now) - now + ROTATION_MARGIN_MS);
      return;
    }
    if (connections.has('single')) {
      rotationDeferred = true;
      return;
    }
    advertisingOp = advertisingOp.then(readvertise);
  };
  const readvertise = async () => {
    if (stopped || !rotating) return;
    try {
      await step(
        'stop advertising',
        callbackToPromise((cb) => bleno.stopAdvertising(() => cb())),
        { timeoutMs: 2000 },
      );
      advertisingOk = false;
      if (stopped) return;
      // computed now, advertising off: the latest secret and clock
      const generation = secretGeneration;
      const next = advertisementAt(rotating.now());
      // again each time: after an adapter reset bleno re-initialises it with the public address
      if (privacy) await step('advertise from a random address', useRandomAddressForAdvertising(privacy.hci, privacy.intervalMs, 2000), { timeoutMs: 2000 });
      const address = await newAddress(2000);
      if (stopped) return;
      await step(
        'start advertising',
        callbackToPromise((cb) => bleno.startAdvertisingWithEIRData(Buffer.from(next.advertisement), Buffer.from(next.scanResponse), cb)),
        { timeoutMs: Math.min(startTimeoutMs, 5000) },
      );
      onAir = { ...next, ...(address && { address }) };
      advertisingOk = true;
      if (generation === secretGeneration) secretChanged = false;
      failures = 0;
      scheduleRotation((next.nextRotationMs ?? 0) - rotating.now() + ROTATION_MARGIN_MS);
    } catch (err) {
      advertisingOk = false;
      failures++;
      try {
        options.onAdvertisingError?.(err instanceof Error ? err : new Error(String(err)));
      } catch {
        /* observers must not break the car */
      }
      scheduleRotation(Math.min(MAX_ROTATION_CHECK_MS, 500 * 2 ** Math.min(failures, 7)));
    }
  };

  try {
    const bound = { timeoutMs: startTimeoutMs, signal };
    await waitPoweredOn(bleno, 'bleno', bound);
    const service = new PrimaryService({ uuid: stackUuid(serviceUuid), characteristics: [writeChar, notifyChar, infoChar] });
    await step(
      'set GATT services',
      callbackToPromise((cb) => bleno.setServices([service], cb)),
      bound,
    );
    if (rotating) onAir = advertisementAt(rotating.now()); // power-on may have taken a while
    if (privacy) await step('advertise from a random address', useRandomAddressForAdvertising(privacy.hci, privacy.intervalMs, bound.timeoutMs), bound);
    const address = await newAddress(bound.timeoutMs);
    if (address) onAir = { ...onAir, address };
    await step(
      'start advertising',
      callbackToPromise((cb) => bleno.startAdvertisingWithEIRData(Buffer.from(onAir.advertisement), Buffer.from(onAir.scanResponse), cb)),
      bound,
    );
    if (rotating) scheduleRotation((onAir.nextRotationMs ?? 0) - rotating.now() + ROTATION_MARGIN_MS);
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
    get advertisement(): CarAdvertisement {
      const { advertisement, scanResponse, id, epoch, address } = onAir;
      return { advertisement: advertisement.slice(), scanResponse: scanResponse.slice(), ...(id && { id: id.slice(), epoch }), ...(address && { address }) };
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
    async updateAdvertisingSecret(secret: Uint8Array): Promise<void> {
      assertArg(!!rotating, 'updateAdvertisingSecret: the car was started without `advertising`');
      assertArg(
        secret instanceof Uint8Array && secret.length >= MIN_ADVERTISING_SECRET_LENGTH,
        `secret: expected at least ${MIN_ADVERTISING_SECRET_LENGTH} bytes`,
      );
      rotating.secret = secret.slice();
      if (privacy) privacy.irk = deriveAddressIrk(rotating.crypto, rotating.secret);
      secretChanged = true;
      secretGeneration++;
      if (stopped) return;
      if (connections.has('single')) {
        rotationDeferred = true; // abandonware: after its one phone leaves
        return;
      }
      advertisingOp = advertisingOp.then(readvertise);
      return advertisingOp;
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
      if (rotationTimer) clearTimeout(rotationTimer);
      rotationTimer = undefined;
      await advertisingOp; // bounded: each step of a rotation in flight has its own timeout
      await step(
        'stop advertising',
        callbackToPromise((cb) => bleno.stopAdvertising(() => cb())),
        { timeoutMs: 2000 },
      ).catch(() => {});
      for (const [key, conn] of connections) {
        if (conn.graceTimer) clearTimeout(conn.graceTimer);
        conn.link?.terminate('transport', 'car stopped');
        disconnect(key === 'single' ? undefined : key);
      }
      connections.clear();
      await step(
        'remove GATT services',
        callbackToPromise((cb) => bleno.setServices([], cb)),
        { timeoutMs: 2000 },
      ).catch(() => {});
      detach();
      for (const w of waiters.splice(0)) w.reject(new LinkClosedError('car peripheral stopped'));
    },
  };
  return car;
}
