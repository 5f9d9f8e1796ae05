/**
 * PhoneWallet's saves: overlapping read-modify-saves of the wallet state never lose an update, a
 * failed save leaves memory as it was, and a grant drop that fails to save after the car answered
 * does not fail the command.
 */
import { describe, expect, it, vi } from 'vitest';
import { FAST_SCRYPT } from '../helpers/scrypt.js';
import {
  createMemoryLinkPair,
  deterministicRandom,
  generateP256KeyPair,
  MemoryPhoneStore,
  MemoryVehicleStore,
  nobleCrypto,
  PhoneWallet,
  systemRandom,
  VehicleService,
  type Command,
  type ProxkeyError,
} from '../../src/index.js';
import { carIdOf } from '../../src/keys/grant.js';
import type { PhoneState } from '../../src/keys/state.js';
import type { PhoneStore } from '../../src/keys/store.js';
import { WALLET_SAVE_TIMEOUT_MS } from '../../src/service/phone-wallet.js';
import { FilePhoneStore } from '../../src/node/index.js';
import { IndexedDbPhoneStore, PhoneDatabase } from '../../src/adapters/web-bluetooth/index.js';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A store whose saves take a while (so calls overlap) and can be made to fail once. */
class SlowFlakyStore extends MemoryPhoneStore {
  failNext = false;
  override async save(s: PhoneState): Promise<void> {
    await new Promise((r) => setTimeout(r, 5));
    if (this.failNext) {
      this.failNext = false;
      throw new Error('disk full');
    }
    return super.save(s);
  }
}

/** An owner wallet of a made-up car (enough to share it). */
async function ownerOf(name: string): Promise<PhoneWallet> {
  const kp = await generateP256KeyPair(nobleCrypto, systemRandom);
  const store = new MemoryPhoneStore();
  const w0 = await PhoneWallet.open({ store });
  const car = {
    carId: carIdOf(nobleCrypto, kp.publicKey),
    name,
    vehicleKey: kp.publicKey,
    advertisingSecret: new Uint8Array(32).fill(7),
    role: 'owner' as const,
    keyId: w0.keyId,
    addedAt: 1,
  };
  await store.save({ ...(await store.load())!, cars: [car] });
  return PhoneWallet.open({ store });
}

/** A friend's wallet on `store`, and a share of each of two owners' cars (car A, car B) for it. */
async function friendWithTwoShares<S extends PhoneStore>(store: S) {
  const [a, b] = [await ownerOf('car A'), await ownerOf('car B')];
  const friend = await PhoneWallet.open({ store });
  return { store, friend, sa: (await a.share(friend.keyRequest())).share, sb: (await b.share(friend.keyRequest())).share };
}

describe('PhoneWallet saves', () => {
  it('two overlapping acceptShare calls keep both cars, in memory and on disk', async () => {
    const { store, friend, sa, sb } = await friendWithTwoShares(new SlowFlakyStore());
    await Promise.all([friend.acceptShare(sa), friend.acceptShare(sb)]);
    const names = (cars: readonly { name: string }[]) => cars.map((c) => c.name).sort();
    expect(names(friend.cars())).toEqual(['car A', 'car B']);
    expect(names((await store.load())!.cars)).toEqual(['car A', 'car B']);
  });

  it('a failed save leaves memory as it was, and the next save goes ahead', async () => {
    const { store, friend, sa, sb } = await friendWithTwoShares(new SlowFlakyStore());
    store.failNext = true;
    const [ra, rb] = await Promise.allSettled([friend.acceptShare(sa), friend.acceptShare(sb)]);
    expect(ra.status).toBe('rejected');
    expect(rb.status).toBe('fulfilled');
    expect(friend.cars().map((c) => c.name)).toEqual(['car B']);
    expect((await store.load())!.cars.map((c) => c.name)).toEqual(['car B']);
  });
});

const names = (cars: readonly { name: string }[]) => cars.map((c) => c.name).sort();

describe('PhoneWallet with other writers of its store (two phone commands, two tabs)', () => {
  it('two wallets on one phone.json: each keeps the car the other saved (FilePhoneStore.exclusive: a lock file, state reloaded)', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'proxkey-wallets-')), 'phone.json');
    const [a, b] = await Promise.all([PhoneWallet.open({ store: new FilePhoneStore(path) }), PhoneWallet.open({ store: new FilePhoneStore(path) })]);
    expect(a.keyId).toBe(b.keyId); // first use, both at once: one key
    const [ownerA, ownerB] = [await ownerOf('car A'), await ownerOf('car B')];
    await a.acceptShare((await ownerA.share(a.keyRequest())).share);
    await b.acceptShare((await ownerB.share(b.keyRequest())).share); // b loaded before a saved car A
    expect(names((await new FilePhoneStore(path).load())!.cars)).toEqual(['car A', 'car B']);
    expect(names(b.cars())).toEqual(['car A', 'car B']);
    await a.forget(a.car('car A').carId); // a never saw car B: its change keeps it
    expect(names((await new FilePhoneStore(path).load())!.cars)).toEqual(['car B']);
    expect(names(a.cars())).toEqual(['car B']);
  });

  it('a store without exclusive() keeps the single-writer behaviour (memory is the base of each change)', async () => {
    const store = new MemoryPhoneStore();
    const { friend, sa } = await friendWithTwoShares(store);
    await store.save({ ...(await store.load())!, cars: [] }); // someone else's write, unseen
    await friend.acceptShare(sa);
    expect(names((await store.load())!.cars)).toEqual(['car A']);
  });
});

