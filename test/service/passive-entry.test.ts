/**
 * `VehicleService.passiveEntry` keeps opposite decisions for one key in the order they were made:
 * one that gets its turn on the actuation lock after a newer *allowed* decision for its key is
 * `superseded` (nothing driven, audited), however long its authorization (a ranging hook) took;
 * a newer decision that is denied supersedes nothing.
 */
import { describe, expect, it } from 'vitest';
import { MemoryVehicleStore, VehicleService, generateP256KeyPair, nobleCrypto, systemRandom, type ProximityDecision } from '../../src/index.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function carWith(options: { rangingMs: (command: string) => number; actuatorMs?: number }) {
  const actuated: string[] = [];
  const car = await VehicleService.open({
    store: new MemoryVehicleStore(),
    actuator: async (cmd) => {
      actuated.push(cmd.kind);
      await sleep(options.actuatorMs ?? 0);
    },
    hooks: {
      ranging: async (_keyId, cmd) => {
        await sleep(options.rangingMs(cmd.kind));
        return { ok: true, distanceM: 1 };
      },
    },
  });
  const owner = await car.registry.enroll((await generateP256KeyPair(nobleCrypto, systemRandom)).publicKey, { role: 'owner' });
  return { car, actuated, keyId: owner.id };
}

const unlock = (keyId: string, at: number): ProximityDecision => ({ type: 'approach-unlock', keyId, at, cause: 'near', distanceM: 1, rttMs: 20 });
const lock = (keyId: string, at: number): ProximityDecision => ({ type: 'walk-away-lock', keyId, at, cause: 'far', distanceM: 12 });

describe('passive entry: opposite decisions in order', () => {
  it('a slow approach-unlock (ranging 300 ms) then a fast walk-away-lock: the unlock is superseded, the car ends locked', async () => {
    const { car, actuated, keyId } = await carWith({ rangingMs: (c) => (c === 'unlock' ? 300 : 5) });
    const a = car.passiveEntry(unlock(keyId, 0));
    await sleep(50); // the owner turns and leaves
    const b = car.passiveEntry(lock(keyId, 50));
    expect([await a, await b]).toEqual(['superseded', 'ok']);
    expect(actuated).toEqual(['lock']);
    const audit = (await car.audit()).filter((e) => e.event === 'passive-entry');
    expect(audit.map((e) => [e.command, e.result])).toEqual([
      ['lock', 'ok'],
      ['unlock', 'superseded'],
    ]);
  });

  it('both queued behind a running action: only the newest is driven; another key’s decision is not affected', async () => {
    const { car, actuated, keyId } = await carWith({ rangingMs: () => 0, actuatorMs: 100 });
    const other = await car.registry.enroll((await generateP256KeyPair(nobleCrypto, systemRandom)).publicKey, { role: 'owner' });
    const first = car.passiveEntry(lock(other.id, 0)); // holds the lock for 100 ms
    await sleep(10);
    const a = car.passiveEntry(unlock(keyId, 10));
    const b = car.passiveEntry(lock(keyId, 11));
    expect([await first, await a, await b]).toEqual(['ok', 'superseded', 'ok']);
    expect(actuated).toEqual(['lock', 'lock']);
  });

  it('a newer decision that is denied supersedes nothing: a relayed approach-unlock (refused) leaves the walk-away-lock before it to run', async () => {
    const { car, actuated, keyId } = await carWith({ rangingMs: (c) => (c === 'lock' ? 300 : 5) });
    const a = car.passiveEntry(lock(keyId, 0)); // the owner walks away; ranging takes a while
    await sleep(50);
    const b = car.passiveEntry({ ...unlock(keyId, 50), rttMs: 400 }); // a relay box at the door
    expect([await a, await b]).toEqual(['ok', 'relay-suspected']);
    expect(actuated).toEqual(['lock']); // the car is locked
  });

  it('a slow approach-unlock then a walk-away-lock that is denied (an unlock-only shared key): the unlock is still superseded, nothing driven', async () => {
    const { car, actuated } = await carWith({ rangingMs: (c) => (c === 'unlock' ? 300 : 5) });
    const friend = await car.registry.enroll((await generateP256KeyPair(nobleCrypto, systemRandom)).publicKey, { role: 'shared', permissions: ['unlock'] });
    const a = car.passiveEntry(unlock(friend.id, 0));
    await sleep(50); // the friend walks away
    const b = car.passiveEntry(lock(friend.id, 50));
    expect([await a, await b]).toEqual(['superseded', 'not-permitted']);
    expect(actuated).toEqual([]); // never opened after the friend left
  });

  it('decisions that do not overlap all run', async () => {
    const { car, actuated, keyId } = await carWith({ rangingMs: () => 0 });
    expect(await car.passiveEntry(unlock(keyId, 0))).toBe('ok');
    expect(await car.passiveEntry(lock(keyId, 1))).toBe('ok');
    expect(await car.passiveEntry(unlock(keyId, 2))).toBe('ok');
    expect(actuated).toEqual(['unlock', 'lock', 'unlock']);
  });
});
