/**
 * `proxkey car serve`: the car daemon. Advertises and serves phones, acts through the configured
 * actuator, watches the pairing button, lights the status LED while pairing mode is open, answers
 * `proxkey car …` on its control socket, heals its radio (`RadioSupervisor`), tells systemd when
 * it is ready and that it is alive (`Type=notify`, `WatchdogSec=`), and stops cleanly on SIGTERM
 * and Ctrl-C alike. Exit codes: 0 stopped, 1 could not start, 3 the radio could not be recovered.
 */
import { existsSync, mkdirSync } from 'node:fs';
import type { Server } from 'node:net';
import { loadBleno, startCarPeripheral, type BlenoLike } from '../adapters/bleno/index.js';
import { LocalError } from '../errors.js';
import { commandActuator, gpioRelayActuator, logActuator } from '../node/actuators.js';
import { Gpio } from '../node/gpio.js';
import { linkProximity } from '../node/link-proximity.js';
import { defaultPolicy } from '../policy/default-policy.js';
import { ProximityEngine, type ProximityDecision } from '../proximity/engine.js';
import type { KeyRecord } from '../keys/key-record.js';
import { VehicleService } from '../service/vehicle-service.js';
import type { Actuator } from '../transport/vehicle-driver.js';
import { resolveConfig, type CarArgs } from './car-args.js';
import { carCrypto, type CarConfig } from './config.js';
import { serveControl, type ControlRequest } from './control.js';
import { ObservedVehicleStore, logAuditEntry, logSessionEvent, pairingEndText } from './daemon-log.js';
import { showPairing } from './pairing-display.js';
import { RadioSupervisor } from './radio-supervisor.js';
import { assertNotRootOnOthersCar } from './state-owner.js';
import { systemdNotifier, type Notifier } from './sd-notify.js';
import { stopSignal } from './signals.js';
import type { Ui } from './ui.js';

/** Exit code when the radio could not be recovered (systemd's Restart=on-failure restarts it). */
export const EXIT_RADIO_LOST = 3;

export const keySummary = (keys: readonly KeyRecord[]) =>
  keys.map((k) => ({ id: k.id, role: k.role, label: k.label ?? '', permissions: k.permissions, revoked: !!k.revoked }));

function actuatorFor(c: CarConfig, ui: Ui): Actuator {
  const a = c.actuators ?? { type: 'log' };
  if (a.type === 'gpio') return gpioRelayActuator(a);
  if (a.type === 'command') return commandActuator(a.path, a.timeoutMs);
  return logActuator((l) => ui.info(`  ${l}`));
}

/** The state directory exists and is ours, or one line saying how to fix it. */
function ensureStateDir(dir: string): void {
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const user = process.env.USER ?? `uid ${process.getuid?.() ?? '?'}`;
    if (code === 'EACCES' || code === 'EPERM' || code === 'EROFS')
      throw new LocalError(
        'ERR_INVALID_STATE',
        `cannot create the car's state directory ${dir} as ${user} (${code}): \`sudo proxkey car setup --dir ${dir} --user <the daemon's user>\` creates it with the right owner`,
      );
    throw e;
  }
}

function assertSerialDevice(path: string | undefined): void {
  if (path && !existsSync(path))
    throw new LocalError(
      'ERR_INVALID_ARGUMENT',
      `no serial device ${path}: check the path (--uart, or bluetooth.uart in the config); \`proxkey doctor --uart ${path}\` checks it`,
    );
}

function blenoLoader(c: CarConfig): () => Promise<BlenoLike> {
  const b = c.bluetooth;
  // a fresh instance per call (stoprocent), so the health loop can re-open the adapter
  return async () => {
    assertSerialDevice(b?.uart);
    return loadBleno(b?.uart ? { uart: { port: b.uart, ...(b.baudRate && { baudRate: b.baudRate }) } } : { deviceId: b?.hci ?? 0 });
  };
}

