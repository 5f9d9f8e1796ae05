/**
 * The phone side over Web Bluetooth (GATT client in a browser): choose the car, connect, discover
 * the proxkey service, read the info value, subscribe to notifications, and hand back a `Link`
 * over the same framing as the noble adapter (docs/BLE.md).
 *
 * What a page cannot do, and what follows (docs/phone-web.md):
 * - It cannot read the negotiated ATT MTU: fragments are 20 bytes (the MTU-23 minimum every stack
 *   accepts) unless the browser exposes `maxWriteWithoutResponseSize` (proposed, not shipped).
 * - It cannot scan or read RSSI (stable Chrome): no rotating-id resolution before connecting and no
 *   passive entry; the handshake pins the car's key, so a wrong pick fails safely.
 */
import { LinkClosedError, RemoteError, notifyObserver } from '../../errors.js';
import {
  FramedLink,
  MAX_ATT_VALUE,
  MIN_ATT_MTU,
  PROXKEY_INFO_CHAR_UUID,
  PROXKEY_NOTIFY_CHAR_UUID,
  PROXKEY_SERVICE_UUID,
  PROXKEY_WRITE_CHAR_UUID,
  readableCarInfo,
  type FramingOptions,
  type GattInfo,
} from '../../transport/framing.js';
import type { Link, LinkCloseInfo } from '../../transport/link.js';
import { extendLink } from '../common.js';
import { bytesOf, WebCarConnection } from './car-connection.js';
import { chooseCar, type ChooseCarOptions } from './choose.js';
import type { BluetoothDeviceLike, GattCharacteristicLike, GattServerLike } from './types.js';

/** Fragment size when the page cannot know the MTU: ATT_MTU 23 − 3. */
export const DEFAULT_WEB_VALUE_SIZE = MIN_ATT_MTU - 3;

/** Options of the Web Bluetooth `connectToCar`: the chooser (or a known `device`), framing, and the GATT link's bounds. */
export interface WebConnectOptions extends ChooseCarOptions, FramingOptions {
  /** Use this device (from an earlier chooser) instead of showing the chooser. */
  readonly device?: BluetoothDeviceLike;
  /** Bound on each GATT step: connect, service, characteristics, info read, subscribe (default 10 000 ms). */
  readonly stepTimeoutMs?: number;
  /** Bound on each fragment write; a timeout closes the link (default 5000 ms). */
  readonly writeTimeoutMs?: number;
  /** Write fragments without response (default true: one ATT Write Command each, no round trip). */
  readonly writeWithoutResponse?: boolean;
  /** Called once when the link closes (however it closes), after the GATT connection is released. */
  readonly onDisconnected?: (info: LinkCloseInfo) => void;
}

/** A `Link` to a car over Web Bluetooth. */
export interface WebCarLink extends Link {
  /** What the car announced in its info characteristic. */
  readonly info: GattInfo;
  /** The browser's device object (reuse it as `device` to reconnect without the chooser). */
  readonly device: BluetoothDeviceLike;
  /** Bytes per fragment this link writes. */
  readonly valueSize: number;
  /** Resolves once the GATT connection is released (never rejects). */
  readonly disconnected: Promise<void>;
}

/** The write size: the browser's `maxWriteWithoutResponseSize` when it has one, else 20 bytes. */
export function webValueSize(server: Pick<GattServerLike, 'maxWriteWithoutResponseSize'>): number {
  const m = server.maxWriteWithoutResponseSize;
  return typeof m === 'number' && Number.isInteger(m) && m >= DEFAULT_WEB_VALUE_SIZE ? Math.min(m, MAX_ATT_VALUE) : DEFAULT_WEB_VALUE_SIZE;
}

interface Gatt {
  readonly server: GattServerLike;
  readonly write: GattCharacteristicLike;
  readonly notify: GattCharacteristicLike;
  readonly info: GattInfo;
}

