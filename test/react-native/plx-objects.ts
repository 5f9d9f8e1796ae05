/**
 * `Device` and `Characteristic` objects as react-native-ble-plx builds them (data plus methods
 * that call the manager with their ids), typed by the real package's classes, for the test
 * managers (the fake radio, and the one over real noble).
 */
import type { BleError, Characteristic, ConnectionOptions, Descriptor, Device, Service, Subscription, UUID } from 'react-native-ble-plx';
import { PROXKEY_SERVICE_UUID } from '../../src/index.js';
import type { BlePlxManager } from '../../src/adapters/react-native/index.js';

/** A test manager: the adapter's surface plus a connection check (`Device.isConnected`). */
export interface PlxManagerWithStatus extends BlePlxManager {
  isConnected(deviceId: string): boolean;
}

const unsupported = (what: string) => Promise.reject(new Error(`test BleManager: ${what} is not simulated`));

/** A `Device` as ble-plx builds it: data plus methods that call the manager with the device's id. */
export class PlxDevice implements Device {
  name = null;
  localName = null;
  manufacturerData = null;
  rawScanRecord = '';
  txPowerLevel = null;
  solicitedServiceUUIDs = null;
  isConnectable = true;
  overflowServiceUUIDs = null;
  id: string;
  rssi: number | null;
  mtu: number;
  serviceData: { [uuid: string]: string } | null;
  serviceUUIDs: UUID[] | null;
  readonly #m: PlxManagerWithStatus;

  constructor(m: PlxManagerWithStatus, d: Pick<Device, 'id' | 'rssi' | 'mtu' | 'serviceData' | 'serviceUUIDs'>) {
    this.#m = m;
    ({ id: this.id, rssi: this.rssi, mtu: this.mtu, serviceData: this.serviceData, serviceUUIDs: this.serviceUUIDs } = d);
  }
  requestConnectionPriority(): Promise<Device> {
    return unsupported('requestConnectionPriority');
  }
  readRSSI(): Promise<Device> {
    return this.#m.readRSSIForDevice(this.id);
  }
  requestMTU(mtu: number): Promise<Device> {
    return this.#m.requestMTUForDevice(this.id, mtu);
  }
  connect(options?: ConnectionOptions): Promise<Device> {
    return this.#m.connectToDevice(this.id, options);
  }
  cancelConnection(): Promise<Device> {
    return this.#m.cancelDeviceConnection(this.id);
  }
  isConnected(): Promise<boolean> {
    return Promise.resolve(this.#m.isConnected(this.id));
  }
  onDisconnected(listener: (error: BleError | null, device: Device) => void): Subscription {
    return this.#m.onDeviceDisconnected(this.id, (e, d) => listener(e, d ?? this));
  }
  discoverAllServicesAndCharacteristics(): Promise<Device> {
    return this.#m.discoverAllServicesAndCharacteristicsForDevice(this.id);
  }
  services(): Promise<Service[]> {
    return unsupported('services');
  }
  characteristicsForService(serviceUUID: string): Promise<Characteristic[]> {
    return this.#m.characteristicsForDevice(this.id, serviceUUID);
  }
  descriptorsForService(): Promise<Descriptor[]> {
    return unsupported('descriptors');
  }
  readCharacteristicForService(serviceUUID: UUID, characteristicUUID: UUID, transactionId?: string): Promise<Characteristic> {
    return this.#m.readCharacteristicForDevice(this.id, serviceUUID, characteristicUUID, transactionId);
  }
  writeCharacteristicWithResponseForService(serviceUUID: UUID, characteristicUUID: UUID, valueBase64: string, transactionId?: string): Promise<Characteristic> {
    return this.#m.writeCharacteristicWithResponseForDevice(this.id, serviceUUID, characteristicUUID, valueBase64, transactionId);
  }
  writeCharacteristicWithoutResponseForService(
    serviceUUID: UUID,
    characteristicUUID: UUID,
    valueBase64: string,
    transactionId?: string,
  ): Promise<Characteristic> {
    return this.#m.writeCharacteristicWithoutResponseForDevice(this.id, serviceUUID, characteristicUUID, valueBase64, transactionId);
  }
  monitorCharacteristicForService(
    serviceUUID: UUID,
    characteristicUUID: UUID,
    listener: (error: BleError | null, characteristic: Characteristic | null) => void,
  ): Subscription {
    return this.#m.monitorCharacteristicForDevice(this.id, serviceUUID, characteristicUUID, listener);
  }
  readDescriptorForService(): Promise<Descriptor> {
    return unsupported('descriptors');
  }
  writeDescriptorForService(): Promise<Descriptor> {
    return unsupported('descriptors');
  }
}

/** A `Characteristic` as ble-plx builds it. */
export class PlxCharacteristic implements Characteristic {
  id = 0;
  serviceID = 0;
  serviceUUID = PROXKEY_SERVICE_UUID;
  isNotifying = false;
  isIndicatable = false;
  uuid: UUID;
  deviceID: string;
  isReadable: boolean;
  isWritableWithResponse: boolean;
  isWritableWithoutResponse: boolean;
  isNotifiable: boolean;
  value: string | null;
  readonly #m: PlxManagerWithStatus;

  constructor(
    m: PlxManagerWithStatus,
    c: Pick<Characteristic, 'uuid' | 'deviceID' | 'isReadable' | 'isWritableWithResponse' | 'isWritableWithoutResponse' | 'isNotifiable' | 'value'>,
  ) {
    this.#m = m;
    this.uuid = c.uuid;
    this.deviceID = c.deviceID;
    this.isReadable = c.isReadable;
    this.isWritableWithResponse = c.isWritableWithResponse;
    this.isWritableWithoutResponse = c.isWritableWithoutResponse;
    this.isNotifiable = c.isNotifiable;
    this.value = c.value;
  }
  descriptors(): Promise<Descriptor[]> {
    return unsupported('descriptors');
  }
  read(transactionId?: string): Promise<Characteristic> {
    return this.#m.readCharacteristicForDevice(this.deviceID, this.serviceUUID, this.uuid, transactionId);
  }
  writeWithResponse(valueBase64: string, transactionId?: string): Promise<Characteristic> {
    return this.#m.writeCharacteristicWithResponseForDevice(this.deviceID, this.serviceUUID, this.uuid, valueBase64, transactionId);
  }
  writeWithoutResponse(valueBase64: string, transactionId?: string): Promise<Characteristic> {
    return this.#m.writeCharacteristicWithoutResponseForDevice(this.deviceID, this.serviceUUID, this.uuid, valueBase64, transactionId);
  }
  monitor(listener: (error: BleError | null, characteristic: Characteristic | null) => void): Subscription {
    return this.#m.monitorCharacteristicForDevice(this.deviceID, this.serviceUUID, this.uuid, listener);
  }
  readDescriptor(): Promise<Descriptor> {
    return unsupported('descriptors');
  }
  writeDescriptor(): Promise<Descriptor> {
    return unsupported('descriptors');
  }
}
