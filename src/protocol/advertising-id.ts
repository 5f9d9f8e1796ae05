/**
 * Private advertising: the rotating identifier a car advertises so that its enrolled phones
 * find it among many advertisers while nobody else can tell that two identifiers (two epochs)
 * belong to the same car. Specified in docs/PRIVACY.md.
 *
 *   epoch = floor(unixSeconds / rotationSeconds)                      (default 900 s = 15 min)
 *   id    = HMAC-SHA256(advSecret, "proxkey adv v1" ‖ u32be(epoch))[0 .. N)      (default N = 8)
 *
 * `advSecret` (≥ 16 bytes, 32 recommended) is chosen by the car and given to each phone inside
 * the encrypted pairing channel. A phone resolves an advertised id by computing, for each of its
 * cars, the ids of the epochs around its own clock (± `skewEpochs`, default 1: any clock
 * difference below one rotation interval always resolves, up to two sometimes) and looking the
 * advertised bytes up.
 *
 * Without the secret the ids are outputs of a PRF on distinct inputs: unlinkable across epochs and
 * across cars. The identifier is public once on air, so comparisons need not be constant-time.
 *
 * Pure: the caller passes wall-clock time (`Date.now()`, not a monotonic clock) and the crypto
 * provider.
 */
import type { CryptoProvider, RandomSource } from '../crypto/provider.js';
import { concatBytes, copyOf, toHex, utf8 } from '../bytes.js';
import { assertArg, assertBytes } from '../errors.js';

/** Domain-separation label (ASCII, 14 bytes). */
export const ADVERTISING_ID_LABEL = 'proxkey adv v1';
/** Rotation interval: 15 minutes. */
export const DEFAULT_ROTATION_SECONDS = 900;
/** Identifier length in bytes (64 bits): fits the scan response next to the 128-bit service UUID. */
export const DEFAULT_ADVERTISING_ID_LENGTH = 8;
/** Epochs of clock skew tolerated on each side when resolving. */
export const DEFAULT_SKEW_EPOCHS = 1;
/** Shortest advertising secret accepted (bytes). */
export const MIN_ADVERTISING_SECRET_LENGTH = 16;
/** Length of the advertising secret a car generates (bytes). */
export const ADVERTISING_SECRET_LENGTH = 32;
/** First byte of the service data (docs/PRIVACY.md): format 1 = this scheme. */
export const ADVERTISING_FORMAT_V1 = 0x01;

/** How a car's rotating advertising id is derived: epoch length and id length (docs/PRIVACY.md). */
export interface AdvertisingIdOptions {
  /** Seconds per epoch (≥ 60). Default 900. */
  readonly rotationSeconds?: number;
  /** Identifier length in bytes (4..16). Default 8. */
  readonly length?: number;
}

const LABEL = /* @__PURE__ */ utf8(ADVERTISING_ID_LABEL);

function options(o: AdvertisingIdOptions = {}): Required<AdvertisingIdOptions> {
  const rotationSeconds = o.rotationSeconds ?? DEFAULT_ROTATION_SECONDS;
  const length = o.length ?? DEFAULT_ADVERTISING_ID_LENGTH;
  assertArg(Number.isInteger(rotationSeconds) && rotationSeconds >= 60, 'rotationSeconds: expected an integer ≥ 60');
  assertArg(Number.isInteger(length) && length >= 4 && length <= 16, 'length: expected an integer in 4..16');
  return { rotationSeconds, length };
}

/** A fresh advertising secret for a car (32 bytes from `random`). */
export function generateAdvertisingSecret(random: RandomSource): Uint8Array {
  return random(ADVERTISING_SECRET_LENGTH);
}

/** The epoch containing wall-clock time `unixMs`. */
export function advertisingEpoch(unixMs: number, rotationSeconds: number = DEFAULT_ROTATION_SECONDS): number {
  const { rotationSeconds: r } = options({ rotationSeconds });
  assertArg(Number.isFinite(unixMs) && unixMs >= 0, 'unixMs: expected wall-clock milliseconds ≥ 0');
  return Math.floor(unixMs / 1000 / r);
}

/** The identifier of `epoch` for `secret`. */
export function deriveAdvertisingId(crypto: CryptoProvider, secret: Uint8Array, epoch: number, length: number = DEFAULT_ADVERTISING_ID_LENGTH): Uint8Array {
  assertBytes(secret, 'secret');
  assertArg(secret.length >= MIN_ADVERTISING_SECRET_LENGTH, `secret: expected at least ${MIN_ADVERTISING_SECRET_LENGTH} bytes`);
  assertArg(Number.isInteger(epoch) && epoch >= 0 && epoch <= 0xffffffff, 'epoch: expected a u32');
  options({ length });
  const e = new Uint8Array(4);
  new DataView(e.buffer).setUint32(0, epoch);
  return crypto.hmacSha256(secret, concatBytes(LABEL, e)).slice(0, length);
}

