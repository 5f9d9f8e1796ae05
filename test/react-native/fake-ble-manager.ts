/**
 * A test double of react-native-ble-plx's `BleManager` — exactly the surface proxkey/react-native
 * uses (`BlePlxManager`), typed by the real package's declarations (`Device`, `Characteristic`,
 * `BleError`, `Subscription`, `State`) — bridged to simulated proxkey cars with GATT semantics:
 *
 * - scanning reports each car's advertisement (service UUID, rotating id as base64 service data,
 *   scan RSSI) on an interval, or on demand (`advertise`) for RSSI traces;
 * - connect / discover / characteristics / read info; the MTU is negotiated like Android
 *   (`min(requested, car's)`) or fixed like iOS (a request is a no-op);
 * - a write longer than `MTU - 3` fails as a real stack fails it; with response resolves after the
 *   car received the value, without response at once (the value follows in order);
 * - enabling notifications opens the car's side of the link (a `FramedLink` sized to the MTU)
 *   and hands it to the car (`VehicleService.serve`); notifications arrive in order, as base64;
 * - disconnects from either side, with the listener errors ble-plx gives; `cancelTransaction`
 *   rejects the pending call with `OperationCancelled`; `hangWrites` makes writes never answer.
 */
import type { BleError, BleErrorCode, Characteristic, ConnectionOptions, Device, ScanOptions, State, Subscription, UUID } from 'react-native-ble-plx';
import { bytesToBase64, base64ToBytes } from '../../src/adapters/react-native/index.js';
import { PlxCharacteristic, PlxDevice, type PlxManagerWithStatus } from './plx-objects.js';
import {
  currentAdvertisingId,
  encodeAdvertisingServiceData,
  encodeGattInfo,
  FramedLink,
  FRAMING_VERSION,
  nobleCrypto,
  PROXKEY_INFO_CHAR_UUID,
  PROXKEY_NOTIFY_CHAR_UUID,
  PROXKEY_SERVICE_UUID,
  PROXKEY_WRITE_CHAR_UUID,
  valueSizeForMtu,
  type Link,
} from '../../src/index.js';

const CODE = {
  operationCancelled: 2,
  deviceDisconnected: 201,
  deviceNotFound: 204,
  deviceNotConnected: 205,
  characteristicWriteFailed: 401,
  characteristicNotFound: 404,
} satisfies Record<string, BleErrorCode>;

export class FakeBleError extends Error implements BleError {
  errorCode: BleErrorCode;
  attErrorCode = null;
  iosErrorCode = null;
  androidErrorCode = null;
  reason: string | null;
  constructor(errorCode: BleErrorCode, reason: string) {
    super(reason);
    this.name = 'BleError';
    this.errorCode = errorCode;
    this.reason = reason;
  }
}

/** A simulated proxkey car as the radio sees it. */
export interface FakeCarOptions {
  /** The device id the phone's stack gives it (Android: its address; iOS: a UUID). */
  readonly id: string;
  /** The car's current advertising secret (read at every report: a revocation changes it), or none. */
  readonly advertisingSecret?: () => Uint8Array | undefined;
  /** The car's side of every new link (e.g. `(link) => void vehicle.serve(link)`). */
  readonly serve: (link: Link) => void;
  /** Largest MTU the car accepts (bleno: 256; 517 modern stacks). Default 517. */
  readonly maxMtu?: number;
  /** Whether the write characteristic allows writes without response (default true). */
  readonly writeWithoutResponse?: boolean;
  /** Scan and connection RSSI (dBm) now. Default −55. */
  readonly rssi?: () => number;
  /** Wall clock for the rotating id (default `Date.now`). */
  readonly now?: () => number;
  /** The info characteristic's value (default: framing 1, 1024 bytes, protocol 1). */
  readonly info?: Uint8Array;
  /** A GATT server without the notify characteristic (not a proxkey car). */
  readonly omitNotify?: boolean;
}

export interface FakeManagerOptions {
  /** `android`: the MTU request negotiates; `ios`: the stack fixed the MTU (`iosMtu`) and a request is a no-op. */
  readonly platform?: 'android' | 'ios';
  readonly iosMtu?: number;
  /** Report every car to a running scan this often (ms); 0: only on `advertise()`. Default 10. */
  readonly advertisingIntervalMs?: number;
  readonly state?: State;
}

/** Statistics a test asserts on. */
export interface FakeStats {
  writesWithResponse: number;
  writesWithoutResponse: number;
  notifications: number;
  largestWrite: number;
  mtuRequests: number[];
  rssiReads: number;
  /** Pending calls cancelled by `cancelTransaction`. */
  cancelled: number;
}

