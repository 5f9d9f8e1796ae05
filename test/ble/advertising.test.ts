/**
 * Private advertising and RSSI through the adapters, on fake stacks (no Bluetooth, always runs):
 * the AD structures the car puts on air, the rotation at epoch boundaries (and its timer's end),
 * the phone's filter choosing its own car among several advertisers, the car sampling each
 * connected phone's RSSI, and the car daemon's wiring of those samples into the proximity engine.
 */
import { FAST_SCRYPT } from '../helpers/scrypt.js';
import { EventEmitter } from 'node:events';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { MAX_LEGACY_AD_LENGTH, encodeCarAdvertisement, startCarPeripheral, usableRssi, type PhoneLink } from '../../src/adapters/bleno/index.js';
import { advertisingFilter, advertisingIdOf, carFilter, findCar, type NobleLike, type NoblePeripheral } from '../../src/adapters/noble/index.js';
import { linkProximity } from '../../src/node/index.js';
import { LinkClosedError, TimeoutError } from '../../src/errors.js';
import {
  MemoryPhoneStore,
  MemoryVehicleStore,
  PhoneWallet,
  DEFAULT_PASSIVE_ENTRY,
  ProximityEngine,
  VehicleService,
  type ProximityDecision,
  advertisingEpoch,
  createMemoryLinkPair,
  defaultPolicy,
  deriveAddressIrk,
  deriveAdvertisingId,
  generateP256KeyPair,
  systemRandom,
  formatAddress,
  fromHex,
  nobleCrypto,
  resolvesPrivateAddress,
  toHex,
  type Link,
} from '../../src/index.js';
import { PROXKEY_SERVICE_UUID } from '../../src/transport/framing.js';

const SERVICE_LE = Uint8Array.from(Buffer.from(PROXKEY_SERVICE_UUID.replace(/-/g, ''), 'hex').reverse());
const secretA = Uint8Array.from({ length: 32 }, (_, i) => i);
const secretB = Uint8Array.from({ length: 32 }, (_, i) => 0x80 + i);
const secretX = Uint8Array.from({ length: 32 }, (_, i) => 0x40 ^ i);
/** 2026-05-01 12:15:00 UTC: an epoch boundary (15-minute epochs are aligned to the Unix epoch). */
const BOUNDARY = Date.UTC(2026, 4, 1, 12, 15, 0);

afterEach(() => {
  vi.useRealTimers();
});

// ---------------------------------------------------------------------------------------------
// AD structures

/** Walk AD structures; every one must be well-formed (length ≥ 1, inside the packet). */
function parseAd(packet: Uint8Array): { type: number; data: Uint8Array }[] {
  expect(packet.length).toBeLessThanOrEqual(MAX_LEGACY_AD_LENGTH);
  const out: { type: number; data: Uint8Array }[] = [];
  for (let i = 0; i < packet.length;) {
    const len = packet[i]!;
    expect(len, `AD length at ${i}`).toBeGreaterThan(0);
    expect(i + 1 + len, `AD structure at ${i} overruns the packet`).toBeLessThanOrEqual(packet.length);
    out.push({ type: packet[i + 1]!, data: packet.slice(i + 2, i + 1 + len) });
    i += 1 + len;
  }
  return out;
}

const reverseHex = (b: Uint8Array) => Buffer.from(b).reverse().toString('hex');

/** What noble makes of an advertisement + scan response (as both families parse them). */
function nobleView(layout: { advertisement: Uint8Array; scanResponse: Uint8Array }) {
  const adv: { serviceUuids: string[]; serviceData: { uuid: string; data: Uint8Array }[]; manufacturerData?: Uint8Array; localName?: string } = {
    serviceUuids: [],
    serviceData: [],
  };
  for (const { type, data } of [...parseAd(layout.advertisement), ...parseAd(layout.scanResponse)]) {
    if (type === 0x07) for (let j = 0; j + 16 <= data.length; j += 16) adv.serviceUuids.push(reverseHex(data.slice(j, j + 16)));
    else if (type === 0x21) adv.serviceData.push({ uuid: reverseHex(data.slice(0, 16)), data: Buffer.from(data.slice(16)) });
    else if (type === 0xff) adv.manufacturerData = Buffer.from(data);
    else if (type === 0x09) adv.localName = Buffer.from(data).toString('utf8');
  }
  return adv;
}

