/** Connecting to a car: find it (unless given), connect, discover the proxkey service, read its info, subscribe. */
import { RemoteError, assertArg } from '../../errors.js';
import { MAX_ATT_MTU, MIN_ATT_MTU, valueSizeForMtu } from '../../transport/fragment-codec.js';
import { readableCarInfo, type GattInfo } from '../../transport/gatt-info.js';
import { PROXKEY_INFO_CHAR_UUID, PROXKEY_NOTIFY_CHAR_UUID, PROXKEY_SERVICE_UUID, PROXKEY_WRITE_CHAR_UUID } from '../../transport/gatt-profile.js';
import type { FramedLink } from '../../transport/framed-link.js';
import { clampMtu, extendLink, stackUuid, waitPoweredOn } from '../common.js';
import { CarConnection, type CarLinkFraming } from './car-connection.js';
import { findCar } from './scan.js';
import type { CarLink, ConnectToCarOptions, NobleCharacteristic, NoblePeripheral } from './types.js';

/** The proxkey characteristics of a connected car. */
interface ProxkeyCharacteristics {
  readonly write: NobleCharacteristic;
  readonly notify: NobleCharacteristic;
  readonly info: NobleCharacteristic;
}

/** Discover the proxkey service's three characteristics; `RemoteError('ERR_UNSUPPORTED')` naming those missing. */
async function discoverProxkey(connection: CarConnection, peripheral: NoblePeripheral, serviceUuid: string | undefined): Promise<ProxkeyCharacteristics> {
  const service = stackUuid(serviceUuid ?? PROXKEY_SERVICE_UUID);
  const writeUuid = stackUuid(PROXKEY_WRITE_CHAR_UUID);
  const notifyUuid = stackUuid(PROXKEY_NOTIFY_CHAR_UUID);
  const infoUuid = stackUuid(PROXKEY_INFO_CHAR_UUID);
  const { characteristics } = await connection.request(
    'GATT discovery',
    peripheral.discoverSomeServicesAndCharacteristicsAsync([service], [writeUuid, notifyUuid, infoUuid]),
  );
  const byUuid = (u: string) => characteristics.find((c) => stackUuid(c.uuid) === u);
  const write = byUuid(writeUuid);
  const notify = byUuid(notifyUuid);
  const info = byUuid(infoUuid);
  if (!write || !notify || !info) {
    const missing = [!write && 'write', !notify && 'notify', !info && 'info'].filter(Boolean).join(', ');
    throw new RemoteError('ERR_UNSUPPORTED', `not a proxkey car: missing characteristic(s) ${missing}`);
  }
  return { write, notify, info };
}

/** Read and decode the car's info characteristic; `RemoteError('ERR_UNSUPPORTED')` for another framing version. */
async function readCarInfo(connection: CarConnection, characteristic: NobleCharacteristic): Promise<GattInfo> {
  return readableCarInfo(new Uint8Array(await connection.request('read info', characteristic.readAsync())));
}

/** The framed link's options: fragments sized by the live MTU, written to `write`, messages bounded by what the car announced. */
function framingFor(options: ConnectToCarOptions, peripheral: NoblePeripheral, write: NobleCharacteristic, info: GattInfo): CarLinkFraming {
  const withoutResponse = options.writeWithoutResponse ?? false;
  return {
    valueSize: () => valueSizeForMtu(clampMtu(peripheral.mtu)),
    maxMessageSize: Math.min(options.maxMessageSize ?? info.maxMessageSize, info.maxMessageSize),
    partialTimeoutMs: options.partialTimeoutMs,
    writeTimeoutMs: options.writeTimeoutMs ?? 5000,
    writeFragment: (fragment) => write.writeAsync(Buffer.from(fragment), withoutResponse),
  };
}

/**
 * Find (unless given), connect, discover the proxkey service, read the car's info, subscribe to
 * notifications, and return the session `Link`. Every step is bounded (`stepTimeoutMs`) and ends
 * early if the car disconnects; on any failure the connection is released before the error is thrown.
 * @param options the noble instance, how to choose the car (or `peripheral`), bounds and framing.
 * @returns the open link, with the car's info, the peripheral, the live MTU and `disconnected`.
 * @throws {TimeoutError} a step took too long; `AbortedError` on `signal`; `LinkClosedError` the stack
 *   failed or the car disconnected; `RemoteError` (`ERR_DECODE` / `ERR_UNSUPPORTED`) not a proxkey car
 *   we can talk to; `BleUnavailableError` no adapter; `LocalError` (`ERR_INVALID_ARGUMENT`) an `mtu` outside 23..517.
 */
export async function connectToCar(options: ConnectToCarOptions): Promise<CarLink> {
  const { signal } = options;
  assertArg(options.mtu === undefined || (options.mtu >= MIN_ATT_MTU && options.mtu <= MAX_ATT_MTU), 'mtu: expected 23..517');
  const peripheral = options.peripheral ?? (await findCar(options));
  if (options.peripheral) await waitPoweredOn(options.noble, 'noble', { timeoutMs: options.powerOnTimeoutMs ?? 5000, signal });

  const bound = { timeoutMs: options.stepTimeoutMs ?? 5000, signal };
  const connection = new CarConnection(peripheral, bound, options.disconnectTimeoutMs ?? 2000, options.onDisconnected);
  try {
    await connection.connect(options.mtu ?? 256);
    const characteristics = await discoverProxkey(connection, peripheral, options.serviceUuid);
    const info = await readCarInfo(connection, characteristics.info);
    const link = connection.openLink(framingFor(options, peripheral, characteristics.write, info), characteristics.notify);
    await connection.request('subscribe', characteristics.notify.subscribeAsync());
    return makeCarLink(link, info, peripheral, connection.disconnected);
  } catch (err) {
    await connection.abandon();
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
