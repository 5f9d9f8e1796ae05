/**
 * `connectToCar` over react-native-ble-plx: find (unless given), connect, discover, request the
 * MTU, read the car's info, monitor notifications — every step bounded, every failure typed, the
 * connection released on any failure — and the `CarLink` that carries framed messages over it.
 */
import type { BleError, Characteristic, Device } from 'react-native-ble-plx';
import { LinkClosedError, RemoteError, assertArg, notifyObserver, messageOf } from '../../errors.js';
import {
  FramedLink,
  MAX_ATT_MTU,
  MIN_ATT_MTU,
  PROXKEY_INFO_CHAR_UUID,
  PROXKEY_NOTIFY_CHAR_UUID,
  PROXKEY_SERVICE_UUID,
  PROXKEY_WRITE_CHAR_UUID,
  readableCarInfo,
  valueSizeForMtu,
  type FramingOptions,
  type GattInfo,
} from '../../transport/framing.js';
import type { Link } from '../../transport/link.js';
import { clampMtu, extendLink, settleable, stackUuid, usableRssi, type GattLinkOptions } from '../common.js';
import { base64ToBytes, bytesToBase64 } from './base64.js';
import { radio, waitPoweredOnPlx, type BlePlxManager, type RadioBound } from './manager.js';
import { assertRuntime } from './runtime.js';
import { findCar, type FindCarOptions } from './scan.js';

/** `writeWithoutResponse` applies only when the car's write characteristic allows it. */
export interface ConnectToCarOptions extends Partial<FindCarOptions>, FramingOptions, GattLinkOptions {
  readonly manager: BlePlxManager;
  /** Connect to this device (from `findCar`, or a scan of the app's own) instead of scanning. */
  readonly device?: Device;
  /**
   * ATT MTU to request (default 517). Android: `requestMTUForDevice` (Android 14+ always
   * negotiates 517); iOS negotiates by itself and the request is a no-op. The negotiated MTU is
   * read back from the device and fragments are sized to it.
   */
  readonly mtu?: number;
}

/** A connected car: a `Link` plus what the car announced and what the phone negotiated. */
export interface CarLink extends Link {
  readonly info: GattInfo;
  /** The device as scanned (its `id`, advertisement, scan RSSI). */
  readonly device: Device;
  /** The negotiated ATT MTU (fragments are `mtu - 3` bytes at most). */
  readonly mtu: number;
  /** Whether fragments go as writes without response. */
  readonly writeWithoutResponse: boolean;
  /** Resolves once the BLE connection is released after the link closed (never rejects). */
  readonly disconnected: Promise<void>;
  /** Connection RSSI (dBm) by `readRSSIForDevice`, or undefined (bounded by 1 s; never rejects). */
  readRssi(): Promise<number | undefined>;
}

interface Characteristics {
  readonly write: Characteristic;
  readonly notify: Characteristic;
  readonly info: Characteristic;
}

const UUIDS = { write: PROXKEY_WRITE_CHAR_UUID, notify: PROXKEY_NOTIFY_CHAR_UUID, info: PROXKEY_INFO_CHAR_UUID } as const;

function pickCharacteristics(all: readonly Characteristic[]): Characteristics {
  const find = (uuid: string) => all.find((c) => stackUuid(c.uuid) === stackUuid(uuid));
  const [write, notify, info] = [find(UUIDS.write), find(UUIDS.notify), find(UUIDS.info)];
  if (!write || !notify || !info) {
    const missing = [!write && 'write', !notify && 'notify', !info && 'info'].filter(Boolean).join(', ');
    throw new RemoteError('ERR_UNSUPPORTED', `not a proxkey car: missing characteristic(s) ${missing}`);
  }
  return { write, notify, info };
}

/** The connection being set up: its loss, its release. One per `connectToCar`. */
class Connection {
  readonly lost: Promise<never>;
  lostReason: string | undefined;
  link: FramedLink | undefined;
  readonly #reject: (err: Error) => void;
  readonly #subscriptions: { remove(): void }[] = [];

