/**
 * proxkey/react-native against a fake react-native-ble-plx BleManager (the real package's types)
 * bridged to a real VehicleService: full transactions over GATT semantics at MTU 23, 185 (iOS)
 * and 517, with and without response, rotation + fallback, disconnects, bounds, typed errors.
 */
import { describe, expect, it } from 'vitest';
import { BleUnavailableError, base64ToBytes, bytesToBase64, carFilter, connectToCar, findCar, p1363Signature } from '../../src/adapters/react-native/index.js';
import type { State } from 'react-native-ble-plx';
import {
  LinkClosedError,
  RemoteError,
  TimeoutError,
  MemoryPhoneStore,
  MemoryVehicleStore,
  PhoneWallet,
  VehicleService,
  defaultPolicy,
} from '../../src/index.js';
import { addVehicle, bench, type Bench } from './helpers.js';

async function pairOwner(b: Bench) {
  const { code } = await b.vehicle.openPairing();
  const link = await connectToCar({ manager: b.manager });
  const car = await b.wallet.pair(link, code);
  await link.disconnected;
  return car;
}

async function unlockWithFilter(b: Bench, options: Partial<Parameters<typeof connectToCar>[0]> = {}) {
  const filter = carFilter(b.wallet.car());
  expect(filter).toBeDefined();
  const link = await connectToCar({ manager: b.manager, filter, fallbackAfterMs: 2_000, ...options });
  const result = await b.wallet.command(link, 'unlock', { refreshAdvertising: !filter!(link.device) });
  await link.disconnected;
  return { link, result };
}

describe('base64 (one place)', () => {
  it('round-trips every length and rejects malformed values', () => {
    for (let n = 0; n < 40; n++) {
      const bytes = Uint8Array.from({ length: n }, (_, i) => (i * 37 + n) & 0xff);
      const b64 = bytesToBase64(bytes);
      expect(b64).toBe(Buffer.from(bytes).toString('base64'));
      expect(base64ToBytes(b64, 'x')).toEqual(bytes);
    }
    expect(base64ToBytes('AQID\r\nBA==', 'x')).toEqual(Uint8Array.of(1, 2, 3, 4));
    for (const bad of ['A', 'AQ=', '@@@@', 'AQ-_', 'AQID=', 'AR==']) expect(() => base64ToBytes(bad, 'x'), bad).toThrow(RemoteError);
  });
});

describe('pair and unlock over the fake ble-plx radio', () => {
  it('Android, MTU 517: pair with the code, then unlock after resolving the rotating id; one write per message', async () => {
    const b = await bench();
    const car = await pairOwner(b);
    expect(car.role).toBe('owner');
    const { link, result } = await unlockWithFilter(b);
    expect(result.status).toBe('ok');
    expect(b.executed).toEqual(['unlock']);
    expect(link.mtu).toBe(517);
    expect(b.manager.stats.mtuRequests).toContain(517);
    expect(b.manager.stats.largestWrite).toBeGreaterThan(160); // the 169-byte HANDSHAKE went in one value
    expect(b.manager.stats.largestWrite).toBeLessThanOrEqual(514);
    expect(b.manager.isConnected(b.carId)).toBe(false); // closing the link disconnected
  });

  it('MTU 23 (a car that accepts no more): fragments of at most 20 bytes, full transactions', async () => {
    const b = await bench({ maxMtu: 23 });
    await pairOwner(b);
    const { link, result } = await unlockWithFilter(b);
    expect(result.status).toBe('ok');
    expect(link.mtu).toBe(23);
    expect(b.manager.stats.largestWrite).toBe(20);
    expect(b.manager.stats.writesWithResponse).toBeGreaterThan(20);
    expect(b.manager.stats.notifications).toBeGreaterThan(10);
  });

  it('iOS: the stack fixed the MTU (185); requesting is a no-op and fragments follow what the device reports', async () => {
    const b = await bench({ platform: 'ios', iosMtu: 185 });
    await pairOwner(b);
    const { link, result } = await unlockWithFilter(b, { mtu: 517 });
    expect(result.status).toBe('ok');
    expect(link.mtu).toBe(185);
    expect(b.manager.stats.largestWrite).toBeLessThanOrEqual(182);
  });

  it('write without response when asked and the characteristic allows it; with response otherwise', async () => {
    const b = await bench({ maxMtu: 64 });
    await pairOwner(b);
    const before = b.manager.stats.writesWithResponse;
    const { link, result } = await unlockWithFilter(b, { writeWithoutResponse: true });
    expect(result.status).toBe('ok');
    expect(link.writeWithoutResponse).toBe(true);
    expect(b.manager.stats.writesWithoutResponse).toBeGreaterThan(3);
    expect(b.manager.stats.writesWithResponse).toBe(before);

    const strict = await bench({ writeWithoutResponse: false });
    await pairOwner(strict);
    const r = await unlockWithFilter(strict, { writeWithoutResponse: true });
    expect(r.result.status).toBe('ok');
    expect(r.link.writeWithoutResponse).toBe(false);
    expect(strict.manager.stats.writesWithoutResponse).toBe(0);
  });

  it('lock, start (with intent) and trunk on one session', async () => {
    const b = await bench();
    await pairOwner(b);
    const link = await connectToCar({ manager: b.manager, filter: carFilter(b.wallet.car())! });
    const { result, connection } = await b.wallet.open(link, 'lock');
    expect(result.status).toBe('ok');
    expect((await connection.send('start', { intent: true })).status).toBe('ok');
    expect((await connection.send('trunk')).status).toBe('ok');
    await connection.close();
    expect(b.executed).toEqual(['lock', 'start', 'trunk']);
  });
});

