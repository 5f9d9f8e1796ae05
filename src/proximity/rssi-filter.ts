/**
 * RSSI filter: a sliding **median** over a short time window, followed by a time-aware
 * **exponential moving average** (EMA).
 *
 * Why this and not a Kalman filter: BLE RSSI noise is not Gaussian. It is a few dB of jitter
 * plus heavy tails — deep fades when a body or the car's metal blocks the path (−10…−25 dB) and
 * short constructive-multipath spikes when a reflector passes (+10…+20 dB). A Kalman filter
 * assumes Gaussian noise and follows such outliers unless it is given a gating rule, whose
 * threshold then needs its own tuning. The median ignores any burst shorter than half its window
 * outright (breakdown point 50 %); the EMA then removes the remaining jitter. Both are a few
 * lines, deterministic, cheap on an MCU, and have two parameters with a physical meaning (a
 * window in ms, a time constant in ms), independent of the sampling rate, which differs a lot
 * between platforms (connection events, advertisement intervals, OS scan throttling).
 *
 * Cost: lag. For a steady walk, the median lags by about half its window and the EMA by about
 * its time constant; the defaults (1 200 ms, 800 ms) keep the total near 1.4 s ≈ 2 m at walking
 * pace, which the zone thresholds account for.
 *
 * Pure: time comes with each sample; no timers.
 */
import { assertArg } from '../errors.js';
import { median } from './robust-stats.js';

/** Options of {@link RssiFilter}: the median window and the EMA time constant. */
export interface RssiFilterOptions {
  /** The median covers the samples of the last `medianWindowMs` (always at least the newest). Default 1 200. */
  readonly medianWindowMs?: number;
  /** At most this many samples are kept in the window. Default 16. */
  readonly maxWindowSamples?: number;
  /** EMA time constant τ in ms: weight of a new median = 1 − exp(−Δt/τ). 0 disables the EMA. Default 800. */
  readonly timeConstantMs?: number;
  /** Samples needed since the last reset before the filter gives a value. Default 3. */
  readonly minSamples?: number;
}

/** The filter's defaults. */
export const DEFAULT_FILTER: Required<RssiFilterOptions> = Object.freeze({
  medianWindowMs: 1_200,
  maxWindowSamples: 16,
  timeConstantMs: 800,
  minSamples: 3,
});

/** An RSSI a BLE controller can report (HCI: int8 dBm, 127 = not available; ≤ +20 in practice). */
export function isValidRssi(rssi: number): boolean {
  return Number.isFinite(rssi) && rssi >= -127 && rssi <= 20;
}

/** A sliding median over a time window, then a time-aware EMA (see the module comment). */
export class RssiFilter {
  readonly #options: Required<RssiFilterOptions>;
  #window: { at: number; rssi: number }[] = [];
  #seen = 0;
  #ema: number | undefined;
  #lastAt = -Infinity;

  constructor(options: RssiFilterOptions = {}) {
    this.#options = { ...DEFAULT_FILTER, ...options };
    const o = this.#options;
    assertArg(o.medianWindowMs >= 0, 'medianWindowMs: expected ≥ 0');
    assertArg(Number.isInteger(o.maxWindowSamples) && o.maxWindowSamples >= 1, 'maxWindowSamples: expected an integer ≥ 1');
    assertArg(o.timeConstantMs >= 0, 'timeConstantMs: expected ≥ 0');
    assertArg(Number.isInteger(o.minSamples) && o.minSamples >= 1, 'minSamples: expected an integer ≥ 1');
  }

  /** The filtered RSSI (dBm), or undefined while warming up. */
  get value(): number | undefined {
    return this.#seen >= this.#options.minSamples ? this.#ema : undefined;
  }

  /** Time of the last accepted sample (−Infinity if none). */
  get lastAt(): number {
    return this.#lastAt;
  }

  /**
   * Feed one sample taken at `at` (ms). Invalid RSSI values and samples older than the last one
   * are ignored. Returns the filtered value (undefined while warming up).
   */
  add(rssi: number, at: number): number | undefined {
    if (!isValidRssi(rssi) || !Number.isFinite(at) || at < this.#lastAt) return this.value;
    const w = this.#window;
    w.push({ at, rssi });
    while (w.length > this.#options.maxWindowSamples || (w.length > 1 && w[0]!.at < at - this.#options.medianWindowMs)) w.shift();
    const m = median(w.map((s) => s.rssi));
    if (this.#ema === undefined || this.#options.timeConstantMs === 0) this.#ema = m;
    else this.#ema += (1 - Math.exp(-(at - this.#lastAt) / this.#options.timeConstantMs)) * (m - this.#ema);
    this.#lastAt = at;
    this.#seen++;
    return this.value;
  }

  /** Forget everything (e.g. after the link dropped: old samples say nothing about now). */
  reset(): void {
    this.#window = [];
    this.#seen = 0;
    this.#ema = undefined;
    this.#lastAt = -Infinity;
  }
}
