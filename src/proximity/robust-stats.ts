/**
 * Robust statistics for RSSI: the median (breakdown point 50 %: fewer than half the values may be
 * arbitrarily wrong and it stays put) and the median absolute deviation (MAD), the matching
 * robust spread. Pure; no allocation beyond one sorted copy.
 */

/** The median of `values` (mean of the two middle values for an even count); NaN when empty. */
export function median(values: readonly number[]): number {
  const n = values.length;
  if (n === 0) return Number.NaN;
  const s = [...values].sort((a, b) => a - b);
  const mid = n >> 1;
  return n % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/**
 * Median absolute deviation from the median, scaled by 1.4826 so that it estimates the standard
 * deviation of Gaussian data. NaN when empty.
 */
export function mad(values: readonly number[]): number {
  const m = median(values);
  return 1.4826 * median(values.map((v) => Math.abs(v - m)));
}
