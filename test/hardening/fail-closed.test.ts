/**
 * The car fails closed and never crashes: whatever the actuator, the policy or the store do,
 * `serve()` resolves, the phone gets an authenticated reason, and only `{ ok: true }` is `ok`.
 * One physical action at a time; admin commands are not bound by the actuator's timeout; a
 * session ended from outside mid-command ends with RESULT then an authenticated CLOSE.
 */
import { describe, expect, it } from 'vitest';
import { createMemoryLinkPair, defaultPolicy, MemoryVehicleStore, type Actuator, type AuditEntry, type Policy, type VehicleState } from '../../src/index.js';
import { pairOwner, shareTo, sleep, world, FailingSaveStore } from './world.js';

/** An actuator that takes `ms` (ignoring its signal) and records how many ran at once, and in what order. */
function overlapProbe(ms: number) {
  let running = 0;
  let max = 0;
  const order: string[] = [];
  const actuator: Actuator = async (c) => {
    running++;
    max = Math.max(max, running);
    order.push(`start ${c.kind}`);
    await sleep(ms);
    order.push(`end ${c.kind}`);
    running--;
  };
  return { actuator, order, maxRunning: () => max };
}

/** A car whose actuator is `actuator`, with one paired owner; returns the owner's unlock status. */
async function unlockWith(actuator: Actuator) {
  const w = await world({ actuator });
  const owner = await pairOwner(w);
  const { link, served } = w.connect();
  const status = (await owner.command(link, 'unlock')).status;
  return { status, summary: await served, w, owner };
}

describe('results fail closed', () => {
  it.each([
    ['{ ok: false } without a reason', { ok: false }, 'actuator-failed'],
    ['{ ok: false, reason: "bogus" }', { ok: false, reason: 'bogus' }, 'actuator-failed'],
    ['{ ok: "yes" }', { ok: 'yes' }, 'actuator-failed'],
    ['a string', 'done', 'actuator-failed'],
    ['null', null, 'actuator-failed'],
    ['{ ok: false, reason: "busy" } (a known reason is kept)', { ok: false, reason: 'busy' }, 'busy'],
    ['300 bytes of data', { ok: true, data: new Uint8Array(300) }, 'internal-error'],
    ['data that is not bytes', { ok: true, data: [1, 2, 3] }, 'internal-error'],
  ])('an actuator returning %s never answers ok', async (_what, value, expected) => {
    const { status, summary } = await unlockWith(() => value as never);
    expect(status).toBe(expected);
    expect(summary.executed).toBe(0);
  });

  it('an actuator that throws a non-Error is actuator-failed, and the car serves on', async () => {
    const { status, w, owner } = await unlockWith(() => {
      // eslint-disable-next-line @typescript-eslint/only-throw-error -- JavaScript actuators can throw anything
      throw 'boom';
    });
    expect(status).toBe('actuator-failed');
    expect((await owner.command(w.connect().link, 'lock')).status).toBe('actuator-failed');
  });

  it.each([
    ['{ allow: false } without a reason', () => ({ allow: false })],
    ['{ allow: false, reason: "nope" }', () => ({ allow: false, reason: 'nope' })],
    ['{ allow: "yes" }', () => ({ allow: 'yes' })],
    ['undefined', () => undefined],
    [
      'a throw',
      () => {
        throw new Error('policy bug');
      },
    ],
  ])('a policy returning %s denies with internal-error', async (_what, policy) => {
    const w = await world({ car: { policy: policy as unknown as Policy } });
    const owner = await pairOwner(w);
    const { link, served } = w.connect();
    expect((await owner.command(link, 'unlock')).status).toBe('internal-error');
    expect(w.executed).toEqual([]);
    await expect(served).resolves.toMatchObject({ executed: 0, denied: 1 });
  });
});

