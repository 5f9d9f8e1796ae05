/**
 * `connectToCar` (Web Bluetooth) on a small in-process fake of the browser's GATT objects, with a
 * real `VehicleService` behind it: pairing and a command end to end, and every failure the
 * adapter must turn into a typed error without hanging (the browser flows are in test/web).
 */
import { FAST_SCRYPT } from '../helpers/scrypt.js';
import { describe, expect, it } from 'vitest';
import {
  AbortedError,
  FramedLink,
  LinkClosedError,
  MemoryPhoneStore,
  MemoryVehicleStore,
  PhoneWallet,
  RemoteError,
  TimeoutError,
  VehicleService,
  encodeGattInfo,
} from '../../src/index.js';
import {
  BleUnavailableError,
  PROXKEY_INFO_CHAR_UUID,
  PROXKEY_NOTIFY_CHAR_UUID,
  PROXKEY_SERVICE_UUID,
  PROXKEY_WRITE_CHAR_UUID,
  connectToCar,
  type BluetoothDeviceLike,
  type BluetoothLike,
  type GattCharacteristicLike,
  type GattServerLike,
} from '../../src/adapters/web-bluetooth/index.js';

interface Behaviour {
  connect?: 'hang' | 'ok';
  info?: Uint8Array;
  /** Fire gattserverdisconnected when the info value is read. */
  vanishOnInfoRead?: boolean;
  noService?: boolean;
  /** A characteristic the car lacks. */
  missing?: string;
}

class Characteristic extends EventTarget implements GattCharacteristicLike {
  value: DataView | undefined;
  constructor(
    readonly onWrite: (bytes: Uint8Array) => void,
    readonly readBytes?: () => Uint8Array,
  ) {
    super();
  }
  async readValue(): Promise<DataView> {
    const b = this.readBytes?.() ?? new Uint8Array(0);
    this.value = new DataView(b.buffer, b.byteOffset, b.byteLength);
    return this.value;
  }
  async writeValueWithResponse(v: BufferSource): Promise<void> {
    this.onWrite(new Uint8Array(v instanceof ArrayBuffer ? v : v.buffer));
  }
  async writeValueWithoutResponse(v: BufferSource): Promise<void> {
    this.onWrite(new Uint8Array(v instanceof ArrayBuffer ? v : v.buffer));
  }
  async startNotifications(): Promise<this> {
    return this;
  }
  push(bytes: Uint8Array): void {
    this.value = new DataView(bytes.slice().buffer);
    this.dispatchEvent(new Event('characteristicvaluechanged'));
  }
}

/** A browser-shaped device whose notify/write pair is wired to a car-side FramedLink. */
function fakeCar(service: VehicleService | undefined, behaviour: Behaviour = {}) {
  const events = new EventTarget();
  const log: string[] = [];
  let carLink: FramedLink | undefined;
  const notify = new Characteristic(() => {});
  notify.startNotifications = async function () {
    // the car offers the session once the phone subscribed (docs/BLE.md), then may push at once
    carLink = new FramedLink({ valueSize: 20, writeFragment: async (f) => notify.push(f) });
    if (service) void service.serve(carLink);
    return this;
  };
  const write = new Characteristic((bytes) => {
    log.push(`write ${bytes.length}`);
    carLink?.deliver(bytes);
  });
  const info = new Characteristic(
    () => {},
    () => {
      if (behaviour.vanishOnInfoRead) server.vanish();
      return behaviour.info ?? encodeGattInfo({ framingVersion: 1, maxMessageSize: 1024, protocolVersions: [1] });
    },
  );
  const chars = new Map<string, Characteristic>([
    [PROXKEY_WRITE_CHAR_UUID, write],
    [PROXKEY_NOTIFY_CHAR_UUID, notify],
    [PROXKEY_INFO_CHAR_UUID, info],
  ]);
  const server: GattServerLike & { connected: boolean; vanish(): void } = {
    connected: false,
    async connect() {
      log.push('connect');
      if (behaviour.connect === 'hang') return new Promise<never>(() => {});
      this.connected = true;
      return this;
    },
    disconnect() {
      log.push('disconnect');
      this.connected = false;
      carLink?.terminate('remote', 'phone disconnected');
    },
    vanish() {
      this.connected = false;
      carLink?.terminate('transport', 'car vanished');
      events.dispatchEvent(new Event('gattserverdisconnected'));
    },
    async getPrimaryService(uuid: string) {
      if (behaviour.noService || uuid !== PROXKEY_SERVICE_UUID) throw new DOMException('No Services matching UUID found in Device.', 'NotFoundError');
      return {
        async getCharacteristic(u: string) {
          const c = u === behaviour.missing ? undefined : chars.get(u);
          if (!c) throw new DOMException('No Characteristics matching UUID found in Service.', 'NotFoundError');
          return c;
        },
      };
    },
  };
  const device: BluetoothDeviceLike = {
    id: 'dev-1',
    name: undefined,
    gatt: server,
    addEventListener: (t, l) => events.addEventListener(t, l),
    removeEventListener: (t, l) => events.removeEventListener(t, l),
  };
  const requests: unknown[] = [];
  const bluetooth: BluetoothLike = {
    async requestDevice(options) {
      requests.push(options);
      return device;
    },
  };
  return { bluetooth, device, server, log, requests };
}

const rejecting = (error: unknown): BluetoothLike => ({ requestDevice: () => Promise.reject(error), getAvailability: async () => true });

async function openCar() {
  return VehicleService.open({ store: new MemoryVehicleStore(), name: 'Unit car', actuator: () => {} });
}

