/**
 * The adapters against fake noble/bleno instances shaped like both families (stoprocent bleno
 * passes a connection handle first, abandonware does not): API differences, MTU, several
 * phones, and every failure path that the emulator cannot produce on demand (a car that stops
 * answering, a stuck connect, a disconnect during setup). No Bluetooth, no processes: always runs.
 */
import { EventEmitter } from 'node:events';
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { BleUnavailableError, waitPoweredOn } from '../../src/adapters/common.js';
import { importFirst } from '../../src/adapters/ble-stack-loader.js';
import { connectToCar, type NobleLike, type NoblePeripheral } from '../../src/adapters/noble/index.js';
import { startCarPeripheral, type CarPeripheral, type PhoneLink } from '../../src/adapters/bleno/index.js';
import { LinkClosedError, RemoteError, TimeoutError } from '../../src/errors.js';
import { PROXKEY_SERVICE_UUID, encodeGattInfo } from '../../src/transport/framing.js';

type Style = 'stoprocent' | 'abandonware';
const hex = (u: string) => u.replace(/-/g, '');
const tick = () => new Promise((r) => setTimeout(r, 1));

class FakeCharacteristicBase {
  static RESULT_SUCCESS = 0x00;
  static RESULT_ATTR_NOT_LONG = 0x0b;
  static RESULT_UNLIKELY_ERROR = 0x0e;
  constructor(readonly o: any) {}
}

class FakeBleno extends EventEmitter {
  state = 'poweredOn';
  address = '00:00:00:00:ca:fe';
  readonly Characteristic = class extends FakeCharacteristicBase {};
  readonly PrimaryService = class {
    constructor(readonly o: any) {}
  };
  services: any[] = [];
  advertising: Uint8Array | undefined;
  readonly disconnectCalls: unknown[] = [];
  onDisconnectCall: (handle: unknown) => void = () => {};
  constructor(readonly style: Style) {
    super();
  }
  setServices(s: any[], cb?: (e?: unknown) => void) {
    this.services = s;
    setTimeout(() => cb?.(null), 1);
  }
  startAdvertisingWithEIRData(adv: Uint8Array, _scan: Uint8Array, cb?: (e?: unknown) => void) {
    this.advertising = adv;
    setTimeout(() => cb?.(null), 1);
  }
  stopAdvertising(cb?: () => void) {
    this.advertising = undefined;
    setTimeout(() => cb?.(), 1);
  }
  disconnect(handle?: unknown) {
    this.disconnectCalls.push(handle);
    this.onDisconnectCall(handle);
  }
  char(uuid: string): any {
    return this.services[0]?.o.characteristics.find((c: any) => c.o.uuid === hex(uuid.slice(0, 8)) || c.o.uuid.startsWith(uuid));
  }
  chars(): any[] {
    return this.services[0]?.o.characteristics ?? [];
  }
}

