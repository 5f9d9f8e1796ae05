/**
 * Soak: a simulated week of one car's life in one bounded run. The car is a real VehicleService
 * on nodeCrypto (the daemon's default) with its FileVehicleStore in a temporary directory; the
 * phones are PhoneWallets on the in-memory link; the wall clock is injected and advances 200 s per
 * event (3 024 events ≈ 7 days, 672 advertising epochs of 15 min).
 *
 * What happens, from a seeded PRNG: unlocks and locks from the owners and the friends they share
 * keys with (the bulk), new shares and revocations, a second owner paired mid-week (after a wrong
 * code), links dropped mid-transaction, garbage instead of a handshake, revoked phones trying
 * again, and at every epoch each phone looking for the car's current advertising id (fetching the
 * new secret when a revocation changed it).
 *
 * What must hold:
 * - flat: heap (after a GC), RSS, active handles and open file descriptors — the median of the
 *   last tenth of the run against the first tenth, with generous bounds (printed as a curve);
 * - bounded: the audit files on disk stay under the documented bound (AUDIT_BOUND_BYTES below);
 * - nothing lost: every result a phone saw `ok` was executed, every decision is in the audit log
 *   in order, and the car reopened from its files has every key, every revocation and the last
 *   advertising secret.
 */
import { FAST_SCRYPT } from '../helpers/scrypt.js';
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterAll, describe, expect, it } from 'vitest';
import {
  AdvertisingIdResolver,
  createMemoryLinkPair,
  currentAdvertisingId,
  deterministicRandom,
  MemoryPhoneStore,
  PhoneWallet,
  toHex,
  VehicleService,
  type VehicleEvent,
} from '../../src/index.js';
import { FileVehicleStore, nodeCrypto as crypto } from '../../src/node/index.js';
import { mulberry32 } from '../../scripts/gen-rssi-traces.js';

const EVENTS = 3024;
const STEP_MS = 200_000;
const START_MS = 1_767_225_600_000; // 2026-01-01T00:00:00Z
/**
 * The audit files rotate at 64 KiB here (1 MiB by default) with 16 kept, so a week (≈ 0.5 MB)
 * rotates several times and nothing is dropped: the bound is (1 + 16) × 64 KiB, and the entries
 * read back across the files must be every decision, in order.
 */
const AUDIT_OPTIONS = { maxAuditBytes: 64 * 1024, keepAuditFiles: 16 };
const AUDIT_BOUND_BYTES = (1 + AUDIT_OPTIONS.keepAuditFiles) * AUDIT_OPTIONS.maxAuditBytes;

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