describe('what the car puts on air', () => {
  const id = Uint8Array.of(0x72, 0xee, 0x38, 0x31, 0x1b, 0x0d, 0xe6, 0xc5);

  it('without an id: flags + the 128-bit service UUID list (21 B), empty scan response', () => {
    const { advertisement, scanResponse } = encodeCarAdvertisement({});
    expect(toHex(advertisement)).toBe(`020106` + `1107` + toHex(SERVICE_LE));
    expect(advertisement.length).toBe(21);
    expect(scanResponse.length).toBe(0);
  });

  it('with an 8-byte id: service data 01 ‖ id under the service UUID in the scan response (27 B)', () => {
    const layout = encodeCarAdvertisement({ id });
    expect(parseAd(layout.advertisement).map((s) => s.type)).toEqual([0x01, 0x07]);
    expect(toHex(layout.scanResponse)).toBe(`1a21${toHex(SERVICE_LE)}01${toHex(id)}`);
    expect(layout.scanResponse.length).toBe(27);
    const seen = nobleView(layout);
    expect(seen.serviceUuids).toEqual([PROXKEY_SERVICE_UUID.replace(/-/g, '')]);
    expect(advertisingIdOf({ advertisement: seen })).toEqual(id);
  });

  it('with a company id: manufacturer data in the primary advertisement, exactly 31 B', () => {
    const id6 = id.slice(0, 6);
    const layout = encodeCarAdvertisement({ id: id6, companyId: 0x1234 });
    expect(layout.advertisement.length).toBe(31);
    expect(toHex(layout.advertisement.slice(21))).toBe(`09ff3412${toHex(id6)}`);
    expect(layout.scanResponse.length).toBe(0);
    expect(advertisingIdOf({ advertisement: nobleView(layout) }, { companyId: 0x1234 })).toEqual(id6);
    expect(advertisingIdOf({ advertisement: nobleView(layout) }, { companyId: 0x9999 })).toBeUndefined();
    expect(advertisingIdOf({ advertisement: nobleView(layout) })).toBeUndefined();
    expect(() => encodeCarAdvertisement({ id, companyId: 0x1234 })).toThrow(/31-byte limit/);
  });

  it('refuses what does not fit: a name next to the id, an overlong name, a 16-bit UUID', () => {
    expect(encodeCarAdvertisement({ id, localName: 'ab' }).scanResponse.length).toBe(31);
    expect(() => encodeCarAdvertisement({ id, localName: 'proxkey' })).toThrow(/drop the name/);
    expect(() => encodeCarAdvertisement({ localName: 'x'.repeat(30) })).toThrow(/29 bytes/);
    expect(() => encodeCarAdvertisement({ serviceUuid: '180f' })).toThrow(/128-bit/);
  });

  it('the phone ignores service data of another format, another service, or a bad length', () => {
    const sd = (uuid: string, data: number[]) => ({ advertisement: { serviceData: [{ uuid, data: Buffer.from(data) }] } });
    const ours = PROXKEY_SERVICE_UUID.replace(/-/g, '');
    expect(advertisingIdOf(sd(ours, [2, 1, 2, 3, 4, 5, 6, 7, 8]))).toBeUndefined();
    expect(advertisingIdOf(sd('180f', [1, 1, 2, 3, 4, 5, 6, 7, 8]))).toBeUndefined();
    expect(advertisingIdOf(sd(ours, [1, 1, 2]))).toBeUndefined();
    expect(advertisingIdOf({ advertisement: {} })).toBeUndefined();
    expect(advertisingIdOf(sd(PROXKEY_SERVICE_UUID.toUpperCase(), [1, 1, 2, 3, 4, 5, 6, 7, 8]))).toEqual(Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8));
  });

  it('usableRssi drops "not available" and placeholder readings', () => {
    expect([127, 0, 5, -1, -128, Number.NaN, -50.5, undefined].map(usableRssi)).toEqual(Array(8).fill(undefined));
    expect([-2, -45, -127].map(usableRssi)).toEqual([-2, -45, -127]);
  });
});

// ---------------------------------------------------------------------------------------------
// The car: a fake bleno of either family

type Style = 'stoprocent' | 'abandonware';

class FakeBleno extends EventEmitter {
  state = 'poweredOn';
  address = '00:00:00:00:ca:fe';
  readonly Characteristic = class {
    static RESULT_SUCCESS = 0x00;
    static RESULT_ATTR_NOT_LONG = 0x0b;
    static RESULT_UNLIKELY_ERROR = 0x0e;
    constructor(readonly o: any) {}
  };
  readonly PrimaryService = class {
    constructor(readonly o: any) {}
  };
  services: any[] = [];
  readonly adverts: { advertisement: Uint8Array; scanResponse: Uint8Array }[] = [];
  advertising = false;
  stops = 0;
  stopCalls = 0;
  failNextStart = false;
  /** RSSI the controller answers per handle (stoprocent) or for its one connection (abandonware); undefined: silent. */
  readonly rssiOf = new Map<unknown, number | undefined>();
  readonly rssiReads: unknown[] = [];
  readonly _bindings?: { _hci: EventEmitter & { readRssi(handle: number): void } };
  updateRssi?: () => void;

  constructor(readonly style: Style) {
    super();
    if (style === 'stoprocent') {
      const hci = Object.assign(new EventEmitter(), {
        readRssi: (handle: number) => {
          this.rssiReads.push(handle);
          const v = this.rssiOf.get(handle);
          if (v !== undefined) setTimeout(() => hci.emit('rssiRead', handle, v), 1);
        },
      });
      this._bindings = { _hci: hci };
    } else {
      this.updateRssi = () => {
        this.rssiReads.push(undefined);
        const v = this.rssiOf.get(undefined);
        if (v !== undefined) setTimeout(() => this.emit('rssiUpdate', v), 1);
      };
    }
  }
  setServices(s: any[], cb?: (e?: unknown) => void) {
    this.services = s;
    setTimeout(() => cb?.(null), 1);
  }
  startAdvertisingWithEIRData(advertisement: Uint8Array, scanResponse: Uint8Array, cb?: (e?: unknown) => void) {
    setTimeout(() => {
      if (this.failNextStart) {
        this.failNextStart = false;
        return cb?.(new Error('Command Disallowed'));
      }
      this.adverts.push({ advertisement: new Uint8Array(advertisement), scanResponse: new Uint8Array(scanResponse) });
      this.advertising = true;
      cb?.(null);
    }, 1);
  }
  stopAdvertising(cb?: () => void) {
    this.stopCalls++;
    setTimeout(() => {
      this.advertising = false;
      this.stops++;
      cb?.();
    }, 1);
  }
  disconnect() {}
  chars(): any[] {
    return this.services[0]?.o.characteristics ?? [];
  }
  /** A phone connects (handle for stoprocent) and subscribes; returns what it receives. */
  phone(handle: number | undefined, address: string) {
    const args = this.style === 'stoprocent' ? [handle] : [];
    this.emit('accept', address, ...args);
    const received: Uint8Array[] = [];
    this.chars()[1].o.onSubscribe(...args, 20, (d: Uint8Array) => received.push(new Uint8Array(d)));
    return {
      received,
      write: (data: Uint8Array) => new Promise<number>((r) => this.chars()[0].o.onWriteRequest(...args, data, 0, false, r)),
      leave: () => this.emit('disconnect', address, ...args),
    };
  }
}

const idsOnAir = (bleno: FakeBleno) => bleno.adverts.map((a) => toHex(a.scanResponse.slice(-8)));
const idOf = (secret: Uint8Array, epoch: number) => toHex(deriveAdvertisingId(nobleCrypto, secret, epoch));