describe('one physical action at a time', () => {
  it('unlock and lock from two phones at the same instant never run the actuator concurrently', async () => {
    const probe = overlapProbe(40);
    const w = await world({ actuator: probe.actuator });
    const owner = await pairOwner(w);
    const { friend } = await shareTo(w, owner, 'friend');
    const [a, b] = await Promise.all([owner.command(w.connect().link, 'unlock'), friend.command(w.connect().link, 'lock')]);
    expect([a.status, b.status]).toEqual(['ok', 'ok']);
    expect(probe.maxRunning()).toBe(1);
    expect(probe.order).toHaveLength(4);
    expect(probe.order[0]!.split(' ')[1]).toBe(probe.order[1]!.split(' ')[1]); // start X, end X, start Y, end Y
  });

  it('a command that cannot start within the wait bound is busy, and nothing is driven for it', async () => {
    const kinds: string[] = [];
    const w = await world({
      actuator: async (c) => {
        kinds.push(c.kind);
        await sleep(300);
      },
      car: { session: { actuationWaitMs: 50 } },
    });
    const owner = await pairOwner(w);
    const { friend } = await shareTo(w, owner, 'friend');
    const first = owner.command(w.connect().link, 'unlock');
    await sleep(30);
    const second = await friend.command(w.connect().link, 'lock');
    expect(second.status).toBe('busy');
    expect((await first).status).toBe('ok');
    expect(kinds).toEqual(['unlock']);
  });

  it('passive-entry decisions share the same lock', async () => {
    const probe = overlapProbe(30);
    const w = await world({ actuator: probe.actuator });
    const owner = await pairOwner(w);
    const [cmd, passive] = await Promise.all([
      owner.command(w.connect().link, 'unlock'),
      w.car.passiveEntry({ type: 'walk-away-lock', keyId: owner.keyId, cause: 'far', at: w.clock.t, distanceM: 20 } as never),
    ]);
    expect([cmd.status, passive]).toEqual(['ok', 'ok']);
    expect(probe.maxRunning()).toBe(1);
  });

  it('a command queued behind another is not driven if its key is revoked while it waits', async () => {
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    let entered!: () => void;
    const ownerInActuator = new Promise<void>((r) => (entered = r));
    const driven: string[] = [];
    let holding = false;
    const w = await world({
      actuator: async (c, key) => {
        driven.push(`${c.kind} ${key.id}`);
        if (!holding) return;
        entered();
        await held;
      },
    });
    const owner = await pairOwner(w);
    const { friend } = await shareTo(w, owner, 'friend');
    expect((await friend.command(w.connect().link, 'lock')).status).toBe('ok'); // enrolled
    driven.length = 0;
    holding = true;
    const ownerUnlock = owner.command(w.connect().link, 'unlock', { timeoutMs: 10_000 }); // holds the actuator
    await ownerInActuator;
    holding = false;
    const friendUnlock = friend.open(w.connect().link, 'unlock', { timeoutMs: 10_000 }).catch((e: unknown) => e); // queued
    await sleep(300); // its handshake is done and it waits for the actuator
    await w.car.revoke(friend.keyId);
    release();
    expect((await ownerUnlock).status).toBe('ok');
    const r = (await friendUnlock) as { result?: { status: string } };
    expect(r.result?.status ?? 'closed').not.toBe('ok');
    expect(driven).toEqual([`unlock ${owner.keyId}`]); // the friend's unlock was never driven
  });

  it('a command queued behind another is not driven if its connection is aborted (shutdown) while it waits', async () => {
    const { w, owner, first, driven, release } = await heldActuator();
    const [phoneEnd, carEnd] = createMemoryLinkPair();
    const shutdown = new AbortController();
    const served = w.car.serve(carEnd, { signal: shutdown.signal });
    const queued = owner.open(phoneEnd, 'lock', { timeoutMs: 10_000 }).catch((e: unknown) => e);
    await sleep(300); // its handshake is done and it waits for the actuator
    shutdown.abort('shutdown');
    release();
    expect((await first).result.status).toBe('ok');
    expect(await queued).toMatchObject({ name: 'LinkClosedError' }); // an aborted connection sends nothing more
    expect(await served).toMatchObject({ executed: 0, end: 'aborted' });
    expect(driven).toEqual(['unlock']); // the queued lock was never driven
  });

  /** A car whose actuator holds its first (unlock) command until `release()`; `driven` lists what ran. */
  async function heldActuator() {
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    let entered!: () => void;
    const inActuator = new Promise<void>((r) => (entered = r));
    const driven: string[] = [];
    const w = await world({
      actuator: async (c) => {
        driven.push(c.kind);
        if (c.kind !== 'unlock') return;
        entered();
        await held;
      },
    });
    const owner = await pairOwner(w);
    driven.length = 0;
    const first = owner.open(w.connect().link, 'unlock', { timeoutMs: 10_000 });
    await inActuator;
    return { w, owner, first, driven, release };
  }

  it('stopSessions (shutdown): the running command completes with RESULT then CLOSE(session-expired); a queued one and a later session drive nothing', async () => {
    const { w, owner, first, driven, release } = await heldActuator();
    const { link, served } = w.connect();
    const queued = owner.open(link, 'lock', { timeoutMs: 10_000 });
    await sleep(300); // its handshake is done and it waits for the actuator
    expect(w.car.stopSessions()).toBe(2);
    const later = w.connect();
    const lateOpen = owner.open(later.link, 'lock', { timeoutMs: 10_000 }); // authenticates after the stop
    await sleep(300);
    release();
    const late = await lateOpen;
    const running = await first;
    expect(running.result.status).toBe('ok');
    expect(await running.connection.awaitClose()).toBe('session-expired');
    const q = await queued;
    expect(q.result.status).toBe('session-expired');
    expect(await q.connection.awaitClose()).toBe('session-expired');
    expect(late.result.status).toBe('session-expired');
    expect(await served).toMatchObject({ executed: 0, end: 'session-expired' });
    expect(await later.served).toMatchObject({ executed: 0 });
    expect(driven).toEqual(['unlock']);
  });

  it('stopSessions (shutdown): a passive-entry decision waiting for the actuator, or arriving later, drives nothing', async () => {
    const { w, owner, first, driven, release } = await heldActuator();
    const walkAway = { type: 'walk-away-lock', keyId: owner.keyId, cause: 'far', at: w.clock.t, distanceM: 20 } as never;
    const waiting = w.car.passiveEntry(walkAway);
    await sleep(100); // it waits for the actuator
    w.car.stopSessions();
    expect(await w.car.passiveEntry(walkAway)).toBe('session-expired');
    release();
    expect((await first).result.status).toBe('ok');
    expect(await waiting).toBe('session-expired');
    expect(await w.car.whenActuationIdle(1_000)).toBe(true);
    expect(driven).toEqual(['unlock']);
  });

  it('a command queued behind another is not driven if its phone disconnects while it waits', async () => {
    const { w, owner, first, driven, release } = await heldActuator();
    const [phoneEnd, carEnd] = createMemoryLinkPair();
    const served = w.car.serve(carEnd);
    const queued = owner.open(phoneEnd, 'lock', { timeoutMs: 10_000 }).catch((e: unknown) => e);
    await sleep(300); // its handshake is done and it waits for the actuator
    phoneEnd.close(); // the phone walked away
    await carEnd.closed; // the car has seen it
    release();
    expect((await first).result.status).toBe('ok');
    await queued;
    expect((await served).executed).toBe(0);
    expect(driven).toEqual(['unlock']);
  });

  it('an actuator that ignores its signal still never overlaps the next action', async () => {
    const probe = overlapProbe(150); // ignores the abort
    const w = await world({
      actuator: probe.actuator,
      car: { session: { actuatorTimeoutMs: 40, actuationWaitMs: 2_000 } },
    });
    const owner = await pairOwner(w);
    const { friend } = await shareTo(w, owner, 'friend');
    const [a, b] = await Promise.all([owner.command(w.connect().link, 'unlock'), friend.command(w.connect().link, 'lock')]);
    expect(a.status).toBe('actuator-failed'); // answered at the bound
    expect(['actuator-failed', 'ok']).toContain(b.status);
    expect(probe.maxRunning()).toBe(1);
  });

  it("the actuator's signal aborts when its time is up", async () => {
    let aborted = false;
    const w = await world({
      actuator: (_c, _k, ctx) =>
        new Promise<void>((resolve) => {
          ctx?.signal.addEventListener('abort', () => {
            aborted = true;
            resolve();
          });
        }),
      car: { session: { actuatorTimeoutMs: 50 } },
    });
    const owner = await pairOwner(w);
    expect((await owner.command(w.connect().link, 'unlock')).status).toBe('actuator-failed');
    expect(aborted).toBe(true);
  });
});

