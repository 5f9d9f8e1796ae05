/** The car daemon's radio: a bleno per (re-)open, the peripheral on it, under the health loop (`RadioSupervisor`). */
import { messageOf } from '../errors.js';
import { loadBleno, startCarPeripheral, type BlenoLike, type CarPeripheral } from '../adapters/bleno/index.js';
import type { VehicleService } from '../service/vehicle-service.js';
import { assertSerialDevice, type LinkProximity } from './car-open.js';
import { healthOptions, type CarConfig } from './config.js';
import { RadioSupervisor } from './radio-supervisor.js';
import type { Notifier } from './sd-notify.js';
import type { Ui } from './ui.js';

function blenoLoader(c: CarConfig): () => Promise<BlenoLike> {
  const b = c.bluetooth;
  // a fresh instance per call (stoprocent), so the health loop can re-open the adapter
  return async () => {
    assertSerialDevice(b?.uart);
    return loadBleno(b?.uart ? { uart: { port: b.uart, ...(b.baudRate && { baudRate: b.baudRate }) } } : { deviceId: b?.hci ?? 0 });
  };
}

/** The sessions being served: the daemon waits (bounded) for them when it stops. */
export type ActiveSessions = Set<Promise<unknown>>;

/** The car's radio: the peripheral on each (re-)opened bleno, under the health loop. */
export function carRadio(
  c: CarConfig,
  car: VehicleService,
  proximity: LinkProximity,
  active: ActiveSessions,
  ui: Ui,
  notifier: Notifier,
): RadioSupervisor<BlenoLike, CarPeripheral> {
  return new RadioSupervisor({
    ...healthOptions(c), // only the known numeric settings: they can never replace the callbacks
    open: blenoLoader(c),
    log: (line) => ui.result({ event: 'radio', message: line }, line),
    onHealth: (healthy, detail) => notifier.status(healthy ? `car "${car.name}" ${detail}` : detail),
    start: (bleno, health) =>
      startCarPeripheral({
        bleno,
        // the rotating id only enrolled phones recognise; no name (it would be a static identifier)
        // epochs on the car's trusted clock: a reset clock never re-uses an old epoch
        advertising: { secret: car.advertisingSecret, now: car.now },
        onAdvertisingError: (e, inARow) => {
          ui.info(`  re-advertising failed (retrying): ${e.message}`);
          health.advertisingFailed(e, inARow);
        },
        onRssi: (link, rssi) => proximity.onRssi(link, rssi),
        onLink: (link) => {
          void link.closed.then(() => proximity.onClose(link));
          const p = car.serve(link).catch((e: unknown) => ui.info(`  session error: ${messageOf(e)}`));
          active.add(p);
          void p.finally(() => active.delete(p));
        },
      }),
  });
}