/** Let the fake stack's callbacks (1 ms timers) run while `p` settles. */
async function settle<T>(p: Promise<T>): Promise<T> {
  await vi.advanceTimersByTimeAsync(50);
  return p;
}

async function startFake(bleno: FakeBleno, o: Partial<Parameters<typeof startCarPeripheral>[0]> = {}) {
  const started = startCarPeripheral({ bleno: bleno, ...o });
  await vi.advanceTimersByTimeAsync(10);
  return started;
}

describe('the car re-advertises its rotating id at each epoch boundary', () => {
  it('rotates exactly at the boundaries, and stop() leaves no timer behind', async () => {
    vi.useFakeTimers({ now: BOUNDARY - 5_000 });
    const bleno = new FakeBleno('stoprocent');
    const car = await startFake(bleno, { advertising: { secret: secretA } });
    const e0 = advertisingEpoch(BOUNDARY - 5_000);
    expect(idsOnAir(bleno)).toEqual([idOf(secretA, e0)]);
    expect(car.advertisement).toMatchObject({ epoch: e0 });
    expect(toHex(car.advertisement.id!)).toBe(idOf(secretA, e0));
    expect(toHex(bleno.adverts[0]!.advertisement)).toBe(toHex(encodeCarAdvertisement({}).advertisement));

    await vi.advanceTimersByTimeAsync(4_900);
    expect(bleno.adverts).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(200);
    expect(idsOnAir(bleno)).toEqual([idOf(secretA, e0), idOf(secretA, e0 + 1)]);
    expect(bleno.stops).toBe(1); // stop, then start with the new data: a fresh advertising event
    expect(car.advertisement.epoch).toBe(e0 + 1);

    await vi.advanceTimersByTimeAsync(45 * 60_000); // three more epochs, re-checked every minute
    expect(idsOnAir(bleno)).toEqual([0, 1, 2, 3, 4].map((k) => idOf(secretA, e0 + k)));

    await settle(car.stop());
    expect(vi.getTimerCount()).toBe(0);
    await vi.advanceTimersByTimeAsync(3_600_000);
    expect(bleno.adverts).toHaveLength(5);
  });

  it('follows a clock step (NTP after boot) within a minute', async () => {
    vi.useFakeTimers({ now: BOUNDARY + 1_000 });
    const bleno = new FakeBleno('stoprocent');
    const car = await startFake(bleno, { advertising: { secret: secretA } });
    vi.setSystemTime(Date.now() + 3 * 86_400_000);
    await vi.advanceTimersByTimeAsync(61_000);
    expect(idsOnAir(bleno).at(-1)).toBe(idOf(secretA, advertisingEpoch(Date.now())));
    await settle(car.stop());
    expect(vi.getTimerCount()).toBe(0);
  });

  it('a failed re-advertise is reported and retried', async () => {
    vi.useFakeTimers({ now: BOUNDARY - 1_000 });
    const bleno = new FakeBleno('stoprocent');
    const errors: Error[] = [];
    const car = await startFake(bleno, { advertising: { secret: secretA }, onAdvertisingError: (e) => errors.push(e) });
    bleno.failNextStart = true;
    await vi.advanceTimersByTimeAsync(1_100);
    expect(errors).toHaveLength(1);
    expect(bleno.adverts).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(2_000);
    expect(idsOnAir(bleno).at(-1)).toBe(idOf(secretA, advertisingEpoch(BOUNDARY)));
    await settle(car.stop());
    expect(vi.getTimerCount()).toBe(0);
  });

  it('a failed re-advertise is reported with its count of failures in a row, reset by each rotation that went on air', async () => {
    vi.useFakeTimers({ now: BOUNDARY - 1_000 });
    const bleno = new FakeBleno('stoprocent');
    const inARow: number[] = [];
    const car = await startFake(bleno, { advertising: { secret: secretA }, onAdvertisingError: (_e, n) => inARow.push(n) });
    bleno.failNextStart = true;
    await vi.advanceTimersByTimeAsync(1_100); // the rotation at BOUNDARY fails
    bleno.failNextStart = true; // and so does its first retry
    await vi.advanceTimersByTimeAsync(30_000); // the next retry goes on air
    expect(inARow).toEqual([1, 2]);
    expect(idsOnAir(bleno).at(-1)).toBe(idOf(secretA, advertisingEpoch(BOUNDARY)));
    bleno.failNextStart = true; // an isolated failure at the next rotation, 15 min later
    await vi.advanceTimersByTimeAsync(15 * 60_000);
    expect(inARow).toEqual([1, 2, 1]);
    await settle(car.stop());
    expect(vi.getTimerCount()).toBe(0);
  });

  it('abandonware (one connection): a rotation due while the phone is connected waits for its disconnect', async () => {
    vi.useFakeTimers({ now: BOUNDARY - 1_000 });
    const bleno = new FakeBleno('abandonware');
    const car = await startFake(bleno, { advertising: { secret: secretA } });
    const phone = bleno.phone(undefined, '00:00:00:00:00:01');
    await vi.advanceTimersByTimeAsync(5_000);
    expect(bleno.adverts).toHaveLength(1); // not re-enabled under the connected phone
    phone.leave();
    await vi.advanceTimersByTimeAsync(100);
    expect(idsOnAir(bleno)).toEqual([idOf(secretA, advertisingEpoch(BOUNDARY - 1_000)), idOf(secretA, advertisingEpoch(BOUNDARY))]);
    await settle(car.stop());
    expect(vi.getTimerCount()).toBe(0);
  });

  it('stop() during a rotation waits for it and leaves advertising off', async () => {
    vi.useFakeTimers({ now: BOUNDARY - 100 });
    const bleno = new FakeBleno('stoprocent');
    const car = await startFake(bleno, { advertising: { secret: secretA } });
    for (let ms = 0; bleno.stopCalls === 0 && ms < 1000; ms++) await vi.advanceTimersByTimeAsync(1);
    expect(bleno.stops).toBe(0); // the rotation has begun: its stop-advertising is in flight
    const stopping = car.stop();
    await vi.advanceTimersByTimeAsync(50);
    await stopping;
    expect(bleno.advertising).toBe(false);
    expect(bleno.adverts).toHaveLength(1); // the rotation in flight did not start advertising again
    expect(vi.getTimerCount()).toBe(0);
  });
});