describe('IndexedDB: a write that outlives its timeout', () => {
  it('is awaited (it is committing, cannot be aborted), so the wallet is told the truth and memory matches the database', async () => {
    const disk = new Map<string, unknown>();
    let commitMs = 1;
    /** A fake IDBDatabase: a put commits after `commitMs`; abort() throws once committing, as IndexedDB's does. */
    const fakeDb = {
      name: 'fake',
      transaction() {
        let committing = false;
        const tx: { oncomplete?: () => void; onabort?: () => void; abort(): void; objectStore(): unknown; error: null } = {
          error: null,
          abort() {
            if (committing) throw new DOMException('the transaction is committing', 'InvalidStateError');
            setTimeout(() => tx.onabort?.(), 0);
          },
          objectStore: () => ({
            get: (k: string) => {
              const r = { result: disk.get(k), error: null };
              setTimeout(() => tx.oncomplete?.(), 0);
              return r;
            },
            put: (v: unknown, k: string) => {
              committing = true;
              setTimeout(() => {
                disk.set(k, v);
                tx.oncomplete?.();
              }, commitMs);
              return { result: undefined, error: null };
            },
          }),
        };
        return tx;
      },
    };
    const store = new IndexedDbPhoneStore(new PhoneDatabase(fakeDb as unknown as IDBDatabase, 50));
    const { friend, sa } = await friendWithTwoShares(store);
    commitMs = 80; // longer than the database's 50 ms bound, within its second bound for a commit
    await friend.acceptShare(sa);
    expect(names(friend.cars())).toEqual(['car A']);
    expect(names((await store.load())!.cars)).toEqual(['car A']);
    commitMs = 10_000; // a commit that never ends in time: bounded all the same, and said to be unknown
    const t = Date.now();
    await expect(store.database.put('state', 'x', {})).rejects.toMatchObject({ code: 'ERR_TIMEOUT', message: /committing: it may still be written/ });
    expect(Date.now() - t).toBeLessThan(1_000);
  });
});

describe('PhoneWallet save bound', () => {
  /** A store whose next save takes `ms` (Infinity: never ends), then completes. */
  class SlowOnceStore extends MemoryPhoneStore {
    nextMs: number | undefined;
    override async save(s: PhoneState): Promise<void> {
      const ms = this.nextMs;
      this.nextMs = undefined;
      if (ms !== undefined) await new Promise((r) => (Number.isFinite(ms) ? setTimeout(r, ms) : undefined));
      return super.save(s);
    }
  }

  const twoShares = () => friendWithTwoShares(new SlowOnceStore());
  const codeOf = (p: Promise<unknown>) =>
    p.then(
      () => 'saved',
      (e: ProxkeyError) => e.code,
    );
  const names = (cars: readonly { name: string }[]) => cars.map((c) => c.name).sort();

  it('a save that hangs fails its change at WALLET_SAVE_TIMEOUT_MS, and each later change in turn (never over it)', async () => {
    const { store, friend, sa, sb } = await twoShares();
    vi.useFakeTimers();
    try {
      store.nextMs = Infinity;
      const a = codeOf(friend.acceptShare(sa));
      const b = codeOf(friend.acceptShare(sb));
      await vi.advanceTimersByTimeAsync(WALLET_SAVE_TIMEOUT_MS);
      expect(await a).toBe('ERR_TIMEOUT');
      await vi.advanceTimersByTimeAsync(WALLET_SAVE_TIMEOUT_MS);
      expect(await b).toBe('ERR_TIMEOUT');
    } finally {
      vi.useRealTimers();
    }
    expect(friend.cars()).toEqual([]);
  });

  it('a save that ends after its timeout: it is kept in memory too, and the next change lands after it, not under it', async () => {
    const { store, friend, sa, sb } = await twoShares();
    vi.useFakeTimers();
    try {
      store.nextMs = WALLET_SAVE_TIMEOUT_MS + 1_000;
      const a = codeOf(friend.acceptShare(sa));
      await vi.advanceTimersByTimeAsync(WALLET_SAVE_TIMEOUT_MS);
      expect(await a).toBe('ERR_TIMEOUT'); // the caller is told at the bound; the save goes on
      const b = codeOf(friend.acceptShare(sb)); // waits for that save to really end
      await vi.advanceTimersByTimeAsync(2_000);
      expect(await b).toBe('saved');
    } finally {
      vi.useRealTimers();
    }
    expect(names(friend.cars())).toEqual(['car A', 'car B']);
    expect(names((await store.load())!.cars)).toEqual(['car A', 'car B']);
    expect(names((await PhoneWallet.open({ store })).cars())).toEqual(['car A', 'car B']);
  });
});

