/**
 * `proxkey/noble` — the phone side over Bluetooth LE (GATT central) on noble.
 *
 * ```ts
 * import { loadNoble, connectToCar } from 'proxkey/noble';
 * import { openPhoneSession } from 'proxkey';
 * const noble = await loadNoble();                 // @stoprocent/noble or @abandonware/noble
 * const link = await connectToCar({ noble });      // scan, connect, discover, read info, subscribe
 * const { result, connection } = await openPhoneSession(link, phoneOptions, 'unlock');
 * ```
 *
 * To pick one's own car among several proxkey advertisers, pass `filter: advertisingFilter({ cars })`:
 * it resolves each car's rotating advertising identifier (docs/PRIVACY.md) with the secrets the
 * phone received at pairing (or in a share).
 *
 * Works with an injected noble instance from either family (`@stoprocent/noble` 2.x with its
 * async API, `@abandonware/noble` 1.9); the differences are handled here. Importing this module
 * never touches Bluetooth: the stack is loaded by `loadNoble()`, and errors say what to install
 * or configure. Every wait on the radio is bounded (noble itself has no ATT timeout, so a car
 * that vanishes would otherwise hang a write forever).
 */
import { LinkClosedError, RemoteError, assertArg } from '../../errors.js';
import {
  FRAMING_VERSION,
  FramedLink,
  MAX_ATT_MTU,
  MIN_ATT_MTU,
  PROXKEY_INFO_CHAR_UUID,
  PROXKEY_NOTIFY_CHAR_UUID,
  PROXKEY_SERVICE_UUID,
  PROXKEY_WRITE_CHAR_UUID,
  decodeGattInfo,
  valueSizeForMtu,
  type FramingOptions,
  type GattInfo,
} from '../../transport/framing.js';
import type { Link } from '../../transport/link.js';
import type { CarRecord } from '../../keys/state.js';
import {
  advertisingFilterOver,
  carFilterOver,
  advertisingIdIn,
  chooseCar,
  type AdvertisingFilterOptions as SharedFilterOptions,
  type AdvertisingPlacement,
} from '../car-advertising.js';
import { clampMtu, extendLink, importFirst, stackUuid, step, waitPoweredOn, type Emitter, type GattLinkOptions, type HciOptions } from '../common.js';

export { BleUnavailableError, COMPANY_ID_ADVERTISING_ID_LENGTH, type HciOptions } from '../common.js';
export { AdvertisingIdResolver, type AdvertisingCar, type AdvertisingMatch } from '../../protocol/advertising-id.js';
export { advertisingCarOf, type AdvertisementView, type AdvertisingPlacement } from '../car-advertising.js';
export { PROXKEY_SERVICE_UUID, PROXKEY_WRITE_CHAR_UUID, PROXKEY_NOTIFY_CHAR_UUID, PROXKEY_INFO_CHAR_UUID, type GattInfo } from '../../transport/framing.js';

// ---------------------------------------------------------------------------------------------
// The parts of noble we use (structural: both families match, no type import of an optional peer)

/** A noble instance (`@stoprocent/noble` or `@abandonware/noble`). */
export interface NobleLike extends Emitter {
  readonly state: string;
  startScanningAsync(serviceUuids?: string[], allowDuplicates?: boolean): Promise<void>;
  stopScanningAsync(): Promise<void>;
  stop?(): void;
}

export interface NoblePeripheral extends Emitter {
  readonly id: string;
  readonly address: string;
  readonly rssi: number;
  readonly mtu: number | null;
  readonly state: string;
  readonly advertisement: NobleAdvertisement;
  connectAsync(options?: object): Promise<void>;
  disconnectAsync(): Promise<void>;
  cancelConnect?(options?: object): void;
  discoverSomeServicesAndCharacteristicsAsync(serviceUuids: string[], characteristicUuids: string[]): Promise<{ characteristics: NobleCharacteristic[] }>;
}

/** What noble parsed from the advertisement and scan response (both families, merged by noble). */
export interface NobleAdvertisement {
  readonly localName?: string;
  readonly serviceUuids?: string[];
  /** Service data AD structures: UUID as noble prints it (lower-case hex, no dashes) and the data after it. */
  readonly serviceData?: readonly { readonly uuid: string; readonly data: Uint8Array }[];
  /** Manufacturer-specific data: company id (2 bytes, little-endian) ‖ data. */
  readonly manufacturerData?: Uint8Array;
}

export interface NobleCharacteristic extends Emitter {
  readonly uuid: string;
  readonly properties: string[];
  readAsync(): Promise<Uint8Array>;
  writeAsync(data: Uint8Array, withoutResponse: boolean): Promise<void>;
  subscribeAsync(): Promise<void>;
  unsubscribeAsync(): Promise<void>;
}

