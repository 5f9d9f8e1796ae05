/**
 * The car side of the two-laptop setup, as a program:
 *
 *   npx tsx examples/car.ts [stateDir]        (default ./car-state)
 *
 * PROXKEY_HCI picks the controller: a number for hciN, or a serial port path (default hci0);
 * PROXKEY_MAX_RTT_MS the relay bound (default 300 ms; raise it on a slow laptop).
 * Loads (or creates) the car's durable state, advertises its rotating identifier over BLE with
 * bleno (no name, no static id: docs/PRIVACY.md), serves every phone that connects, and logs each
 * decision. Press Enter to open pairing mode: the code and a QR code of the pairing payload are
 * printed. Ctrl-C stops cleanly. `proxkey car serve` does the same with more options (config
 * file, GPIO actuators, control socket).
 */
import { createInterface } from 'node:readline';
import { loadBleno, startCarPeripheral } from '../src/adapters/bleno/index.js';
import { renderQr } from '../src/cli/qr.js';
import { VehicleService, commandName, defaultPolicy } from '../src/index.js';
import { FileVehicleStore, logActuator } from '../src/node/index.js';

const dir = process.argv[2] ?? './car-state';
const car = await VehicleService.open({
  store: new FileVehicleStore(dir),
  name: 'Laptop car',
  actuator: logActuator(),
  policy: defaultPolicy({ ...(process.env.PROXKEY_MAX_RTT_MS && { maxRttMs: Number(process.env.PROXKEY_MAX_RTT_MS) }) }),
  onEvent: (e) => {
    if (e.type === 'decision') console.log(`${e.keyId ?? '?'} ${e.command ? commandName(e.command) : '-'}: ${e.result} (${e.rttMs.toFixed(0)} ms)`);
  },
});
const hci = process.env.PROXKEY_HCI;
const bleno = await loadBleno(hci === undefined ? {} : /^\d+$/.test(hci) ? { deviceId: Number(hci) } : { uart: { port: hci } }); // throws a BleUnavailableError saying what to install/configure
const peripheral = await startCarPeripheral({
  bleno,
  advertising: { secret: car.advertisingSecret, now: car.now }, // epochs on the car's trusted clock
  onLink: (link) => void car.serve(link).catch((e: unknown) => console.log(`session: ${(e as Error).message}`)),
});
// a revocation rotates the advertising secret (the revoked phone can no longer recognise the car)
car.onAdvertisingSecretChange((secret) => void peripheral.updateAdvertisingSecret(secret).catch(() => undefined));
console.log(`car "${car.name}" advertising; ${(await car.registry.list()).length} key(s) enrolled`);
console.log('press Enter to open pairing mode, Ctrl-C to stop');

const input = createInterface({ input: process.stdin });
input.on('line', () => {
  void (async () => {
    const { code, payload, expiresAt } = await car.openPairing();
    console.log(`pairing code: ${code}   (valid until ${new Date(expiresAt).toLocaleTimeString()})`);
    console.log((await renderQr(payload)) ?? payload);
    console.log(`on the phone: npx tsx examples/phone.ts pair ${code}`);
  })().catch((e: unknown) => console.log(`pairing mode: ${(e as Error).message}`));
});

const stop = async () => {
  input.close();
  await peripheral.stop();
  await car.flushAudit();
  process.exit(0);
};
process.once('SIGINT', () => void stop());
process.once('SIGTERM', () => void stop());