describe('connectToCar (Web Bluetooth)', () => {
  it('pairs and unlocks through the chooser, in 20-byte writes, and disconnects when done', async () => {
    const service = await openCar();
    const car = fakeCar(service);
    const wallet = await PhoneWallet.open({ store: new MemoryPhoneStore() });
    const { code } = await service.openPairing({ scrypt: FAST_SCRYPT });
    const link = await connectToCar({ bluetooth: car.bluetooth });
    expect(car.requests).toEqual([{ filters: [{ services: [PROXKEY_SERVICE_UUID] }] }]);
    expect(link.valueSize).toBe(20);
    await wallet.pair(link, code, { timeoutMs: 10_000 });
    link.close('done');
    await link.disconnected;
    const again = await connectToCar({ bluetooth: car.bluetooth, device: link.device });
    const writesBefore = car.log.filter((l) => l.startsWith('write')).length;
    expect((await wallet.command(again, 'unlock')).status).toBe('ok');
    console.info(`[proxkey] one unlock over Web Bluetooth: ${car.log.filter((l) => l.startsWith('write')).length - writesBefore} writes of at most 20 bytes`);
    await again.disconnected;
    expect(car.requests).toHaveLength(1); // the remembered device needs no second chooser
    expect(car.log.filter((l) => l.startsWith('write')).every((l) => Number(l.split(' ')[1]) <= 20)).toBe(true);
    expect(car.log.filter((l) => l === 'disconnect')).toHaveLength(2);
  });

  it('closes the link when the car disconnects, failing a pending receive', async () => {
    const car = fakeCar(undefined);
    const link = await connectToCar({ bluetooth: car.bluetooth });
    const pending = link.receive();
    car.server.vanish();
    await expect(pending).rejects.toBeInstanceOf(LinkClosedError);
    expect((await link.closed).by).toBe('remote');
  });

  it('refuses a car with an unknown framing version or without the proxkey service or one of its characteristics, and disconnects', async () => {
    const v9 = fakeCar(undefined, { info: Uint8Array.of(9, 4, 0, 1, 0, 1) });
    await expect(connectToCar({ bluetooth: v9.bluetooth })).rejects.toMatchObject({ code: 'ERR_UNSUPPORTED' });
    expect(v9.log.at(-1)).toBe('disconnect');
    const none = fakeCar(undefined, { noService: true });
    const err = await connectToCar({ bluetooth: none.bluetooth }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RemoteError);
    expect(err).toMatchObject({ code: 'ERR_UNSUPPORTED' });
    for (const missing of [PROXKEY_WRITE_CHAR_UUID, PROXKEY_NOTIFY_CHAR_UUID, PROXKEY_INFO_CHAR_UUID]) {
      const partial = fakeCar(undefined, { missing });
      await expect(connectToCar({ bluetooth: partial.bluetooth })).rejects.toMatchObject({ code: 'ERR_UNSUPPORTED', message: /no proxkey \w+ characteristic/ });
      expect(partial.log.at(-1)).toBe('disconnect');
    }
    const garbage = fakeCar(undefined, { info: Uint8Array.of(1) });
    await expect(connectToCar({ bluetooth: garbage.bluetooth })).rejects.toMatchObject({ code: 'ERR_DECODE' });
  });

  it('bounds a connect that never completes, and releases it', async () => {
    const car = fakeCar(undefined, { connect: 'hang' });
    await expect(connectToCar({ bluetooth: car.bluetooth, stepTimeoutMs: 50 })).rejects.toBeInstanceOf(TimeoutError);
    expect(car.log).toEqual(['connect', 'disconnect']);
  });

  it('ends setup at once when the car vanishes during it', async () => {
    const car = fakeCar(undefined, { vanishOnInfoRead: true });
    await expect(connectToCar({ bluetooth: car.bluetooth, stepTimeoutMs: 60_000 })).rejects.toBeInstanceOf(LinkClosedError);
  });

  it('honours an abort signal while the chooser is open', async () => {
    const ac = new AbortController();
    const never: BluetoothLike = { requestDevice: () => new Promise(() => {}) };
    const p = connectToCar({ bluetooth: never, signal: ac.signal });
    ac.abort();
    await expect(p).rejects.toBeInstanceOf(AbortedError);
  });

  it.each([
    ['no navigator.bluetooth', undefined, BleUnavailableError, /does not support Web Bluetooth/],
    ['chooser cancelled', rejecting(new DOMException('User cancelled the requestDevice() chooser.', 'NotFoundError')), AbortedError, /cancelled/],
    ['adapter off', rejecting(new DOMException('Bluetooth adapter not available.', 'NotFoundError')), BleUnavailableError, /Bluetooth is off/],
    [
      'no user gesture',
      rejecting(new DOMException('Must be handling a user gesture to show a permission request.', 'SecurityError')),
      BleUnavailableError,
      /refused to show the Bluetooth chooser/,
    ],
    ['permission denied', rejecting(new DOMException('Permission denied.', 'NotAllowedError')), BleUnavailableError, /permission denied/],
    [
      'requestDevice throws synchronously',
      {
        requestDevice: () => {
          throw new TypeError('bad filter');
        },
      },
      BleUnavailableError,
      /bad filter/,
    ],
  ] as const)('%s: a typed error', async (_name, bluetooth, type, message) => {
    const err = await connectToCar({ bluetooth }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(type);
    expect((err as Error).message).toMatch(message);
  });

  it('asks getAvailability when the chooser finds nothing: no adapter is not a cancel', async () => {
    const bluetooth: BluetoothLike = {
      requestDevice: () => Promise.reject(new DOMException('No devices found.', 'NotFoundError')),
      getAvailability: async () => false,
    };
    await expect(connectToCar({ bluetooth })).rejects.toBeInstanceOf(BleUnavailableError);
  });
});