  constructor(
    readonly manager: BlePlxManager,
    readonly deviceId: string,
    readonly service: string,
  ) {
    let reject!: (err: Error) => void;
    this.lost = new Promise<never>((_, r) => (reject = r));
    this.lost.catch(() => {});
    this.#reject = reject;
  }

  keep(subscription: { remove(): void }): void {
    this.#subscriptions.push(subscription);
  }

  /** The car disconnected (`onDeviceDisconnected`): every wait ends, the link closes, nothing is left to release. */
  onLost(reason: string): void {
    if (this.lostReason !== undefined) return;
    this.lostReason = reason;
    // At once, before the pending waits learn of it (a write racing the disconnect then reports
    // it as the car's, `remote`); notifications delivered before it are still read first.
    this.link?.terminate('remote', reason);
    this.#reject(new LinkClosedError(reason));
  }

  /**
   * The notification monitor failed (a CCCD write refused, the stack gave up on it) while the
   * device may still be connected: the link ends (`transport`) and its release cancels the
   * connection. A disconnect reports itself on the monitor first: when `onDeviceDisconnected`
   * follows at once, the link closes as a disconnect instead.
   */
  onMonitorError(reason: string): void {
    setTimeout(() => {
      if (this.lostReason === undefined) this.link?.terminate('transport', reason);
    }, 0);
  }

  detach(): void {
    for (const s of this.#subscriptions.splice(0)) {
      try {
        s.remove();
      } catch {
        /* best effort */
      }
    }
  }

  async release(timeoutMs: number): Promise<void> {
    this.detach();
    if (this.lostReason !== undefined) return;
    await radio(this.manager, 'disconnect', () => this.manager.cancelDeviceConnection(this.deviceId), { timeoutMs }).catch(() => {});
  }
}

/**
 * Find (unless `device` is given), connect, discover the proxkey service, request the MTU, read
 * the car's info, monitor notifications, and return the session `Link`. On any failure the
 * connection is released and a typed error thrown: `TimeoutError`, `AbortedError`,
 * `LinkClosedError` (the stack failed or the car disconnected: retry), `RemoteError`
 * (`ERR_DECODE` / `ERR_UNSUPPORTED`: not a proxkey car we can talk to), `BleUnavailableError`
 * (Bluetooth off, unauthorized, unsupported), `LocalError('ERR_INVALID_STATE')` (a polyfill the
 * core needs is missing: `crypto.getRandomValues`, `TextDecoder`).
 */
export async function connectToCar(options: ConnectToCarOptions): Promise<CarLink> {
  const { manager, signal } = options;
  const stepTimeoutMs = options.stepTimeoutMs ?? 5000;
  const disconnectTimeoutMs = options.disconnectTimeoutMs ?? 2000;
  assertArg(options.mtu === undefined || (Number.isInteger(options.mtu) && options.mtu >= MIN_ATT_MTU && options.mtu <= MAX_ATT_MTU), 'mtu: expected 23..517');
  assertRuntime(); // a missing polyfill fails here, clearly, not in the handshake
  const device = options.device ?? (await findCar(options));
  if (options.device) await waitPoweredOnPlx(manager, { timeoutMs: options.powerOnTimeoutMs ?? 5000, signal });
  const c = new Connection(manager, device.id, options.serviceUuid ?? PROXKEY_SERVICE_UUID);
  const bound: RadioBound = { timeoutMs: stepTimeoutMs, signal };
  const disconnected = settleable<void>();
  try {
    c.keep(manager.onDeviceDisconnected(device.id, (error) => c.onLost(`car disconnected${error ? ` (${error.message})` : ''}`)));
    const { chars, mtu, info } = await setUp(c, options, bound);
    const withoutResponse = (options.writeWithoutResponse ?? false) && chars.write.isWritableWithoutResponse;
    c.link = new FramedLink({
      valueSize: valueSizeForMtu(mtu),
      maxMessageSize: Math.min(options.maxMessageSize ?? info.maxMessageSize, info.maxMessageSize),
      partialTimeoutMs: options.partialTimeoutMs,
      writeTimeoutMs: options.writeTimeoutMs ?? 5000,
      writeFragment: (fragment) => writeFragment(c, fragment, withoutResponse, options.writeTimeoutMs ?? 5000),
      onClose: (closeInfo) =>
        void c.release(disconnectTimeoutMs).then(() => {
          disconnected.resolve();
          notifyObserver(() => options.onDisconnected?.(closeInfo));
        }),
    });
    c.keep(monitorNotifications(c));
    const carLink: CarLink = extendLink(c.link, {
      info,
      device,
      mtu,
      writeWithoutResponse: withoutResponse,
      disconnected: disconnected.promise,
      readRssi: () => readConnectionRssi(manager, device.id),
    });
    return carLink;
  } catch (err) {
    if (c.link) {
      c.link.close('connect failed');
      await disconnected.promise;
    } else await c.release(disconnectTimeoutMs);
    throw err;
  }
}

