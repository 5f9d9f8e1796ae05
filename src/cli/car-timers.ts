/** The car daemon's periodic work: systemd's watchdog ping and the hourly trusted-time save. */
import { messageOf } from '../errors.js';
import type { VehicleService } from '../service/vehicle-service.js';
import type { Notifier } from './sd-notify.js';
import type { Ui } from './ui.js';

const HOUR_MS = 3_600_000;

/** One line when the system clock is behind the car's trusted time (the car then uses its own). */
export function reportClockBehind(car: VehicleService, ui: Ui): void {
  if (car.clockBehind) ui.info(`  the system clock is behind the car's last saved time: using ${new Date(car.now()).toISOString()} until it catches up (NTP)`);
}

/**
 * Save the car's trusted time hourly (docs/PROTOCOL.md §8): after a reboot without network (a Pi
 * has no RTC) the car's time never goes below it. A failed save is logged and retried next hour.
 */
export function startTimeFloorSaver(car: VehicleService, ui: Ui): ReturnType<typeof setInterval> {
  const timer = setInterval(() => {
    reportClockBehind(car, ui);
    car.persistTimeFloor().catch((e: unknown) => ui.info(`  could not save the time floor: ${messageOf(e)}`));
  }, HOUR_MS);
  timer.unref();
  return timer;
}

/**
 * Ping systemd's watchdog at half its period (no timer when systemd set none). A ping means the
 * event loop runs, not that the radio answers: it goes on during a radio recovery (bounded and
 * logged by the health loop). docs/raspberry-pi.md and the unit's comment say so.
 */
export function startWatchdog(notifier: Notifier): ReturnType<typeof setInterval> | undefined {
  if (!notifier.watchdogMs) return undefined;
  notifier.ping();
  // The health loop bounds recovery itself (and exits when it cannot): the watchdog proves the
  // event loop runs; a daemon stuck anywhere stops pinging and systemd restarts it.
  const timer = setInterval(() => notifier.ping(), Math.max(500, notifier.watchdogMs / 2));
  timer.unref();
  return timer;
}
