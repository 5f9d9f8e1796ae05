/**
 * A `GattBackend` in this process: a real `VehicleService` serving a `FramedLink` per page
 * connection, its fragments notified at ATT_MTU 23, the session offered once the page subscribed
 * (docs/BLE.md). The car hangs up when its session ends, as the bleno car does.
 */
import { FramedLink, MemoryVehicleStore, VehicleService, defaultPolicy, encodeGattInfo, type Command } from '../../../src/index.js';
import { VALUE_SIZE, type GattBackend, type PageConnection } from './gatt-bridge.js';

export class ServiceBackend implements GattBackend {
  /** Every command the actuator ran. */
  readonly executed: string[] = [];
  /** The car's challenge-to-handshake round trip of every authenticated session (ms). */
  readonly rttsMs: number[] = [];
  readonly #links = new Map<PageConnection, FramedLink>();

  private constructor(readonly service: VehicleService) {}

  static async open(name = 'Test car'): Promise<ServiceBackend> {
    let backend: ServiceBackend | undefined;
    const service = await VehicleService.open({
      store: new MemoryVehicleStore(),
      name,
      // The relay bound is not what these tests are about: on a loaded machine the CDP bridge adds
      // milliseconds per 20-byte fragment. The measured round trips are kept in `rttsMs`.
      policy: defaultPolicy({ maxRttMs: Infinity }),
      onEvent: (e) => {
        if (e.type === 'authenticated') backend?.rttsMs.push(e.rttMs);
      },
      actuator: (command: Command) => {
        backend?.executed.push(command.kind);
      },
    });
    backend = new ServiceBackend(service);
    return backend;
  }

  async connect(): Promise<void> {}

  async readInfo(): Promise<Uint8Array> {
    return encodeGattInfo({ framingVersion: 1, maxMessageSize: 1024, protocolVersions: [1] });
  }

  async subscribe(conn: PageConnection): Promise<void> {
    const link = new FramedLink({
      valueSize: VALUE_SIZE,
      writeFragment: (fragment) => conn.notify(fragment),
      onClose: (info) => {
        this.#links.delete(conn);
        if (info.by !== 'remote') conn.carDisconnected(); // the car hangs up
      },
    });
    this.#links.set(conn, link);
    void this.service.serve(link).catch(() => {});
  }

  async write(conn: PageConnection, value: Uint8Array): Promise<void> {
    const link = this.#links.get(conn);
    if (!link) throw new Error('not subscribed');
    link.deliver(value);
  }

  async disconnect(conn: PageConnection): Promise<void> {
    this.#links.get(conn)?.terminate('remote', 'phone disconnected');
  }

  async drop(conn: PageConnection): Promise<void> {
    this.#links.get(conn)?.terminate('remote', 'car vanished mid-command');
  }
}
