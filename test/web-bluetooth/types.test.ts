/**
 * The adapter's structural Web Bluetooth types accept the browser's objects as `@types/web-bluetooth`
 * describes them (a compile-time check: `npm run typecheck` fails if they drift), and the entry
 * point loads in Node without touching any browser global.
 */
/// <reference types="web-bluetooth" />
import { describe, expect, it } from 'vitest';
import type { BluetoothDeviceLike, BluetoothLike, GattCharacteristicLike, GattServerLike } from '../../src/adapters/web-bluetooth/index.js';
import { DEFAULT_WEB_VALUE_SIZE, webValueSize } from '../../src/adapters/web-bluetooth/index.js';

const asBluetooth = (b: Bluetooth): BluetoothLike => b;
const asDevice = (d: BluetoothDevice): BluetoothDeviceLike => d;
const asServer = (s: BluetoothRemoteGATTServer): GattServerLike => s;
const asCharacteristic = (c: BluetoothRemoteGATTCharacteristic): GattCharacteristicLike => c;

describe('proxkey/web-bluetooth types', () => {
  it('accept the browser objects (checked by tsc)', () => {
    expect([asBluetooth, asDevice, asServer, asCharacteristic].every((f) => typeof f === 'function')).toBe(true);
  });

  it('write 20-byte values unless the browser tells the real size', () => {
    expect(DEFAULT_WEB_VALUE_SIZE).toBe(20);
    expect(webValueSize({})).toBe(20);
    expect(webValueSize({ maxWriteWithoutResponseSize: 244 })).toBe(244);
    expect(webValueSize({ maxWriteWithoutResponseSize: 600 })).toBe(512);
    for (const bad of [0, 19, 20.5, Number.NaN]) expect(webValueSize({ maxWriteWithoutResponseSize: bad })).toBe(20);
  });
});
