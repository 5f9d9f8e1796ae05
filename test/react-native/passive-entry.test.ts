/**
 * Passive entry from the phone's side: the simulated RSSI traces (test/proximity/traces/) played
 * as scan reports of the fake ble-plx radio; the example app module (examples/react-native)
 * unlocks on approach and locks on walk-away through the real car. Connection RSSI
 * (`readRSSIForDevice`) feeds the same engine while a link is open; a dropped link is a lost signal.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ProxkeyKey, type KeyStatus } from '../../examples/react-native/proxkey-key.js';
import { TRACES_DIR, type RssiTrace } from '../../scripts/gen-rssi-traces.js';
import { advertisingCarOf, carFilter, connectToCar, PhonePassiveEntry } from '../../src/adapters/react-native/index.js';
import { MemoryPhoneStore, ProximityEngine, type ProximityDecision, type ProximityEvent } from '../../src/index.js';
import { bench, type Bench } from './helpers.js';

const load = (name: string): RssiTrace => JSON.parse(readFileSync(new URL(`${name}.json`, TRACES_DIR), 'utf8')) as RssiTrace;
const macrotask = () => new Promise<void>((r) => setImmediate(r));

/** A paired owner phone as the example module, with a virtual clock for passive entry. */
async function ownerKey(b: Bench, clock: { now: number }, statuses: KeyStatus[] = []) {
  const key = await ProxkeyKey.open({ manager: b.manager, store: new MemoryPhoneStore(), now: () => clock.now, onStatus: (s) => statuses.push(s) });
  const { code } = await b.vehicle.openPairing();
  await key.pair(code);
  b.manager.autoAdvertise = false; // from now on the trace decides what the phone hears
  return key;
}

/** Play a trace's RSSI as scan reports of the car at its own (virtual) times, letting the app work between them. */
async function replay(b: Bench, key: ProxkeyKey, trace: RssiTrace, clock: { now: number }) {
  for (const ev of trace.events) {
    clock.now = ev.t;
    if ('rssi' in ev) b.manager.advertise(b.carId, ev.rssi);
    await macrotask();
  }
  clock.now = trace.durationMs;
  key.tick(trace.durationMs);
  await key.idle();
}

describe('phone-side passive entry from RSSI traces (scan RSSI → ProximityEngine → commands)', () => {
  /** A paired owner phone with passive entry on (or switched on and off again), hearing `trace`. */
  async function play(name: string, passive: 'on' | 'toggled-off' = 'on') {
    const b = await bench();
    const clock = { now: 0 };
    const statuses: KeyStatus[] = [];
    const key = await ownerKey(b, clock, statuses);
    await key.setPassiveEntry(true);
    expect(b.manager.scanning).toBe(true);
    if (passive === 'toggled-off') await key.setPassiveEntry(false);
    await replay(b, key, load(name), clock);
    await key.close();
    expect(b.manager.scanning).toBe(false);
    const results = statuses.flatMap((s) => (s.type === 'result' ? [`${s.command}:${s.status}:${s.passive ? 'passive' : 'user'}`] : []));
    return { executed: b.executed, results, zones: statuses.flatMap((s) => (s.type === 'proximity' ? [s.zone] : [])) };
  }

  it('walk-up: one approach-unlock, executed by the car, near the door', async () => {
    const r = await play('walk-up');
    expect(r.executed).toEqual(['unlock']);
    expect(r.results).toEqual(['unlock:ok:passive']);
    expect(r.zones).toContain('near');
  });

  it('walk-away: unlock at the door, then the walk-away lock once the owner is gone', async () => {
    const r = await play('walk-away');
    expect(r.results).toEqual(['unlock:ok:passive', 'lock:ok:passive']);
    expect(r.executed).toEqual(['unlock', 'lock']);
  });

  it('reflector-spike: 12 m away with reflections: nothing is sent', async () => {
    const r = await play('reflector-spike');
    expect(r.executed).toEqual([]);
    expect(r.zones).not.toContain('near');
  });

  it('off: the same walk-up decides nothing (no scan runs)', async () => {
    const r = await play('walk-up', 'toggled-off');
    expect(r.executed).toEqual([]);
    expect(r.zones).toEqual([]);
  });

  it("a stranger car at the door is never sampled: only advertisements that resolve to the phone's car count", async () => {
    const b = await bench();
    const clock = { now: 0 };
    await ownerKey(b, clock);
    const events: ProximityEvent[] = [];
    const target = { carId: 'someone else', secret: new Uint8Array(32).fill(9) };
    const passive = await PhonePassiveEntry.start({
      manager: b.manager,
      cars: [target],
      now: () => clock.now,
      onDecision: () => {},
      onEvent: (e) => events.push(e),
    });
    for (const ev of load('walk-up').events) {
      clock.now = ev.t;
      if ('rssi' in ev) b.manager.advertise(b.carId, ev.rssi);
    }
    expect(events).toEqual([]);
    expect(passive.engine.state('someone else')).toBeUndefined();
    await passive.stop();
  });
});

