/**
 * react-native-ble-plx's `BleManager` surface (what proxkey/react-native uses) over a real noble
 * stack, so the React Native adapter can talk to the real bleno car over the emulated controller
 * (test/ble). It plays the part of ble-plx's native module: values cross as base64, the MTU is
 * the one noble negotiated at connect (like iOS: a later request is a no-op), cancellation is
 * unavailable (noble has none: `cancelTransaction` resolves; the adapter's bounds still hold).
 */
import type { BleError, BleErrorCode, Characteristic, ConnectionOptions, Device, ScanOptions, State, Subscription, UUID } from 'react-native-ble-plx';
import type { NobleCharacteristic, NobleLike, NoblePeripheral } from '../../src/adapters/noble/index.js';
import { base64ToBytes, bytesToBase64 } from '../../src/adapters/react-native/index.js';
import { FakeBleError } from './fake-ble-manager.js';
import { PlxCharacteristic, PlxDevice, type PlxManagerWithStatus } from './plx-objects.js';

const STATES: Record<string, string> = {
  poweredOn: 'PoweredOn',
  poweredOff: 'PoweredOff',
  unauthorized: 'Unauthorized',
  unsupported: 'Unsupported',
  resetting: 'Resetting',
};
const plxState = (s: string) => (STATES[s] ?? 'Unknown') as State;
const stack = (uuid: string) => uuid.replace(/-/g, '').toLowerCase();
const NOT_CONNECTED: BleErrorCode = 205;
const NOT_FOUND: BleErrorCode = 404;

type Peripheral = NoblePeripheral & { updateRssiAsync?: () => Promise<number> };

export class NobleBleManager implements PlxManagerWithStatus {
  readonly #noble: NobleLike;
  readonly #peripherals = new Map<string, Peripheral>();
  readonly #characteristics = new Map<string, NobleCharacteristic[]>();
  #onDiscover: ((p: Peripheral) => void) | undefined;

  constructor(noble: NobleLike) {
    this.#noble = noble;
  }

  isConnected(id: string): boolean {
    return this.#peripherals.get(id)?.state === 'connected';
  }

