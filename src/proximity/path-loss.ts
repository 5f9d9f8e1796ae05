/**
 * Log-distance path loss: the model that turns a (filtered) RSSI into a distance estimate.
 *
 *   rssi(d) = P1m − 10 · n · log10(d)        ⇔        d = 10 ^ ((P1m − rssi) / (10 · n))
 *
 * `P1m` (`txPowerAt1m`) is the RSSI measured at 1 m — it folds the transmitter's power, both
 * antennas and the receiver's gain into one number, which is why it must be calibrated per
 * device pair (see `calibration.ts`). `n` (`pathLossExponent`) is 2 in free space and 2–4 around
 * bodies, cars and buildings. A BLE distance estimate is coarse (±50 % is normal): zones, not
 * centimetres, are what it is good for.
 */
import { assertArg } from '../errors.js';

/** The log-distance model of one device pair: RSSI at 1 m and the path-loss exponent. */
export interface PathLossModel {
  /** RSSI at 1 m, dBm (P1m). */
  readonly txPowerAt1m: number;
  /** Path-loss exponent n (> 0). */
  readonly pathLossExponent: number;
}

/**
 * Defaults: −59 dBm at 1 m is the typical "measured power" of a phone's BLE radio (the iBeacon
 * convention; real phones span about −50…−70); n = 2.0 (free space) because the phone is in
 * line of sight of the car's antenna in the zones that matter (< 10 m). Calibrate both.
 */
export const DEFAULT_PATH_LOSS: PathLossModel = Object.freeze({ txPowerAt1m: -59, pathLossExponent: 2.0 });

/** Distances are clamped to this range (metres): the model means nothing outside it. */
export const MIN_DISTANCE_M = 0.1;
/** Upper end of that range (m). */
export const MAX_DISTANCE_M = 1000;

export function assertPathLossModel(m: PathLossModel): void {
  assertArg(Number.isFinite(m.txPowerAt1m) && m.txPowerAt1m < 30 && m.txPowerAt1m > -130, 'txPowerAt1m: expected a finite dBm value in (-130, 30)');
  assertArg(Number.isFinite(m.pathLossExponent) && m.pathLossExponent > 0 && m.pathLossExponent <= 10, 'pathLossExponent: expected a number in (0, 10]');
}

/** Distance (m) for an RSSI (dBm), clamped to [MIN_DISTANCE_M, MAX_DISTANCE_M]. */
export function rssiToDistance(rssi: number, model: PathLossModel = DEFAULT_PATH_LOSS): number {
  const d = 10 ** ((model.txPowerAt1m - rssi) / (10 * model.pathLossExponent));
  return Math.min(MAX_DISTANCE_M, Math.max(MIN_DISTANCE_M, d));
}

/** The RSSI (dBm) the model predicts at `distanceM` (> 0). */
export function distanceToRssi(distanceM: number, model: PathLossModel = DEFAULT_PATH_LOSS): number {
  assertArg(distanceM > 0, 'distanceM: expected > 0');
  return model.txPowerAt1m - 10 * model.pathLossExponent * Math.log10(distanceM);
}