describe('administrative commands are not actuator work', () => {
  it('a revoke on a slow disk answers ok once durable, never actuator-failed', async () => {
    class SlowStore extends MemoryVehicleStore {
      delayMs = 0;
      override async save(s: VehicleState) {
        await sleep(this.delayMs);
        return super.save(s);
      }
    }
    const store = new SlowStore();
    const actuated: string[] = [];
    const w = await world({ store, actuator: (c) => void actuated.push(c.kind), car: { session: { actuatorTimeoutMs: 30 } } });
    const owner = await pairOwner(w);
    const { friend } = await shareTo(w, owner, 'friend');
    expect((await friend.command(w.connect().link, 'unlock')).status).toBe('ok');
    store.delayMs = 200; // far beyond the actuator's bound
    const r = await owner.command(w.connect().link, { kind: 'revoke', target: friend.keyId }, { timeoutMs: 5_000 });
    expect(r.status).toBe('ok');
    expect(w.car.registry.state.keys.find((k) => k.id === friend.keyId)?.revoked).toBe(true);
    expect(actuated).toEqual(['unlock']); // the actuator never saw the admin command
  });
});

describe('a session ended from outside mid-command', () => {
  it('a friend revoked while its command runs gets its RESULT, then an authenticated CLOSE(revoked) — never ERR_DECRYPT', async () => {
    let release!: () => void;
    const started = new Promise<void>((r) => (release = r));
    const w = await world({
      actuator: async (c) => {
        if (c.kind === 'unlock') {
          release();
          await sleep(100);
        }
      },
    });
    const owner = await pairOwner(w);
    const { friend } = await shareTo(w, owner, 'friend');
    expect((await friend.command(w.connect().link, 'lock')).status).toBe('ok'); // enrolled
    const { link, served } = w.connect();
    const opening = friend.open(link, 'unlock');
    await started;
    expect((await owner.command(w.connect().link, { kind: 'revoke', target: friend.keyId })).status).toBe('ok');
    const { result, connection } = await opening;
    expect(result.status).toBe('ok');
    expect(await connection.awaitClose()).toBe('revoked');
    await expect(served).resolves.toMatchObject({ end: 'revoked' });
  });

  it('an owner revoking itself gets ok, then CLOSE(revoked)', async () => {
    const w = await world();
    await pairOwner(w, 'admin');
    const owner = await pairOwner(w, 'owner');
    const { link, served } = w.connect();
    const { result, connection } = await owner.open(link, { kind: 'revoke', target: owner.keyId });
    expect(result.status).toBe('ok');
    expect(await connection.awaitClose()).toBe('revoked');
    await expect(served).resolves.toMatchObject({ end: 'revoked' });
  });
});

