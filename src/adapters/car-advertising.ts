/**
 * Recognising one's own car among proxkey advertisers, for every phone-side adapter (noble,
 * react-native-ble-plx): where a car's rotating advertising id travels, the filter that resolves
 * it with the phone's advertising secrets (docs/PRIVACY.md), and the scan-time choice with its
 * fallback after a rotation. Platform-neutral: no Node built-ins, no BLE stack, no `Buffer`.
 */
import { notifyObserver } from '../errors.js';
import { nobleCrypto } from '../crypto/noble.js';
import type { CryptoProvider } from '../crypto/provider.js';
import type { CarRecord } from '../keys/state.js';
import {
  AdvertisingIdResolver,
  MIN_ADVERTISING_SECRET_LENGTH,
  decodeAdvertisingServiceData,
  type AdvertisingCar,
  type AdvertisingMatch,
  type AdvertisingResolverOptions,
} from '../protocol/advertising-id.js';
import { PROXKEY_SERVICE_UUID } from '../transport/framing.js';
import { COMPANY_ID_ADVERTISING_ID_LENGTH, stackUuid } from './common.js';

/** What a scan reported about one advertiser, in a stack-neutral form (each adapter maps its own). */
export interface AdvertisementView {
  /** Service data AD structures: the UUID (any case, with or without dashes) and the data after it. */
  readonly serviceData?: readonly { readonly uuid: string; readonly data: Uint8Array }[];
  /** Manufacturer-specific data: company id (2 bytes, little-endian) ‖ data. */
  readonly manufacturerData?: Uint8Array;
}

/** Where a car's rotating advertising id travels: service data under the proxkey service (default), or manufacturer data with `companyId`. */
export interface AdvertisingPlacement {
  /** The service the id is carried under (default: the proxkey service). */
  readonly serviceUuid?: string;
  /**
   * Cars that carry the id as manufacturer data under this Bluetooth SIG company id (the car's
   * `advertising.companyId`). Default: service data (format 1) under the service UUID.
   */
  readonly companyId?: number;
}

/** A plain view of `b` if it is a byte array (a Node `Buffer` is one), else undefined. */
const bytesOf = (b: unknown): Uint8Array | undefined => (b instanceof Uint8Array ? new Uint8Array(b.buffer, b.byteOffset, b.byteLength) : undefined);

/**
 * The rotating advertising identifier in what a scan reported: the service data (`01 ‖ id`)
 * under the proxkey service UUID — the last entry that decodes, since stacks merge what they saw —
 * or, with `companyId`, the manufacturer data `company ‖ id`. Undefined when the advertiser
 * carries none (its scan response has not arrived, or it is not a proxkey car with private
 * advertising).
 */
export function advertisingIdIn(view: AdvertisementView | undefined, placement: AdvertisingPlacement = {}): Uint8Array | undefined {
  if (!view) return undefined;
  if (placement.companyId !== undefined) {
    const m = bytesOf(view.manufacturerData);
    if (!m || m.length < 2 + 4 || m.length > 2 + 16 || (m[0]! | (m[1]! << 8)) !== placement.companyId) return undefined;
    return m.slice(2);
  }
  const service = stackUuid(placement.serviceUuid ?? PROXKEY_SERVICE_UUID);
  let id: Uint8Array | undefined;
  for (const sd of view.serviceData ?? []) {
    if (typeof sd?.uuid !== 'string' || stackUuid(sd.uuid) !== service) continue;
    const data = bytesOf(sd.data);
    const decoded = data && decodeAdvertisingServiceData(data);
    if (decoded) id = decoded;
  }
  return id;
}

/** Options of the phone-side `advertisingFilter`s: the cars to recognise, where their id travels, the epoch tolerance and the fallback. */
export interface AdvertisingFilterOptions<T> extends AdvertisingPlacement, AdvertisingResolverOptions {
  /** The cars to look for: `carId` (any name the application likes) and the car's advertising secret. */
  readonly cars: readonly AdvertisingCar[];
  /** Default: the pure-JS provider (`nobleCrypto`). */
  readonly crypto?: CryptoProvider;
  /** The phone's wall clock, ms since the Unix epoch (default `Date.now`). */
  readonly now?: () => number;
  /** Called with the advertiser that resolved, before the filter accepts it. */
  readonly onMatch?: (match: AdvertisingMatch, advertiser: T) => void;
}

