/**
 * React Native has no WebCrypto: no `crypto.subtle`, and `crypto.getRandomValues` only with a
 * polyfill (react-native-get-random-values). The core must not need either when a random source
 * is injected, and needs only `getRandomValues` by default.
 */
import { randomFillSync } from 'node:crypto';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { assertRuntime, connectToCar, missingRuntimeFeatures } from '../../src/adapters/react-native/index.js';
import { FakeBleManager } from './fake-ble-manager.js';
import {
  LocalError,
  createMemoryLinkPair,
  defaultPolicy,
  MemoryPhoneStore,
  MemoryVehicleStore,
  PhoneWallet,
  VehicleService,
  type RandomSource,
} from '../../src/index.js';

/** A native CSPRNG handed in by the app (what react-native-get-random-values wraps). */
const nativeRandom: RandomSource = (n) => randomFillSync(new Uint8Array(n));

async function pairAndUnlock(random?: RandomSource) {
  const executed: string[] = [];
  const car = await VehicleService.open({
    store: new MemoryVehicleStore(),
    policy: defaultPolicy({ maxRttMs: 5_000 }),
    actuator: (c) => void executed.push(c.kind),
    ...(random && { random }),
  });
  const phone = await PhoneWallet.open({ store: new MemoryPhoneStore(), ...(random && { random }) });
  const link = () => {
    const [p, c] = createMemoryLinkPair();
    void car.serve(c);
    return p;
  };
  const { code } = await car.openPairing();
  await phone.pair(link(), code);
  const unlock = await phone.command(link(), 'unlock');
  const friend = await PhoneWallet.open({ store: new MemoryPhoneStore(), ...(random && { random }) });
  await friend.acceptShare((await phone.share(friend.keyRequest())).share);
  const shared = await friend.command(link(), 'lock');
  return { unlock: unlock.status, shared: shared.status, executed };
}

/** What react-native-get-random-values installs: `crypto.getRandomValues`, and nothing else (no `subtle`). */
const polyfill = {
  getRandomValues: <T extends ArrayBufferView | null>(a: T): T => (a && randomFillSync(new Uint8Array(a.buffer, a.byteOffset, a.byteLength)), a),
};

describe('the core without WebCrypto (React Native)', () => {
  afterEach(() => vi.unstubAllGlobals());

  it('crypto.subtle absent, getRandomValues polyfilled, a random source injected: pair, unlock and a shared key work', async () => {
    vi.stubGlobal('crypto', polyfill);
    expect(globalThis.crypto.subtle).toBeUndefined();
    let injected = 0;
    const r = await pairAndUnlock((n) => ((injected += n), nativeRandom(n)));
    expect(r).toEqual({ unlock: 'ok', shared: 'ok', executed: ['unlock', 'lock'] });
    expect(injected).toBeGreaterThan(32 * 6); // keys, ephemerals, challenges, pairing: all from the injected source
  });

  it('only the polyfill: the default random source is enough', async () => {
    vi.stubGlobal('crypto', polyfill);
    const r = await pairAndUnlock();
    expect(r.unlock).toBe('ok');
  });

  it('no crypto global at all: a clear error naming getRandomValues even with an injected source (noble blinds every secret-scalar multiplication with the platform CSPRNG) — install react-native-get-random-values', async () => {
    vi.stubGlobal('crypto', undefined);
    await expect(pairAndUnlock(nativeRandom)).rejects.toThrow(/getRandomValues/);
    await expect(PhoneWallet.open({ store: new MemoryPhoneStore() })).rejects.toThrow(/getRandomValues/);
  });
});

describe('proxkey/react-native checks the runtime before any radio work', () => {
  afterEach(() => vi.unstubAllGlobals());

  it('a missing CSPRNG or TextDecoder is a typed error naming what to install (not a failed pairing)', async () => {
    expect(missingRuntimeFeatures()).toEqual([]);
    vi.stubGlobal('TextDecoder', undefined);
    vi.stubGlobal('crypto', { getRandomValues: undefined });
    expect(missingRuntimeFeatures()).toEqual(['crypto.getRandomValues', "TextDecoder('utf-8', { fatal: true })"]);
    const manager = new FakeBleManager();
    const error = await connectToCar({ manager }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LocalError);
    expect((error as Error).message).toMatch(/react-native-get-random-values.*text-encoding/s);
    expect(manager.scanning).toBe(false); // nothing was started
    vi.unstubAllGlobals();
    expect(() => assertRuntime()).not.toThrow();
  });
});