// ---------------------------------------------------------------------------------------------
// Private address (host-side LE privacy through the bindings' raw HCI socket)

/** A stoprocent-style fake whose bindings expose a raw HCI socket answering Command Complete. */
class HciFakeBleno extends FakeBleno {
  /** In order: `params <own address type>`, `address <hex, most significant first>`, `start`, `stop`. */
  readonly log: string[] = [];
  /** Status to answer the next command with that opcode (default 0); `null`: never answer. */
  readonly answer = new Map<number, number | null>();
  constructor() {
    super('stoprocent');
    const socket = Object.assign(new EventEmitter(), {
      write: (pkt: Uint8Array) => {
        expect(pkt[0]).toBe(0x01); // HCI command packet
        const opcode = pkt[1]! | (pkt[2]! << 8);
        const params = pkt.slice(4);
        expect(params.length).toBe(pkt[3]);
        if (opcode === 0x2006) this.log.push(`params ${params[5]}`);
        else if (opcode === 0x2005) this.log.push(`address ${reverseHex(params)}`);
        const status = this.answer.has(opcode) ? this.answer.get(opcode)! : 0;
        this.answer.delete(opcode);
        if (status === null) return;
        setTimeout(() => socket.emit('data', Buffer.from([0x04, 0x0e, 0x04, 0x01, opcode & 0xff, opcode >> 8, status])), 1);
      },
    });
    (this._bindings as unknown as { _hci: { _socket: unknown } })._hci._socket = socket;
  }
  override startAdvertisingWithEIRData(advertisement: Uint8Array, scanResponse: Uint8Array, cb?: (e?: unknown) => void) {
    this.log.push('start');
    super.startAdvertisingWithEIRData(advertisement, scanResponse, cb);
  }
  /** The next stop-advertising never completes (a stack that stops answering). */
  stallNextStop = false;
  override stopAdvertising(cb?: () => void) {
    this.log.push('stop');
    if (this.stallNextStop) {
      this.stallNextStop = false;
      return;
    }
    super.stopAdvertising(cb);
  }
  addresses(): string[] {
    return this.log.filter((l) => l.startsWith('address ')).map((l) => l.slice(8));
  }
}

const irkOf = (secret: Uint8Array) => deriveAddressIrk(nobleCrypto, secret);

