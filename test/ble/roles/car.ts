/**
 * Car role process: real bleno on an emulated controller (pty), through `proxkey/bleno`.
 * Env: BLE_IMPL (stoprocent | abandonware), HCI_PORT (pty), CAR_MODE (echo | vehicle | service),
 *      CAR_KEYS (JSON CarKeys, vehicle mode), CAR_MAX_RTT_MS (service mode),
 *      CAR_ADV_SECRET (hex: advertise the rotating id; also samples the phones' RSSI),
 *      CAR_ADV_BOUNDARY_IN_MS (shift the car's wall clock so the next epoch begins that soon).
 * vehicle: `serveVehicleSession` with pre-enrolled phones; service: `VehicleService` (pairing).
 * Events to the parent: ready, link, executed (wall clock), session (summary), log.
 */
import { LinkClosedError } from '../../../src/errors.js';
import { loadBleno, startCarPeripheral, type CarPeripheral, type PhoneLink } from '../../../src/adapters/bleno/index.js';
import type { Link } from '../../../src/transport/link.js';
import { fromHex, toHex } from '../../../src/bytes.js';
import { DEFAULT_ROTATION_SECONDS } from '../../../src/protocol/advertising-id.js';
import { TEST_SCRYPT, makeVehicleServer, makeVehicleService, warmUp } from './protocol.js';
import { emit, serve, toRpcError } from './rpc.js';
import { wrapLink } from '../../helpers/link-wrap.js';

const impl = process.env.BLE_IMPL === 'abandonware' ? 'abandonware' : 'stoprocent';
const port = process.env.HCI_PORT!;
const mode = process.env.CAR_MODE ?? 'echo';
let car: CarPeripheral | undefined;
let dropNextHandshake = false;
const advSecret = process.env.CAR_ADV_SECRET ? fromHex(process.env.CAR_ADV_SECRET) : undefined;
const rssiSamples: number[] = [];

async function echo(link: PhoneLink) {
  try {
    for (;;) await link.send(await link.receive({ timeoutMs: 30_000 }));
  } catch {
    link.close('echo over');
  }
}

/** Drop the BLE connection as soon as the phone's handshake arrives (before answering it). */
function dropping(link: Link): Link {
  return wrapLink(link, {
    async receive(o) {
      const m = await link.receive(o);
      if (dropNextHandshake) {
        dropNextHandshake = false;
        emit('dropped', { t: Date.now() });
        car!.disconnectAll();
        throw new LinkClosedError('car dropped the link (test)');
      }
      return m;
    },
  });
}

async function main() {
  const bleno = await loadBleno({ package: `@${impl}/bleno` as '@stoprocent/bleno', uart: { port } });
  const server =
    mode === 'vehicle'
      ? await makeVehicleServer(
          JSON.parse(process.env.CAR_KEYS!),
          (command, keyId) => emit('executed', { command, keyId, t: Date.now() }),
          (d) => emit('decision', d),
        )
      : undefined;
  const service =
    mode === 'service'
      ? await makeVehicleService(process.env.CAR_MAX_RTT_MS ? Number(process.env.CAR_MAX_RTT_MS) : undefined, (command, keyId) =>
          emit('executed', { command, keyId, t: Date.now() }),
        )
      : undefined;
  if (server || service) await warmUp();
  // CAR_ADV_FROM_SERVICE=1: advertise the service's own secret (the one its phones get at pairing)
  const adv = advSecret ?? (process.env.CAR_ADV_FROM_SERVICE === '1' ? service?.advertisingSecret : undefined);
  car = await startCarPeripheral({
    bleno,
    startTimeoutMs: 10_000,
    ...(adv && { advertising: { secret: adv, now: advClock() }, onRssi: (_link: PhoneLink, rssi: number) => void rssiSamples.push(rssi) }),
    onLink: (link) => {
      emit('link', { address: link.address, maxValueSize: link.maxValueSize, t: Date.now() });
      if (service) {
        service.serve(link).then(
          (summary) => emit('session', { ...summary, t: Date.now() }),
          (err) => emit('session', { end: 'error', error: toRpcError(err) }),
        );
        return;
      }
      if (!server) return void echo(link);
      server(dropping(link)).then(
        (summary) => emit('session', { ...summary, t: Date.now() }),
        (err) => emit('session', { end: 'error', error: toRpcError(err) }),
      );
    },
  });
  serve(
    {
      dropNextHandshake: () => {
        dropNextHandshake = true;
      },
      disconnectAll: () => car!.disconnectAll(),
      links: () => car!.links.size,
      /** Read the RSSI of every open link: the value (undefined: not available) and how long the controller took. */
      rssi: async () =>
        Promise.all(
          [...car!.links].map(async (l) => {
            const t0 = performance.now();
            const rssi = await l.readRssi({ timeoutMs: 1500 });
            return { rssi: rssi ?? null, ms: performance.now() - t0 };
          }),
        ),
      rssiSamples: () => rssiSamples,
      /** What the car advertises now: id, epoch and the address on air. */
      advertisement: () => {
        const a = car!.advertisement;
        return { id: a.id ? toHex(a.id) : null, epoch: a.epoch ?? null, address: a.address ?? null };
      },
      /** Enter pairing mode (service mode): the 8-digit code to give the phone. */
      openPairing: async () => ({ code: (await service!.openPairing({ scrypt: TEST_SCRYPT })).code }),
      keys: () => service!.registry.state.keys.map((k) => ({ id: k.id, role: k.role })),
    },
    async () => {
      await car?.stop();
      (bleno as { stop?: () => void }).stop?.();
    },
  );
  const id = car.advertisement.id;
  emit('ready', {
    address: car.address,
    onAirAddress: car.advertisement.address ?? null,
    advertisingId: id ? toHex(id) : null,
    processStart: performance.timeOrigin,
    t: Date.now(),
  });
}

/** The wall clock for advertising: real, or shifted so an epoch boundary comes CAR_ADV_BOUNDARY_IN_MS after start. */
function advClock(): () => number {
  const inMs = Number(process.env.CAR_ADV_BOUNDARY_IN_MS);
  if (!inMs) return Date.now;
  const epochMs = DEFAULT_ROTATION_SECONDS * 1000;
  const now = Date.now();
  const offset = (Math.floor(now / epochMs) + 1) * epochMs - inMs - now;
  return () => Date.now() + offset;
}

main().catch((err) => {
  emit('fatal', { error: toRpcError(err) });
  console.error(err);
  process.exit(1);
});