interface Connection {
  readonly car: FakeCarOptions;
  mtu: number;
  carLink: FramedLink | undefined;
  notify: ((error: BleError | null, c: Characteristic | null) => void) | undefined;
  /** Values the phone wrote, delivered to the car in order. */
  inbound: Promise<void>;
}

interface Pending {
  readonly reject: (err: BleError) => void;
}

const sub = (remove: () => void): Subscription => ({ remove });
const later = () => new Promise<void>((r) => setTimeout(r, 0));

export class FakeBleManager implements PlxManagerWithStatus {
  readonly stats: FakeStats = {
    writesWithResponse: 0,
    writesWithoutResponse: 0,
    notifications: 0,
    largestWrite: 0,
    mtuRequests: [],
    rssiReads: 0,
    cancelled: 0,
  };
  /** Writes never answer (a car that vanished without a disconnect event). */
  hangWrites = false;
  /** Report the cars on the advertising interval (false: only `advertise()`, for RSSI traces). */
  autoAdvertise = true;
  readonly #o: FakeManagerOptions;
  readonly #cars = new Map<string, FakeCarOptions>();
  readonly #connections = new Map<string, Connection>();
  readonly #stateListeners = new Set<(s: State) => void>();
  readonly #disconnectListeners = new Map<string, Set<(e: BleError | null, d: Device | null) => void>>();
  readonly #pending = new Map<string, Pending>();
  #scan: { listener: (e: BleError | null, d: Device | null) => void; timer: ReturnType<typeof setInterval> | undefined } | undefined;
  #state: State;

  constructor(options: FakeManagerOptions = {}) {
    this.#o = options;
    this.#state = options.state ?? ('PoweredOn' as State);
  }

  // ------------------------------------------------------------------ test controls