describe('the rotating id: own car among several, fallback after a rotation', () => {
  it('connects to its own car while a stranger advertises too', async () => {
    const b = await bench();
    await pairOwner(b);
    const stranger = await VehicleService.open({ store: new MemoryVehicleStore(), policy: defaultPolicy({ maxRttMs: 5_000 }), actuator: () => {} });
    b.manager.removeCar(b.carId); // the stranger is reported first in every scan round
    addVehicle(b.manager, stranger, 'STRANGER');
    addVehicle(b.manager, b.vehicle, b.carId, b.links);
    expect((await findCar({ manager: b.manager, scanTimeoutMs: 2_000 })).id).toBe('STRANGER'); // without a filter
    const filter = carFilter(b.wallet.car())!;
    const found = await findCar({ manager: b.manager, filter, scanTimeoutMs: 2_000 });
    expect(found.id).toBe(b.carId);
    const { result } = await unlockWithFilter(b);
    expect(result.status).toBe('ok');
    expect(b.executed).toEqual(['unlock']);
  });

  it('after a revocation rotates the secret: nothing resolves, the fallback connects, the phone fetches the new secret', async () => {
    const b = await bench();
    await pairOwner(b);
    // a friend's key, used once, then revoked at the car: the car's advertising secret changes
    const friend = await PhoneWallet.open({ store: new MemoryPhoneStore(), label: 'friend' });
    await friend.acceptShare((await b.wallet.share(friend.keyRequest())).share);
    const fl = await connectToCar({ manager: b.manager });
    expect((await friend.command(fl, 'unlock')).status).toBe('ok');
    const oldSecret = b.wallet.car().advertisingSecret!;
    await b.vehicle.revoke(friend.keyId);
    expect(b.vehicle.advertisingSecret).not.toEqual(oldSecret);

    const stale = carFilter(b.wallet.car())!;
    await expect(findCar({ manager: b.manager, filter: stale, scanTimeoutMs: 150 })).rejects.toBeInstanceOf(TimeoutError);
    const { link, result } = await unlockWithFilter(b, { fallbackAfterMs: 50 });
    expect(result.status).toBe('ok');
    expect(stale(link.device)).toBe(false); // found by the fallback
    expect(b.wallet.car().advertisingSecret).toEqual(b.vehicle.advertisingSecret); // refreshed in the same session
    const fresh = await findCar({ manager: b.manager, filter: carFilter(b.wallet.car())!, scanTimeoutMs: 500 });
    expect(fresh.id).toBe(b.carId);
  });
});