/** Noble-side view of one connection to the fake car. */
class FakePeripheral extends EventEmitter {
  state = 'disconnected';
  mtu: number | null = null;
  rssi = -50;
  readonly advertisement = { serviceUuids: [hex(PROXKEY_SERVICE_UUID)] };
  vanished = false;
  connectHangs = false;
  discoveryHook: () => void = () => {};
  cancelled = 0;
  constructor(
    readonly car: FakeBleno,
    readonly handle: number,
    readonly address: string,
    readonly negotiatedMtu: number,
  ) {
    super();
  }
  get id() {
    return this.address;
  }
  #args(): unknown[] {
    return this.car.style === 'stoprocent' ? [this.handle] : [];
  }
  async connectAsync() {
    if (this.connectHangs) return new Promise<void>(() => {});
    this.state = 'connected';
    this.mtu = this.negotiatedMtu;
    this.car.emit('accept', this.address, ...this.#args());
  }
  cancelConnect() {
    this.cancelled++;
  }
  async disconnectAsync() {
    if (this.vanished) return new Promise<void>(() => {});
    this.drop(0x13);
  }
  /** Either side ends the connection. */
  drop(reason: number) {
    if (this.state === 'disconnected') return;
    this.state = 'disconnected';
    this.car.emit('disconnect', this.address, ...this.#args());
    this.emit('disconnect', reason);
  }
  async discoverSomeServicesAndCharacteristicsAsync() {
    this.discoveryHook();
    // eslint-disable-next-line @typescript-eslint/no-this-alias -- the fake hands itself to closures
    const p = this;
    const characteristics = this.car.chars().map((c: any) => {
      const ch = new EventEmitter() as any;
      ch.uuid = c.o.uuid;
      ch.properties = c.o.properties;
      ch.readAsync = async () => c.o.value;
      ch.writeAsync = (data: Uint8Array, wor: boolean) =>
        p.vanished
          ? new Promise(() => {})
          : new Promise<void>((resolve, reject) => {
              if (data.length > p.mtu! - 3) return reject(new Error('value larger than MTU-3'));
              c.o.onWriteRequest(...p.#args(), data, 0, wor, (result: number) => (result === 0 ? resolve() : reject(new Error(`ATT error ${result}`))));
            });
      ch.subscribeAsync = async () => {
        c.o.onSubscribe(...p.#args(), p.mtu! - 3, (data: Uint8Array) => {
          if (data.length > p.mtu! - 3) throw new Error('notification larger than MTU-3');
          if (!p.vanished) setTimeout(() => ch.emit('data', data, true), 0);
        });
      };
      ch.unsubscribeAsync = async () => c.o.onUnsubscribe(...p.#args());
      return ch;
    });
    await tick();
    return { characteristics };
  }
}

class FakeNoble extends EventEmitter implements NobleLike {
  state = 'poweredOn';
  readonly peripherals: FakePeripheral[] = [];
  async startScanningAsync() {
    setTimeout(() => {
      for (const p of this.peripherals) this.emit('discover', p);
    }, 2);
  }
  async stopScanningAsync() {}
}

/** A car on a fake bleno and `n` phones, each with its own fake noble and connection handle. */
async function rig(style: Style, opts: { mtu?: number; onLink?: (l: PhoneLink) => void; phones?: number } = {}) {
  const bleno = new FakeBleno(style);
  const car = await startCarPeripheral({ bleno: bleno, onLink: opts.onLink, disconnectGraceMs: 30 });
  const phones = Array.from({ length: opts.phones ?? 1 }, (_, i) => {
    const noble = new FakeNoble();
    const p = new FakePeripheral(bleno, 64 + i, `00:00:00:00:00:0${i + 1}`, opts.mtu ?? 23);
    noble.peripherals.push(p);
    return { noble, peripheral: p };
  });
  bleno.onDisconnectCall = (handle) => {
    for (const { peripheral } of phones) if (style === 'abandonware' || peripheral.handle === handle) peripheral.drop(0x16);
  };
  return { bleno, car, phones };
}

async function echoLoop(car: CarPeripheral) {
  for (;;) {
    const link = await car.accept().catch(() => undefined);
    if (!link) return;
    void (async () => {
      try {
        for (;;) await link.send(await link.receive());
      } catch {
        /* closed */
      }
    })();
  }
}

describe.each<Style>(['stoprocent', 'abandonware'])('adapters over a fake %s-style stack', (style) => {
  it('advertises the service, serves the profile, and carries whole messages both ways at MTU 23', async () => {
    const { bleno, car, phones } = await rig(style);
    expect([...bleno.advertising!.subarray(0, 5)]).toEqual([0x02, 0x01, 0x06, 0x11, 0x07]);
    expect(bleno.chars().map((c: any) => c.o.properties)).toEqual([['write', 'writeWithoutResponse'], ['notify'], ['read']]);
    void echoLoop(car);
    const link = await connectToCar({ noble: phones[0]!.noble });
    expect(link.info).toEqual({ framingVersion: 1, maxMessageSize: 1024, protocolVersions: [1] });
    expect(link.mtu).toBe(23);
    for (const size of [0, 19, 20, 500, 1024]) {
      const m = Uint8Array.from({ length: size }, (_, i) => (i * 7) & 0xff);
      await link.send(m);
      expect(await link.receive({ timeoutMs: 1000 })).toEqual(m);
    }
    link.close();
    await link.disconnected;
    expect(phones[0]!.peripheral.state).toBe('disconnected');
    await car.stop();
  });

  it('the car closing a link disconnects the phone after the grace period', async () => {
    let carLink: PhoneLink | undefined;
    const { bleno, car, phones } = await rig(style, { onLink: (l) => (carLink = l) });
    const link = await connectToCar({ noble: phones[0]!.noble });
    await tick();
    carLink!.close('session over');
    expect(bleno.disconnectCalls).toEqual([]);
    const info = await link.closed;
    expect(info.by).toBe('remote');
    expect(bleno.disconnectCalls).toEqual([style === 'stoprocent' ? 64 : undefined]);
    await expect(link.receive()).rejects.toBeInstanceOf(LinkClosedError);
    await car.stop();
  });

  it('refuses writes before subscription and long writes', async () => {
    const { bleno, car } = await rig(style);
    const w = bleno.chars()[0].o;
    const handle = style === 'stoprocent' ? [64] : [];
    bleno.emit('accept', 'x', ...handle);
    const results: number[] = [];
    w.onWriteRequest(...handle, Uint8Array.of(0xc0, 1), 0, false, (r: number) => results.push(r));
    w.onWriteRequest(...handle, Uint8Array.of(0xc0, 1), 5, false, (r: number) => results.push(r));
    expect(results).toEqual([0x0e, 0x0b]);
    await car.stop();
  });

  it('a car that stops answering: the write times out within its bound, typed, and the link closes', async () => {
    const { car, phones } = await rig(style);
    void echoLoop(car);
    const link = await connectToCar({ noble: phones[0]!.noble, writeTimeoutMs: 100, disconnectTimeoutMs: 100 });
    phones[0]!.peripheral.vanished = true;
    const t = Date.now();
    await expect(link.send(new Uint8Array(5))).rejects.toBeInstanceOf(TimeoutError);
    expect(Date.now() - t).toBeLessThan(1000);
    expect(link.isClosed).toBe(true);
    await link.disconnected; // bounded even though the disconnect never completes
    await car.stop();
  });

  it('a stuck connect times out (typed) and is cancelled', async () => {
    const { car, phones } = await rig(style);
    phones[0]!.peripheral.connectHangs = true;
    const t = Date.now();
    await expect(connectToCar({ noble: phones[0]!.noble, stepTimeoutMs: 100 })).rejects.toBeInstanceOf(TimeoutError);
    expect(Date.now() - t).toBeLessThan(1000);
    expect(phones[0]!.peripheral.cancelled).toBeGreaterThan(0);
    await car.stop();
  });

  it('the car disconnecting during setup fails the connect at once with LinkClosedError', async () => {
    const { car, phones } = await rig(style);
    const p = phones[0]!.peripheral;
    p.discoveryHook = () => setTimeout(() => p.drop(0x08), 0);
    const t = Date.now();
    await expect(connectToCar({ noble: phones[0]!.noble, stepTimeoutMs: 5000 })).rejects.toBeInstanceOf(LinkClosedError);
    expect(Date.now() - t).toBeLessThan(1000);
    await car.stop();
  });

  it('refuses a car with another framing version', async () => {
    const { bleno, car, phones } = await rig(style);
    bleno.chars()[2].o.value = Buffer.from(encodeGattInfo({ framingVersion: 2, maxMessageSize: 1024, protocolVersions: [1] }));
    const err = await connectToCar({ noble: phones[0]!.noble }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RemoteError);
    expect((err as RemoteError).code).toBe('ERR_UNSUPPORTED');
    expect(phones[0]!.peripheral.state).toBe('disconnected');
    await car.stop();
  });

  it('accept() waits, times out typed, and rejects once the car stops', async () => {
    const { car } = await rig(style);
    await expect(car.accept({ timeoutMs: 20 })).rejects.toBeInstanceOf(TimeoutError);
    const waiting = car.accept();
    await car.stop();
    await expect(waiting).rejects.toBeInstanceOf(LinkClosedError);
  });

  it('stop() closes open links', async () => {
    const { car, phones } = await rig(style);
    void echoLoop(car);
    const link = await connectToCar({ noble: phones[0]!.noble });
    await car.stop();
    expect((await link.closed).by).toBe('remote');
  });
});

describe('several phones at once (stoprocent bleno 0.12 passes connection handles)', () => {
  it('keeps one link per phone; messages never cross', async () => {
    const { car, phones } = await rig('stoprocent', { phones: 3, mtu: 185 });
    void echoLoop(car);
    const links = await Promise.all(phones.map((p) => connectToCar({ noble: p.noble })));
    expect(car.links.size).toBe(3);
    await Promise.all(
      links.map(async (link, i) => {
        for (let k = 0; k < 5; k++) {
          const m = new Uint8Array(300).fill(i * 10 + k);
          await link.send(m);
          expect(await link.receive({ timeoutMs: 1000 })).toEqual(m);
        }
      }),
    );
    links[1]!.close();
    await links[1]!.disconnected;
    await tick();
    expect(car.links.size).toBe(2);
    await car.stop();
  });
});

describe('loading and powering on', () => {
  it('a missing package is a BleUnavailableError that says what to install', async () => {
    const err = await importFirst(
      [
        { name: '@proxkey-test/not-there', binding: 'with-bindings' },
        { name: '@proxkey-test/nor-this', binding: 'environment' },
      ],
      'noble',
    ).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BleUnavailableError);
    expect((err as BleUnavailableError).code).toBe('ERR_BLE_UNAVAILABLE');
    expect((err as BleUnavailableError).hint).toMatch(/npm install @proxkey-test\/not-there/);
  });

  it('an unauthorized or silent adapter is a BleUnavailableError with a hint', async () => {
    const stack = Object.assign(new EventEmitter(), { state: 'unknown' });
    const p = waitPoweredOn(stack, 'noble', { timeoutMs: 1000 });
    stack.emit('stateChange', 'unauthorized');
    await expect(p).rejects.toThrow(/unauthorized[\s\S]*setcap/);
    await expect(waitPoweredOn(stack, 'bleno', { timeoutMs: 20 })).rejects.toBeInstanceOf(BleUnavailableError);
    expect(stack.listenerCount('stateChange')).toBe(0);
  });

  it('the adapter modules import without loading any BLE package', async () => {
    const noble = await import('../../src/adapters/noble/index.js');
    const bleno = await import('../../src/adapters/bleno/index.js');
    expect(typeof noble.loadNoble).toBe('function');
    expect(typeof bleno.loadBleno).toBe('function');
    const loaded = Object.keys(createRequire(import.meta.url).cache);
    expect(loaded.filter((k) => /@(stoprocent|abandonware)\//.test(k))).toEqual([]);
  });

  it('findCar skips peripherals the filter rejects', async () => {
    const { car, phones } = await rig('stoprocent', { phones: 1 });
    const other = new FakePeripheral(phones[0]!.peripheral.car, 99, '00:00:00:00:00:99', 23);
    phones[0]!.noble.peripherals.unshift(other);
    const link = await connectToCar({ noble: phones[0]!.noble, filter: (p: NoblePeripheral) => p.address !== other.address });
    expect(link.peripheral.address).toBe('00:00:00:00:00:01');
    link.close();
    await car.stop();
  });
});
