/**
 * `npm run bench [-- --json] [-- --iterations N]`
 *
 * Measures one full unlock transaction (challenge → handshake+command → result) with the sans-IO
 * roles directly (no link, no timers), per role and per CryptoProvider (noble, node, webcrypto),
 * against that role's *floor* on the same provider: the public-key operations it must do in one
 * transaction (1 P-256 keygen + 3 ECDH each, every peer key validated once as the protocol must),
 * run back to back in the same process on the inputs a real transaction has (a fresh peer
 * ephemeral; the car gets the phone's static key as fresh bytes, the phone holds the car's pinned).
 * Figures are CPU time of this process (user + system, all threads: WebCrypto's jobs run on libuv's
 * pool), not wall time, which would add whatever the scheduler gives other processes meanwhile.
 * Overhead = cpu / floor − 1. Medians over N iterations (default 200); providers are interleaved in every
 * iteration, phase by phase (all transactions, then all vehicle floors, then all phone floors), so
 * that machine noise and cold caches hit every figure of a ratio alike: each figure starts right
 * after the same phase of another provider, and none is warmed up by untimed work just before its
 * timer starts (the floor's peer keys are made before the transactions).
 *
 * Round trips and bytes are not constants: they are counted from the messages one unlock puts on
 * an instrumented in-memory link (the real drivers, `serveVehicleSession` / `openPhoneSession`),
 * for every provider, and must agree with the sans-IO transaction's messages.
 *
 * JSON: `{ unlock: {…noble figures…}, providers: { noble|node|webcrypto: { vehicleCpuMs,
 * phoneCpuMs, vehicleFloorMs, phoneFloorMs, vehicleOverhead, phoneOverhead } },
 * vehicleSpeedup: { node, webcrypto } }` (speedup = noble vehicle CPU / that provider's).
 */
import { median, roundTo } from './stats.js';
import { measureFlood } from './flood/measure.js';
import {
  defaultPolicy,
  generateP256KeyPair,
  MemoryKeyRegistry,
  nobleCrypto,
  openPhoneSession,
  PhoneSession,
  serveVehicleSession,
  softwareKey,
  systemRandom,
  webCryptoProvider,
  type CryptoProvider,
  type KeyCustody,
} from '../src/index.js';
import { TestCar } from '../test/helpers/test-car.js';
import { nodeCrypto } from '../src/node/index.js';
import { recordingLinkPair, wireSummary } from '../test/helpers/recording-link.js';

const args = process.argv.slice(2);
const json = args.includes('--json');
const itIdx = args.indexOf('--iterations');
const iterations = itIdx >= 0 ? Number(args[itIdx + 1]) : 200;
const warmup = Math.max(5, Math.round(iterations / 5));
const now = () => performance.now();
/**
 * CPU time of this process in ms (user + system, µs resolution): what the figures are. Wall time
 * would add whatever the scheduler gives other processes meanwhile (this machine is shared).
 */
const cpuNow = () => {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
};

const round = (x: number) => roundTo(x, 3);
const policy = defaultPolicy();
const countingPolicy = defaultPolicy({ maxRttMs: Infinity });

interface Setup {
  readonly crypto: CryptoProvider;
  readonly car: KeyCustody;
  readonly phone: KeyCustody;
  readonly keys: MemoryKeyRegistry;
}

async function setup(crypto: CryptoProvider): Promise<Setup> {
  const car = await softwareKey(crypto, (await generateP256KeyPair(crypto, systemRandom)).secretKey);
  const phone = await softwareKey(crypto, (await generateP256KeyPair(crypto, systemRandom)).secretKey);
  const keys = new MemoryKeyRegistry(crypto);
  await keys.enroll(phone.publicKey);
  return { crypto, car, phone, keys };
}

