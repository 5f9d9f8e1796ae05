/**
 * Calibration helpers: derive the path-loss model from RSSI recorded at known distances.
 *
 * Procedure (documented in docs/PROXIMITY.md): hold the phone at 1 m from the car's antenna, in
 * the hand or pocket as it will be carried, and record ≥ 20 samples (≈ 5–10 s); optionally repeat
 * at a second distance (e.g. 5 m) to fit the exponent. The median makes one body block or one
 * reflection irrelevant; the MAD is returned so a UI can ask for a retry when the room is too noisy.
 */
import { assertArg } from '../errors.js';
import { DEFAULT_PATH_LOSS, type PathLossModel } from './path-loss.js';
import { mad, median } from './robust-stats.js';

/** Fewest samples accepted for a calibration point. */
export const MIN_CALIBRATION_SAMPLES = 10;
/** A calibration point whose robust spread exceeds this (dB) is flagged `noisy`. */
export const NOISY_SPREAD_DB = 6;

/** RSSI recorded at one known distance: its robust level and spread (from `calibrationPoint`). */
export interface CalibrationPoint {
  /** Robust level (median RSSI), dBm. */
  readonly rssi: number;
  /** Robust spread (scaled MAD), dB. */
  readonly spreadDb: number;
  readonly count: number;
  /** spreadDb > NOISY_SPREAD_DB: consider recording again. */
  readonly noisy: boolean;
}

function point(samples: readonly number[], what: string): CalibrationPoint {
  const valid = samples.filter((s) => Number.isFinite(s) && s < 30 && s > -130);
  assertArg(valid.length >= MIN_CALIBRATION_SAMPLES, `${what}: need at least ${MIN_CALIBRATION_SAMPLES} valid RSSI samples (got ${valid.length})`);
  const spreadDb = mad(valid);
  return { rssi: median(valid), spreadDb, count: valid.length, noisy: spreadDb > NOISY_SPREAD_DB };
}

/** P1m from samples recorded at 1 m: their median (robust to < 50 % outliers). */
export function calibrateTxPower(samplesAt1m: readonly number[]): CalibrationPoint & { readonly txPowerAt1m: number } {
  const p = point(samplesAt1m, 'samplesAt1m');
  return { ...p, txPowerAt1m: p.rssi };
}

/**
 * The full model: P1m from the 1 m samples and, when samples at a second distance are given, the
 * exponent n = (P1m − median(rssi_d)) / (10 · log10 d), clamped to [1.5, 5] (outside it the
 * recording, not the physics, is wrong). Without a second distance n keeps `fallbackExponent`.
 */
export function calibratePathLoss(
  samplesAt1m: readonly number[],
  second?: { readonly distanceM: number; readonly samples: readonly number[] },
  fallbackExponent = DEFAULT_PATH_LOSS.pathLossExponent,
): PathLossModel & { readonly points: readonly CalibrationPoint[] } {
  const p1 = calibrateTxPower(samplesAt1m);
  if (!second) return { txPowerAt1m: p1.txPowerAt1m, pathLossExponent: fallbackExponent, points: [p1] };
  assertArg(second.distanceM >= 2, 'second.distanceM: expected ≥ 2 m (closer points cannot fix the exponent)');
  const p2 = point(second.samples, 'second.samples');
  const n = (p1.txPowerAt1m - p2.rssi) / (10 * Math.log10(second.distanceM));
  return { txPowerAt1m: p1.txPowerAt1m, pathLossExponent: Math.min(5, Math.max(1.5, n)), points: [p1, p2] };
}