describe('the car advertises from a resolvable private address that rotates with its id', () => {
  it('own address type random before the first start; a new address at every rotation, resolvable only with the car’s secret', async () => {
    vi.useFakeTimers({ now: BOUNDARY - 1_000 });
    const bleno = new HciFakeBleno();
    const car = await startFake(bleno, { advertising: { secret: secretA } });
    const [first] = bleno.addresses();
    expect(bleno.log).toEqual(['params 1', `address ${first}`, 'start']);
    expect(car.advertisement.address).toBe(formatAddress(fromHex(first!)));
    await vi.advanceTimersByTimeAsync(1_100);
    const [, second] = bleno.addresses();
    // parameters again each time: an adapter reset makes bleno re-initialise them as public
    expect(bleno.log.slice(3)).toEqual(['stop', 'params 1', `address ${second}`, 'start']);
    expect(second).not.toBe(first);
    expect(car.advertisement.address).toBe(formatAddress(fromHex(second!)));
    for (const a of [first!, second!]) {
      expect(fromHex(a)[0]! >> 6).toBe(0b01); // resolvable private address
      expect(resolvesPrivateAddress(irkOf(secretA), fromHex(a))).toBe(true);
      expect(resolvesPrivateAddress(irkOf(secretB), fromHex(a))).toBe(false);
    }
    await settle(car.stop());
    expect(vi.getTimerCount()).toBe(0);
  });

  it('updateAdvertisingSecret: a new id and a new address at once, resolvable with the new secret only', async () => {
    vi.useFakeTimers({ now: BOUNDARY + 60_000 });
    const bleno = new HciFakeBleno();
    const car = await startFake(bleno, { advertising: { secret: secretA } });
    const e0 = advertisingEpoch(Date.now());
    const updating = car.updateAdvertisingSecret(secretB);
    await vi.advanceTimersByTimeAsync(50);
    await updating;
    expect(idsOnAir(bleno)).toEqual([idOf(secretA, e0), idOf(secretB, e0)]); // same epoch, new secret
    const [a1, a2] = bleno.addresses();
    expect(bleno.log.slice(3)).toEqual(['stop', 'params 1', `address ${a2}`, 'start']);
    expect(resolvesPrivateAddress(irkOf(secretB), fromHex(a2!))).toBe(true);
    expect(resolvesPrivateAddress(irkOf(secretA), fromHex(a2!))).toBe(false);
    expect(a2).not.toBe(a1);
    // the next epoch goes on under the new secret
    await vi.advanceTimersByTimeAsync(15 * 60_000);
    expect(idsOnAir(bleno).at(-1)).toBe(idOf(secretB, e0 + 1));
    await expect(car.updateAdvertisingSecret(new Uint8Array(8))).rejects.toThrow(/at least 16 bytes/);
    await settle(car.stop());
    expect(vi.getTimerCount()).toBe(0);
  });

  it('a secret change while a rotation is starting is not lost, even if the next attempt stalls', async () => {
    vi.useFakeTimers({ now: BOUNDARY - 100 });
    const bleno = new HciFakeBleno();
    const errors: Error[] = [];
    const car = await startFake(bleno, { advertising: { secret: secretA }, onAdvertisingError: (e) => errors.push(e) });
    // the epoch rotation has computed its advertisement (old secret) and is setting the address
    for (let ms = 0; bleno.addresses().length < 2 && ms < 1000; ms++) await vi.advanceTimersByTimeAsync(1);
    expect(bleno.addresses()).toHaveLength(2);
    bleno.stallNextStop = true; // the run queued for the new secret will time out at its first step
    const updating = car.updateAdvertisingSecret(secretB);
    await vi.advanceTimersByTimeAsync(2_100);
    await updating;
    expect(errors.map((e) => e.message)).toEqual([expect.stringMatching(/stop advertising/)]);
    await vi.advanceTimersByTimeAsync(5_000); // retried: the new secret goes on air within the epoch
    expect(idsOnAir(bleno).at(-1)).toBe(idOf(secretB, advertisingEpoch(Date.now())));
    await settle(car.stop());
    expect(vi.getTimerCount()).toBe(0);
  });

  it('updateAdvertisingSecret on abandonware waits for its one phone to leave; without advertising it is a misuse', async () => {
    vi.useFakeTimers({ now: BOUNDARY + 60_000 });
    const bleno = new FakeBleno('abandonware');
    const car = await startFake(bleno, { advertising: { secret: secretA } });
    const phone = bleno.phone(undefined, '00:00:00:00:00:01');
    await car.updateAdvertisingSecret(secretB);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(bleno.adverts).toHaveLength(1);
    phone.leave();
    await vi.advanceTimersByTimeAsync(100);
    expect(idsOnAir(bleno).at(-1)).toBe(idOf(secretB, advertisingEpoch(Date.now())));
    await settle(car.stop());
    const plain = await startFake(new FakeBleno('stoprocent'));
    await expect(plain.updateAdvertisingSecret(secretB)).rejects.toThrow(/started without `advertising`/);
    await settle(plain.stop());
  });

  it('"auto" on a stack without a raw HCI socket keeps the controller address and says so; true refuses to start', async () => {
    vi.useFakeTimers({ now: BOUNDARY - 1_000 });
    const plain = new FakeBleno('abandonware');
    const car = await startFake(plain, { advertising: { secret: secretA } });
    expect(car.advertisement.address).toBeUndefined();
    await settle(car.stop());
    await expect(startCarPeripheral({ bleno: new FakeBleno('abandonware'), advertising: { secret: secretA, privateAddress: true } })).rejects.toThrow(
      /privateAddress: this bleno has no raw HCI socket/,
    );
    const off = new HciFakeBleno();
    const car2 = await startFake(off, { advertising: { secret: secretA, privateAddress: false } });
    expect(off.log).toEqual(['start']);
    expect(car2.advertisement.address).toBeUndefined();
    await settle(car2.stop());
  });

  it('a controller that refuses the address at a rotation: reported, advertising stays off, retried with a new address', async () => {
    vi.useFakeTimers({ now: BOUNDARY - 1_000 });
    const bleno = new HciFakeBleno();
    const errors: Error[] = [];
    const car = await startFake(bleno, { advertising: { secret: secretA }, onAdvertisingError: (e) => errors.push(e) });
    bleno.answer.set(0x2005, 0x0c); // Command Disallowed
    await vi.advanceTimersByTimeAsync(1_100);
    expect(errors.map((e) => e.message)).toEqual([expect.stringMatching(/0x2005 failed with status 0x0c/)]);
    expect(bleno.log.at(-1)).toMatch(/^address /); // never started again from the old address
    expect(bleno.advertising).toBe(false);
    await vi.advanceTimersByTimeAsync(2_000);
    expect(bleno.log.at(-1)).toBe('start');
    expect(new Set(bleno.addresses()).size).toBe(3);
    expect(car.advertisement.address).toBe(formatAddress(fromHex(bleno.addresses()[2]!)));
    await settle(car.stop());
    expect(vi.getTimerCount()).toBe(0);
  });

  it('at start, a refused or unanswered HCI command fails startCarPeripheral with a typed error, never a hang', async () => {
    vi.useFakeTimers({ now: BOUNDARY - 1_000 });
    const refused = new HciFakeBleno();
    refused.answer.set(0x2006, 0x12); // Invalid HCI Command Parameters
    const p1 = expect(startCarPeripheral({ bleno: refused, advertising: { secret: secretA } })).rejects.toBeInstanceOf(LinkClosedError);
    await vi.advanceTimersByTimeAsync(50);
    await p1;
    expect(refused.log).toEqual(['params 1']);
    const silent = new HciFakeBleno();
    silent.answer.set(0x2005, null);
    const settled = expect(startCarPeripheral({ bleno: silent, advertising: { secret: secretA }, startTimeoutMs: 3_000 })).rejects.toBeInstanceOf(TimeoutError);
    await vi.advanceTimersByTimeAsync(3_100);
    await settled;
    expect(silent.log).not.toContain('start');
  });
});

// ---------------------------------------------------------------------------------------------
// RSSI of connected phones

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** Poll (real timers) until `ok()`, at most `ms`. */
async function until(ok: () => boolean, ms = 5_000): Promise<void> {
  for (const end = Date.now() + ms; !ok();) {
    if (Date.now() > end) throw new Error('condition not reached in time');
    await sleep(5);
  }
}