/** Pairing mode: open it, show the code (in the daemon's log too), light the LED, and say in one line how it ended. */
function pairingController(car: VehicleService, c: CarConfig, ui: Ui, scryptLog2N: number | undefined) {
  const gpio = new Gpio();
  const ttlSeconds = c.pairingTtlSeconds ?? 120;
  let led: { release(): void } | undefined;
  let watch: ReturnType<typeof setInterval> | undefined;
  const setLed = async (on: boolean) => {
    if (!c.statusLed) return;
    led?.release();
    led = await gpio.hold(c.statusLed, on).catch(() => undefined);
  };
  /** `by`: who opened it, for the log (the --pair at start goes without saying). */
  const open = async (by?: string) => {
    const p = await car.openPairing({ ttlMs: ttlSeconds * 1000, ...(scryptLog2N && { scrypt: { log2N: scryptLog2N, r: 8, p: 1 } }) });
    await setLed(true);
    if (watch) clearInterval(watch);
    watch = setInterval(() => {
      const status = car.pairingStatus;
      if (status === 'active') return;
      const end = pairingEndText(status, ttlSeconds);
      clearInterval(watch);
      watch = undefined;
      void setLed(false);
      if (end) ui.result({ event: 'pairing-closed', status }, end);
    }, 250);
    watch.unref();
    if (by) ui.info(`pairing mode opened by ${by}`);
    await showPairing(ui, p); // the code in the daemon's log, however it was opened
    return p;
  };
  const button = async () =>
    c.pairingButton
      ? gpio.watchButton(c.pairingButton, () => void open('the pairing button').catch((e: unknown) => ui.info(`  pairing mode: ${(e as Error).message}`)))
      : undefined;
  const stop = () => {
    if (watch) clearInterval(watch);
    led?.release();
  };
  return { open, button, stop };
}

/** The car itself: its service with the policy, actuator, passive entry and log lines. */
async function openCar(c: CarConfig, store: ObservedVehicleStore, ui: Ui) {
  // Passive entry from the connected phones' RSSI (config `proximity`); decisions go through
  // `car.passiveEntry` under the policy.
  const { keys: perKey, ...engineOptions } = c.proximity ?? {};
  const engine = new ProximityEngine({ ...engineOptions, now: () => performance.now() });
  for (const [keyId, settings] of Object.entries(perKey ?? {})) engine.configureKey(keyId, settings);
  const proximity = linkProximity(engine, { onDecision: (d) => reportPassiveEntry(d) });
  const car = await VehicleService.open({
    store,
    crypto: carCrypto(c),
    ...(c.name !== undefined && { name: c.name }),
    policy: defaultPolicy(c.policy ?? {}),
    hooks: proximity.hooks,
    actuator: actuatorFor(c, ui),
    onEvent: (e, keyId, link) => {
      proximity.onEvent(e, link);
      logSessionEvent(ui, e, keyId);
    },
    // what no session's answer carries (a failed audit append, a failing callback): the car serves on
    onError: (e) => ui.info(`  car error (${e.code}): ${e.message}`),
  });
  const reportPassiveEntry = (d: ProximityDecision) =>
    void car.passiveEntry(d).then(
      (result) =>
        ui.result({ event: 'passive-entry', decision: d.type, keyId: d.keyId, cause: d.cause, result }, `  ${d.keyId} ${d.type} (${d.cause}) → ${result}`),
      (e: unknown) => ui.info(`  ${d.type} for ${d.keyId} failed: ${(e as Error).message}`),
    );
  return { car, proximity };
}

/** The car's radio: the peripheral on each (re-)opened bleno, under the health loop. */
function carRadio(c: CarConfig, car: VehicleService, proximity: ReturnType<typeof linkProximity>, active: Set<Promise<unknown>>, ui: Ui, notifier: Notifier) {
  return new RadioSupervisor({
    open: blenoLoader(c),
    log: (line) => ui.result({ event: 'radio', message: line }, line),
    onHealth: (healthy, detail) => notifier.status(healthy ? `car "${car.name}" ${detail}` : detail),
    ...c.health,
    start: (bleno, health) =>
      startCarPeripheral({
        bleno,
        // the rotating id only enrolled phones recognise; no name (it would be a static identifier)
        // epochs on the car's trusted clock: a reset clock never re-uses an old epoch
        advertising: { secret: car.advertisingSecret, now: car.now },
        onAdvertisingError: (e) => {
          ui.info(`  re-advertising failed (retrying): ${e.message}`);
          health.advertisingFailed(e);
        },
        onRssi: (link, rssi) => proximity.onRssi(link, rssi),
        onLink: (link) => {
          void link.closed.then(() => proximity.onClose(link));
          const p = car.serve(link).catch((e: unknown) => ui.info(`  session error: ${(e as Error).message}`));
          active.add(p);
          void p.finally(() => active.delete(p));
        },
      }),
  });
}

