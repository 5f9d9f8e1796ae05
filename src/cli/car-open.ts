/**
 * Opening the car for `proxkey car serve`: the checks before anything is created (serial device,
 * state directory), and the car's service with its policy, actuator, passive entry and log lines.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { LocalError, messageOf } from '../errors.js';
import { commandActuator, gpioRelayActuator, logActuator, resetGpioRelays } from '../node/actuators.js';
import { Gpio } from '../node/gpio.js';
import { linkProximity } from '../node/link-proximity.js';
import { defaultPolicy } from '../policy/default-policy.js';
import { ProximityEngine, type ProximityDecision } from '../proximity/engine.js';
import { VehicleService } from '../service/vehicle-service.js';
import type { Actuator } from '../transport/vehicle-driver.js';
import { carCrypto, type CarConfig } from './config.js';
import { logSessionEvent, type ObservedVehicleStore } from './daemon-log.js';
import type { Ui } from './ui.js';

/** The configured actuator (GPIO relays, an external command, or by default log lines), and how to put its outputs in their safe state (every relay off). */
function actuatorFor(c: CarConfig, ui: Ui): { actuator: Actuator; resetOutputs: () => Promise<void> } {
  const a = c.actuators ?? { type: 'log' };
  if (a.type === 'gpio') {
    const gpio = new Gpio(); // one: the libgpiod version read at start is not read again by the first pulse
    const resetOutputs = () => resetGpioRelays(a, gpio).catch((e: unknown) => ui.info(`  relays: could not drive every line inactive: ${messageOf(e)}`));
    return { actuator: gpioRelayActuator(a, gpio), resetOutputs };
  }
  const resetOutputs = async () => undefined;
  if (a.type === 'command') return { actuator: commandActuator(a.path, a.timeoutMs), resetOutputs };
  return { actuator: logActuator((l) => ui.info(`  ${l}`)), resetOutputs };
}

/** The state directory exists and is ours, or one line saying how to fix it. */
export function ensureStateDir(dir: string): void {
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

/** A configured serial HCI device exists, or one line saying how to check it. */
export function assertSerialDevice(path: string | undefined): void {
  if (path && !existsSync(path))
    throw new LocalError(
      'ERR_INVALID_ARGUMENT',
      `no serial device ${path}: check the path (--uart, or bluetooth.uart in the config); \`proxkey doctor --uart ${path}\` checks it`,
    );
}

/** Passive entry over the car's links (`linkProximity`): hooks for the service, RSSI and link events in. */
export type LinkProximity = ReturnType<typeof linkProximity>;

/** The open car and the passive entry fed by its connected phones' RSSI. */
export interface OpenCar {
  readonly car: VehicleService;
  readonly proximity: LinkProximity;
  /** Every relay off (gpio; nothing for the other actuators): at start, and at shutdown. */
  readonly resetOutputs: () => Promise<void>;
}

/** The car itself: its service with the policy, actuator, passive entry and log lines. */
export async function openCar(c: CarConfig, store: ObservedVehicleStore, ui: Ui): Promise<OpenCar> {
  // Passive entry from the connected phones' RSSI (config `proximity`); decisions go through
  // `car.passiveEntry` under the policy.
  const { keys: perKey, ...engineOptions } = c.proximity ?? {};
  const engine = new ProximityEngine({ ...engineOptions, now: () => performance.now() });
  for (const [keyId, settings] of Object.entries(perKey ?? {})) engine.configureKey(keyId, settings);
  const { actuator, resetOutputs } = actuatorFor(c, ui);
  // A pulse cut short (a crash, SIGKILL, power loss) may have left a relay on: all off first.
  await resetOutputs();
  let opened: VehicleService | undefined;
  // Links of revoked or expired keys feed no passive entry (the car exists before any link).
  const proximity = linkProximity(engine, { onDecision: (d) => reportPassiveEntry(d), isActiveKey: (id) => opened?.isActiveKey(id) ?? false });
  const car = await VehicleService.open({
    store,
    crypto: carCrypto(c),
    ...(c.name !== undefined && { name: c.name }),
    policy: defaultPolicy(c.policy ?? {}),
    hooks: proximity.hooks,
    actuator,
    onEvent: (e, keyId, link) => {
      proximity.onEvent(e, link);
      logSessionEvent(ui, e, keyId);
    },
    // what no session's answer carries (a failed audit append, a failing callback): the car serves on
    onError: (e) => ui.info(`  car error (${e.code}): ${e.message}`),
  });
  opened = car;
  const reportPassiveEntry = (d: ProximityDecision) =>
    void car.passiveEntry(d).then(
      (result) =>
        ui.result({ event: 'passive-entry', decision: d.type, keyId: d.keyId, cause: d.cause, result }, `  ${d.keyId} ${d.type} (${d.cause}) → ${result}`),
      (e: unknown) => ui.info(`  ${d.type} for ${d.keyId} failed: ${messageOf(e)}`),
    );
  return { car, proximity, resetOutputs };
}