describe.each<Style>(['stoprocent', 'abandonware'])('car-side RSSI on a %s-style stack', (style) => {
  it('samples each open link, drops "not available" readings, stops with the link', async () => {
    const bleno = new FakeBleno(style);
    const samples: { link: PhoneLink; rssi: number }[] = [];
    const links: PhoneLink[] = [];
    const car = await startCarPeripheral({
      bleno: bleno,
      rssiIntervalMs: 5,
      onRssi: (link, rssi) => samples.push({ link, rssi }),
      onLink: (l) => links.push(l),
    });
    const handles = style === 'stoprocent' ? [64, 65, 66] : [undefined];
    const values = [-50, -70, 127];
    handles.forEach((h, i) => {
      bleno.rssiOf.set(h, values[i]);
      bleno.phone(h, `00:00:00:00:00:0${i + 1}`);
    });
    await until(() => links.length === handles.length);
    const countOf = (l: PhoneLink) => samples.filter((s) => s.link === l).length;
    await until(() => links.every((l, i) => values[i] === 127 || countOf(l) >= 4));
    await until(() => bleno.rssiReads.filter((h) => h === handles.at(-1)).length >= 4); // the 127 one was read too
    for (const [i, link] of links.entries()) {
      const mine = samples.filter((s) => s.link === link).map((s) => s.rssi);
      if (values[i] === 127) expect(mine).toEqual([]);
      else {
        expect(mine.length).toBeGreaterThan(3);
        expect(new Set(mine)).toEqual(new Set([values[i]]));
        expect(link.rssi).toBe(values[i]);
      }
    }
    expect(await links[0]!.readRssi()).toBe(-50);
    bleno.rssiOf.set(handles[0], -1); // the emulator's placeholder
    expect(await links[0]!.readRssi()).toBeUndefined();

    links[0]!.close();
    const reads = bleno.rssiReads.length;
    await sleep(40);
    if (style === 'abandonware') expect(bleno.rssiReads.length).toBe(reads);
    else {
      expect(bleno.rssiReads.slice(reads)).not.toContain(64);
      expect(bleno.rssiReads.slice(reads)).toContain(65); // the others go on
    }
    expect(await links[0]!.readRssi()).toBeUndefined();
    await car.stop();
    const after = bleno.rssiReads.length;
    await sleep(30);
    expect(bleno.rssiReads.length).toBe(after);
  });

  it('a stack that never answers: sampling gives up after 3 reads, the session is unaffected', async () => {
    const bleno = new FakeBleno(style);
    const samples: number[] = [];
    let link: PhoneLink | undefined;
    const car = await startCarPeripheral({
      bleno: bleno,
      rssiIntervalMs: 10,
      onRssi: (_l, rssi) => samples.push(rssi),
      onLink: (l) => (link = l),
    });
    const phone = bleno.phone(style === 'stoprocent' ? 64 : undefined, '00:00:00:00:00:01');
    await until(() => bleno.rssiReads.length >= 3); // three reads of 200 ms each without an answer
    await sleep(400);
    expect(bleno.rssiReads).toHaveLength(3); // then it gave up
    expect(samples).toEqual([]);
    expect(link!.isClosed).toBe(false);
    expect(await link!.readRssi({ timeoutMs: 20 })).toBeUndefined();
    await link!.send(Uint8Array.of(1, 2, 3));
    expect(phone.received).toHaveLength(1);
    expect(await phone.write(Uint8Array.of(0xc0, 9))).toBe(0);
    expect(await link!.receive({ timeoutMs: 100 })).toEqual(Uint8Array.of(9));
    await car.stop();
    await expect(link!.receive()).rejects.toBeInstanceOf(LinkClosedError);
  });
});

// ---------------------------------------------------------------------------------------------
// The phone: choosing its car among several advertisers

class FakeNoble extends EventEmitter implements NobleLike {
  state = 'poweredOn';
  readonly scans: boolean[] = [];
  /** Each scan reports these, in order (a round may report a peripheral again). */
  rounds: NoblePeripheral[][] = [];
  async startScanningAsync(_uuids?: string[], allowDuplicates?: boolean) {
    this.scans.push(!!allowDuplicates);
    let t = 1;
    for (const round of this.rounds) for (const p of round) setTimeout(() => this.emit('discover', p), t++);
  }
  async stopScanningAsync() {}
}

function advertiser(address: string, secret: Uint8Array | undefined, epoch: number): NoblePeripheral {
  const layout = encodeCarAdvertisement(secret ? { id: deriveAdvertisingId(nobleCrypto, secret, epoch) } : {});
  return Object.assign(new EventEmitter(), {
    id: address,
    address,
    rssi: -60,
    mtu: null,
    state: 'disconnected',
    advertisement: nobleView(layout),
  }) as unknown as NoblePeripheral;
}

