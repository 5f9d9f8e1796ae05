/**
 * A `GattBackend` over the real stacks: the page's GATT operations are performed by real noble
 * (`@stoprocent/noble`, in this process) on an emulated controller, against the real bleno car
 * (test/ble/roles/car.ts in service mode, its own process), so the browser's bytes cross both
 * stacks and the emulated radio. The car vanishing is the car process dropping every link.
 */
import { findCar, type NobleCharacteristic, type NobleLike, type NoblePeripheral } from '../../../src/adapters/noble/index.js';
import { stackUuid as stackUuidOf } from '../../../src/adapters/common.js';
import { withDeadline } from '../../../src/transport/deadline.js';
import type { RoleProcess } from '../../ble/harness/role-process.js';
import { UUIDS, type GattBackend, type PageConnection } from './gatt-bridge.js';

const STEP_MS = 10_000;

interface NobleConnection {
  readonly peripheral: NoblePeripheral;
  readonly write: NobleCharacteristic;
  readonly notify: NobleCharacteristic;
  readonly info: NobleCharacteristic;
  readonly onDisconnect: () => void;
  onData?: (data: Uint8Array) => void;
}

const bounded = <T>(what: string, work: Promise<T>) => withDeadline(what, work, { timeoutMs: STEP_MS });

export class NobleBackend implements GattBackend {
  readonly #connections = new Map<PageConnection, NobleConnection>();

  constructor(
    readonly noble: NobleLike,
    readonly car: RoleProcess,
  ) {}

  async connect(conn: PageConnection): Promise<void> {
    const peripheral = await findCar({ noble: this.noble, scanTimeoutMs: STEP_MS });
    await bounded('connect', peripheral.connectAsync({ mtu: 256 }));
    const wanted = [UUIDS.write, UUIDS.notify, UUIDS.info].map(stackUuidOf);
    const { characteristics } = await bounded('discovery', peripheral.discoverSomeServicesAndCharacteristicsAsync([stackUuidOf(UUIDS.service)], wanted));
    const [write, notify, info] = wanted.map((u) => characteristics.find((c) => stackUuidOf(c.uuid) === u));
    if (!write || !notify || !info) throw new Error('proxkey characteristics missing');
    const onDisconnect = () => {
      this.#release(conn);
      conn.carDisconnected();
    };
    peripheral.on('disconnect', onDisconnect);
    this.#connections.set(conn, { peripheral, write, notify, info, onDisconnect });
  }

  async readInfo(conn: PageConnection): Promise<Uint8Array> {
    return new Uint8Array(await bounded('read info', this.#get(conn).info.readAsync()));
  }

  async subscribe(conn: PageConnection): Promise<void> {
    const c = this.#get(conn);
    c.onData = (data) => void conn.notify(new Uint8Array(data)).catch(() => {});
    c.notify.on('data', c.onData);
    await bounded('subscribe', c.notify.subscribeAsync());
  }

  async write(conn: PageConnection, value: Uint8Array): Promise<void> {
    await bounded('write', this.#get(conn).write.writeAsync(Buffer.from(value), true));
  }

  async disconnect(conn: PageConnection): Promise<void> {
    const c = this.#release(conn);
    if (c) await bounded('disconnect', c.peripheral.disconnectAsync()).catch(() => {});
  }

  async drop(): Promise<void> {
    await this.car.call('disconnectAll');
  }

  #get(conn: PageConnection): NobleConnection {
    const c = this.#connections.get(conn);
    if (!c) throw new Error('not connected');
    return c;
  }

  #release(conn: PageConnection): NobleConnection | undefined {
    const c = this.#connections.get(conn);
    if (!c) return undefined;
    this.#connections.delete(conn);
    c.peripheral.removeListener('disconnect', c.onDisconnect);
    if (c.onData) c.notify.removeListener('data', c.onData);
    return c;
  }
}