async function discover(server: GattServerLike, serviceUuid: string, radio: <T>(what: string, p: Promise<T>) => Promise<T>): Promise<Gatt> {
  // The browser's NotFoundError (a missing service or characteristic): not a proxkey car, not "retry".
  const notProxkey = (missing: string) => (e: unknown) => {
    throw e instanceof LinkClosedError && /NotFound|No Services|No Characteristics|not found/i.test(e.message)
      ? new RemoteError('ERR_UNSUPPORTED', `not a proxkey car: no proxkey ${missing}`)
      : e;
  };
  const service = await radio('proxkey service', server.getPrimaryService(serviceUuid)).catch(notProxkey('service'));
  const char = (what: string, uuid: string) => radio(`${what} characteristic`, service.getCharacteristic(uuid)).catch(notProxkey(`${what} characteristic`));
  const write = await char('write', PROXKEY_WRITE_CHAR_UUID);
  const notify = await char('notify', PROXKEY_NOTIFY_CHAR_UUID);
  const infoValue = bytesOf(await radio('read info', (await char('info', PROXKEY_INFO_CHAR_UUID)).readValue()));
  const info = readableCarInfo(infoValue ?? new Uint8Array(0));
  return { server, write, notify, info };
}

/**
 * Choose (unless `device` is given), connect, discover, read the info value, subscribe and return
 * the session `Link`. Every step is bounded and ends early if the car disconnects; on failure the
 * GATT connection is released and a typed error thrown: `BleUnavailableError` (no Web Bluetooth,
 * Bluetooth off), `AbortedError` (chooser cancelled, `signal`), `TimeoutError`, `LinkClosedError`
 * (out of range, the car disconnected), `RemoteError` (`ERR_UNSUPPORTED`, `ERR_DECODE`: not a
 * proxkey car this phone can talk to).
 */
export async function connectToCar(options: WebConnectOptions): Promise<WebCarLink> {
  const device = options.device ?? (await chooseCar(options));
  const server = device.gatt;
  if (!server) throw new RemoteError('ERR_UNSUPPORTED', 'this Bluetooth device has no GATT server');
  const bound = { timeoutMs: options.stepTimeoutMs ?? 10_000, ...(options.signal && { signal: options.signal }) };
  const connection = new WebCarConnection(device, server, bound);
  const request = <T>(what: string, work: Promise<T>) => connection.request(what, work);
  try {
    await request('connect', server.connect());
    const gatt = await discover(server, (options.serviceUuid ?? PROXKEY_SERVICE_UUID).toLowerCase(), request);
    const link = framedLink(gatt, options, () => connection.linkClosed());
    connection.attach(link, gatt.notify);
    await request('subscribe', gatt.notify.startNotifications());
    return carLink(link, gatt, device, connection.disconnected);
  } catch (e) {
    connection.abandon();
    throw e;
  }
}

function framedLink(gatt: Gatt, options: WebConnectOptions, onReleased: () => void): FramedLink {
  const withoutResponse = options.writeWithoutResponse ?? true;
  const valueSize = webValueSize(gatt.server);
  return new FramedLink({
    valueSize,
    maxMessageSize: Math.min(options.maxMessageSize ?? gatt.info.maxMessageSize, gatt.info.maxMessageSize),
    ...(options.partialTimeoutMs !== undefined && { partialTimeoutMs: options.partialTimeoutMs }),
    writeTimeoutMs: options.writeTimeoutMs ?? 5000,
    writeFragment: (fragment) =>
      withoutResponse ? gatt.write.writeValueWithoutResponse(new Uint8Array(fragment)) : gatt.write.writeValueWithResponse(new Uint8Array(fragment)),
    onClose: (info) => {
      onReleased();
      notifyObserver(() => options.onDisconnected?.(info));
    },
  });
}

function carLink(link: FramedLink, gatt: Gatt, device: BluetoothDeviceLike, disconnected: Promise<void>): WebCarLink {
  return extendLink(link, { info: gatt.info, device, valueSize: webValueSize(gatt.server), disconnected });
}