describe('a slow hook delays only its own session', () => {
  it("a ranging hook that takes 1.5 s for one phone does not hold up another phone's handshake", async () => {
    let slowKey = '';
    const w = await world({
      car: {
        hooks: {
          ranging: async (keyId) => {
            if (keyId === slowKey) await sleep(1_500);
            return { ok: true };
          },
        },
      },
    });
    const slow = await pairOwner(w, 'slow');
    const fast = await pairOwner(w, 'fast');
    slowKey = slow.keyId;
    const order: string[] = [];
    const a = slow.command(w.connect().link, 'unlock').then((r) => order.push(`slow ${r.status}`));
    await sleep(50);
    const b = fast.command(w.connect().link, 'unlock').then((r) => order.push(`fast ${r.status}`));
    await Promise.all([a, b]);
    expect(order).toEqual(['fast ok', 'slow ok']);
  });
});

describe('a hung policy or hook never hangs the car', () => {
  it('a policy that never answers denies with internal-error after its bound, and the car serves on', async () => {
    let hang = true;
    const w = await world({
      car: { policy: () => (hang ? new Promise<never>(() => undefined) : { allow: true }) },
    });
    const owner = await pairOwner(w);
    expect((await owner.command(w.connect().link, 'unlock', { timeoutMs: 10_000 })).status).toBe('internal-error');
    hang = false;
    expect((await owner.command(w.connect().link, 'unlock')).status).toBe('ok');
  });
});

describe('session limits', () => {
  it('every command counts toward maxCommands (the handshake command included): the session then ends rate-limited', async () => {
    const w = await world({ car: { session: { maxCommands: 5 } } });
    const owner = await pairOwner(w);
    const { link, served } = w.connect();
    const { connection } = await owner.open(link, 'unlock');
    const statuses: string[] = [];
    for (let i = 0; i < 5; i++) statuses.push((await connection.send({ kind: 'custom', code: 0x90 + i })).status);
    expect(statuses).toEqual(['ok', 'ok', 'ok', 'ok', 'rate-limited']);
    await expect(served).resolves.toMatchObject({ end: 'rate-limited' });
  });
});

