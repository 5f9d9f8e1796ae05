/**
 * The car side of the two-laptop setup, as a program (`npx tsx examples/car.ts [stateDir]`):
 * load (or create) the car's durable state, advertise over BLE with bleno, serve every phone that
 * connects, open pairing mode at start and print the code. The `proxkey car serve` command does the
 * same with more options (config file, GPIO actuators, control socket).
 */
import { loadBleno, startCarPeripheral } from '../src/adapters/bleno/index.js';
import { VehicleService } from '../src/index.js';
import { FileVehicleStore, logActuator } from '../src/node/index.js';

const dir = process.argv[2] ?? './car-state';
const car = await VehicleService.open({ store: new FileVehicleStore(dir), name: 'Laptop car', actuator: logActuator() });
const bleno = await loadBleno(); // throws a BleUnavailableError saying what to install/configure
const peripheral = await startCarPeripheral({ bleno, localName: 'proxkey', onLink: (link) => void car.serve(link) });
const { code, payload } = await car.openPairing();
console.log(`car "${car.name}" advertising; ${(await car.registry.list()).length} key(s) enrolled`);
console.log(`pairing code: ${code}   (${payload})`);
process.once('SIGINT', async () => {
  await peripheral.stop();
  await car.flushAudit();
  process.exit(0);
});