const dir = mkdtempSync(join(tmpdir(), 'proxkey-soak-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Phone {
  readonly name: string;
  readonly wallet: PhoneWallet;
  revoked: boolean;
}

interface Sample {
  readonly heapMb: number;
  readonly rssMb: number;
  readonly handles: number;
  readonly fds: number;
}

function sample(): Sample {
  gc();
  const m = process.memoryUsage();
  return {
    heapMb: m.heapUsed / 2 ** 20,
    rssMb: m.rss / 2 ** 20,
    handles: process.getActiveResourcesInfo().length,
    fds: readdirSync('/proc/self/fd').length,
  };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
const tenth = (samples: Sample[], which: 'first' | 'last', key: keyof Sample) => {
  const n = Math.max(1, Math.floor(samples.length / 10));
  return median((which === 'first' ? samples.slice(0, n) : samples.slice(-n)).map((s) => s[key]));
};

async function world() {
  let t = START_MS;
  const now = () => t;
  const executed = new Map<string, number>();
  const decisions: string[] = [];
  const car = await VehicleService.open({
    store: new FileVehicleStore(dir, AUDIT_OPTIONS),
    crypto,
    now,
    name: 'Soak car',
    actuator: (command, key) => {
      const k = `${key.id} ${command.kind}`;
      executed.set(k, (executed.get(k) ?? 0) + 1);
    },
    onEvent: (e: VehicleEvent) => {
      if (e.type === 'decision') decisions.push(`${e.keyId} ${e.command?.kind ?? '?'} ${e.result}`);
    },
  });
  const connect = (options?: Parameters<typeof createMemoryLinkPair>[0]) => {
    const [phone, carSide] = createMemoryLinkPair(options);
    return { link: phone, served: car.serve(carSide) };
  };
  return { car, now, advance: () => (t += STEP_MS), executed, decisions, connect };
}
type World = Awaited<ReturnType<typeof world>>;

async function newPhone(name: string, seq: number): Promise<Phone> {
  const wallet = await PhoneWallet.open({ store: new MemoryPhoneStore(), crypto, random: deterministicRandom(`soak-${name}-${seq}`), label: name });
  return { name, wallet, revoked: false };
}

async function pairOwner(w: World, name: string, seq: number, wrongCodeFirst: boolean): Promise<Phone> {
  const phone = await newPhone(name, seq);
  const { code } = await w.car.openPairing({ scrypt: FAST_SCRYPT });
  if (wrongCodeFirst) {
    const mallory = await newPhone('mallory', seq);
    const { link, served } = w.connect();
    await expect(mallory.wallet.pair(link, code === '00000000' ? '00000001' : '00000000')).rejects.toMatchObject({ code: 'ERR_PAIRING_FAILED' });
    await served;
  }
  const { link, served } = w.connect();
  await phone.wallet.pair(link, code);
  await served;
  return phone;
}

/** Every phone looks for the car's current advertising id; the live ones refresh a stale secret. */
async function advertisingEpoch(w: World, phones: readonly Phone[], seen: { resolved: number; refreshed: number }) {
  const advertised = currentAdvertisingId(crypto, w.car.advertisingSecret, w.now()).id;
  for (const p of phones) {
    const rec = p.wallet.cars()[0]!;
    const resolves = () =>
      new AdvertisingIdResolver(crypto, [{ carId: rec.carId, secret: p.wallet.cars()[0]!.advertisingSecret! }]).resolve(advertised, w.now());
    if (resolves()) {
      expect(p.revoked, `${p.name} still recognises the car after its revocation`).toBe(false);
      seen.resolved++;
      continue;
    }
    if (p.revoked) continue;
    const { link, served } = w.connect();
    expect((await p.wallet.command(link, 'lock', { refreshAdvertising: true })).status).toBe('ok');
    await served;
    expect(resolves(), `${p.name} fetched the new secret`).toBeTruthy();
    seen.refreshed++;
  }
}

/** A phone sends garbage instead of its handshake, then goes away. */
async function garbage(w: World, random: () => number) {
  const { link, served } = w.connect();
  await link.receive({ timeoutMs: 2_000 });
  const bytes = Uint8Array.from({ length: Math.floor(random() * 300) }, () => Math.floor(random() * 256));
  await link.send(bytes).catch(() => undefined);
  link.close('garbage sent');
  await served;
}

/** The link breaks after `messages` messages: the phone sees a LinkClosedError, the car ends the session. */
async function dropped(w: World, phone: Phone, messages: number) {
  const { link, served } = w.connect({ disconnectAfter: { messages } });
  await expect(phone.wallet.command(link, 'unlock', { timeoutMs: 2_000 })).rejects.toMatchObject({ name: 'LinkClosedError' });
  await served;
}

describe('soak: a simulated week of a car', () => {
  it('stays flat, keeps its audit log bounded and loses nothing', { timeout: 240_000 }, async () => {
    const w = await world();
    const random = mulberry32(20260101);
    const owners = [await pairOwner(w, 'owner-1', 0, false)];
    const friends: Phone[] = [];
    const okSeen = new Map<string, number>();
    const counts = { unlock: 0, dropped: 0, garbage: 0, shares: 0, revocations: 0, revokedTries: 0 };
    const epochs = { resolved: 0, refreshed: 0 };
    const samples: Sample[] = [];
    let lastEpoch = -1;

    for (let i = 0; i < EVENTS; i++) {
      w.advance();
      if (i === EVENTS >> 1) owners.push(await pairOwner(w, 'owner-2', i, true));
      const epoch = Math.floor(w.now() / 900_000);
      if (epoch !== lastEpoch) {
        lastEpoch = epoch;
        await advertisingEpoch(w, [...owners, ...friends], epochs);
      }
      const live = [...owners, ...friends.filter((f) => !f.revoked)];
      const r = random();
      if (r < 0.02 && friends.filter((f) => !f.revoked).length < 6) {
        const friend = await newPhone(`friend-${i}`, i);
        const owner = owners[Math.floor(random() * owners.length)]!;
        await friend.wallet.acceptShare((await owner.wallet.share(friend.wallet.keyRequest(friend.name))).share);
        friends.push(friend);
        counts.shares++;
      } else if (r < 0.03 && friends.some((f) => !f.revoked)) {
        const victim = friends.find((f) => !f.revoked)!;
        const { link, served } = w.connect();
        const result = await owners[0]!.wallet.command(link, { kind: 'revoke', target: victim.wallet.keyId });
        await served;
        expect(result.status).toBe('ok');
        victim.revoked = true;
        counts.revocations++;
      } else if (r < 0.05) {
        await garbage(w, random);
        counts.garbage++;
      } else if (r < 0.07) {
        await dropped(w, live[Math.floor(random() * live.length)]!, 1 + Math.floor(random() * 2));
        counts.dropped++;
      } else if (r < 0.08 && friends.some((f) => f.revoked)) {
        const revoked = friends.find((f) => f.revoked)!;
        const { link, served } = w.connect();
        const status = await revoked.wallet.command(link, 'unlock').then(
          (res) => res.status,
          (e: Error) => e.name,
        );
        await served;
        expect(status).not.toBe('ok');
        counts.revokedTries++;
      } else {
        const phone = live[Math.floor(random() * live.length)]!;
        const command = random() < 0.6 ? 'unlock' : 'lock';
        const { link, served } = w.connect();
        const result = await phone.wallet.command(link, command);
        await served;
        expect(result.status, `${phone.name} ${command}`).toBe('ok');
        const k = `${phone.wallet.keyId} ${command}`;
        okSeen.set(k, (okSeen.get(k) ?? 0) + 1);
        counts.unlock++;
      }
      if (i % 48 === 0) samples.push(sample());
    }
    samples.push(sample());

    await verifyFlat(samples);
    await verifyNothingLost(w, okSeen, [...owners, ...friends]);
    console.log('soak counts', { events: EVENTS, days: (EVENTS * STEP_MS) / 86_400_000, ...counts, epochs });
    expect(counts.unlock).toBeGreaterThan(2000);
    expect(counts.revocations).toBeGreaterThan(5);
    expect(epochs.refreshed).toBeGreaterThan(5);
  });
});

async function verifyFlat(samples: Sample[]) {
  const curve = (key: keyof Sample) => ({
    first: +tenth(samples, 'first', key).toFixed(1),
    last: +tenth(samples, 'last', key).toFixed(1),
    max: +Math.max(...samples.map((s) => s[key])).toFixed(1),
  });
  if (process.env.SOAK_CURVE) console.log(samples.map((s) => `${s.rssMb.toFixed(0)}/${s.heapMb.toFixed(1)}`).join(' '));
  const summary = { samples: samples.length, heapMb: curve('heapMb'), rssMb: curve('rssMb'), handles: curve('handles'), fds: curve('fds') };
  console.log('soak curve (median of first / last tenth, max)', JSON.stringify(summary));
  expect(summary.heapMb.last).toBeLessThanOrEqual(summary.heapMb.first * 1.5 + 8);
  expect(summary.rssMb.last).toBeLessThanOrEqual(summary.rssMb.first * 1.5 + 48);
  expect(summary.handles.last).toBeLessThanOrEqual(summary.handles.first + 4);
  expect(summary.fds.last).toBeLessThanOrEqual(summary.fds.first + 4);
}

async function verifyNothingLost(w: World, okSeen: Map<string, number>, phones: readonly Phone[]) {
  // every ok a phone saw was executed (a dropped link may execute without the phone seeing ok)
  for (const [k, n] of okSeen) expect(w.executed.get(k) ?? 0, k).toBeGreaterThanOrEqual(n);
  // every decision is in the audit log, in order, and the files stay under the bound
  const audit = (await w.car.audit()).filter((e) => e.event === 'command').map((e) => `${e.keyId} ${e.command ?? '?'} ${e.result}`);
  expect(audit).toEqual(w.decisions);
  const auditBytes = readdirSync(dir)
    .filter((f) => f.startsWith('audit'))
    .reduce((n, f) => n + statSync(join(dir, f)).size, 0);
  console.log('soak audit', { entries: audit.length, bytes: auditBytes, boundBytes: AUDIT_BOUND_BYTES });
  expect(auditBytes).toBeLessThanOrEqual(AUDIT_BOUND_BYTES);
  expect(readdirSync(dir).filter((f) => /^audit\.\d+\.jsonl$/.test(f)).length).toBeGreaterThan(1); // rotation ran
  // the car reopened from its files knows every key and revocation, and the last secret
  const reopened = await VehicleService.open({ store: new FileVehicleStore(dir, AUDIT_OPTIONS), crypto, actuator: () => undefined });
  const keys = new Map((await reopened.registry.list()).map((k) => [k.id, k]));
  for (const p of phones) {
    expect(keys.has(p.wallet.keyId), `${p.name} enrolled`).toBe(true);
    expect(!!keys.get(p.wallet.keyId)!.revoked, `${p.name} revoked`).toBe(p.revoked);
  }
  expect(toHex(reopened.advertisingSecret)).toBe(toHex(w.car.advertisingSecret));
}