describe('the phone picks its own car by its rotating id', () => {
  const now = BOUNDARY + 60_000;
  const e = advertisingEpoch(now);
  const cars = [
    { carId: 'car-a', secret: secretA },
    { carId: 'car-b', secret: secretB },
  ];

  it('among unknown, stale, id-less and other cars’ advertisers, connects only to the one it holds the secret of', async () => {
    const noble = new FakeNoble();
    noble.rounds = [
      [
        advertiser('00:00:00:00:00:01', secretX, e), // a stranger's car
        advertiser('00:00:00:00:00:02', undefined, e), // no id (older car, or scan response not seen)
        advertiser('00:00:00:00:00:03', secretA, e - 2), // car A's id from 30 min ago: outside ± 1 epoch
        advertiser('00:00:00:00:00:04', secretB, e), // car B
        advertiser('00:00:00:00:00:05', secretA, e + 1), // car A, its clock a few minutes ahead
      ],
    ];
    const matches: string[] = [];
    const found = await findCar({
      noble,
      scanTimeoutMs: 500,
      filter: advertisingFilter({ cars: [cars[0]!], now: () => now, onMatch: (m) => matches.push(`${m.carId}@${m.skew}`) }),
    });
    expect(found.address).toBe('00:00:00:00:00:05');
    expect(matches).toEqual(['car-a@1']);
    expect(noble.scans).toEqual([true]); // duplicates reported: a car is judged again on each advertisement

    const either = await findCar({ noble, scanTimeoutMs: 500, filter: advertisingFilter({ cars, now: () => now }) });
    expect(either.address).toBe('00:00:00:00:00:04');
  });

  it('fallbackAfterMs: its own car first if seen in time; else, after the delay, the proxkey car heard last (its secret may have changed)', async () => {
    const noble = new FakeNoble();
    const filter = advertisingFilter({ cars: [cars[0]!], now: () => now });
    // car A under a secret the phone does not hold yet (rotated at a revocation), and a stranger
    noble.rounds = [[advertiser('00:00:00:00:00:0a', secretX, e), advertiser('00:00:00:00:00:0b', secretB, e)]];
    const t0 = performance.now();
    const fallback = await findCar({ noble, scanTimeoutMs: 2_000, filter, fallbackAfterMs: 150 });
    expect(performance.now() - t0).toBeGreaterThanOrEqual(140);
    expect(fallback.address).toBe('00:00:00:00:00:0b');
    expect(filter(fallback)).toBe(false); // how the caller knows to fetch the new secret
    // its own car is preferred while the delay runs
    noble.rounds = [[advertiser('00:00:00:00:00:0a', secretX, e), advertiser('00:00:00:00:00:0c', secretA, e)]];
    const own = await findCar({ noble, scanTimeoutMs: 2_000, filter, fallbackAfterMs: 150 });
    expect(own.address).toBe('00:00:00:00:00:0c');
    // nothing at all: still the scan timeout, typed
    noble.rounds = [];
    await expect(findCar({ noble, scanTimeoutMs: 300, filter, fallbackAfterMs: 100 })).rejects.toBeInstanceOf(TimeoutError);
  });

  it('no advertiser of its cars: TimeoutError (the CLI says "car not found")', async () => {
    const noble = new FakeNoble();
    noble.rounds = [[advertiser('00:00:00:00:00:01', secretX, e), advertiser('00:00:00:00:00:02', secretB, e)]];
    await expect(findCar({ noble, scanTimeoutMs: 50, filter: advertisingFilter({ cars: [cars[0]!], now: () => now }) })).rejects.toBeInstanceOf(TimeoutError);
  });

  it('a car first reported without its scan response is accepted once the id arrives', async () => {
    const noble = new FakeNoble();
    const early = advertiser('00:00:00:00:00:07', undefined, e);
    const later = advertiser('00:00:00:00:00:07', secretA, e);
    noble.rounds = [[early], [later]];
    const found = await findCar({ noble, scanTimeoutMs: 500, filter: advertisingFilter({ cars: [cars[0]!], now: () => now }) });
    expect(found).toBe(later);
  });

  it('the CLI filter: resolves a car record, and falls back to any car without a usable secret', () => {
    const p = advertiser('00:00:00:00:00:08', secretA, advertisingEpoch(Date.now()));
    expect(carFilter({ carId: 'a', advertisingSecret: secretA })!(p)).toBe(true);
    expect(carFilter({ carId: 'b', advertisingSecret: secretB })!(p)).toBe(false);
    expect(carFilter({ carId: 'a' })).toBeUndefined();
    expect(carFilter({ carId: 'a', advertisingSecret: new Uint8Array(32) })).toBeUndefined();
  });
});

// ---------------------------------------------------------------------------------------------
// The car daemon's wiring: link RSSI → engine (keyed by the authenticated key) → policy

describe('car daemon proximity wiring (linkProximity)', () => {
  it('feeds a link’s samples under the key its session authenticated as; the policy sees the zone', async () => {
    let t = 10_000;
    const clock = () => t;
    const proximity = linkProximity(new ProximityEngine({ now: clock }), { now: clock });
    const service = await VehicleService.open({
      store: new MemoryVehicleStore(),
      actuator: () => undefined,
      policy: defaultPolicy({ maxRttMs: Infinity, requireProximity: { unlock: ['near', 'approach'] } }),
      hooks: proximity.hooks,
      onEvent: (ev, _keyId, link) => proximity.onEvent(ev, link),
    });
    const serve = (carLink: Link) => service.serve(carLink);

    // the owner pairs; a friend gets a shared key (redeemed on its first unlock)
    const phoneA = await PhoneWallet.open({ store: new MemoryPhoneStore(), label: 'A' });
    const { code } = await service.openPairing({ scrypt: FAST_SCRYPT });
    {
      const [pl, cl] = createMemoryLinkPair();
      const served = serve(cl);
      await phoneA.pair(pl, code, { timeoutMs: 5000 });
      await served;
    }
    const phoneB = await PhoneWallet.open({ store: new MemoryPhoneStore(), label: 'B' });
    await phoneB.acceptShare((await phoneA.share(phoneB.keyRequest(), { permissions: ['unlock'] })).share);

    // Both phones connected at once; only A's link has a strong signal, sampled before its handshake.
    const [pa, ca] = createMemoryLinkPair();
    const [pb, cb] = createMemoryLinkPair();
    for (let k = 0; k < 8; k++) {
      t += 250;
      proximity.onRssi(ca, -45);
      proximity.onRssi(cb, -95);
    }
    const servedA = serve(ca);
    const servedB = serve(cb);
    const [ra, rb] = await Promise.all([phoneA.command(pa, 'unlock', { timeoutMs: 5000 }), phoneB.command(pb, 'unlock', { timeoutMs: 5000 })]);
    await Promise.all([servedA, servedB]);
    expect(ra.status).toBe('ok');
    expect(rb.status).toBe('out-of-range');
    expect(proximity.engine.verdict(phoneA.keyId).zone).toBe('near');
    expect(proximity.engine.state(phoneB.keyId)?.zone).toBe('far');

    // A later sample of A's link goes straight to A's key
    t += 250;
    proximity.onRssi(ca, -46);
    expect(proximity.engine.state(phoneA.keyId)?.lastSampleAt).toBe(t);
    // no samples for a while: stale, unknown, out of range
    t += 10_000;
    const [pa2, ca2] = createMemoryLinkPair();
    const served2 = serve(ca2);
    expect((await phoneA.command(pa2, 'unlock', { timeoutMs: 5000 })).status).toBe('out-of-range');
    await served2;
    proximity.stop();
  });
});

