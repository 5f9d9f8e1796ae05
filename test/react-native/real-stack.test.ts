/**
 * proxkey/react-native against the real bleno car over BlueZ's emulated controller: the adapter
 * drives a react-native-ble-plx `BleManager` surface backed by real noble (the part ble-plx's
 * native module plays on a phone), in its own process, as test/ble does for the noble adapter.
 * Owner pairing with the code, then an unlock that finds the car by its rotating id.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Emulator, type Controller } from '../ble/harness/emulator.js';
import { realStackGate } from '../ble/harness/gate.js';
import { RoleProcess } from '../ble/harness/role-process.js';

const missing = realStackGate('proxkey/react-native over the real bleno car', ['@stoprocent/noble', '@stoprocent/bleno']);
const MAX_RTT_MS = Number(process.env.BLE_MAX_RTT_MS ?? 2000);

describe.skipIf(missing.length > 0)('proxkey/react-native over the real bleno car (emulated controller)', () => {
  let emu: Emulator;
  const procs: RoleProcess[] = [];
  const ctrls: Controller[] = [];

  beforeAll(async () => {
    emu = await Emulator.start();
  }, 240_000);

  afterAll(async () => {
    for (const p of procs.reverse()) await p.stop();
    for (const c of ctrls) await c.close();
    const pids = emu?.pids ?? [];
    await emu?.stop();
    for (const pid of pids) expect(() => process.kill(pid, 0), `process ${pid} left running`).toThrow();
  }, 60_000);

  async function role(name: string, script: 'car' | 'rn-phone', env: NodeJS.ProcessEnv): Promise<RoleProcess> {
    const ctrl = await emu.controller(name);
    ctrls.push(ctrl);
    const p = await RoleProcess.start(name, script, { BLE_IMPL: 'stoprocent', HCI_PORT: ctrl.port, ...env });
    procs.push(p);
    return p;
  }

  it('pairs with the code, then unlocks the car it finds by its rotating id', async () => {
    const car = await role('car', 'car', { CAR_MODE: 'service', CAR_ADV_FROM_SERVICE: '1', CAR_MAX_RTT_MS: String(MAX_RTT_MS) });
    const phone = await role('rn-phone', 'rn-phone', {});
    const { code } = await car.call<{ code: string }>('openPairing');
    const paired = await phone.call<{ role: string; keyId: string; mtu: number }>('pair', { code }, 60_000);
    expect(paired.role).toBe('owner');
    expect(await car.call('keys')).toEqual([{ id: paired.keyId, role: 'owner' }]);
    const unlock = await phone.call<{ status: string; mtu: number; resolved: boolean }>('walletCommand', { kind: 'unlock' }, 60_000);
    expect(unlock).toMatchObject({ status: 'ok', resolved: true });
    expect(unlock.mtu).toBeGreaterThan(23);
    console.log(`[proxkey ble:react-native] paired at MTU ${paired.mtu}, unlocked at MTU ${unlock.mtu} (rotating id resolved: ${unlock.resolved})`);
    await car.waitEvent((e) => e.event === 'executed' && e.command === 'unlock');
  }, 120_000);
});