/** Run the car until SIGTERM/SIGINT (0), or until its radio cannot be recovered (3). */
export async function carServe(a: CarArgs, ui: Ui): Promise<number> {
  const c = resolveConfig(a);
  assertSerialDevice(c.bluetooth?.uart); // before anything is created
  assertNotRootOnOthersCar(c.stateDir, 'car serve');
  ensureStateDir(c.stateDir);
  const store = new ObservedVehicleStore(c.stateDir, (e) => logAuditEntry(ui, e));
  const isNew = (await store.load()) === undefined;
  const notifier = systemdNotifier(process.env, (e) => ui.info(`  ${e.message}`));
  const { car, proximity } = await openCar(c, store, ui);
  if (isNew) ui.info(`created a new car in ${c.stateDir} (its key, phones and audit log live there)`);
  const pairing = pairingController(car, c, ui, a.scryptLog2N);
  const active = new Set<Promise<unknown>>();
  const radio = carRadio(c, car, proximity, active, ui, notifier);
  let stopSecretWatch: (() => void) | undefined;
  let stopButton: (() => void) | undefined;
  let control: Server | undefined;
  let watchdog: ReturnType<typeof setInterval> | undefined;
  let timeFloor: ReturnType<typeof setInterval> | undefined;
  const signals = stopSignal();
  try {
    const peripheral = await radio.start();
    // a revocation rotates the advertising secret: advertise under the new one at once
    stopSecretWatch = car.onAdvertisingSecretChange((secret) => void radio.peripheral?.updateAdvertisingSecret(secret).catch(() => undefined));
    stopButton = await pairing.button();
    control = serveControl(c.stateDir, controlHandler(car, pairing.open));
    const keys = (await car.registry.list()).length;
    const privateAddress = peripheral.advertisement.address !== undefined;
    const ready = `car "${car.name}" (${car.carId.slice(0, 8)}) is advertising${privateAddress ? ' from a rotating private address' : ''}; ${keys} key(s) enrolled. Ctrl-C to stop.`;
    ui.result({ event: 'ready', name: car.name, carId: car.carId, keys, privateAddress }, ready);
    notifier.ready(ready);
    watchdog = startWatchdog(notifier);
    timeFloor = startTimeFloorSaver(car, ui);
    if (car.clockBehind)
      ui.info(`  the system clock is behind the car's last saved time: using ${new Date(car.now()).toISOString()} until it catches up (NTP)`);
    if (a.pair) await pairing.open();
    const outcome = await Promise.race([signals.stopped, radio.failed]);
    if (outcome instanceof Error) {
      ui.info(`stopping: ${outcome.message}`);
      return EXIT_RADIO_LOST;
    }
    ui.info(`stopping… (${outcome})`);
    return 0;
  } finally {
    notifier.stopping();
    if (watchdog) clearInterval(watchdog);
    if (timeFloor) clearInterval(timeFloor);
    stopSecretWatch?.();
    proximity.stop();
    stopButton?.();
    pairing.stop();
    control?.close();
    await radio.stop();
    await Promise.race([Promise.allSettled([...active]), new Promise((r) => setTimeout(r, 3_000).unref())]);
    await car.flushAudit({ final: true }).catch(() => undefined);
    signals.dispose();
  }
}

/**
 * Save the car's trusted time hourly (docs/PROTOCOL.md §8): after a reboot without network (a Pi
 * has no RTC) the car's time never goes below it. A failed save is logged and retried next hour.
 */
function startTimeFloorSaver(car: VehicleService, ui: Ui): ReturnType<typeof setInterval> {
  const timer = setInterval(() => {
    if (car.clockBehind)
      ui.info(`  the system clock is behind the car's last saved time: using ${new Date(car.now()).toISOString()} until it catches up (NTP)`);
    car.persistTimeFloor().catch((e: unknown) => ui.info(`  could not save the time floor: ${(e as Error).message}`));
  }, 3_600_000);
  timer.unref();
  return timer;
}

/** Ping systemd's watchdog at half its period. */
function startWatchdog(notifier: Notifier): ReturnType<typeof setInterval> | undefined {
  if (!notifier.watchdogMs) return undefined;
  notifier.ping();
  // The health loop bounds recovery itself (and exits when it cannot): the watchdog proves the
  // event loop runs; a daemon stuck anywhere stops pinging and systemd restarts it.
  const timer = setInterval(() => notifier.ping(), Math.max(500, notifier.watchdogMs / 2));
  timer.unref();
  return timer;
}

function controlHandler(car: VehicleService, openPairing: (by: string) => Promise<{ code: string; payload: string; expiresAt: number }>) {
  return async (req: ControlRequest): Promise<Record<string, unknown>> => {
    switch (req.op) {
      case 'pair':
        return openPairing('`proxkey car pair`');
      case 'keys':
        return { all: keySummary(await car.registry.list()) };
      case 'revoke':
        return car.revoke(req.target, 'local', { ...(req.cascade && { cascade: true }) });
      case 'audit':
        return { entries: await car.audit() };
      case 'status':
        return { name: car.name, carId: car.carId, pairing: car.pairingStatus, keys: (await car.registry.list()).length };
    }
  };
}