/** Car side: what to advertise at `unixMs`, and when to rotate next (ms, wall clock). */
export function currentAdvertisingId(
  crypto: CryptoProvider,
  secret: Uint8Array,
  unixMs: number,
  opts: AdvertisingIdOptions = {},
): { readonly id: Uint8Array; readonly epoch: number; readonly nextRotationMs: number } {
  const o = options(opts);
  const epoch = advertisingEpoch(unixMs, o.rotationSeconds);
  return { id: deriveAdvertisingId(crypto, secret, epoch, o.length), epoch, nextRotationMs: (epoch + 1) * o.rotationSeconds * 1000 };
}

/** Service data carried under the proxkey service UUID: `format (1) ‖ id (N)`. */
export function encodeAdvertisingServiceData(id: Uint8Array): Uint8Array {
  assertBytes(id, 'id');
  assertArg(id.length >= 4 && id.length <= 16, 'id: expected 4..16 bytes');
  return concatBytes(Uint8Array.of(ADVERTISING_FORMAT_V1), id);
}

/** The id in proxkey service data, or undefined for another format (ignore such advertisers). */
export function decodeAdvertisingServiceData(data: Uint8Array): Uint8Array | undefined {
  if (!(data instanceof Uint8Array) || data.length < 5 || data.length > 17 || data[0] !== ADVERTISING_FORMAT_V1) return undefined;
  return copyOf(data.subarray(1));
}

/** A car as an enrolled phone knows it. */
export interface AdvertisingCar {
  /** The application's name for the car (e.g. its key id). */
  readonly carId: string;
  readonly secret: Uint8Array;
}

/** An advertised id resolved to one of the phone's cars. */
export interface AdvertisingMatch {
  readonly carId: string;
  /** The epoch the advertised id belongs to. */
  readonly epoch: number;
  /** `epoch` minus the phone's current epoch: within ± skewEpochs. */
  readonly skew: number;
}

/** Options of {@link AdvertisingIdResolver}: the id derivation and the epoch skew tolerated. */
export interface AdvertisingResolverOptions extends AdvertisingIdOptions {
  /** Epochs of skew tolerated on each side. Default 1. */
  readonly skewEpochs?: number;
}

/**
 * Phone side: resolves advertised ids to the phone's cars. Computes 2·skew+1 ids per car once per
 * epoch (cached), then each lookup is a map access — cheap enough for every advertisement seen.
 */
export class AdvertisingIdResolver {
  readonly #crypto: CryptoProvider;
  readonly #cars: readonly AdvertisingCar[];
  readonly #options: Required<AdvertisingIdOptions>;
  readonly #skew: number;
  #epoch = -1;
  #table = new Map<string, AdvertisingMatch>();

  constructor(crypto: CryptoProvider, cars: readonly AdvertisingCar[], opts: AdvertisingResolverOptions = {}) {
    this.#crypto = crypto;
    this.#options = options(opts);
    this.#skew = opts.skewEpochs ?? DEFAULT_SKEW_EPOCHS;
    assertArg(Number.isInteger(this.#skew) && this.#skew >= 0 && this.#skew <= 4, 'skewEpochs: expected an integer in 0..4');
    for (const c of cars) {
      assertBytes(c.secret, `secret of ${c.carId}`);
      assertArg(c.secret.length >= MIN_ADVERTISING_SECRET_LENGTH, `secret of ${c.carId}: expected at least ${MIN_ADVERTISING_SECRET_LENGTH} bytes`);
    }
    this.#cars = cars.map((c) => ({ carId: c.carId, secret: copyOf(c.secret) }));
  }

  /** The car that advertised `id`, judged by the phone's wall clock `unixMs`; undefined if none. */
  resolve(id: Uint8Array, unixMs: number): AdvertisingMatch | undefined {
    if (!(id instanceof Uint8Array) || id.length !== this.#options.length) return undefined;
    this.#refresh(advertisingEpoch(unixMs, this.#options.rotationSeconds));
    return this.#table.get(toHex(id));
  }

  /** The advertisements (any objects with an `id`) that resolve, with their match. */
  resolveAll<T extends { readonly id: Uint8Array }>(adverts: readonly T[], unixMs: number): (T & { readonly match: AdvertisingMatch })[] {
    const found: (T & { readonly match: AdvertisingMatch })[] = [];
    for (const a of adverts) {
      const match = this.resolve(a.id, unixMs);
      if (match) found.push({ ...a, match });
    }
    return found;
  }

  #refresh(epoch: number): void {
    if (epoch === this.#epoch) return;
    const table = new Map<string, AdvertisingMatch>();
    for (let skew = -this.#skew; skew <= this.#skew; skew++) {
      const e = epoch + skew;
      if (e < 0 || e > 0xffffffff) continue;
      for (const car of this.#cars) {
        const key = toHex(deriveAdvertisingId(this.#crypto, car.secret, e, this.#options.length));
        // prefer the closest epoch if two ever collide (2^-64 per pair)
        const prior = table.get(key);
        if (!prior || Math.abs(skew) < Math.abs(prior.skew)) table.set(key, { carId: car.carId, epoch: e, skew });
      }
    }
    this.#table = table;
    this.#epoch = epoch;
  }
}