/** A store whose saves wait, while held, until `let()` lets them all through in order. */
class GatedStore extends MemoryPhoneStore {
  #held: Promise<void> | undefined;
  #let: () => void = () => {};
  hold(): void {
    this.#held = new Promise((r) => (this.#let = r));
  }
  let(): void {
    this.#held = undefined;
    this.#let();
  }
  override async save(s: PhoneState): Promise<void> {
    await this.#held;
    return super.save(s);
  }
}

describe('PhoneWallet grant drop', () => {
  /** A car, its owner, and a friend (on `store`) holding a shared key to it, not yet presented. */
  async function sharedKeyWorld<S extends MemoryPhoneStore>(store: S) {
    const executed: string[] = [];
    const car = await VehicleService.open({
      store: new MemoryVehicleStore(),
      random: deterministicRandom('c'),
      name: 'Car',
      actuator: (c: Command) => void executed.push(c.kind),
    });
    const owner = await PhoneWallet.open({ store: new MemoryPhoneStore(), label: 'owner' });
    const { code } = await car.openPairing({ scrypt: FAST_SCRYPT });
    const [p, c] = createMemoryLinkPair();
    const served = car.serve(c);
    await owner.pair(p, code);
    await served;
    const errors: ProxkeyError[] = [];
    const friend = await PhoneWallet.open({ store, label: 'friend', onError: (e) => errors.push(e) });
    await friend.acceptShare((await owner.share(friend.keyRequest())).share);
    const connect = () => {
      const [phone, carSide] = createMemoryLinkPair();
      return { phone, served: car.serve(carSide) };
    };
    return { executed, store, errors, friend, connect };
  }

  it('a failed save of the drop after the car ran the command: the result is returned, the link closed, the grant kept for next time', async () => {
    const w = await sharedKeyWorld(new SlowFlakyStore());
    const first = w.connect();
    w.store.failNext = true;
    const result = await w.friend.command(first.phone, 'unlock');
    expect(result.ok).toBe(true);
    expect(w.executed).toEqual(['unlock']);
    expect(first.phone.isClosed).toBe(true);
    await first.served; // the car's session ended with the link, not at its idle timeout
    expect(w.errors.map((e) => e.message)).toEqual(['saving the grant drop: disk full']);
    expect(w.friend.car().grant).toBeDefined();

    const second = w.connect();
    expect((await w.friend.command(second.phone, 'lock')).ok).toBe(true);
    await second.served;
    expect(w.friend.car().grant).toBeUndefined();
    expect((await w.store.load())!.cars[0]!.grant).toBeUndefined();
  });

  it('a grant dropped while a share of another car is being saved: both changes are kept', async () => {
    const w = await sharedKeyWorld(new GatedStore());
    const { store, executed } = w;
    const other = (await (await ownerOf('car B')).share(w.friend.keyRequest())).share;

    store.hold();
    const accepted = w.friend.acceptShare(other); // its save waits
    const { phone, served: session } = w.connect();
    const unlocked = w.friend.command(phone, 'unlock'); // the car enrolls the key: the grant is dropped
    while (executed.length === 0) await new Promise((r) => setTimeout(r, 5));
    await new Promise((r) => setTimeout(r, 50)); // the RESULT has reached the phone
    store.let();
    await Promise.all([accepted, unlocked, session]);

    const state = (cars: readonly { name: string; grant?: Uint8Array }[]) => cars.map((x) => [x.name, !!x.grant]).sort();
    expect(state(w.friend.cars())).toEqual([
      ['Car', false],
      ['car B', true],
    ]);
    expect(state((await store.load())!.cars)).toEqual([
      ['Car', false],
      ['car B', true],
    ]);
  });

  it('open(): the drop failing to save still hands back the result and the open connection', async () => {
    const w = await sharedKeyWorld(new SlowFlakyStore());
    const { phone, served } = w.connect();
    w.store.failNext = true;
    const { result, connection } = await w.friend.open(phone, 'unlock');
    expect(result.ok).toBe(true);
    expect(connection.isOpen).toBe(true);
    expect((await connection.send('lock')).ok).toBe(true);
    await connection.close();
    await served;
    expect(w.executed).toEqual(['unlock', 'lock']);
    expect(w.errors).toHaveLength(1);
  });
});