describe('store failures never crash the car', () => {
  it('a save failing during a grant redemption: internal-error, nothing enrolled, serve() resolves, the car serves on', async () => {
    const store = new FailingSaveStore('EACCES');
    const w = await world({ store });
    const owner = await pairOwner(w);
    const { friend } = await shareTo(w, owner, 'friend');
    store.fail = true;
    const { link, served } = w.connect();
    expect((await friend.command(link, 'unlock')).status).toBe('internal-error');
    await expect(served).resolves.toMatchObject({ end: 'ok', executed: 0, denied: 1 });
    expect(w.car.registry.state.keys.find((k) => k.id === friend.keyId)).toBeUndefined();
    store.fail = false;
    expect((await friend.command(w.connect().link, 'unlock')).status).toBe('ok');
  });

  it('an audit append failing: serve() resolves, onError hears it, the next session works', async () => {
    class FailingAudit extends MemoryVehicleStore {
      failures = 0;
      override async appendAudit(e: AuditEntry) {
        if (this.failures > 0) {
          this.failures--;
          throw Object.assign(new Error('ENOSPC: no space left on device'), { code: 'ENOSPC' });
        }
        return super.appendAudit(e);
      }
    }
    const store = new FailingAudit();
    const errors: string[] = [];
    const w = await world({ store, car: { onError: (e) => errors.push(e.message) } });
    const owner = await pairOwner(w);
    store.failures = 1;
    const { link, served } = w.connect();
    expect((await owner.command(link, 'unlock')).status).toBe('ok');
    await expect(served).resolves.toMatchObject({ executed: 1 });
    expect(errors.join()).toMatch(/ENOSPC/);
    expect((await owner.command(w.connect().link, 'lock')).status).toBe('ok');
    expect((await w.car.audit()).filter((e) => e.command === 'lock')).toHaveLength(1);
  });
});

describe('observers never break the car', () => {
  it('async onEvent, onError and advertising-secret listeners that reject: the car serves on and the process lives', async () => {
    const rejected: string[] = [];
    const reject = (what: string) => async () => {
      rejected.push(what);
      await Promise.resolve();
      throw new Error(`${what}: audit db unreachable`);
    };
    // What an application may pass (TypeScript accepts an async function where `=> void` is asked).
    // eslint-disable-next-line @typescript-eslint/no-misused-promises
    const w = await world({ car: { onEvent: reject('onEvent'), onError: reject('onError') } });
    // eslint-disable-next-line @typescript-eslint/no-misused-promises
    w.car.onAdvertisingSecretChange(reject('listener'));
    const owner = await pairOwner(w);
    const { friend } = await shareTo(w, owner, 'friend');
    expect((await friend.command(w.connect().link, 'unlock')).status).toBe('ok');
    await w.car.revoke(friend.keyId); // rotates the advertising secret: the listener rejects too
    expect((await owner.command(w.connect().link, 'unlock')).status).toBe('ok');
    await sleep(50); // a rejection nobody handled would surface (and fail this run) by now
    expect(rejected).toEqual(expect.arrayContaining(['onEvent', 'listener']));
  });
});

describe('administrative commands after a revocation', () => {
  /** A car whose policy holds the first `held` command until `open()`; returns when it is held. */
  async function heldPolicyWorld(held: string) {
    const base = defaultPolicy();
    let gate: Promise<void> | undefined;
    let entered!: () => void;
    const inPolicy = new Promise<void>((r) => (entered = r));
    const policy: Policy = async (ctx) => {
      if (ctx.commandName === held && gate) {
        entered();
        await gate;
      }
      return base(ctx);
    };
    const w = await world({ car: { policy } });
    let open!: () => void;
    const hold = (): void => {
      gate = new Promise<void>((r) => (open = r));
    };
    return { w, hold, inPolicy, open: () => open() };
  }

  it('a friend revoked while its advertising-secret waited on the policy does not get the new secret', async () => {
    const { w, hold, inPolicy, open } = await heldPolicyWorld('advertising-secret');
    const owner = await pairOwner(w);
    const { friend } = await shareTo(w, owner, 'friend');
    expect((await friend.command(w.connect().link, 'unlock')).status).toBe('ok');
    hold();
    const pending = friend.command(w.connect().link, { kind: 'advertising-secret' });
    await inPolicy;
    await w.car.revoke(friend.keyId);
    open();
    const r = await pending.catch((e: unknown) => e);
    expect(r).not.toMatchObject({ status: 'ok' });
    expect(r).toMatchObject({ status: 'revoked' });
  });

  it('an owner revoked while its revoke of another owner waited on the policy revokes no one', async () => {
    const { w, hold, inPolicy, open } = await heldPolicyWorld('revoke');
    const a = await pairOwner(w, 'a');
    const b = await pairOwner(w, 'b');
    await pairOwner(w, 'c');
    hold();
    const pending = b.command(w.connect().link, { kind: 'revoke', target: a.keyId });
    await inPolicy;
    await w.car.revoke(b.keyId); // the real owner revokes the stolen phone first
    open();
    expect(await pending.catch((e: unknown) => e)).toMatchObject({ status: 'revoked' });
    expect(w.car.registry.state.keys.find((k) => k.id === a.keyId)?.revoked).toBeFalsy();
  });
});