/**
 * A filter over a stack's advertisers (`viewOf` maps one to an {@link AdvertisementView}) that
 * accepts only one whose rotating id resolves to one of `cars` (current epoch ± `skewEpochs`);
 * unknown advertisers, and cars without an id, are skipped. The resolver computes 3 HMACs per
 * car per epoch, then each advertisement costs a map lookup.
 */
export function advertisingFilterOver<T>(
  viewOf: (advertiser: T) => AdvertisementView | undefined,
  options: AdvertisingFilterOptions<T>,
): (advertiser: T) => boolean {
  const { cars, crypto = nobleCrypto, now = Date.now, onMatch, serviceUuid, companyId, ...resolverOptions } = options;
  const length = resolverOptions.length ?? (companyId !== undefined ? COMPANY_ID_ADVERTISING_ID_LENGTH : undefined);
  const resolver = new AdvertisingIdResolver(crypto, cars, { ...resolverOptions, ...(length !== undefined && { length }) });
  const placement = { ...(serviceUuid !== undefined && { serviceUuid }), ...(companyId !== undefined && { companyId }) };
  return (advertiser) => {
    const id = advertisingIdIn(viewOf(advertiser), placement);
    const match = id && resolver.resolve(id, now());
    if (!match) return false;
    notifyObserver(() => onMatch?.(match, advertiser));
    return true;
  };
}

/**
 * The advertising car to look for, from a phone's car record (`PhoneWallet.car()`), or undefined
 * when the record has no usable advertising secret (none, too short, or the all-zero placeholder
 * a share carries when the owner had none): then a phone takes the first proxkey car it sees —
 * safe, since the handshake pins the car's key, just not selective.
 */
export function advertisingCarOf(car: Pick<CarRecord, 'carId' | 'advertisingSecret'>): AdvertisingCar | undefined {
  const secret = car.advertisingSecret;
  if (!secret || secret.length < MIN_ADVERTISING_SECRET_LENGTH || secret.every((b) => b === 0)) return undefined;
  return { carId: car.carId, secret };
}

/**
 * {@link advertisingFilterOver} for a phone's car record (`PhoneWallet.car()`): accepts only the
 * advertiser whose rotating id resolves to `car`; undefined when the record has no usable secret
 * (see {@link advertisingCarOf}).
 */
export function carFilterOver<T>(
  viewOf: (advertiser: T) => AdvertisementView | undefined,
  car: Pick<CarRecord, 'carId' | 'advertisingSecret'>,
  options: Omit<AdvertisingFilterOptions<T>, 'cars'> = {},
): ((advertiser: T) => boolean) | undefined {
  const target = advertisingCarOf(car);
  return target && advertisingFilterOver(viewOf, { ...options, cars: [target] });
}

export interface CarChoiceOptions<T> {
  /** Accept an advertiser (default: the first one offered). Must not throw. */
  readonly filter?: ((advertiser: T) => boolean) | undefined;
  /**
   * With a `filter`: when no advertiser has passed it after this long (ms), take the proxkey car
   * heard most recently anyway. For a car whose advertising secret changed (a revocation rotates
   * it, docs/PRIVACY.md): the handshake still pins the car's key, so the wrong car fails safely,
   * and the caller can tell (the filter rejects the chosen one) that it should fetch the new secret.
   */
  readonly fallbackAfterMs?: number | undefined;
}

/** The scan-time choice of a car: offer every proxkey advertisement; `chosen` settles once. */
export interface CarChoice<T> {
  offer(advertiser: T): void;
  /** The accepted advertiser (never rejects; bound it with the scan timeout). */
  readonly chosen: Promise<T>;
  /** Stop the fallback timer (always call it when the scan ends). */
  dispose(): void;
}

/** Choose among the proxkey cars a scan reports: the first the filter accepts, or the fallback. */
export function chooseCar<T>(options: CarChoiceOptions<T>): CarChoice<T> {
  let resolve!: (advertiser: T) => void;
  const chosen = new Promise<T>((r) => (resolve = r));
  let fallback = false;
  let candidate: { readonly advertiser: T } | undefined;
  let timer: ReturnType<typeof setTimeout> | undefined;
  if (options.filter && options.fallbackAfterMs !== undefined) {
    timer = setTimeout(() => {
      fallback = true;
      if (candidate) resolve(candidate.advertiser);
    }, options.fallbackAfterMs);
  }
  return {
    chosen,
    offer(advertiser) {
      if ((options.filter?.(advertiser) ?? true) || fallback) return resolve(advertiser);
      candidate = { advertiser }; // the most recently heard: likelier still in range
    },
    dispose() {
      if (timer !== undefined) clearTimeout(timer);
      timer = undefined;
    },
  };
}
