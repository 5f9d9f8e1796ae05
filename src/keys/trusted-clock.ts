/**
 * The car's notion of time: its wall clock, never below a persisted floor.
 *
 * Grant windows and advertising epochs rest on the car's clock, and a Raspberry Pi has no RTC: a
 * reboot without network comes up in 1970 (or at the last fake-hwclock save). The car keeps a
 * *time floor* — the latest time it has trusted, saved with every durable state write — and
 * never uses a time below it: `now() = max(wall clock, floor, last value returned)`. So a reset
 * clock can never make an expired grant valid again, nor replay an old advertising epoch.
 * While the wall clock is behind the floor (`behind`), time stands still at the floor until
 * the wall clock catches up (NTP); a fresh car trusts its wall clock at creation.
 */
import type { Clock } from '../crypto/provider.js';

export class TrustedClock {
  #floor: number;
  readonly #wall: Clock;

  /** @param floor the persisted floor (ms since the Unix epoch; 0 when none was saved yet) */
  constructor(wall: Clock, floor: number) {
    this.#wall = wall;
    this.#floor = Number.isFinite(floor) && floor > 0 ? floor : 0;
  }

  /** The current trusted time: never decreases, never below the floor. */
  readonly now = (): number => {
    const wall = this.#wall();
    if (Number.isFinite(wall) && wall > this.#floor) this.#floor = wall;
    return this.#floor;
  };

  /** The latest trusted time (what the store persists). */
  get floor(): number {
    return this.#floor;
  }

  /** True while the wall clock reads earlier than time the car has already seen. */
  get behind(): boolean {
    return this.#wall() < this.#floor;
  }
}