// ---------------------------------------------------------------------------------------------
// Loader

export interface LoadNobleOptions extends HciOptions {
  /** Use this package (default: the first installed of `@stoprocent/noble`, `@abandonware/noble`). */
  readonly package?: '@stoprocent/noble' | '@abandonware/noble';
}

const NOBLE_PACKAGES = ['@stoprocent/noble', '@abandonware/noble'] as const;

/**
 * Load whichever noble is installed and bind it to the HCI controller. Throws
 * `BleUnavailableError` (with a hint) when none is installed or it cannot load.
 *
 * `@abandonware/noble` is configured through the environment (its `bluetooth-hci-socket` reads
 * `BLUETOOTH_HCI_SOCKET_UART_PORT` / `NOBLE_HCI_DEVICE_ID` when loaded): one controller per
 * process, and UART needs the `@abandonware/bluetooth-hci-socket` →
 * `npm:@stoprocent/bluetooth-hci-socket` override (see docs/BLE.md).
 */
export async function loadNoble(options: LoadNobleOptions = {}): Promise<NobleLike> {
  const { name, module } = await importFirst(options.package ? [options.package] : NOBLE_PACKAGES, 'noble', (pkg) => {
    if (pkg !== '@abandonware/noble') return;
    if (options.uart) {
      process.env.BLUETOOTH_HCI_SOCKET_UART_PORT = options.uart.port;
      if (options.uart.baudRate) process.env.BLUETOOTH_HCI_SOCKET_UART_BAUDRATE = String(options.uart.baudRate);
    }
    if (options.deviceId !== undefined) process.env.NOBLE_HCI_DEVICE_ID = String(options.deviceId);
  });
  const bind = module.withBindings;
  if (name === '@stoprocent/noble' && typeof bind === 'function') {
    if (options.uart) {
      return bind('hci', { hciDriver: 'uart', bindParams: { uart: { port: options.uart.port, baudRate: options.uart.baudRate ?? 1_000_000 } } }) as NobleLike;
    }
    if (options.deviceId !== undefined) return bind('hci', { deviceId: options.deviceId }) as NobleLike;
  }
  return module as NobleLike;
}

// ---------------------------------------------------------------------------------------------
// Recognising one's own car: the rotating advertising identifier (docs/PRIVACY.md; shared logic
// in ../car-advertising.ts, used by every phone-side adapter)

/** Options of {@link advertisingFilter}. */
export type AdvertisingFilterOptions = SharedFilterOptions<NoblePeripheral>;

/**
 * The rotating advertising identifier a proxkey car advertises, as the phone's noble saw it:
 * the service data (`01 ‖ id`) under the proxkey service UUID — the last one that decodes, since
 * noble merges what it saw — or, with `companyId`, the manufacturer data `company ‖ id`.
 * Undefined when the advertiser carries none (then its scan response has not arrived, or it is not
 * a proxkey car with private advertising).
 */
export function advertisingIdOf(peripheral: { readonly advertisement?: NobleAdvertisement }, placement: AdvertisingPlacement = {}): Uint8Array | undefined {
  return advertisingIdIn(peripheral.advertisement, placement);
}

/**
 * A `filter` for `findCar` / `connectToCar` that accepts only an advertiser whose rotating id
 * resolves to one of `cars` (current epoch ± `skewEpochs`); unknown advertisers, and cars
 * without an id, are skipped. The resolver computes 3 HMACs per car per epoch, then each
 * advertisement costs a map lookup.
 */
export function advertisingFilter(options: AdvertisingFilterOptions): (peripheral: NoblePeripheral) => boolean {
  return advertisingFilterOver((p: NoblePeripheral) => p.advertisement, options);
}

/**
 * For a phone's car record (`PhoneWallet.car()`): accept only the advertiser whose rotating id resolves to `car` (docs/PRIVACY.md): with several
 * proxkey cars around, the phone connects to its own. A car record without a usable advertising
 * secret (none, or the all-zero placeholder a share carries when the owner had none) falls back to
 * the first proxkey car seen — safe, since the handshake pins the car's key, just not selective.
 */
export function carFilter(car: Pick<CarRecord, 'carId' | 'advertisingSecret'>): ((p: NoblePeripheral) => boolean) | undefined {
  return carFilterOver((p: NoblePeripheral) => p.advertisement, car);
}

// ---------------------------------------------------------------------------------------------
// Connecting to a car

