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
 *
 * One concept per module: `loader.ts` (loadBleno), `advertising-encoding.ts` (the AD structures),
 * `rotation-schedule.ts` (pure: what to advertise when), `advertiser.ts` (the rotation loop),
 * `hci-privacy.ts` (raw-HCI private addresses), `rssi-sampling.ts`, `connections.ts` (GATT and
 * links), `link-queue.ts` (accept), `private-fields.ts` (the only reads of bleno's private fields).
 */
import { LocalError, assertArg } from '../../errors.js';
import { nobleCrypto } from '../../crypto/noble.js';
import { systemRandom } from '../../crypto/random.js';
import { DEFAULT_ADVERTISING_ID_LENGTH, DEFAULT_ROTATION_SECONDS } from '../../protocol/advertising-id.js';
import { DEFAULT_MAX_MESSAGE_SIZE } from '../../transport/fragment-codec.js';
import { encodeGattInfo } from '../../transport/gatt-info.js';
import { FRAMING_VERSION, PROXKEY_SERVICE_UUID } from '../../transport/gatt-profile.js';
import type { ReceiveOptions } from '../../transport/link.js';
import { COMPANY_ID_ADVERTISING_ID_LENGTH, callbackToPromise, stackUuid, withRadioDeadline, waitPoweredOn } from '../common.js';
import { Advertiser } from './advertiser.js';
import { CarConnections } from './connections.js';
import { privateAddresses, rawHci, type PrivateAddresses } from './hci-privacy.js';
import { LinkQueue } from './link-queue.js';
import type { AdvertisingPlan } from './rotation-schedule.js';
import { rssiSource, type RssiSource } from './rssi-sampling.js';
import type { BlenoLike, CarAdvertisement, CarPeripheral, CarPeripheralOptions } from './types.js';

export { BleUnavailableError, COMPANY_ID_ADVERTISING_ID_LENGTH, usableRssi, type HciOptions } from '../common.js';
export { PROXKEY_SERVICE_UUID, PROXKEY_WRITE_CHAR_UUID, PROXKEY_NOTIFY_CHAR_UUID, PROXKEY_INFO_CHAR_UUID } from '../../transport/gatt-profile.js';
export { loadBleno, type LoadBlenoOptions } from './loader.js';
export { encodeCarAdvertisement, MAX_LEGACY_AD_LENGTH } from './advertising-encoding.js';
export type { BlenoLike, CarAdvertisement, CarAdvertisingOptions, CarPeripheral, CarPeripheralOptions, PhoneLink } from './types.js';

/** What to advertise, from the options (the rotating id's parameters with `advertising`). */
function advertisingPlan(options: CarPeripheralOptions): AdvertisingPlan {
  const { advertising, localName } = options;
  const rotation = advertising && {
    crypto: advertising.crypto ?? nobleCrypto,
    rotationSeconds: advertising.rotationSeconds ?? DEFAULT_ROTATION_SECONDS,
    length: advertising.length ?? (advertising.companyId !== undefined ? COMPANY_ID_ADVERTISING_ID_LENGTH : DEFAULT_ADVERTISING_ID_LENGTH),
    ...(advertising.companyId !== undefined && { companyId: advertising.companyId }),
  };
  return { serviceUuid: options.serviceUuid ?? PROXKEY_SERVICE_UUID, ...(localName && { localName }), ...(rotation && { rotation }) };
}

/** Private addresses when advertising rotates and the stack has a raw HCI socket (`privateAddress`). */
function carPrivateAddresses(bleno: BlenoLike, options: CarPeripheralOptions, plan: AdvertisingPlan): PrivateAddresses | undefined {
  const { advertising } = options;
  const want = advertising?.privateAddress ?? 'auto';
  if (!advertising || !plan.rotation || want === false) return undefined;
  const hci = rawHci(bleno);
  if (!hci) {
    if (want !== true) return undefined;
    throw new LocalError(
      'ERR_INVALID_ARGUMENT',
      'privateAddress: this bleno has no raw HCI socket (Linux HCI bindings needed); use privateAddress: "auto" or false',
    );
  }
  return privateAddresses(hci, {
    crypto: plan.rotation.crypto,
    secret: advertising.secret,
    random: advertising.random ?? systemRandom,
    intervalMs: Number(process.env.BLENO_ADVERTISING_INTERVAL) || 100,
  });
}

/** What a car peripheral is made of, built (and its options validated) before the stack is touched. */
interface CarParts {
  readonly plan: AdvertisingPlan;
  readonly advertiser: Advertiser;
  readonly connections: CarConnections;
  readonly queue: LinkQueue;
  readonly rssi: RssiSource;
  readonly info: Uint8Array;
}

/** Build the advertiser, the connections (GATT and links) and the link queue from the options. */
function carParts(options: CarPeripheralOptions): CarParts {
  const { bleno } = options;
  const startTimeoutMs = options.startTimeoutMs ?? 10_000;
  const maxMessageSize = options.maxMessageSize ?? DEFAULT_MAX_MESSAGE_SIZE;
  const plan = advertisingPlan(options);
  let connections: CarConnections | undefined;
  const advertiser = new Advertiser({
    bleno,
    plan,
    secret: options.advertising?.secret ?? new Uint8Array(0),
    now: options.advertising?.now ?? Date.now,
    privateAddresses: carPrivateAddresses(bleno, options, plan),
    startTimeoutMs,
    onlyConnectionUp: () => connections?.onlyConnectionUp ?? false,
    ...(options.onAdvertisingError && { onError: options.onAdvertisingError }),
  });
  const rssiIntervalMs = options.rssiIntervalMs ?? (options.onRssi ? 250 : 0);
  assertArg(Number.isFinite(rssiIntervalMs) && rssiIntervalMs >= 0, 'rssiIntervalMs: expected a number ≥ 0');
  const info = encodeGattInfo({ framingVersion: FRAMING_VERSION, maxMessageSize, protocolVersions: options.protocolVersions ?? [1] });
  const { Characteristic, PrimaryService } = bleno;
  if (typeof Characteristic !== 'function' || typeof PrimaryService !== 'function') {
    throw new LocalError('ERR_INVALID_ARGUMENT', 'bleno: expected a bleno instance (with Characteristic and PrimaryService)');
  }
  const queue = new LinkQueue(options.onLink);
  const rssi = rssiSource(bleno);
  connections = new CarConnections({
    bleno,
    queue,
    rssi,
    maxMessageSize,
    partialTimeoutMs: options.partialTimeoutMs,
    disconnectGraceMs: options.disconnectGraceMs ?? 250,
    rssiIntervalMs,
    onRssi: options.onRssi,
    onOnlyConnectionGone: () => advertiser.onlyConnectionGone(),
  });
  return { plan, advertiser, connections, queue, rssi, info };
}

/**
 * Power on, serve the proxkey GATT service, and advertise. Resolves once advertising; every
 * step is bounded.
 * @param options the bleno instance (see `loadBleno`), what to advertise, how links are handed out, RSSI sampling, bounds.
 * @returns the running peripheral: its links, what it advertises, `accept`, `stop`.
 * @throws {BleUnavailableError} the adapter is missing or refuses; `TimeoutError` a start step took too long;
 *   `LocalError` (`ERR_INVALID_ARGUMENT`) bad options (checked before the stack is touched).
 */
export async function startCarPeripheral(options: CarPeripheralOptions): Promise<CarPeripheral> {
  const { bleno, signal } = options;
  const { plan, advertiser, connections, queue, rssi, info } = carParts(options);
  const characteristics = connections.characteristics(info);
  bleno.on('accept', connections.onAccept);
  bleno.on('disconnect', connections.onDisconnect);
  const detach = () => {
    bleno.removeListener('accept', connections.onAccept);
    bleno.removeListener('disconnect', connections.onDisconnect);
    rssi.dispose();
  };
  try {
    const bound = { timeoutMs: options.startTimeoutMs ?? 10_000, signal };
    await waitPoweredOn(bleno, 'bleno', bound);
    const service = new bleno.PrimaryService({ uuid: stackUuid(plan.serviceUuid), characteristics });
    await withRadioDeadline(
      'set GATT services',
      callbackToPromise((cb) => bleno.setServices([service], cb)),
      bound,
    );
    await advertiser.start(bound);
  } catch (err) {
    detach();
    throw err;
  }
  return carPeripheral(bleno, advertiser, connections, queue, detach);
}

/** The running car: its links, advertisement, and controls. */
function carPeripheral(bleno: BlenoLike, advertiser: Advertiser, connections: CarConnections, queue: LinkQueue, detach: () => void): CarPeripheral {
  let stopped = false;
  return {
    get links() {
      return connections.links;
    },
    get address() {
      return bleno.address;
    },
    get advertisement(): CarAdvertisement {
      const { advertisement, scanResponse, id, epoch, address } = advertiser.onAir;
      return { advertisement: advertisement.slice(), scanResponse: scanResponse.slice(), ...(id && { id: id.slice(), epoch }), ...(address && { address }) };
    },
    accept: (o: ReceiveOptions = {}) => queue.accept(o),
    updateAdvertisingSecret: (secret: Uint8Array) => advertiser.updateSecret(secret),
    disconnectAll() {
      connections.disconnectAll('car dropped the connection');
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      queue.close();
      connections.halt();
      await advertiser.stop();
      connections.stop();
      await withRadioDeadline(
        'remove GATT services',
        callbackToPromise((cb) => bleno.setServices([], cb)),
        { timeoutMs: 2000 },
      ).catch(() => {});
      detach();
      queue.rejectWaiters();
    },
  };
}
