/** Figures for the benchmarks: the median (the library's own, src/proximity/robust-stats.ts) and rounding. */
export { median } from '../src/proximity/robust-stats.js';

/** `x` rounded to `decimals` places. */
export const roundTo = (x: number, decimals: number): number => Math.round(x * 10 ** decimals) / 10 ** decimals;