/** One sans-IO unlock, each role's steps timed separately. */
async function transaction({ crypto, car, phone, keys }: Setup) {
  let vehicleMs = 0;
  let phoneMs = 0;
  const timed = async <T>(role: 'v' | 'p', f: () => Promise<T> | T): Promise<T> => {
    const t = cpuNow();
    const r = await f();
    const dt = cpuNow() - t;
    if (role === 'v') vehicleMs += dt;
    else phoneMs += dt;
    return r;
  };
  const v = await timed('v', () => new TestCar({ crypto, random: systemRandom, now, identity: car, keys, policy }));
  const p = await timed('p', () => new PhoneSession({ crypto, random: systemRandom, now, identity: phone, vehicleKey: car.publicKey }));
  await timed('p', () => p.begin('unlock'));
  const [challenge] = (await timed('v', () => v.start())).send;
  const [handshake] = (await timed('p', () => p.receive(challenge!))).send;
  const exec = await timed('v', () => v.receive(handshake!));
  if (!exec.events.some((e) => e.type === 'execute')) throw new Error('bench: unlock not authorized');
  const [result] = (await timed('v', () => v.complete({ ok: true }))).send;
  const done = await timed('p', () => p.receive(result!));
  if (!done.events.some((e) => e.type === 'result' && e.status === 'ok')) throw new Error('bench: no ok result');
  return { vehicleMs, phoneMs, sizes: [challenge!.length, handshake!.length, result!.length] };
}

/**
 * The public-key floor of one role's transaction: 1 keygen + 3 ECDH, same provider, with exactly
 * the inputs one real transaction has: a fresh peer ephemeral key and the peer's static key as a
 * real transaction holds it (`peerStatic`: a fresh copy for the car, which receives the phone's key
 * in the handshake; the pinned array for the phone). Every key is validated by the ECDH, as in
 * the protocol. The peer's keys are the other party's work: `floorInputs` makes them earlier.
 */
async function floor(crypto: CryptoProvider, staticKey: KeyCustody, { peerEphemeral, peerStatic }: FloorInputs) {
  const t = cpuNow();
  const e = await generateP256KeyPair(crypto, systemRandom);
  await crypto.p256Ecdh(e.secretKey, peerEphemeral); // ee
  await crypto.p256Ecdh(e.secretKey, peerStatic); // es or se (ephemeral × peer static)
  await staticKey.ecdh(peerEphemeral); // se or es (static × peer ephemeral)
  return cpuNow() - t;
}

interface FloorInputs {
  readonly peerEphemeral: Uint8Array;
  readonly peerStatic: Uint8Array;
}

async function floorInputs({ crypto, car, phone }: Setup): Promise<{ vehicle: FloorInputs; phone: FloorInputs }> {
  const fresh = async () => (await generateP256KeyPair(crypto, systemRandom)).publicKey;
  return {
    vehicle: { peerEphemeral: await fresh(), peerStatic: phone.publicKey.slice() },
    phone: { peerEphemeral: await fresh(), peerStatic: car.publicKey },
  };
}

/** One unlock through the real drivers over a recording memory link: what went on the wire. */
async function wireOfOneUnlock({ crypto, car, phone, keys }: Setup) {
  const { phone: phoneLink, vehicle: carLink, wire } = recordingLinkPair();
  // Only the messages count here: no relay bound (this run shares the machine with the others).
  const served = serveVehicleSession(carLink, { crypto, random: systemRandom, now, identity: car, keys, policy: countingPolicy, actuator: () => undefined });
  const { result, connection } = await openPhoneSession(phoneLink, { crypto, random: systemRandom, now, identity: phone, vehicleKey: car.publicKey }, 'unlock');
  if (result.status !== 'ok') throw new Error(`bench: wire unlock gave ${result.status}`);
  const summary = wireSummary(wire); // the transaction, up to its result (before the close)
  await connection.close();
  await served;
  return summary;
}

const providers = { noble: nobleCrypto, node: nodeCrypto, webcrypto: webCryptoProvider() } as const;
type Name = keyof typeof providers;
const names = Object.keys(providers) as Name[];
const setups = Object.fromEntries(await Promise.all(names.map(async (n) => [n, await setup(providers[n])] as const))) as Record<Name, Setup>;
const samples = Object.fromEntries(
  names.map((n) => [n, { vehicle: [] as number[], phone: [] as number[], vFloor: [] as number[], pFloor: [] as number[] }]),
) as Record<Name, { vehicle: number[]; phone: number[]; vFloor: number[]; pFloor: number[] }>;

const wires = [];
for (const n of names) wires.push(await wireOfOneUnlock(setups[n]));
const wire = wires[0]!;
if (!wires.every((w) => JSON.stringify(w) === JSON.stringify(wire))) throw new Error('bench: providers put different messages on the wire');