export interface ScanOptions {
  /** The injected noble instance (see `loadNoble`). */
  readonly noble: NobleLike;
  /** Service to look for (default: the proxkey service). */
  readonly serviceUuid?: string;
  /**
   * Choose among advertising cars (default: the first one seen), e.g. `advertisingFilter(...)`.
   * Called for every advertisement of a proxkey car; must not throw.
   */
  readonly filter?: (peripheral: NoblePeripheral) => boolean;
  /**
   * Report every advertisement, not only a peripheral's first (default: true with a `filter`, so
   * a car rejected on an early report — before its scan response arrived, or from the previous
   * epoch — is judged again on its next one).
   */
  readonly allowDuplicates?: boolean;
  /**
   * With a `filter`: when no advertiser has passed it after this long (ms), accept the first
   * proxkey car seen anyway. For a car whose advertising secret changed (a revocation rotates it,
   * docs/PRIVACY.md): the handshake still pins the car's key, so the wrong car fails safely, and
   * the caller can tell (`!filter(link.peripheral)`) that it should fetch the new secret.
   */
  readonly fallbackAfterMs?: number;
  /** Bound on power-on (default 5000 ms). */
  readonly powerOnTimeoutMs?: number;
  /** Bound on the scan (default 10 000 ms). */
  readonly scanTimeoutMs?: number;
  readonly signal?: AbortSignal;
}

/** Scan until a car advertising the proxkey service is seen. `TimeoutError` when none is. */
export async function findCar(options: ScanOptions): Promise<NoblePeripheral> {
  const { noble, signal } = options;
  const service = stackUuid(options.serviceUuid ?? PROXKEY_SERVICE_UUID);
  await waitPoweredOn(noble, 'noble', { timeoutMs: options.powerOnTimeoutMs ?? 5000, signal });
  const choice = chooseCar(options);
  const onDiscover = (p: NoblePeripheral) => {
    const uuids = (p.advertisement?.serviceUuids ?? []).map(stackUuid);
    if (uuids.includes(service)) choice.offer(p);
  };
  noble.on('discover', onDiscover);
  try {
    const allowDuplicates = options.allowDuplicates ?? options.filter !== undefined;
    await step('start scanning', noble.startScanningAsync([service], allowDuplicates), { timeoutMs: 5000, signal });
    return await step('scan for a car', choice.chosen, { timeoutMs: options.scanTimeoutMs ?? 10_000, signal });
  } finally {
    choice.dispose();
    noble.removeListener('discover', onDiscover);
    await step('stop scanning', noble.stopScanningAsync(), { timeoutMs: 2000 }).catch(() => {});
  }
}

export interface ConnectToCarOptions extends ScanOptions, FramingOptions, GattLinkOptions {
  /** Connect to this peripheral (from `findCar`) instead of scanning. */
  readonly peripheral?: NoblePeripheral;
  /** ATT MTU to request (stacks that support it; default 256, the emulator's and bleno's cap). */
  readonly mtu?: number;
}

/** A connected, subscribed car: a `Link` plus what the car announced. */
export interface CarLink extends Link {
  /** The car's info characteristic. */
  readonly info: GattInfo;
  /** The peripheral (for RSSI, address). */
  readonly peripheral: NoblePeripheral;
  /** The negotiated ATT MTU (23 until the exchange completes). */
  readonly mtu: number;
  /** Resolves once the BLE connection is released after the link closed (never rejects). */
  readonly disconnected: Promise<void>;
}

async function disconnectQuietly(p: NoblePeripheral, timeoutMs: number): Promise<void> {
  if (p.state === 'disconnected') return;
  if (p.state === 'connecting') {
    try {
      p.cancelConnect?.();
    } catch {
      /* best effort */
    }
    return;
  }
  await step('disconnect', p.disconnectAsync(), { timeoutMs }).catch(() => {});
}

/**
 * Find (unless given), connect, discover the proxkey service, read the car's info, subscribe to
 * notifications, and return the session `Link`. Every step is bounded; on any failure the
 * connection is released and a typed error thrown: `TimeoutError`, `AbortedError`,
 * `LinkClosedError` (the stack failed or the car disconnected), `RemoteError` (`ERR_DECODE` /
 * `ERR_UNSUPPORTED`: not a proxkey car we can talk to), `BleUnavailableError` (no adapter).
 */