/** Connect, discover, check the characteristics, negotiate the MTU, read and check the info. */
async function setUp(c: Connection, options: ConnectToCarOptions, bound: RadioBound): Promise<{ chars: Characteristics; mtu: number; info: GattInfo }> {
  const { manager, deviceId, lost, service } = c;
  const wantMtu = options.mtu ?? MAX_ATT_MTU;
  const cancelConnect = () => void manager.cancelDeviceConnection(deviceId).catch(() => {});
  let connected = await radio(manager, 'connect', () => manager.connectToDevice(deviceId, { requestMTU: wantMtu, timeout: bound.timeoutMs }), bound, {
    lost,
    cancel: cancelConnect,
  });
  await radio(manager, 'GATT discovery', (tx) => manager.discoverAllServicesAndCharacteristicsForDevice(deviceId, tx), bound, { lost });
  const chars = pickCharacteristics(await radio(manager, 'list characteristics', () => manager.characteristicsForDevice(deviceId, service), bound, { lost }));
  try {
    connected = await radio(manager, 'MTU request', (tx) => manager.requestMTUForDevice(deviceId, wantMtu, tx), bound, { lost });
  } catch (err) {
    if (c.lostReason !== undefined) throw err; // otherwise: keep the MTU the stack has (23 at worst)
  }
  const value = (await radio(manager, 'read info', (tx) => manager.readCharacteristicForDevice(deviceId, service, UUIDS.info, tx), bound, { lost })).value;
  const info = readableCarInfo(base64ToBytes(value ?? '', 'info characteristic'));
  return { chars, mtu: clampMtu(connected.mtu), info };
}

function writeFragment(c: Connection, fragment: Uint8Array, withoutResponse: boolean, timeoutMs: number): Promise<void> {
  const { manager, deviceId, service } = c;
  const value = bytesToBase64(fragment);
  const write = (tx: string) =>
    withoutResponse
      ? manager.writeCharacteristicWithoutResponseForDevice(deviceId, service, UUIDS.write, value, tx)
      : manager.writeCharacteristicWithResponseForDevice(deviceId, service, UUIDS.write, value, tx);
  return radio(manager, 'write', write, { timeoutMs }, { lost: c.lost }).then(() => undefined);
}

/** Notifications → the link; a monitor error ends the link (and the connection: `onMonitorError`). */
function monitorNotifications(c: Connection): { remove(): void } {
  const listener = (error: BleError | null, characteristic: Characteristic | null) => {
    if (error) return c.onMonitorError(`notifications ended (${error.message})`);
    if (!characteristic?.value) return;
    let fragment: Uint8Array;
    try {
      fragment = base64ToBytes(characteristic.value, 'notification');
    } catch (err) {
      return c.link?.terminate('transport', messageOf(err));
    }
    c.link?.deliver(fragment);
  };
  return c.manager.monitorCharacteristicForDevice(c.deviceId, c.service, UUIDS.notify, listener, `proxkey-monitor-${c.deviceId}`);
}

/** `readRSSIForDevice`, bounded; undefined for no usable reading or any failure. */
async function readConnectionRssi(manager: BlePlxManager, deviceId: string): Promise<number | undefined> {
  try {
    const d = await radio(manager, 'read RSSI', (tx) => manager.readRSSIForDevice(deviceId, tx), { timeoutMs: 1000 });
    return usableRssi(d.rssi ?? undefined);
  } catch {
    return undefined;
  }
}
