/**
 * `proxkey car serve`: the car daemon. Advertises and serves phones, acts through the configured
 * actuator, watches the pairing button, lights the status LED while pairing mode is open, answers
 * `proxkey car …` on its control socket, heals its radio (`RadioSupervisor`), tells systemd when
 * it is ready and that it is alive (`Type=notify`, `WatchdogSec=`), and stops cleanly on SIGTERM
 * and Ctrl-C alike. Exit codes: 0 stopped, 1 could not start, 3 the radio could not be recovered.
 *
 * One concept per module: `car-open.ts` (the checks, the car's service), `car-radio.ts` (the
 * peripheral under the health loop), `car-pairing-mode.ts`, `car-control.ts` (the control socket's
 * answers), `car-timers.ts` (watchdog, trusted-time save); this module starts and stops them in order.
 */
import type { Server } from 'node:net';
import type { BlenoLike, CarPeripheral } from '../adapters/bleno/index.js';
import type { VehicleService } from '../service/vehicle-service.js';
import { acquireStateLockWaiting } from '../node/state-lock.js';
import { ACTUATOR_TIMEOUT_MS } from '../transport/actuation.js';
import { resolveConfig, type CarArgs } from './car-args.js';
import { controlHandler } from './car-control.js';
import { assertSerialDevice, ensureStateDir, openCar, type LinkProximity } from './car-open.js';
import { pairingController, type PairingController } from './car-pairing-mode.js';
import { carRadio, type ActiveSessions } from './car-radio.js';
import { reportClockBehind, startTimeFloorSaver, startWatchdog } from './car-timers.js';
import { serveControl } from './control.js';
import { ObservedVehicleStore, logAuditEntry } from './daemon-log.js';
import { STOP_TIMEOUT_MS, type RadioSupervisor } from './radio-supervisor.js';
import { assertNotRootOnOthersCar } from './state-owner.js';
import { systemdNotifier, type Notifier } from './sd-notify.js';
import { stopSignal, type StopSignal } from './signals.js';
import type { Ui } from './ui.js';

export { keySummary } from './car-control.js';

/** Exit code when the radio could not be recovered (systemd's Restart=on-failure restarts it). */
export const EXIT_RADIO_LOST = 3;

/** How long a starting daemon waits for a `proxkey car …` command that is editing its files. */
const LOCK_WAIT_MS = 5_000;

/**
 * Shutdown's bounded steps. Their sum with the radio's stop (5 s), 14 + 3 + 5 + 2 + 2 = 26 s,
 * stays inside the unit's TimeoutStopSec (30 s).
 * - the running action and its session's RESULT: the actuator's bound, plus what a command
 *   actuator may still hold after it (its process group's 2 s kill grace, 1 s to read its output);
 * - every relay off (2 s per gpioset, all lines at once);
 * - after the radio stopped, the sessions' end; then the audit log's last write.
 */
const DRAIN_MS = ACTUATOR_TIMEOUT_MS + 4_000;
const RESET_OUTPUTS_MS = 3_000;
const RADIO_GONE_DRAIN_MS = 2_000;
const FLUSH_AUDIT_MS = 2_000;

/** The longest a shutdown can take (the unit's TimeoutStopSec must exceed it; a test checks). */
export const SHUTDOWN_WORST_CASE_MS = DRAIN_MS + RESET_OUTPUTS_MS + STOP_TIMEOUT_MS + RADIO_GONE_DRAIN_MS + FLUSH_AUDIT_MS;

/** `work`, or give up waiting for it after `ms`. */
const bounded = (work: Promise<unknown>, ms: number): Promise<unknown> => Promise.race([work, new Promise((r) => setTimeout(r, ms).unref())]);

/** What the running daemon holds; `shutDown` releases it in a fixed order. */
interface Daemon {
  readonly car: VehicleService;
  readonly proximity: LinkProximity;
  /** Every relay off: at start, and at shutdown once the running action has returned. */
  readonly resetOutputs: () => Promise<void>;
  readonly pairing: PairingController;
  readonly radio: RadioSupervisor<BlenoLike, CarPeripheral>;
  readonly active: ActiveSessions;
  readonly notifier: Notifier;
  readonly signals: StopSignal;
  stopSecretWatch?: () => void;
  stopButton?: (() => void) | undefined;
  control?: Server;
  watchdog?: ReturnType<typeof setInterval> | undefined;
  timeFloor?: ReturnType<typeof setInterval>;
}

/** The one line (and systemd status) saying the car is ready. */
function announceReady(daemon: Daemon, peripheral: CarPeripheral, keys: number, ui: Ui): void {
  const { car } = daemon;
  const privateAddress = peripheral.advertisement.address !== undefined;
  const ready = `car "${car.name}" (${car.carId.slice(0, 8)}) is advertising${privateAddress ? ' from a rotating private address' : ''}; ${keys} key(s) enrolled. Ctrl-C to stop.`;
  ui.result({ event: 'ready', name: car.name, carId: car.carId, keys, privateAddress }, ready);
  daemon.notifier.ready(ready);
}