export async function connectToCar(options: ConnectToCarOptions): Promise<CarLink> {
  const { signal } = options;
  const stepTimeoutMs = options.stepTimeoutMs ?? 5000;
  const disconnectTimeoutMs = options.disconnectTimeoutMs ?? 2000;
  const bound = { timeoutMs: stepTimeoutMs, signal };
  assertArg(options.mtu === undefined || (options.mtu >= MIN_ATT_MTU && options.mtu <= MAX_ATT_MTU), 'mtu: expected 23..517');
  const peripheral = options.peripheral ?? (await findCar(options));
  if (options.peripheral) await waitPoweredOn(options.noble, 'noble', { timeoutMs: options.powerOnTimeoutMs ?? 5000, signal });

  const service = stackUuid(options.serviceUuid ?? PROXKEY_SERVICE_UUID);
  const [writeUuid, notifyUuid, infoUuid] = [PROXKEY_WRITE_CHAR_UUID, PROXKEY_NOTIFY_CHAR_UUID, PROXKEY_INFO_CHAR_UUID].map(stackUuid) as [
    string,
    string,
    string,
  ];

  let link: FramedLink | undefined;
  let notify: NobleCharacteristic | undefined;
  let lostReason: string | undefined;
  let rejectLost!: (err: Error) => void;
  // every setup step also ends as soon as the car disconnects
  const lost = new Promise<never>((_, reject) => (rejectLost = reject));
  lost.catch(() => {});
  const onData = (data: Uint8Array) => link?.deliver(new Uint8Array(data.buffer, data.byteOffset, data.byteLength).slice());
  const onDisconnect = (reason?: unknown) => {
    lostReason = `car disconnected (reason ${String(reason ?? 'unknown')})`;
    rejectLost(new LinkClosedError(lostReason));
    // in a later task: a notification that arrived just before is still received first
    const why = lostReason;
    setTimeout(() => link?.terminate('remote', why), 0);
  };
  const detach = () => {
    peripheral.removeListener('disconnect', onDisconnect);
    notify?.removeListener('data', onData);
  };
  const radio = <T>(what: string, work: Promise<T>, onCancel?: () => void) => step(what, Promise.race([work, lost]), bound, onCancel);
  let resolveDisconnected!: () => void;
  const disconnected = new Promise<void>((r) => (resolveDisconnected = r));

  try {
    peripheral.on('disconnect', onDisconnect);
    await radio('connect', peripheral.connectAsync({ mtu: options.mtu ?? 256 }), () => {
      try {
        peripheral.cancelConnect?.();
      } catch {
        /* best effort */
      }
    });
    const { characteristics } = await radio(
      'GATT discovery',
      peripheral.discoverSomeServicesAndCharacteristicsAsync([service], [writeUuid, notifyUuid, infoUuid]),
    );
    const byUuid = (u: string) => characteristics.find((c) => stackUuid(c.uuid) === u);
    const write = byUuid(writeUuid);
    notify = byUuid(notifyUuid);
    const infoChar = byUuid(infoUuid);
    if (!write || !notify || !infoChar) {
      throw new RemoteError(
        'ERR_UNSUPPORTED',
        `not a proxkey car: missing characteristic(s) ${[!write && 'write', !notify && 'notify', !infoChar && 'info'].filter(Boolean).join(', ')}`,
      );
    }
    const info = decodeGattInfo(new Uint8Array(await radio('read info', infoChar.readAsync())));
    if (info.framingVersion !== FRAMING_VERSION) {
      throw new RemoteError(
        'ERR_UNSUPPORTED',
        `the car speaks framing version ${info.framingVersion}, this phone ${FRAMING_VERSION}: update the app or the car`,
      );
    }

    const withoutResponse = options.writeWithoutResponse ?? false;
    const writeChar = write;
    link = new FramedLink({
      valueSize: () => valueSizeForMtu(clampMtu(peripheral.mtu)),
      maxMessageSize: Math.min(options.maxMessageSize ?? info.maxMessageSize, info.maxMessageSize),
      partialTimeoutMs: options.partialTimeoutMs,
      writeTimeoutMs: options.writeTimeoutMs ?? 5000,
      writeFragment: (fragment) => writeChar.writeAsync(Buffer.from(fragment), withoutResponse),
      onClose: (closeInfo) => {
        detach();
        const release = lostReason ? Promise.resolve() : disconnectQuietly(peripheral, disconnectTimeoutMs);
        void release.then(() => {
          resolveDisconnected();
          try {
            options.onDisconnected?.(closeInfo);
          } catch {
            /* observers must not break the adapter */
          }
        });
      },
    });
    notify.on('data', onData);
    await radio('subscribe', notify.subscribeAsync());
    return makeCarLink(link, info, peripheral, disconnected);
  } catch (err) {
    if (link) {
      link.close('connect failed');
      await disconnected;
    } else {
      detach();
      if (!lostReason) await disconnectQuietly(peripheral, disconnectTimeoutMs);
    }
    throw err;
  }
}

function makeCarLink(link: FramedLink, info: GattInfo, peripheral: NoblePeripheral, disconnected: Promise<void>): CarLink {
  return extendLink(link, {
    info,
    peripheral,
    disconnected,
    get mtu() {
      return clampMtu(peripheral.mtu);
    },
  });
}
