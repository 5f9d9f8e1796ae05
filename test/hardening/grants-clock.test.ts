/**
 * Delegation is bounded by the issuer (its revocation and its window, at redemption time),
 * revocation can cascade, and the car's clock never goes below its persisted floor.
 */
import { describe, expect, it } from 'vitest';
import { MemoryVehicleStore } from '../../src/index.js';
import { FAST_SCRYPT, pairOwner, shareTo, T0, world, type World } from './world.js';

const HOUR = 3_600_000;

/** An owner whose record at the car has the window [notBefore, notAfter]. */
async function ownerWithWindow(w: World, window: { notBefore?: number; notAfter?: number }) {
  const owner = await pairOwner(w);
  const rec = w.car.registry.state.keys.find((k) => k.id === owner.keyId)!;
  await w.car.registry.update((s) => ({ state: { ...s, keys: s.keys.map((k) => (k.id === rec.id ? { ...k, ...window } : k)) }, value: undefined }));
  return owner;
}

describe('an owner outside its validity window cannot delegate', () => {
  it('a grant signed by an owner whose window has ended is refused (expired) and enrolls nothing', async () => {
    const w = await world();
    await pairOwner(w, 'admin'); // a second owner, so the car is not ownerless
    const owner = await ownerWithWindow(w, { notAfter: T0 + HOUR });
    const { friend } = await shareTo(w, owner, 'friend');
    w.clock.t = T0 + 2 * HOUR;
    const { link } = w.connect();
    expect((await friend.command(link, 'start', { intent: true })).status).toBe('expired');
    expect(w.car.registry.state.keys.find((k) => k.id === friend.keyId)).toBeUndefined();
    expect(w.executed).toEqual([]);
  });

  it('a grant signed by an owner whose window has not started is refused (not-yet-valid)', async () => {
    const w = await world();
    const owner = await ownerWithWindow(w, { notBefore: T0 + HOUR });
    const { friend } = await shareTo(w, owner, 'friend');
    const { link } = w.connect();
    expect((await friend.command(link, 'unlock')).status).toBe('not-yet-valid');
    expect(w.car.registry.state.keys.find((k) => k.id === friend.keyId)).toBeUndefined();
  });

  it("a grant is bounded by its issuer's window: the friend's key ends when the owner's does", async () => {
    const w = await world();
    const owner = await ownerWithWindow(w, { notAfter: T0 + HOUR });
    const { friend } = await shareTo(w, owner, 'friend'); // the grant itself is unbounded
    let { link } = w.connect();
    expect((await friend.command(link, 'unlock')).status).toBe('ok');
    expect(w.car.registry.state.keys.find((k) => k.id === friend.keyId)).toMatchObject({ notAfter: T0 + HOUR });
    w.clock.t = T0 + HOUR + 1;
    ({ link } = w.connect());
    expect((await friend.command(link, 'unlock')).status).toBe('expired');
  });
});