describe('disconnects, bounds and typed errors', () => {
  it('the car drops the link mid-command: a typed LinkClosedError, then a retry succeeds', async () => {
    let drop = true;
    const b: Bench = await bench({
      actuator: async (command) => {
        if (drop) {
          drop = false;
          b.manager.dropConnection(b.carId);
          await new Promise((r) => setTimeout(r, 50));
        }
        b.executed.push(command.kind);
      },
    });
    await pairOwner(b);
    const link = await connectToCar({ manager: b.manager, filter: carFilter(b.wallet.car())! });
    const error = await b.wallet.command(link, 'unlock', { timeoutMs: 3_000 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LinkClosedError);
    expect((await link.closed).by).toBe('remote');
    await link.disconnected;
    const { result } = await unlockWithFilter(b);
    expect(result.status).toBe('ok');
  });

  it('a car that stops answering writes: the write times out typed, the native call is cancelled, the link closes', async () => {
    const b = await bench();
    await pairOwner(b);
    const link = await connectToCar({ manager: b.manager, filter: carFilter(b.wallet.car())!, writeTimeoutMs: 100 });
    b.manager.hangWrites = true;
    const error = await link.send(new Uint8Array(10)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TimeoutError);
    expect(link.isClosed).toBe(true);
    expect(b.manager.stats.cancelled).toBe(1); // the native write was cancelled by its transaction id
    await link.disconnected;
    expect(b.manager.isConnected(b.carId)).toBe(false);
  });

  it('the car disconnects while a write is pending: the send fails with the disconnect, and the link closes as remote (not transport)', async () => {
    const b = await bench();
    await pairOwner(b);
    const link = await connectToCar({ manager: b.manager, filter: carFilter(b.wallet.car())! });
    b.manager.hangWrites = true;
    const sending = link.send(new Uint8Array(10)).catch((e: unknown) => e);
    setTimeout(() => b.manager.dropConnection(b.carId), 10);
    expect(await sending).toBeInstanceOf(LinkClosedError);
    expect((await link.closed).by).toBe('remote');
    await link.disconnected;
  });

  it('a notification monitor that fails while the car stays connected (CCCD write refused): the link ends (transport) and the connection is cancelled', async () => {
    const b = await bench();
    await pairOwner(b);
    const manager = b.manager as unknown as { monitorCharacteristicForDevice: (...args: unknown[]) => unknown };
    const monitor = manager.monitorCharacteristicForDevice.bind(b.manager);
    let failMonitor = true;
    manager.monitorCharacteristicForDevice = (...args: unknown[]) => {
      if (!failMonitor) return monitor(...args);
      const listener = args[3] as (error: Error | null, c: null) => void;
      setTimeout(() => listener(new Error('Characteristic notify change failed'), null), 0);
      return { remove() {} };
    };
    const link = await connectToCar({ manager: b.manager, filter: carFilter(b.wallet.car())! });
    const info = await link.closed;
    expect(info.by).toBe('transport');
    expect(info.reason).toMatch(/notify change failed/);
    await link.disconnected;
    expect(b.manager.isConnected(b.carId)).toBe(false);
    failMonitor = false;
    const { result } = await unlockWithFilter(b);
    expect(result.status).toBe('ok');
  });

  it('no car in range: TimeoutError from the scan bound; Bluetooth unauthorized or off: BleUnavailableError with the permission hint', async () => {
    const b = await bench();
    b.manager.removeCar(b.carId);
    await expect(connectToCar({ manager: b.manager, scanTimeoutMs: 100 })).rejects.toBeInstanceOf(TimeoutError);
    expect(b.manager.scanning).toBe(false);

    b.manager.setState('Unauthorized' as State);
    const denied = await connectToCar({ manager: b.manager }).catch((e: unknown) => e);
    expect(denied).toBeInstanceOf(BleUnavailableError);
    expect((denied as BleUnavailableError).hint).toMatch(/BLUETOOTH_CONNECT/);

    b.manager.setState('PoweredOff' as State);
    const off = await connectToCar({ manager: b.manager, powerOnTimeoutMs: 50 }).catch((e: unknown) => e);
    expect(off).toBeInstanceOf(BleUnavailableError);
    expect((off as Error).message).toMatch(/switched off/);
  });

  it.each([
    ['a GATT server without the notify characteristic', { omitNotify: true }, /missing characteristic\(s\) notify/],
    ['an unknown framing version', { info: Uint8Array.of(9, 4, 0, 1, 0, 1) }, /framing version 9/],
    ['a malformed info value', { info: Uint8Array.of(1, 4) }, /info characteristic/],
  ])('not a proxkey car we can talk to (%s): RemoteError, the connection released', async (_what, car, message) => {
    const b = await bench();
    b.manager.removeCar(b.carId);
    addVehicle(b.manager, b.vehicle, b.carId, [], car);
    const error = await connectToCar({ manager: b.manager }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RemoteError);
    expect((error as Error).message).toMatch(message);
    expect(b.manager.isConnected(b.carId)).toBe(false);
  });

  it('the car closing the session disconnects the phone: the link ends typed (remote)', async () => {
    const b = await bench();
    await pairOwner(b);
    const link = await connectToCar({ manager: b.manager, filter: carFilter(b.wallet.car())! });
    b.links.at(-1)!.close('car shutting down');
    expect((await link.closed).by).toBe('remote');
    await expect(link.receive()).rejects.toBeInstanceOf(LinkClosedError);
    await link.disconnected;
  });

  it.each([
    ['not base64', '%%%%', /invalid base64/],
    ['a fragment with reserved bits', bytesToBase64(Uint8Array.of(0xf0, 1, 2)), /reserved header bits/],
  ])('a notification that is %s closes the link (transport) with the reason', async (_what, value, reason) => {
    const b = await bench();
    await pairOwner(b);
    const link = await connectToCar({ manager: b.manager, filter: carFilter(b.wallet.car())! });
    await new Promise((r) => setTimeout(r, 20)); // the car's challenge has arrived
    b.manager.injectNotification(b.carId, value);
    const info = await link.closed;
    expect(info.by).toBe('transport');
    expect(info.reason).toMatch(reason);
    await link.disconnected;
    expect(b.manager.isConnected(b.carId)).toBe(false);
  });
});

describe('hardware signatures', () => {
  it('DER from a keystore becomes 64-byte r‖s; garbage is refused', async () => {
    const { p256 } = await import('@noble/curves/nist.js');
    const { secretKey } = p256.keygen();
    const msg = new Uint8Array(32).fill(7);
    const der = p256.sign(msg, secretKey, { format: 'der' });
    expect(p1363Signature(der)).toEqual(p256.Signature.fromBytes(der, 'der').toBytes('compact'));
    expect(() => p1363Signature(Uint8Array.of(0x30, 1, 2))).toThrow(/malformed signature/);
  });
});