/** Start the radio, the secret watch, the button, the control socket; announce; start the timers. */
async function startServing(daemon: Daemon, stateDir: string, ui: Ui): Promise<void> {
  const { car, radio, pairing } = daemon;
  const peripheral = await radio.start();
  // a revocation rotates the advertising secret: advertise under the new one at once
  daemon.stopSecretWatch = car.onAdvertisingSecretChange((secret) => void radio.peripheral?.updateAdvertisingSecret(secret).catch(() => undefined));
  daemon.stopButton = await pairing.button();
  daemon.control = serveControl(
    stateDir,
    controlHandler(car, (by) => pairing.open(by, { logCode: false })),
  );
  announceReady(daemon, peripheral, (await car.registry.list()).length, ui);
  daemon.watchdog = startWatchdog(daemon.notifier);
  daemon.timeFloor = startTimeFloorSaver(car, ui);
  reportClockBehind(car, ui);
}

/** Until SIGTERM/SIGINT (0) or a radio that cannot be recovered (`EXIT_RADIO_LOST`). */
async function untilStopped(daemon: Daemon, ui: Ui): Promise<number> {
  const outcome = await Promise.race([daemon.signals.stopped, daemon.radio.failed]);
  if (outcome instanceof Error) {
    ui.info(`stopping: ${outcome.message}`);
    return EXIT_RADIO_LOST;
  }
  ui.info(`stopping… (${outcome})`);
  return 0;
}

/**
 * Stop everything, in this order: no more physical actions (sessions ended from outside, passive
 * entry off: a command or decision still waiting drives nothing); the inputs; then, with the
 * phones still connected, wait (bounded) for the action that is running and the sessions' RESULT
 * and CLOSE; every relay off; then the radio; the audit log. Every step is bounded.
 */
async function shutDown(daemon: Daemon): Promise<void> {
  daemon.notifier.stopping();
  daemon.radio.quiesce(); // no recovery during the drain: it would drop the phones it waits for
  daemon.car.stopSessions();
  daemon.proximity.stop();
  if (daemon.timeFloor) clearInterval(daemon.timeFloor);
  daemon.stopSecretWatch?.();
  daemon.stopButton?.();
  daemon.pairing.stop();
  daemon.control?.close();
  const drained = Promise.all([daemon.car.whenActuationIdle(DRAIN_MS), Promise.allSettled([...daemon.active])]);
  await bounded(drained, DRAIN_MS);
  if (daemon.watchdog) clearInterval(daemon.watchdog); // pinged during the drain
  await bounded(daemon.resetOutputs(), RESET_OUTPUTS_MS);
  await daemon.radio.stop(); // bounded by the radio supervisor (5 s)
  await bounded(Promise.allSettled([...daemon.active]), RADIO_GONE_DRAIN_MS);
  await bounded(
    daemon.car.flushAudit({ final: true }).catch(() => undefined),
    FLUSH_AUDIT_MS,
  );
  daemon.signals.dispose();
}

/** Run the car until SIGTERM/SIGINT (0), or until its radio cannot be recovered (3). */
export async function carServe(a: CarArgs, ui: Ui): Promise<number> {
  const c = resolveConfig(a);
  assertSerialDevice(c.bluetooth?.uart); // before anything is created
  assertNotRootOnOthersCar(c.stateDir, 'car serve');
  ensureStateDir(c.stateDir);
  // Before the state is read, until after the last write: no command edits the files meanwhile.
  const lock = await acquireStateLockWaiting(c.stateDir, 'car daemon', LOCK_WAIT_MS);
  try {
    return await serveLocked(a, c, ui);
  } finally {
    lock.release();
  }
}

async function serveLocked(a: CarArgs, c: ReturnType<typeof resolveConfig>, ui: Ui): Promise<number> {
  const store = new ObservedVehicleStore(c.stateDir, (e) => logAuditEntry(ui, e));
  const isNew = (await store.load()) === undefined;
  const notifier = systemdNotifier(process.env, (e) => ui.info(`  ${e.message}`));
  const { car, proximity, resetOutputs } = await openCar(c, store, ui);
  if (isNew) ui.info(`created a new car in ${c.stateDir} (its key, phones and audit log live there)`);
  const pairing = pairingController(car, c, ui, a.scryptLog2N);
  const active: ActiveSessions = new Set();
  const radio = carRadio(c, car, proximity, active, ui, notifier);
  const daemon: Daemon = { car, proximity, resetOutputs, pairing, radio, active, notifier, signals: stopSignal() };
  try {
    await startServing(daemon, c.stateDir, ui);
    if (a.pair) await pairing.open();
    return await untilStopped(daemon, ui);
  } finally {
    await shutDown(daemon);
  }
}