// Phase-major: every measured figure (a transaction, a vehicle floor, a phone floor) runs right
// after the same phase on another provider, so every figure starts alike (caches, scheduler) and
// none is warmed by untimed work the other does not get.
let sizes: number[] = [];
for (let i = 0; i < warmup + iterations; i++) {
  const inputs = Object.fromEntries(await Promise.all(names.map(async (n) => [n, await floorInputs(setups[n])] as const))) as Record<
    Name,
    Awaited<ReturnType<typeof floorInputs>>
  >;
  const runs = {} as Record<Name, Awaited<ReturnType<typeof transaction>>>;
  const vFloors = {} as Record<Name, number>;
  const pFloors = {} as Record<Name, number>;
  for (const n of names) runs[n] = await transaction(setups[n]);
  for (const n of names) vFloors[n] = await floor(setups[n].crypto, setups[n].car, inputs[n].vehicle);
  for (const n of names) pFloors[n] = await floor(setups[n].crypto, setups[n].phone, inputs[n].phone);
  if (i < warmup) continue;
  for (const n of names) {
    samples[n].vehicle.push(runs[n].vehicleMs);
    samples[n].phone.push(runs[n].phoneMs);
    samples[n].vFloor.push(vFloors[n]);
    samples[n].pFloor.push(pFloors[n]);
    sizes = runs[n].sizes;
  }
}
if (JSON.stringify(sizes) !== JSON.stringify(wire.perMessage)) throw new Error(`bench: sans-IO sizes ${sizes.join(',')} ≠ wire ${wire.perMessage.join(',')}`);

const figures = (n: Name) => {
  const s = samples[n];
  return {
    vehicleCpuMs: round(median(s.vehicle)),
    phoneCpuMs: round(median(s.phone)),
    vehicleFloorMs: round(median(s.vFloor)),
    phoneFloorMs: round(median(s.pFloor)),
    vehicleOverhead: round(median(s.vehicle) / median(s.vFloor) - 1),
    phoneOverhead: round(median(s.phone) / median(s.pFloor) - 1),
  };
};
const perProvider = Object.fromEntries(names.map((n) => [n, figures(n)])) as Record<Name, ReturnType<typeof figures>>;
const speedup = (n: Name) => round(median(samples.noble.vehicle) / median(samples[n].vehicle));

const unlock = {
  roundTrips: wire.roundTrips,
  bytes: { total: wire.bytes, perMessage: wire.perMessage },
  ...perProvider.noble,
  iterations,
  provider: nobleCrypto.name,
};
const vehicleSpeedup = { node: speedup('node'), webcrypto: speedup('webcrypto') };

// The flood: car, flood and phone in separate processes (bench/flood/), the car on nodeCrypto
// like the daemon. `--no-flood` skips it.
const flood = args.includes('--no-flood') ? undefined : await measureFlood();

if (json) {
  console.log(JSON.stringify({ unlock, providers: perProvider, vehicleSpeedup, ...(flood && { flood }) }));
} else {
  const pct = (x: number) => `${(x * 100).toFixed(1)} %`;
  console.log(`proxkey unlock benchmark (${iterations} iterations after ${warmup} warm-up, providers interleaved)\n`);
  console.log(`application round trips after subscription  ${unlock.roundTrips} (counted on the link)`);
  console.log(`bytes on the link                           ${unlock.bytes.total} (${wire.perMessage.join(' + ')})`);
  console.log('');
  console.log('provider   role      cpu ms (median)   floor ms (1 keygen + 3 ECDH)   overhead');
  for (const n of names) {
    const f = perProvider[n];
    console.log(`${n.padEnd(10)} vehicle   ${String(f.vehicleCpuMs).padEnd(17)} ${String(f.vehicleFloorMs).padEnd(30)} ${pct(f.vehicleOverhead)}`);
    console.log(`${''.padEnd(10)} phone     ${String(f.phoneCpuMs).padEnd(17)} ${String(f.phoneFloorMs).padEnd(30)} ${pct(f.phoneOverhead)}`);
  }
  console.log('');
  console.log(`car CPU per unlock, noble / node        ${vehicleSpeedup.node}×`);
  console.log(`car CPU per unlock, noble / webcrypto   ${vehicleSpeedup.webcrypto}×`);
  if (flood) {
    console.log('');
    console.log(`flood (car on ${flood.carCrypto}, median of ${flood.runs} owner unlocks per phase, separate processes)`);
    console.log(`  alone                 ${flood.aloneMs} ms`);
    for (const [name, p] of [
      ['64 bogus connections', flood.bogus64],
      ['64 stranger handshakes', flood.strangers64],
    ] as const)
      console.log(`  ${name.padEnd(22)}${p.medianMs} ms  (${p.ratio}×, ${p.denied} denied)`);
  }
}
