/** A real VehicleService behind a fake react-native-ble-plx radio, and a phone wallet. */
import { defaultPolicy, MemoryPhoneStore, MemoryVehicleStore, PhoneWallet, VehicleService, type Actuator, type Link } from '../../src/index.js';
import { FakeBleManager, type FakeCarOptions, type FakeManagerOptions } from './fake-ble-manager.js';

export interface Bench {
  readonly manager: FakeBleManager;
  readonly vehicle: VehicleService;
  readonly wallet: PhoneWallet;
  /** Commands the car executed, in order. */
  readonly executed: string[];
  readonly carId: string;
  /** Links the car served. */
  readonly links: Link[];
}

export interface BenchOptions extends FakeManagerOptions, Partial<Pick<FakeCarOptions, 'maxMtu' | 'writeWithoutResponse' | 'rssi'>> {
  readonly id?: string;
  readonly actuator?: Actuator;
}

/** One car (device `id`) on a fake radio; the relay bound is generous (real crypto on a loaded machine). */
export async function bench(options: BenchOptions = {}): Promise<Bench> {
  const executed: string[] = [];
  const links: Link[] = [];
  const vehicle = await VehicleService.open({
    store: new MemoryVehicleStore(),
    policy: defaultPolicy({ maxRttMs: 5_000 }),
    actuator: options.actuator ?? ((command) => void executed.push(command.kind)),
  });
  const manager = new FakeBleManager(options);
  const id = options.id ?? 'C0:FF:EE:00:00:01';
  addVehicle(manager, vehicle, id, links, options);
  const wallet = await PhoneWallet.open({ store: new MemoryPhoneStore(), label: 'rn phone' });
  return { manager, vehicle, wallet, executed, carId: id, links };
}

/** Put `vehicle` on the fake radio as device `id`. */
export function addVehicle(manager: FakeBleManager, vehicle: VehicleService, id: string, links: Link[] = [], options: Partial<FakeCarOptions> = {}): void {
  manager.addCar({
    id,
    advertisingSecret: () => vehicle.advertisingSecret,
    serve: (link) => {
      links.push(link);
      void vehicle.serve(link);
    },
    ...(options.maxMtu !== undefined && { maxMtu: options.maxMtu }),
    ...(options.writeWithoutResponse !== undefined && { writeWithoutResponse: options.writeWithoutResponse }),
    ...(options.rssi && { rssi: options.rssi }),
    ...(options.info && { info: options.info }),
    ...(options.omitNotify && { omitNotify: true }),
  });
}
