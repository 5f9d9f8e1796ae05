/**
 * The car's notion of time: its wall clock, never below a persisted floor, never backwards.
 *
 * Grant windows and advertising epochs rest on the car's clock, and a Raspberry Pi has no RTC: a
 * reboot without network comes up in 1970 (or at the last fake-hwclock save). The car keeps a
 * *time floor* — the latest time it has trusted, saved with every durable state write (and, in
 * the daemon, hourly) — and uses
 *
 *   now() = max(wall clock, floor + monotonic time elapsed since the car opened, last value)
 *
 * So a reset clock can never make an expired grant valid again nor replay an old advertising
 * epoch, and time still *advances* at its real rate while the wall clock is behind (`behind`):
 * relay round trips, session ages and pairing windows keep working until NTP catches up.
 * A fresh car trusts its wall clock; a car with none (it reads 0) counts from its floor (0 or the
 * firmware's build time) at the monotonic rate.
 */
import type { Clock } from '../crypto/provider.js';

const monotonicNow: Clock = () => globalThis.performance?.now() ?? Date.now();

export class TrustedClock {
  readonly #wall: Clock;
  readonly #mono: Clock;
  readonly #floorAtOpen: number;
  readonly #monoAtOpen: number;
  #last: number;

  /**
   * @param floor the persisted floor (ms since the Unix epoch; 0 when none was saved yet)
   * @param monotonic a clock that never jumps (default `performance.now`)
   */
  constructor(wall: Clock, floor: number, monotonic: Clock = monotonicNow) {
    this.#wall = wall;
    this.#mono = monotonic;
    this.#floorAtOpen = Number.isFinite(floor) && floor > 0 ? floor : 0;
    this.#monoAtOpen = monotonic();
    this.#last = this.#floorAtOpen;
  }

  /** The current trusted time: never decreases, never below the floor, advances in real time. */
  readonly now = (): number => {
    const wall = this.#wall();
    const sinceFloor = this.#floorAtOpen + Math.max(0, this.#mono() - this.#monoAtOpen);
    // Always floor + elapsed: a car with no wall clock at all (an MCU, wall = 0) still sees time advance.
    const t = Math.max(Number.isFinite(wall) ? wall : 0, sinceFloor, this.#last);
    this.#last = t;
    return t;
  };

  /** The latest trusted time (what the store persists). */
  get floor(): number {
    return this.now();
  }

  /** True while the wall clock reads earlier than the trusted time (reset clock, no NTP yet). */
  get behind(): boolean {
    return this.#wall() < this.now() - 1_000;
  }
}
