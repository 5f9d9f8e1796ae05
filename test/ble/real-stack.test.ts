/**
 * The real noble and bleno stacks, through proxkey's adapters, against each other over BlueZ's
 * emulated controller (see harness/emulator.ts). Each role runs in its own process.
 *
 * Runs for both stack families: `@stoprocent/*` directly, `@abandonware/*` with the
 * `@abandonware/bluetooth-hci-socket` → `@stoprocent/bluetooth-hci-socket` override (UART by env).
 * Skipped with one line where btvirt/socat/gcc are missing; a failure instead under CI=true.
 * BLE_FAMILIES=stoprocent|abandonware restricts the families.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  deriveAddressIrk,
  fromHex,
  generateP256KeyPair,
  nobleCrypto,
  parseAddress,
  resolvesPrivateAddress,
  softwareKey,
  systemRandom,
  toHex,
} from '../../src/index.js';
import { Emulator, type Controller } from './harness/emulator.js';
import { realStackGate } from './harness/gate.js';
import { RoleError, RoleProcess, type Impl } from './harness/role-process.js';

const FAMILIES = (process.env.BLE_FAMILIES ?? 'stoprocent,abandonware').split(',').filter(Boolean) as Impl[];
const missing = realStackGate(
  'real BLE stacks over the emulated controller',
  FAMILIES.flatMap((f) => [`@${f}/noble`, `@${f}/bleno`]),
);

interface Keys {
  carSecret: string;
  carPublic: string;
  phones: { secret: string; public: string }[];
}

async function makeKeys(phones: number): Promise<Keys> {
  const key = async () => {
    const kp = await generateP256KeyPair(nobleCrypto, systemRandom);
    return { secret: toHex(kp.secretKey), public: toHex((await softwareKey(nobleCrypto, kp.secretKey)).publicKey) };
  };
  const car = await key();
  return { carSecret: car.secret, carPublic: car.public, phones: await Promise.all(Array.from({ length: phones }, key)) };
}

const figures: Record<string, Record<string, number>> = {};
/**
 * The car's relay bound in this bench. The default (300 ms) is meant for real radios; here the
 * handshake RTT is mostly pure-JS crypto on 2 cores shared with the test runner and both stacks
 * (seen: 30–160 ms, spikes above 300 ms under load). The RTTs seen are printed.
 */
const MAX_RTT_MS = Number(process.env.BLE_MAX_RTT_MS ?? 2000);

