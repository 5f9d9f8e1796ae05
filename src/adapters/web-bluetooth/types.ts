/**
 * The parts of Web Bluetooth (`navigator.bluetooth`) the adapter uses, as structural interfaces:
 * the browser's objects satisfy them (checked against `@types/web-bluetooth` in
 * test/web/types.test.ts), and a test can pass a small fake. Self-contained on purpose: users need
 * only the DOM lib, not `@types/web-bluetooth`.
 */

/** The `requestDevice` options the adapter passes: a filter on the proxkey service. */
export interface CarRequestOptions {
  readonly filters: { readonly services: string[] }[];
}

/** `navigator.bluetooth`, or a fake with the same shape. */
export interface BluetoothLike {
  /** Shows the browser's chooser (needs a user gesture); rejects `NotFoundError` when cancelled. */
  requestDevice(options: CarRequestOptions): Promise<BluetoothDeviceLike>;
  /** False when the device has no Bluetooth adapter (or it is off, on some platforms). */
  getAvailability?(): Promise<boolean>;
}

/** A `BluetoothDevice` the chooser returned. */
export interface BluetoothDeviceLike {
  readonly id: string;
  /** The advertised local name; proxkey cars advertise none, so it is usually undefined. */
  readonly name?: string | undefined;
  readonly gatt?: GattServerLike | undefined;
  addEventListener(type: 'gattserverdisconnected', listener: (event: Event) => void): void;
  removeEventListener(type: 'gattserverdisconnected', listener: (event: Event) => void): void;
}

/** A device's `BluetoothRemoteGATTServer`: connect, disconnect, the proxkey service. */
export interface GattServerLike {
  readonly connected: boolean;
  connect(): Promise<unknown>;
  disconnect(): void;
  getPrimaryService(service: string): Promise<GattServiceLike>;
  /**
   * Largest value one write without response may carry (the negotiated ATT MTU − 3). Proposed for
   * Web Bluetooth, not in stable browsers: used when present, otherwise 20 bytes.
   */
  readonly maxWriteWithoutResponseSize?: number;
}

/** A `BluetoothRemoteGATTService`: its characteristics by UUID. */
export interface GattServiceLike {
  getCharacteristic(characteristic: string): Promise<GattCharacteristicLike>;
}

/** A `BluetoothRemoteGATTCharacteristic`: read, write, notifications. */
export interface GattCharacteristicLike {
  /** The last value read or notified. */
  readonly value?: DataView | undefined;
  readValue(): Promise<DataView>;
  writeValueWithResponse(value: BufferSource): Promise<void>;
  writeValueWithoutResponse(value: BufferSource): Promise<void>;
  startNotifications(): Promise<unknown>;
  addEventListener(type: 'characteristicvaluechanged', listener: (event: Event) => void): void;
  removeEventListener(type: 'characteristicvaluechanged', listener: (event: Event) => void): void;
}
