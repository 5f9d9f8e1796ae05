/**
 * Runs in the page (bundled by fake-bluetooth.ts into an init script): a `navigator.bluetooth`
 * shaped like Chrome's — EventTarget devices and characteristics, DOMException names and messages
 * as Chrome words them, a user gesture required by `requestDevice` — whose GATT operations go to
 * the Node side through the `__proxkeyGatt` binding (gatt-bridge.ts); notifications and
 * disconnects come back through `window.__proxkeyFake`.
 */
import type { FakeBluetoothConfig, GattReply } from './fake-bluetooth.js';

async function call(op: string, arg: Record<string, unknown>): Promise<unknown> {
  const binding = window.__proxkeyGatt;
  if (!binding) throw new DOMException('Bluetooth backend missing', 'NetworkError');
  const reply: GattReply = await binding(op, arg);
  if ('error' in reply) throw new DOMException(reply.error.message, reply.error.name);
  return reply.value;
}

const toBytes = (v: BufferSource): number[] => Array.from(v instanceof ArrayBuffer ? new Uint8Array(v) : new Uint8Array(v.buffer, v.byteOffset, v.byteLength));
const view = (bytes: number[]): DataView => new DataView(new Uint8Array(bytes).buffer);

class FakeCharacteristic extends EventTarget {
  value: DataView | undefined;
  constructor(
    readonly device: FakeDevice,
    readonly uuid: string,
  ) {
    super();
  }
  async readValue(): Promise<DataView> {
    this.device.assertConnected();
    this.value = view((await call('read', { device: this.device.id, uuid: this.uuid })) as number[]);
    return this.value;
  }
  writeValueWithoutResponse(v: BufferSource): Promise<void> {
    return this.#write(v, false);
  }
  writeValueWithResponse(v: BufferSource): Promise<void> {
    return this.#write(v, true);
  }
  async startNotifications(): Promise<this> {
    this.device.assertConnected();
    await call('subscribe', { device: this.device.id, uuid: this.uuid });
    return this;
  }
  notify(bytes: number[]): void {
    this.value = view(bytes);
    this.dispatchEvent(new Event('characteristicvaluechanged'));
  }
  async #write(v: BufferSource, withResponse: boolean): Promise<void> {
    this.device.assertConnected();
    await call('write', { device: this.device.id, uuid: this.uuid, bytes: toBytes(v), withResponse });
  }
}

class FakeServer {
  connected = false;
  constructor(readonly device: FakeDevice) {}
  async connect(): Promise<this> {
    await call('connect', { device: this.device.id });
    this.connected = true;
    return this;
  }
  disconnect(): void {
    if (!this.connected) return;
    this.connected = false;
    void call('disconnect', { device: this.device.id }).catch(() => {});
    this.device.dispatchEvent(new Event('gattserverdisconnected'));
  }
  async getPrimaryService(uuid: string): Promise<{ getCharacteristic(u: string): Promise<FakeCharacteristic> }> {
    this.device.assertConnected();
    if (uuid.toLowerCase() !== this.device.config.service) throw new DOMException(`No Services matching UUID ${uuid} found in Device.`, 'NotFoundError');
    const chars = this.device.chars;
    return {
      async getCharacteristic(u: string) {
        const c = chars.get(u.toLowerCase());
        if (!c) throw new DOMException(`No Characteristics matching UUID ${u} found in Service.`, 'NotFoundError');
        return c;
      },
    };
  }
}

class FakeDevice extends EventTarget {
  readonly name = undefined; // proxkey cars advertise no local name
  readonly gatt = new FakeServer(this);
  readonly chars: Map<string, FakeCharacteristic>;
  constructor(
    readonly id: string,
    readonly config: FakeBluetoothConfig,
  ) {
    super();
    this.chars = new Map([config.write, config.notify, config.info].map((u) => [u, new FakeCharacteristic(this, u)] as const));
  }
  assertConnected(): void {
    if (!this.gatt.connected)
      throw new DOMException('GATT Server is disconnected. Cannot perform GATT operations. (Re)connect first with `device.gatt.connect`.', 'NetworkError');
  }
  /** The car went away. */
  lost(): void {
    if (!this.gatt.connected) return;
    this.gatt.connected = false;
    this.dispatchEvent(new Event('gattserverdisconnected'));
  }
}

export function install(config: FakeBluetoothConfig): void {
  if (config.mode === 'absent') {
    Object.defineProperty(Navigator.prototype, 'bluetooth', { configurable: true, get: () => undefined });
    return;
  }
  const devices = new Map<string, FakeDevice>();
  const bluetooth = {
    async requestDevice(options: unknown): Promise<FakeDevice> {
      if (!navigator.userActivation.isActive)
        throw new DOMException(
          "Failed to execute 'requestDevice' on 'Bluetooth': Must be handling a user gesture to show a permission request.",
          'SecurityError',
        );
      const id = (await call('requestDevice', { options: JSON.stringify(options) })) as string;
      const device = devices.get(id) ?? new FakeDevice(id, config);
      devices.set(id, device);
      return device;
    },
    async getAvailability(): Promise<boolean> {
      return (await call('availability', {})) as boolean;
    },
  };
  Object.defineProperty(Navigator.prototype, 'bluetooth', { configurable: true, get: () => bluetooth });
  window.__proxkeyFake = {
    notify: (id, bytes) => devices.get(id)?.chars.get(config.notify)?.notify(bytes),
    disconnect: (id) => devices.get(id)?.lost(),
  };
}