  addCar(car: FakeCarOptions): void {
    this.#cars.set(car.id, car);
  }
  removeCar(id: string): void {
    this.#cars.delete(id);
  }
  setState(state: State): void {
    this.#state = state;
    for (const l of this.#stateListeners) l(state);
  }
  /** One scan report of `carId` now (with `rssi`, or the car's). */
  advertise(carId: string, rssi?: number): void {
    const car = this.#cars.get(carId);
    if (car && this.#scan) this.#scan.listener(null, this.#device(car, { rssi: rssi ?? car.rssi?.() ?? -55 }));
  }
  get scanning(): boolean {
    return this.#scan !== undefined;
  }
  /** The car (or the radio) drops the connection: the phone's listeners hear it as ble-plx reports it. */
  dropConnection(carId: string, reason = 'supervision timeout'): void {
    const c = this.#connections.get(carId);
    if (!c) return;
    this.#connections.delete(carId);
    c.carLink?.terminate('transport', `phone link lost: ${reason}`);
    const error = new FakeBleError(CODE.deviceDisconnected, `Device ${carId} was disconnected: ${reason}`);
    c.notify?.(error, null);
    for (const l of this.#disconnectListeners.get(carId) ?? []) l(error, this.#device(c.car, { mtu: c.mtu }));
  }
  /** A raw notification value (base64 or not) from the car, as the native module would pass it. */
  injectNotification(carId: string, value: string): void {
    const c = this.#connections.get(carId);
    c?.notify?.(null, this.#characteristic(c, PROXKEY_NOTIFY_CHAR_UUID, { notify: true }, value));
  }
  isConnected(carId: string): boolean {
    return this.#connections.has(carId);
  }

  // ------------------------------------------------------------------ BlePlxManager

  state(): Promise<State> {
    return Promise.resolve(this.#state);
  }

  onStateChange(listener: (newState: State) => void, emitCurrentState?: boolean): Subscription {
    this.#stateListeners.add(listener);
    if (emitCurrentState) listener(this.#state);
    return sub(() => this.#stateListeners.delete(listener));
  }

  startDeviceScan(UUIDs: UUID[] | null, _options: ScanOptions | null, listener: (error: BleError | null, scannedDevice: Device | null) => void): Promise<void> {
    if (this.#scan?.timer) clearInterval(this.#scan.timer); // ble-plx: a new scan replaces the running one
    const interval = this.#o.advertisingIntervalMs ?? 10;
    const wanted = (UUIDs ?? []).map((u) => u.toLowerCase());
    const report = () => {
      if (!this.autoAdvertise) return;
      for (const car of this.#cars.values()) {
        if (this.#connections.has(car.id)) continue; // a connected car stops advertising (bleno does)
        if (wanted.length && !wanted.includes(PROXKEY_SERVICE_UUID)) continue;
        listener(null, this.#device(car, { rssi: car.rssi?.() ?? -55 }));
      }
    };
    this.#scan = { listener, timer: interval > 0 ? setInterval(report, interval) : undefined };
    return Promise.resolve();
  }

  stopDeviceScan(): Promise<void> {
    if (this.#scan?.timer) clearInterval(this.#scan.timer);
    this.#scan = undefined;
    return Promise.resolve();
  }

  async connectToDevice(deviceIdentifier: string, options?: ConnectionOptions): Promise<Device> {
    await later();
    const car = this.#cars.get(deviceIdentifier);
    if (!car) throw new FakeBleError(CODE.deviceNotFound, `Device ${deviceIdentifier} not found`);
    const mtu = this.#negotiate(car, options?.requestMTU);
    this.#connections.set(car.id, { car, mtu, carLink: undefined, notify: undefined, inbound: Promise.resolve() });
    return this.#device(car, { mtu });
  }

  async cancelDeviceConnection(deviceIdentifier: string): Promise<Device> {
    const c = this.#connections.get(deviceIdentifier);
    if (!c) throw new FakeBleError(CODE.deviceNotConnected, `Device ${deviceIdentifier} is not connected`);
    this.#connections.delete(deviceIdentifier);
    await later();
    c.carLink?.terminate('remote', 'phone disconnected');
    for (const l of this.#disconnectListeners.get(deviceIdentifier) ?? []) l(null, this.#device(c.car, { mtu: c.mtu }));
    return this.#device(c.car, { mtu: c.mtu });
  }

  onDeviceDisconnected(deviceIdentifier: string, listener: (error: BleError | null, device: Device | null) => void): Subscription {
    const set = this.#disconnectListeners.get(deviceIdentifier) ?? new Set();
    set.add(listener);
    this.#disconnectListeners.set(deviceIdentifier, set);
    return sub(() => set.delete(listener));
  }

  async discoverAllServicesAndCharacteristicsForDevice(deviceIdentifier: string): Promise<Device> {
    const c = this.#connected(deviceIdentifier);
    await later();
    return this.#device(c.car, { mtu: c.mtu });
  }

  async characteristicsForDevice(deviceIdentifier: string, serviceUUID: UUID): Promise<Characteristic[]> {
    const c = this.#connected(deviceIdentifier);
    if (serviceUUID.toLowerCase() !== PROXKEY_SERVICE_UUID) return [];
    return [
      this.#characteristic(c, PROXKEY_WRITE_CHAR_UUID, { write: true, writeWithoutResponse: c.car.writeWithoutResponse ?? true }),
      ...(c.car.omitNotify ? [] : [this.#characteristic(c, PROXKEY_NOTIFY_CHAR_UUID, { notify: true })]),
      this.#characteristic(c, PROXKEY_INFO_CHAR_UUID, { read: true }),
    ];
  }

  async requestMTUForDevice(deviceIdentifier: string, mtu: number): Promise<Device> {
    const c = this.#connected(deviceIdentifier);
    this.stats.mtuRequests.push(mtu);
    await later();
    if ((this.#o.platform ?? 'android') === 'android') c.mtu = this.#negotiate(c.car, mtu);
    return this.#device(c.car, { mtu: c.mtu });
  }

  async readCharacteristicForDevice(deviceIdentifier: string, _s: UUID, characteristicUUID: UUID, _transactionId?: string): Promise<Characteristic> {
    const c = this.#connected(deviceIdentifier);
    await later();
    if (characteristicUUID !== PROXKEY_INFO_CHAR_UUID) throw new FakeBleError(CODE.characteristicNotFound, 'not readable');
    const info = c.car.info ?? encodeGattInfo({ framingVersion: FRAMING_VERSION, maxMessageSize: 1024, protocolVersions: [1] });
    return this.#characteristic(c, PROXKEY_INFO_CHAR_UUID, { read: true }, bytesToBase64(info));
  }

  writeCharacteristicWithResponseForDevice(
    deviceIdentifier: string,
    _s: UUID,
    characteristicUUID: UUID,
    base64Value: string,
    transactionId?: string,
  ): Promise<Characteristic> {
    return this.#write(deviceIdentifier, characteristicUUID, base64Value, true, transactionId);
  }

  writeCharacteristicWithoutResponseForDevice(
    deviceIdentifier: string,
    _s: UUID,
    characteristicUUID: UUID,
    base64Value: string,
    transactionId?: string,
  ): Promise<Characteristic> {
    return this.#write(deviceIdentifier, characteristicUUID, base64Value, false, transactionId);
  }

  monitorCharacteristicForDevice(
    deviceIdentifier: string,
    _s: UUID,
    characteristicUUID: UUID,
    listener: (error: BleError | null, characteristic: Characteristic | null) => void,
  ): Subscription {
    const c = this.#connections.get(deviceIdentifier);
    if (!c || characteristicUUID !== PROXKEY_NOTIFY_CHAR_UUID) {
      setTimeout(() => listener(new FakeBleError(CODE.deviceNotConnected, 'cannot monitor'), null), 0);
      return sub(() => {});
    }
    c.notify = listener;
    // the CCCD write: the car sees the subscription and opens its side of the link
    const carLink = new FramedLink({
      valueSize: valueSizeForMtu(c.mtu),
      writeFragment: async (fragment) => {
        await later(); // a connection event later, in order
        if (this.#connections.get(c.car.id) !== c || c.notify !== listener) throw new Error('not subscribed');
        this.stats.notifications++;
        listener(null, this.#characteristic(c, PROXKEY_NOTIFY_CHAR_UUID, { notify: true }, bytesToBase64(fragment)));
      },
      onClose: (info) => {
        // the car ending the session disconnects the phone shortly after (bleno's grace period)
        if (info.by === 'local') setTimeout(() => this.#connections.get(c.car.id) === c && this.dropConnection(c.car.id, 'the car closed the link'), 5);
      },
    });
    c.carLink = carLink;
    c.car.serve(carLink);
    return sub(() => {
      if (c.notify === listener) c.notify = undefined;
      carLink.terminate('remote', 'phone unsubscribed');
    });
  }

  async readRSSIForDevice(deviceIdentifier: string): Promise<Device> {
    const c = this.#connected(deviceIdentifier);
    this.stats.rssiReads++;
    await later();
    return this.#device(c.car, { mtu: c.mtu, rssi: c.car.rssi?.() ?? -55 });
  }

  cancelTransaction(transactionId: string): Promise<void> {
    if (this.#pending.has(transactionId)) this.stats.cancelled++;
    this.#pending.get(transactionId)?.reject(new FakeBleError(CODE.operationCancelled, `Operation ${transactionId} was cancelled`));
    this.#pending.delete(transactionId);
    return Promise.resolve();
  }

  // ------------------------------------------------------------------ internals

  #negotiate(car: FakeCarOptions, requested: number | undefined): number {
    if ((this.#o.platform ?? 'android') === 'ios') return this.#o.iosMtu ?? 185;
    return requested === undefined ? 23 : Math.max(23, Math.min(requested, car.maxMtu ?? 517));
  }

  #connected(id: string): Connection {
    const c = this.#connections.get(id);
    if (!c) throw new FakeBleError(CODE.deviceNotConnected, `Device ${id} is not connected`);
    return c;
  }

  async #write(id: string, uuid: UUID, base64Value: string, withResponse: boolean, transactionId?: string): Promise<Characteristic> {
    const c = this.#connected(id);
    const value = base64ToBytes(base64Value, 'write');
    if (uuid !== PROXKEY_WRITE_CHAR_UUID) throw new FakeBleError(CODE.characteristicNotFound, 'not writable');
    if (!withResponse && c.car.writeWithoutResponse === false) throw new FakeBleError(CODE.characteristicWriteFailed, 'write without response not permitted');
    if (value.length > c.mtu - 3) throw new FakeBleError(CODE.characteristicWriteFailed, `value of ${value.length} bytes exceeds MTU ${c.mtu} - 3`);
    this.stats[withResponse ? 'writesWithResponse' : 'writesWithoutResponse']++;
    this.stats.largestWrite = Math.max(this.stats.largestWrite, value.length);
    if (this.hangWrites) {
      return new Promise<Characteristic>((_, reject) => {
        if (transactionId) this.#pending.set(transactionId, { reject });
      });
    }
    const delivered = c.inbound.then(later).then(() => {
      if (this.#connections.get(id) === c) c.carLink?.deliver(value);
    });
    c.inbound = delivered;
    if (withResponse) await delivered;
    return this.#characteristic(c, PROXKEY_WRITE_CHAR_UUID, { write: true });
  }

  #device(car: FakeCarOptions, { rssi = null, mtu = 23 }: { rssi?: number | null; mtu?: number }): Device {
    const secret = car.advertisingSecret?.();
    const serviceData = secret
      ? { [PROXKEY_SERVICE_UUID]: bytesToBase64(encodeAdvertisingServiceData(currentAdvertisingId(nobleCrypto, secret, (car.now ?? Date.now)()).id)) }
      : null;
    return new PlxDevice(this, { id: car.id, rssi, mtu, serviceData, serviceUUIDs: [PROXKEY_SERVICE_UUID] });
  }

  #characteristic(
    c: Connection,
    uuid: UUID,
    p: { read?: boolean; write?: boolean; writeWithoutResponse?: boolean; notify?: boolean },
    value: string | null = null,
  ): Characteristic {
    return new PlxCharacteristic(this, {
      uuid,
      deviceID: c.car.id,
      isReadable: p.read ?? false,
      isWritableWithResponse: p.write ?? false,
      isWritableWithoutResponse: p.writeWithoutResponse ?? false,
      isNotifiable: p.notify ?? false,
      value,
    });
  }
}