describe('connection RSSI (readRSSIForDevice) into the engine', () => {
  it('an open link is sampled until it closes; a dropped link is a lost signal, and the lock falls due after the grace period', async () => {
    let rssi = -50; // ≈ 0.35 m with the default model: near
    const b = await bench({ rssi: () => rssi });
    const key = await ProxkeyKey.open({ manager: b.manager, store: new MemoryPhoneStore() });
    const { code } = await b.vehicle.openPairing();
    await key.pair(code);
    const car = key.wallet.car();
    const link = await connectToCar({ manager: b.manager, filter: carFilter(car)! });
    b.manager.autoAdvertise = false; // only the connection's RSSI from here on
    const decisions: ProximityDecision[] = [];
    let now = 0;
    const passive = await PhonePassiveEntry.start({
      manager: b.manager,
      cars: [advertisingCarOf(car)!],
      now: () => now,
      rssiIntervalMs: 1,
      onDecision: (d) => decisions.push(d),
    });
    passive.follow(link, car.carId);
    for (let i = 0; i < 40 && decisions.length === 0; i++) {
      now += 250;
      await new Promise((r) => setTimeout(r, 5));
    }
    expect(b.manager.stats.rssiReads).toBeGreaterThan(3);
    expect(decisions.map((d) => d.type)).toEqual(['approach-unlock']);
    expect(passive.engine.state(car.carId)?.zone).toBe('near');

    rssi = -40;
    const lostAt = (now += 250);
    b.manager.dropConnection(b.carId);
    await link.disconnected;
    await new Promise((r) => setTimeout(r, 5));
    expect(passive.engine.state(car.carId)?.zone).toBe('unknown');
    const reads = b.manager.stats.rssiReads;
    passive.tick((now = lostAt + 10_000));
    expect(decisions.map((d) => [d.type, d.cause])).toEqual([
      ['approach-unlock', 'near'],
      ['walk-away-lock', 'link-lost'],
    ]);
    await new Promise((r) => setTimeout(r, 10));
    expect(b.manager.stats.rssiReads).toBe(reads); // sampling stopped with the link
    await passive.stop();
  });
});

describe('the passive-entry timer', () => {
  it('a walk-away lock falls due with no new sample: the timer follows engine.nextDeadline() and decides by itself', async () => {
    const b = await bench();
    const key = await ProxkeyKey.open({ manager: b.manager, store: new MemoryPhoneStore() });
    const { code } = await b.vehicle.openPairing();
    await key.pair(code);
    b.manager.autoAdvertise = false;
    const car = key.wallet.car();
    const now = () => performance.now();
    const engine = new ProximityEngine({ now, approachUnlock: true, staleAfterMs: 60, linkLossGraceMs: 40, zones: { enterDwellMs: 0 } });
    const decisions: ProximityDecision[] = [];
    let locked!: () => void;
    const lockedNow = new Promise<void>((r) => (locked = r));
    const passive = await PhonePassiveEntry.start({
      manager: b.manager,
      cars: [advertisingCarOf(car)!],
      engine,
      now,
      onDecision: (d) => {
        decisions.push(d);
        if (d.type === 'walk-away-lock') locked();
      },
    });
    for (let i = 0; i < 5; i++) {
      b.manager.advertise(b.carId, -50);
      await new Promise((r) => setTimeout(r, 5));
    }
    expect(decisions.map((d) => d.type)).toEqual(['approach-unlock']);
    // the car goes silent: nobody calls the engine again, yet the lock comes (stale → grace → lock)
    await Promise.race([lockedNow, new Promise((_, reject) => setTimeout(() => reject(new Error('no walk-away lock from the timer')), 5_000))]);
    expect(decisions.map((d) => [d.type, d.cause])).toEqual([
      ['approach-unlock', 'near'],
      ['walk-away-lock', 'stale'],
    ]);
    await passive.stop();
    await key.close();
  });
});