  state(): Promise<State> {
    return Promise.resolve(plxState(this.#noble.state));
  }

  onStateChange(listener: (newState: State) => void, emitCurrentState?: boolean): Subscription {
    const l = (s: string) => listener(plxState(s));
    this.#noble.on('stateChange', l);
    if (emitCurrentState) listener(plxState(this.#noble.state));
    return { remove: () => void this.#noble.removeListener('stateChange', l) };
  }

  async startDeviceScan(
    UUIDs: UUID[] | null,
    options: ScanOptions | null,
    listener: (error: BleError | null, scannedDevice: Device | null) => void,
  ): Promise<void> {
    await this.stopDeviceScan();
    this.#onDiscover = (p) => {
      this.#peripherals.set(p.id, p);
      listener(null, this.#device(p));
    };
    this.#noble.on('discover', this.#onDiscover);
    await this.#noble.startScanningAsync((UUIDs ?? []).map(stack), options?.allowDuplicates ?? false);
  }

  async stopDeviceScan(): Promise<void> {
    if (!this.#onDiscover) return;
    this.#noble.removeListener('discover', this.#onDiscover);
    this.#onDiscover = undefined;
    await this.#noble.stopScanningAsync();
  }

  async connectToDevice(deviceIdentifier: string, options?: ConnectionOptions): Promise<Device> {
    const p = this.#peripheral(deviceIdentifier, false);
    await p.connectAsync({ mtu: Math.min(options?.requestMTU ?? 256, 256) }); // the emulator's and bleno's cap
    return this.#device(p);
  }

  async cancelDeviceConnection(deviceIdentifier: string): Promise<Device> {
    const p = this.#peripheral(deviceIdentifier, true);
    await p.disconnectAsync();
    return this.#device(p);
  }

  onDeviceDisconnected(deviceIdentifier: string, listener: (error: BleError | null, device: Device | null) => void): Subscription {
    const p = this.#peripheral(deviceIdentifier, false);
    const l = () => listener(null, this.#device(p));
    p.on('disconnect', l);
    return { remove: () => void p.removeListener('disconnect', l) };
  }

  async discoverAllServicesAndCharacteristicsForDevice(deviceIdentifier: string): Promise<Device> {
    const p = this.#peripheral(deviceIdentifier, true);
    const { characteristics } = await p.discoverSomeServicesAndCharacteristicsAsync([], []);
    this.#characteristics.set(p.id, characteristics);
    return this.#device(p);
  }

  async characteristicsForDevice(deviceIdentifier: string): Promise<Characteristic[]> {
    return (this.#characteristics.get(deviceIdentifier) ?? []).map((c) => this.#characteristic(deviceIdentifier, c, null));
  }

  async requestMTUForDevice(deviceIdentifier: string): Promise<Device> {
    return this.#device(this.#peripheral(deviceIdentifier, true));
  }

  async readCharacteristicForDevice(deviceIdentifier: string, _s: UUID, characteristicUUID: UUID): Promise<Characteristic> {
    const c = this.#char(deviceIdentifier, characteristicUUID);
    return this.#characteristic(deviceIdentifier, c, bytesToBase64(new Uint8Array(await c.readAsync())));
  }

  writeCharacteristicWithResponseForDevice(deviceIdentifier: string, _s: UUID, characteristicUUID: UUID, base64Value: string): Promise<Characteristic> {
    return this.#write(deviceIdentifier, characteristicUUID, base64Value, false);
  }

  writeCharacteristicWithoutResponseForDevice(deviceIdentifier: string, _s: UUID, characteristicUUID: UUID, base64Value: string): Promise<Characteristic> {
    return this.#write(deviceIdentifier, characteristicUUID, base64Value, true);
  }

  monitorCharacteristicForDevice(
    deviceIdentifier: string,
    _s: UUID,
    characteristicUUID: UUID,
    listener: (error: BleError | null, characteristic: Characteristic | null) => void,
  ): Subscription {
    const c = this.#char(deviceIdentifier, characteristicUUID);
    const onData = (data: Uint8Array) => listener(null, this.#characteristic(deviceIdentifier, c, bytesToBase64(new Uint8Array(data))));
    c.on('data', onData);
    c.subscribeAsync().catch((err: unknown) => listener(new FakeBleError(NOT_CONNECTED, String(err)), null));
    return {
      remove: () => {
        c.removeListener('data', onData);
        c.unsubscribeAsync().catch(() => {});
      },
    };
  }

  async readRSSIForDevice(deviceIdentifier: string): Promise<Device> {
    const p = this.#peripheral(deviceIdentifier, true);
    const rssi = (await p.updateRssiAsync?.()) ?? p.rssi;
    return this.#device(p, rssi);
  }

  cancelTransaction(): Promise<void> {
    return Promise.resolve(); // noble cannot cancel an operation
  }

  #peripheral(id: string, connected: boolean): Peripheral {
    const p = this.#peripherals.get(id);
    if (!p) throw new FakeBleError(NOT_FOUND, `Device ${id} not found`);
    if (connected && p.state !== 'connected') throw new FakeBleError(NOT_CONNECTED, `Device ${id} is not connected`);
    return p;
  }

  #char(id: string, uuid: UUID): NobleCharacteristic {
    const c = (this.#characteristics.get(id) ?? []).find((x) => stack(x.uuid) === stack(uuid));
    if (!c) throw new FakeBleError(NOT_FOUND, `characteristic ${uuid} not found`);
    return c;
  }

  async #write(id: string, uuid: UUID, base64Value: string, withoutResponse: boolean): Promise<Characteristic> {
    const c = this.#char(id, uuid);
    await c.writeAsync(Buffer.from(base64ToBytes(base64Value, 'write')), withoutResponse);
    return this.#characteristic(id, c, null);
  }

  #device(p: Peripheral, rssi: number | null = p.rssi): Device {
    const serviceData: Record<string, string> = {};
    for (const sd of p.advertisement?.serviceData ?? []) serviceData[sd.uuid] = bytesToBase64(new Uint8Array(sd.data));
    return new PlxDevice(this, { id: p.id, rssi, mtu: p.mtu ?? 23, serviceData, serviceUUIDs: p.advertisement?.serviceUuids ?? null });
  }

  #characteristic(deviceID: string, c: NobleCharacteristic, value: string | null): Characteristic {
    const has = (prop: string) => c.properties.includes(prop);
    return new PlxCharacteristic(this, {
      uuid: c.uuid,
      deviceID,
      isReadable: has('read'),
      isWritableWithResponse: has('write'),
      isWritableWithoutResponse: has('writeWithoutResponse'),
      isNotifiable: has('notify'),
      value,
    });
  }
}