describe.skipIf(missing.length > 0)('real BLE stacks over the emulated controller', () => {
  let emu: Emulator;
  let keys: Keys;

  beforeAll(async () => {
    keys = await makeKeys(3);
    emu = await Emulator.start();
  }, 240_000);

  afterAll(async () => {
    const pids = emu?.pids ?? [];
    await emu?.stop();
    for (const pid of pids) expect(() => process.kill(pid, 0), `process ${pid} left running`).toThrow();
    for (const [family, f] of Object.entries(figures)) {
      if (f.spawnToUnlockMs === undefined || f.echoMedianMs === undefined) continue;
      const ratio = f.spawnToUnlockMs / f.echoMedianMs;
      console.log(
        `[proxkey ble:${family}] GATT echo (write→notify, 20 B) median ${f.echoMedianMs.toFixed(2)} ms, p90 ${f.echoP90Ms!.toFixed(2)} ms; ` +
          `car process spawn → executed unlock ${f.spawnToUnlockMs.toFixed(0)} ms (car ready → unlock ${f.readyToUnlockMs!.toFixed(0)} ms, ` +
          `phone link → unlock ${f.linkToUnlockMs!.toFixed(0)} ms, handshake RTT seen by the car ${f.handshakeRttMs!.toFixed(0)} ms); ratio spawn→unlock / echo = ${ratio.toFixed(0)}`,
      );
    }
  }, 60_000);

  describe.each(FAMILIES)('%s', (impl) => {
    const started: { procs: RoleProcess[]; ctrls: Controller[] } = { procs: [], ctrls: [] };
    const f: Record<string, number> = (figures[impl] = {});

    /** A role process on its own fresh controller. */
    async function role(name: string, script: 'car' | 'phone', env: NodeJS.ProcessEnv): Promise<RoleProcess> {
      const ctrl = await emu.controller(name);
      started.ctrls.push(ctrl);
      const p = await RoleProcess.start(name, script, { BLE_IMPL: impl, HCI_PORT: ctrl.port, ...env });
      started.procs.push(p);
      return p;
    }
    /** Stop a role process, then its controller (a controller outlives its host otherwise). */
    async function stopRole(p: RoleProcess): Promise<void> {
      await p.stop();
      const i = started.procs.indexOf(p);
      if (i >= 0) {
        started.procs.splice(i, 1);
        const [ctrl] = started.ctrls.splice(i, 1);
        await ctrl?.close();
      }
    }
    const carEnv = (phones: number[]) => ({
      CAR_MODE: 'vehicle',
      CAR_KEYS: JSON.stringify({ carSecret: keys.carSecret, phonePublics: phones.map((i) => keys.phones[i]!.public), maxRttMs: MAX_RTT_MS }),
    });
    const session = (phone: RoleProcess, i: number, commands: { kind: string; intent?: boolean }[], timeouts?: Record<string, number>) =>
      phone.call<{ results: { kind: string; status: string }[]; connectMs: number }>(
        'session',
        { commands, phoneSecret: keys.phones[i]!.secret, carPublic: keys.carPublic, timeouts },
        30_000,
      );

    let car: RoleProcess | undefined;
    let phone: RoleProcess;

    afterAll(async () => {
      for (const p of [...started.procs].reverse()) await stopRole(p);
    }, 60_000);

    it('GATT echo through the adapters\u2019 Links (single and multi-fragment)', async () => {
      const echoCar = await role('car', 'car', { CAR_MODE: 'echo' });
      phone = await role('phone', 'phone', {});
      const small = await phone.call('echo', { n: 50, size: 20 });
      expect(small.mtu).toBeGreaterThan(23);
      expect(small.info).toEqual({ framingVersion: 1, maxMessageSize: 1024, protocolVersions: [1] });
      f.echoMedianMs = small.medianMs;
      f.echoP90Ms = small.p90Ms;
      const big = await phone.call('echo', { n: 5, size: 1024 });
      expect(big.n).toBe(5);
      await stopRole(echoCar);
    }, 60_000);

    it('unlock, lock, start in one session; measures car process start → executed unlock', async () => {
      // the phone is already looking for the car when the car process starts
      const pending = session(phone, 0, [{ kind: 'unlock' }, { kind: 'lock' }, { kind: 'start', intent: true }]);
      car = await role('car', 'car', carEnv([0, 1]));
      const r = await pending;
      expect(r.results.map((x) => `${x.kind}:${x.status}`)).toEqual(['unlock:ok', 'lock:ok', 'start:ok']);
      const unlock = await car.waitEvent((e) => e.event === 'executed' && e.command === 'unlock');
      const link = await car.waitEvent((e) => e.event === 'link');
      const ready = await car.waitEvent((e) => e.event === 'ready');
      f.spawnToUnlockMs = (unlock.t as number) - car.spawnedAt;
      f.readyToUnlockMs = (unlock.t as number) - (ready.t as number);
      f.linkToUnlockMs = (unlock.t as number) - (link.t as number);
      f.handshakeRttMs = (await car.waitEvent((e) => e.event === 'decision')).rttMs as number;
      expect(car.events.filter((e) => e.event === 'executed').map((e) => e.command)).toEqual(['unlock', 'lock', 'start']);
      expect(await car.waitEvent((e) => e.event === 'session')).toMatchObject({ end: 'ok', executed: 3 });
    }, 60_000);

    it('reconnects for a second transaction', async () => {
      const r = await session(phone, 0, [{ kind: 'lock' }]);
      expect(r.results).toMatchObject([{ kind: 'lock', status: 'ok' }]);
      const sessions = await car!.waitEvents((e) => e.event === 'session', 2);
      expect(sessions[1]).toMatchObject({ end: 'ok', executed: 1 });
    }, 60_000);

    it('the car drops the link mid-handshake: the phone gets a typed error and a retry works', async () => {
      await car!.call('dropNextHandshake');
      const executedBefore = car!.events.filter((e) => e.event === 'executed').length;
      const err = await session(phone, 0, [{ kind: 'unlock' }]).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(RoleError);
      expect(['ERR_LINK_CLOSED', 'ERR_TIMEOUT']).toContain((err as RoleError).code);
      await car!.waitEvent((e) => e.event === 'dropped');
      const r = await session(phone, 0, [{ kind: 'unlock' }]);
      expect(r.results).toMatchObject([{ kind: 'unlock', status: 'ok' }]);
      await car!.waitEvents((e) => e.event === 'executed', executedBefore + 1);
    }, 60_000);

    it('two phones, one after the other; an unknown phone is refused', async () => {
      const second = await role('phone2', 'phone', {});
      const a = await session(phone, 0, [{ kind: 'unlock' }]);
      const b = await session(second, 1, [{ kind: 'lock' }]);
      expect(a.results).toMatchObject([{ status: 'ok' }]);
      expect(b.results).toMatchObject([{ status: 'ok' }]);
      const keyIds = car!.events.filter((e) => e.event === 'executed').map((e) => e.keyId);
      expect(new Set(keyIds).size).toBe(2);
      const rtts = car!.events.filter((e) => e.event === 'decision').map((e) => Math.round(e.rttMs as number));
      console.log(`[proxkey ble:${impl}] handshake RTTs seen by the car: ${rtts.join(', ')} ms`);
      const stranger = await session(second, 2, [{ kind: 'unlock' }]);
      expect(stranger.results).toMatchObject([{ status: 'unknown-key' }]);
      await stopRole(second);
      await stopRole(car!); // SIGTERM: bleno stops advertising
      car = undefined;
    }, 60_000);

    it('owner pairing over BLE (SPAKE2+ code), then the paired phone unlocks; a wrong code is refused', async () => {
      const serviceCar = await role('car', 'car', { CAR_MODE: 'service', CAR_MAX_RTT_MS: String(MAX_RTT_MS) });
      const newPhone = await role('phone3', 'phone', {});
      const { code } = await serviceCar.call<{ code: string }>('openPairing');
      const wrong = code === '00000000' ? '11111111' : '00000000';
      const bad = await newPhone.call('pair', { code: wrong }, 60_000).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(bad).toBeInstanceOf(RoleError);
      expect((bad as RoleError).code).toBe('ERR_PAIRING_FAILED');
      const paired = await newPhone.call<{ role: string; keyId: string }>('pair', { code }, 60_000);
      expect(paired.role).toBe('owner');
      expect(await serviceCar.call('keys')).toEqual([{ id: paired.keyId, role: 'owner' }]);
      expect(await newPhone.call('walletCommand', { kind: 'unlock' })).toEqual({ status: 'ok' });
      await serviceCar.waitEvent((e) => e.event === 'executed' && e.command === 'unlock');
      await stopRole(newPhone);
      await stopRole(serviceCar);
    }, 90_000);

    it('two cars with different advertising secrets: the phone connects to the one whose secret it holds', async () => {
      const secrets = [toHex(systemRandom(32)), toHex(systemRandom(32))];
      const cars = [
        await role('carA', 'car', { CAR_MODE: 'echo', CAR_ADV_SECRET: secrets[0] }),
        await role('carB', 'car', { CAR_MODE: 'echo', CAR_ADV_SECRET: secrets[1] }),
      ];
      const ready = await Promise.all(cars.map((c) => c.waitEvent((e) => e.event === 'ready')));
      expect(ready[0]!.address).not.toBe(ready[1]!.address);
      for (const i of [1, 0]) {
        const held = await phone.call<{ address: string; addressType: string; id: string | null }>('holdCar', { secrets: [secrets[i]] });
        // the id arrived in the scan response, as service data under the proxkey service UUID, from
        // a resolvable private address (not the controller's public one) that the secret resolves
        expect(held).toMatchObject({ address: ready[i]!.onAirAddress, addressType: 'random', id: ready[i]!.advertisingId });
        expect(held.address).not.toBe(ready[i]!.address);
        const irk = deriveAddressIrk(nobleCrypto, fromHex(secrets[i]!));
        expect(resolvesPrivateAddress(irk, parseAddress(held.address))).toBe(true);
        expect(resolvesPrivateAddress(deriveAddressIrk(nobleCrypto, fromHex(secrets[1 - i]!)), parseAddress(held.address))).toBe(false);
        // car-side RSSI: the emulator answers Read RSSI at once, with a placeholder (-1): "not available"
        const [reading] = await cars[i]!.call<{ rssi: number | null; ms: number }[]>('rssi');
        expect(reading).toMatchObject({ rssi: null });
        expect(reading!.ms).toBeLessThan(1000);
        await phone.call('releaseHeld');
      }
      expect(await cars[0]!.call('rssiSamples')).toEqual([]);
      for (const c of cars) await stopRole(c);
    }, 60_000);

    it('at an epoch boundary the car changes its id and its private address together', async () => {
      const secret = toHex(systemRandom(32));
      const rotating = await role('car', 'car', { CAR_MODE: 'echo', CAR_ADV_SECRET: secret, CAR_ADV_BOUNDARY_IN_MS: '2500' });
      const before = await rotating.call<{ id: string; epoch: number; address: string }>('advertisement');
      let held = await phone.call<{ address: string; id: string }>('holdCar', { secrets: [secret] });
      expect(held).toMatchObject({ address: before.address, id: before.id });
      await phone.call('releaseHeld');
      let after = before;
      for (const deadline = Date.now() + 15_000; after.epoch === before.epoch && Date.now() < deadline;) {
        await new Promise((r) => setTimeout(r, 100));
        after = await rotating.call('advertisement');
      }
      expect(after.epoch).toBe(before.epoch + 1);
      expect(after.id).not.toBe(before.id);
      expect(after.address).not.toBe(before.address);
      const irk = deriveAddressIrk(nobleCrypto, fromHex(secret));
      for (const a of [before, after]) expect(resolvesPrivateAddress(irk, parseAddress(a.address))).toBe(true);
      // the phone finds the car under its new id and address
      held = await phone.call('holdCar', { secrets: [secret] });
      expect(held).toMatchObject({ address: after.address, id: after.id });
      await phone.call('releaseHeld');
      await stopRole(rotating);
    }, 60_000);

    it('a car that vanishes mid-session yields a typed error within the bound, never a hang', async () => {
      const echoCar = await role('car', 'car', { CAR_MODE: 'echo' });
      await phone.call('hold', { writeTimeoutMs: 1000 });
      echoCar.child.kill('SIGKILL');
      await echoCar.exited;
      const r = await phone.call<{ error: { code?: string }; elapsedMs: number }>('sendOnHeld', { receiveTimeoutMs: 1000 });
      expect(['ERR_TIMEOUT', 'ERR_LINK_CLOSED']).toContain(r.error.code);
      expect(r.elapsedMs).toBeLessThan(2500);
      await stopRole(echoCar);
    }, 60_000);
  });
});
