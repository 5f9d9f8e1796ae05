/**
 * The car's advertising schedule as pure functions of the wall clock, the advertising secret and
 * its generation (how many times the secret was replaced): what to put on air, when to look again,
 * and whether what is on air is still right. No timers, no bleno: `advertiser.ts` runs them.
 */
import type { CryptoProvider } from '../../crypto/provider.js';
import { advertisingEpoch, currentAdvertisingId } from '../../protocol/advertising-id.js';
import { encodeCarAdvertisement } from './advertising-encoding.js';
import type { CarAdvertisement } from './types.js';

/** Re-check the clock at least this often (a car that boots with a stale clock and then syncs NTP). */
export const MAX_ROTATION_CHECK_MS = 60_000;
/** Rotate this long after the boundary, so a slightly early timer does not miss it. */
export const ROTATION_MARGIN_MS = 20;

/** The rotating identifier's parameters (phones must use the same). */
export interface RotationParameters {
  readonly crypto: CryptoProvider;
  readonly rotationSeconds: number;
  readonly length: number;
  readonly companyId?: number;
}

/** What the car advertises: its service and name, and with `rotation` a rotating identifier. */
export interface AdvertisingPlan {
  readonly serviceUuid: string;
  readonly localName?: string;
  /** Absent: a static advertisement (flags and service UUID), never rotated. */
  readonly rotation?: RotationParameters;
}

/** An advertisement with the schedule it belongs to. */
export interface ScheduledAdvertisement extends CarAdvertisement {
  /** The secret generation its id was derived under. */
  readonly generation: number;
  /** Wall-clock ms at which it stops being right (the next epoch boundary plus a margin); undefined: never. */
  readonly nextAt?: number;
}

/**
 * What to advertise at wall-clock `now` (ms since the Unix epoch) under `secret`, and when that
 * changes. Throws `ERR_INVALID_ARGUMENT` when the packets would not fit (see `encodeCarAdvertisement`).
 */
export function scheduledAdvertisement(plan: AdvertisingPlan, now: number, secret: Uint8Array, generation: number): ScheduledAdvertisement {
  const { serviceUuid, localName, rotation } = plan;
  if (!rotation) return { ...encodeCarAdvertisement({ serviceUuid, ...(localName && { localName }) }), generation };
  const { id, epoch, nextRotationMs } = currentAdvertisingId(rotation.crypto, secret, now, rotation);
  const layout = encodeCarAdvertisement({
    serviceUuid,
    id,
    ...(rotation.companyId !== undefined && { companyId: rotation.companyId }),
    ...(localName && { localName }),
  });
  return { ...layout, id, epoch, generation, nextAt: nextRotationMs + ROTATION_MARGIN_MS };
}

/** The next step of the rotation loop: wait `delayMs` and look again, or put a new advertisement on air. */
export type RotationDecision = { readonly kind: 'wait'; readonly delayMs: number } | { readonly kind: 'readvertise' };

/**
 * Whether `onAir` is still right at `now` for secret generation `generation`. It is not after an
 * epoch boundary, after a secret update, or when the last attempt to advertise failed.
 */
export function rotationDecision(
  onAir: ScheduledAdvertisement,
  now: number,
  generation: number,
  lastAttemptOk: boolean,
  rotationSeconds: number,
): RotationDecision {
  if (lastAttemptOk && onAir.generation === generation && advertisingEpoch(now, rotationSeconds) === onAir.epoch) {
    return { kind: 'wait', delayMs: checkDelay(onAir.nextAt ?? now + ROTATION_MARGIN_MS, now) };
  }
  return { kind: 'readvertise' };
}

/** How long to sleep until `nextAt`: never negative, never longer than `MAX_ROTATION_CHECK_MS`. */
export function checkDelay(nextAt: number, now: number): number {
  return Math.max(0, Math.min(MAX_ROTATION_CHECK_MS, nextAt - now));
}

/** Back-off after `failures` failed attempts in a row (1 s, 2 s, … capped at a minute). */
export function retryDelay(failures: number): number {
  return Math.min(MAX_ROTATION_CHECK_MS, 500 * 2 ** Math.min(failures, 7));
}