describe('revoking an owner can cascade to the friends it enrolled', () => {
  it('car.revoke(owner, by, { cascade: true }) revokes the owner and its friends in one durable write', async () => {
    let saves = 0;
    class CountingStore extends MemoryVehicleStore {
      override async save(s: Parameters<MemoryVehicleStore['save']>[0]) {
        saves++;
        return super.save(s);
      }
    }
    const w = await world({ store: new CountingStore() });
    const admin = await pairOwner(w, 'admin');
    const owner = await pairOwner(w, 'owner');
    const { friend: f1 } = await shareTo(w, owner, 'f1');
    const { friend: f2 } = await shareTo(w, owner, 'f2');
    const { friend: other } = await shareTo(w, admin, 'other');
    for (const f of [f1, f2, other]) expect((await f.command(w.connect().link, 'unlock')).status).toBe('ok');
    const before = saves;
    const r = await w.car.revoke(owner.keyId, 'local', { cascade: true });
    expect(saves - before).toBe(1);
    expect(new Set(r.cascaded)).toEqual(new Set([f1.keyId, f2.keyId]));
    const byId = (id: string) => w.car.registry.state.keys.find((k) => k.id === id)!;
    expect([byId(owner.keyId).revoked, byId(f1.keyId).revoked, byId(f2.keyId).revoked, byId(other.keyId).revoked]).toEqual([true, true, true, undefined]);
    expect((await f1.command(w.connect().link, 'unlock')).status).toBe('revoked');
    expect((await other.command(w.connect().link, 'unlock')).status).toBe('ok');
    const audit = await w.car.audit();
    expect(
      audit
        .filter((e) => e.event === 'revoke')
        .map((e) => e.keyId)
        .sort(),
    ).toEqual([owner.keyId, f1.keyId, f2.keyId].sort());
  });

  it('over the air: revoke { cascade: true } from another owner', async () => {
    const w = await world();
    const admin = await pairOwner(w, 'admin');
    const owner = await pairOwner(w, 'owner');
    const { friend } = await shareTo(w, owner, 'friend');
    expect((await friend.command(w.connect().link, 'unlock')).status).toBe('ok');
    expect((await admin.command(w.connect().link, { kind: 'revoke', target: owner.keyId, cascade: true })).status).toBe('ok');
    expect((await friend.command(w.connect().link, 'unlock')).status).toBe('revoked');
  });

  it('without cascade, friends keep their keys (the documented default)', async () => {
    const w = await world();
    await pairOwner(w, 'admin');
    const owner = await pairOwner(w, 'owner');
    const { friend } = await shareTo(w, owner, 'friend');
    expect((await friend.command(w.connect().link, 'unlock')).status).toBe('ok');
    await w.car.revoke(owner.keyId);
    expect((await friend.command(w.connect().link, 'unlock')).status).toBe('ok');
  });
});

describe('the clock never goes below its persisted floor', () => {
  it('a car whose clock was reset (no RTC) refuses a grant that had long expired', async () => {
    const store = new MemoryVehicleStore();
    const w = await world({ store });
    const owner = await pairOwner(w);
    const { friend } = await shareTo(w, owner, 'friend', { notAfter: T0 + HOUR });
    w.clock.t = T0 + 48 * HOUR;
    await w.car.persistTimeFloor(); // e.g. the daemon's hourly save, or any durable write
    // Power loss; the Pi boots with its clock at the epoch.
    w.clock.t = 0;
    await w.reopen();
    expect(w.car.clockBehind).toBe(true);
    expect(w.car.now()).toBeGreaterThanOrEqual(T0 + 48 * HOUR);
    const { link } = w.connect();
    expect((await friend.command(link, 'unlock')).status).toBe('expired');
    expect(w.car.registry.state.keys.find((k) => k.id === friend.keyId)).toBeUndefined();
  });

  it('the floor also follows the audit log, and time never runs backwards within a run', async () => {
    const w = await world();
    const owner = await pairOwner(w);
    w.clock.t = T0 + 5 * HOUR;
    expect((await owner.command(w.connect().link, 'unlock')).status).toBe('ok'); // audited at T0+5h
    w.clock.t = T0;
    await w.reopen();
    expect(w.car.now()).toBe(T0 + 5 * HOUR);
    w.clock.t = T0 + 6 * HOUR;
    expect(w.car.now()).toBe(T0 + 6 * HOUR);
    expect(w.car.clockBehind).toBe(false);
    w.clock.t = T0 + HOUR; // jumps back while running
    expect(w.car.now()).toBe(T0 + 6 * HOUR);
  });

  it('while the wall clock is behind, trusted time still advances (pairing windows expire, sessions age)', async () => {
    const w = await world();
    await pairOwner(w);
    w.clock.t = T0 + 10 * HOUR;
    await w.car.persistTimeFloor();
    w.clock.t = 0; // reboot without RTC
    w.clock.mono = 1_000;
    await w.reopen();
    const start = w.car.now();
    expect(w.car.clockBehind).toBe(true);
    await w.car.openPairing({ scrypt: FAST_SCRYPT, ttlMs: 60_000 });
    expect(w.car.pairingStatus).toBe('active');
    w.clock.mono += 61_000; // a minute passes on the monotonic clock; the wall clock is still 1970
    expect(w.car.now()).toBe(start + 61_000);
    expect(w.car.pairingStatus).toBe('expired');
  });

  it('every durable write records the floor', async () => {
    const store = new MemoryVehicleStore();
    const w = await world({ store });
    w.clock.t = T0 + 7 * HOUR;
    await pairOwner(w);
    expect((await store.load())?.timeFloor).toBe(T0 + 7 * HOUR);
  });
});
