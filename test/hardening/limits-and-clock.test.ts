/** A car name that cannot travel is refused at open; a car with no wall clock still sees time pass. */
import { describe, expect, it } from 'vitest';
import { MemoryVehicleStore, VehicleService } from '../../src/index.js';
import { TrustedClock } from '../../src/keys/trusted-clock.js';

describe('limits a car is opened with', () => {
  it('a name over 64 UTF-8 bytes is refused at open (it would fail every pairing later)', async () => {
    await expect(VehicleService.open({ store: new MemoryVehicleStore(), actuator: () => undefined, name: 'é'.repeat(33) })).rejects.toMatchObject({
      code: 'ERR_INVALID_ARGUMENT',
    });
    const car = await VehicleService.open({ store: new MemoryVehicleStore(), actuator: () => undefined, name: 'é'.repeat(32) });
    expect(car.name).toBe('é'.repeat(32));
  });
});

describe('a car without a wall clock', () => {
  it('counts from its floor at the monotonic rate (floor 0, wall always 0)', () => {
    let mono = 1_000;
    const clock = new TrustedClock(
      () => 0,
      0,
      () => mono,
    );
    expect(clock.now()).toBe(0);
    mono += 30_000;
    expect(clock.now()).toBe(30_000);
  });
});