describe('car daemon passive entry (linkProximity → VehicleService.passiveEntry)', () => {
  it('a present phone whose link closes: walk-away lock exactly after the link-loss grace period, from the timer alone', async () => {
    vi.useFakeTimers({ now: BOUNDARY });
    const decisions: ProximityDecision[] = [];
    const proximity = linkProximity(new ProximityEngine({ now: Date.now, approachUnlock: true }), { now: Date.now, onDecision: (d) => decisions.push(d) });
    const link = {};
    proximity.onEvent({ type: 'authenticated', keyId: 'k1', known: true, rttMs: 20 }, link);
    for (let k = 0; k < 16; k++) {
      await vi.advanceTimersByTimeAsync(250);
      proximity.onRssi(link, -45);
    }
    expect(decisions.map((d) => d.type)).toEqual(['approach-unlock']);
    proximity.onClose(link);
    const closedAt = Date.now();
    await vi.advanceTimersByTimeAsync(DEFAULT_PASSIVE_ENTRY.linkLossGraceMs - 100);
    expect(decisions).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(200);
    expect(decisions.map((d) => [d.type, d.keyId, d.cause])).toEqual([
      ['approach-unlock', 'k1', 'near'],
      ['walk-away-lock', 'k1', 'link-lost'],
    ]);
    expect(decisions[1]!.at).toBe(closedAt + DEFAULT_PASSIVE_ENTRY.linkLossGraceMs);
    proximity.stop();
    expect(vi.getTimerCount()).toBe(0);
  });

  it('a phone that reconnects within the grace period is not locked out; one never near is never locked', async () => {
    vi.useFakeTimers({ now: BOUNDARY });
    const decisions: ProximityDecision[] = [];
    const proximity = linkProximity(new ProximityEngine({ now: Date.now }), { now: Date.now, onDecision: (d) => decisions.push(d) });
    const [first, second, far] = [{}, {}, {}];
    proximity.onEvent({ type: 'authenticated', keyId: 'k1', known: true, rttMs: 20 }, first);
    proximity.onEvent({ type: 'authenticated', keyId: 'k2', known: true, rttMs: 20 }, far);
    for (let k = 0; k < 16; k++) {
      await vi.advanceTimersByTimeAsync(250);
      proximity.onRssi(first, -45);
      proximity.onRssi(far, -95);
    }
    proximity.onClose(first);
    proximity.onClose(far);
    await vi.advanceTimersByTimeAsync(3_000);
    proximity.onEvent({ type: 'authenticated', keyId: 'k1', known: true, rttMs: 20 }, second);
    for (let k = 0; k < 40; k++) {
      await vi.advanceTimersByTimeAsync(250);
      proximity.onRssi(second, -45);
    }
    expect(decisions).toEqual([]); // approach-unlock is off by default; no lock for k1 (back), none for k2 (never near)
    proximity.stop();
  });

  it('passiveEntry: a throwing actuator is actuator-failed and still audited; a throwing ranging hook counts as failed ranging', async () => {
    const service = await VehicleService.open({
      store: new MemoryVehicleStore(),
      actuator: () => {
        throw new Error('relay board unplugged');
      },
      policy: defaultPolicy({ requireRanging: ['unlock'] }),
      hooks: {
        ranging: async () => {
          throw new Error('UWB offline');
        },
      },
    });
    const owner = await service.registry.enroll((await generateP256KeyPair(nobleCrypto, systemRandom)).publicKey, { role: 'owner' });
    expect(await service.passiveEntry({ type: 'walk-away-lock', keyId: owner.id, at: 0, cause: 'link-lost', distanceM: undefined })).toBe('actuator-failed');
    expect(await service.passiveEntry({ type: 'approach-unlock', keyId: owner.id, at: 0, cause: 'near', distanceM: 0.8, rttMs: 20 })).toBe('ranging-failed');
    expect((await service.audit()).map((e) => [e.event, e.command, e.result, e.proximity])).toEqual([
      ['passive-entry', 'lock', 'actuator-failed', 'unknown'],
      ['passive-entry', 'unlock', 'ranging-failed', 'near'],
    ]);
  });

  it('passiveEntry locks through the actuator and audits; the policy still decides per key', async () => {
    const executed: string[] = [];
    const service = await VehicleService.open({
      store: new MemoryVehicleStore(),
      actuator: (command) => void executed.push(command.kind),
      policy: defaultPolicy({ requireIntent: ['start', 'unlock'] }),
    });
    const publicKey = async () => (await generateP256KeyPair(nobleCrypto, systemRandom)).publicKey;
    const owner = await service.registry.enroll(await publicKey(), { role: 'owner' });
    const friend = await service.registry.enroll(await publicKey(), { role: 'shared', permissions: ['unlock'] });
    const decision = (type: ProximityDecision['type'], keyId: string): ProximityDecision => ({
      type,
      keyId,
      at: 0,
      cause: type === 'walk-away-lock' ? 'far' : 'near',
      distanceM: 12.5,
      rttMs: 20,
    });
    expect(await service.passiveEntry(decision('walk-away-lock', owner.id))).toBe('ok');
    expect(await service.passiveEntry(decision('walk-away-lock', friend.id))).toBe('not-permitted');
    expect(await service.passiveEntry(decision('approach-unlock', owner.id))).toBe('intent-required');
    expect(await service.passiveEntry(decision('walk-away-lock', '00'.repeat(8)))).toBe('unknown-key');
    expect(executed).toEqual(['lock']);
    const audit = (await service.audit()).filter((e) => e.event === 'passive-entry');
    expect(audit.map((e) => [e.keyId, e.command, e.result, e.proximity, e.detail])).toEqual([
      [owner.id, 'lock', 'ok', 'far', 'walk-away-lock (far, 12.5 m)'],
      [friend.id, 'lock', 'not-permitted', 'far', 'walk-away-lock (far, 12.5 m)'],
      [owner.id, 'unlock', 'intent-required', 'near', 'approach-unlock (near, 12.5 m)'],
      ['00'.repeat(8), 'lock', 'unknown-key', 'far', 'walk-away-lock (far, 12.5 m)'],
    ]);
  });
});
