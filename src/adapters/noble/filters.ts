/**
 * Recognising one's own car from noble's advertisements: the rotating advertising identifier
 * (docs/PRIVACY.md; the shared logic is in ../car-advertising.ts, used by every phone-side adapter).
 */
import type { CarRecord } from '../../keys/state.js';
import {
  advertisingFilterOver,
  advertisingIdIn,
  carFilterOver,
  type AdvertisingFilterOptions as SharedFilterOptions,
  type AdvertisingPlacement,
} from '../car-advertising.js';
import type { NobleAdvertisement, NoblePeripheral } from './types.js';

/** Options of {@link advertisingFilter}. */
export type AdvertisingFilterOptions = SharedFilterOptions<NoblePeripheral>;

/**
 * The rotating advertising identifier a proxkey car advertises, as the phone's noble saw it:
 * the service data (`01 ‖ id`) under the proxkey service UUID — the last one that decodes, since
 * noble merges what it saw — or, with `companyId`, the manufacturer data `company ‖ id`.
 * @returns the identifier, or undefined when the advertiser carries none (then its scan response has
 *   not arrived, or it is not a proxkey car with private advertising).
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
 * @returns the filter, or undefined when the record has no usable advertising secret.
 */
export function carFilter(car: Pick<CarRecord, 'carId' | 'advertisingSecret'>): ((p: NoblePeripheral) => boolean) | undefined {
  return carFilterOver((p: NoblePeripheral) => p.advertisement, car);
}
