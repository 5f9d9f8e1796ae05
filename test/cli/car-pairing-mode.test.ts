/**
 * The daemon's pairing-mode watch: it says in one line how pairing mode ended, and keeps watching
 * through `claimed` (a phone proved the code, its enrollment is being written), which ends
 * `paired`, or goes back to `active` when the claim is released.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { pairingController } from '../../src/cli/car-pairing-mode.js';
import type { Ui } from '../../src/cli/ui.js';
import type { VehicleService } from '../../src/service/vehicle-service.js';

function fakeCar() {
  const car = {
    status: 'active',
    openPairing: async () => ({ code: '12345678', payload: 'proxkey://pair?v=1&code=12345678', expiresAt: Date.now() + 120_000 }),
    get pairingStatus() {
      return car.status;
    },
  };
  return car;
}

function fakeUi() {
  const ends: string[] = [];
  const ui: Ui = {
    json: true,
    progress: () => () => undefined,
    info: () => undefined,
    hint: () => undefined,
    result: (d, human) => void (d.event === 'pairing-closed' && ends.push(human)),
  };
  return { ui, ends };
}

afterEach(() => void vi.useRealTimers());

describe('pairing mode watch', () => {
  it('a phone that pairs while the watch samples `claimed` (its enrollment write) is still reported', async () => {
    vi.useFakeTimers();
    const car = fakeCar();
    const { ui, ends } = fakeUi();
    const p = pairingController(car as unknown as VehicleService, {}, ui, undefined);
    await p.open();
    await vi.advanceTimersByTimeAsync(300);
    car.status = 'claimed';
    await vi.advanceTimersByTimeAsync(600);
    expect(ends).toEqual([]);
    car.status = 'paired';
    await vi.advanceTimersByTimeAsync(300);
    expect(ends).toEqual(['pairing mode closed: a phone paired']);
    p.stop();
  });

  it('a released claim (enrollment failed) leaves pairing mode watched: its end is still reported', async () => {
    vi.useFakeTimers();
    const car = fakeCar();
    const { ui, ends } = fakeUi();
    const p = pairingController(car as unknown as VehicleService, { pairingTtlSeconds: 60 }, ui, undefined);
    await p.open();
    car.status = 'claimed';
    await vi.advanceTimersByTimeAsync(300);
    car.status = 'active';
    await vi.advanceTimersByTimeAsync(300);
    car.status = 'expired';
    await vi.advanceTimersByTimeAsync(300);
    expect(ends).toEqual(['pairing mode expired: nobody paired within 60 s']);
    p.stop();
  });
});
