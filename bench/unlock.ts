/**
 * `npm run bench [-- --json] [-- --iterations N] [-- --no-flood]`
 *
 * Measures one full unlock transaction (challenge → handshake+command → result) with the sans-IO
 * roles directly (no link, no timers), per role and per CryptoProvider (noble, node, webcrypto),
 * against two floors of that role on the same provider (bench/unlock/measure.ts):
 * - the *public-key floor*: 1 P-256 keygen + 3 ECDH, every peer key validated once, on the inputs
 *   a real transaction has (`vehicleOverhead` = cpu / this floor − 1);
 * - the *crypto floor*: every crypto call the role made in a real unlock (recorded once: the
 *   public-key floor plus SHA-256, HKDF and AEAD), replayed back to back with no protocol code
 *   (`vehicleOverheadAboveCrypto` = cpu / this floor − 1: what the implementation's own code costs).
 * Figures are CPU time (user + system, all threads), medians over N iterations (default 200).
 *
 * Each provider runs in its own process (bench/unlock/provider-process.ts), as a car or a phone
 * runs one provider, and the figures are its steady state: unlock after unlock, as a car serving
 * phones does. The processes take turns of 20 iterations (the order rotating; the first turns, at
 * least a fifth of N, are warm-up, and the first 3 of every turn are not counted), so machine noise
 * hits every provider's figures alike; within an iteration a
 * provider runs its transaction and its four floors in an order that rotates too. Not measured
 * here: the first unlock after idle, with cold caches, costs every provider more (the protocol's
 * code more than its crypto: with one iteration per turn, node's car measured ≈ 1.0 ms instead of
 * ≈ 0.8, its floor ≈ 0.49 instead of ≈ 0.46 ms).
 *
 * Round trips and bytes are not constants: they are counted from the messages one unlock puts on
 * an instrumented in-memory link (the real drivers, `serveVehicleSession` / `openPhoneSession`),
 * for every provider, and must agree with the sans-IO transaction's messages.
 *
 * JSON: `{ unlock: {…noble figures…}, providers: { noble|node|webcrypto: { vehicleCpuMs,
 * phoneCpuMs, vehicleFloorMs, phoneFloorMs, vehicleOverhead, phoneOverhead, vehicleCryptoFloorMs,
 * phoneCryptoFloorMs, vehicleOverheadAboveCrypto, phoneOverheadAboveCrypto } }, cryptoCalls:
 * { vehicle, phone }, vehicleSpeedup: { node, webcrypto }, flood }` (speedup = noble vehicle CPU /
 * that provider's).
 */
import { median, roundTo } from './stats.js';
import { child, type BenchChild } from './child.js';
import { measureFlood } from './flood/measure.js';
import type { WireSummary } from '../test/helpers/recording-link.js';

const args = process.argv.slice(2);
const json = args.includes('--json');
const itIdx = args.indexOf('--iterations');
const iterations = itIdx >= 0 ? Number(args[itIdx + 1]) : 200;
if (!Number.isInteger(iterations) || iterations < 1) throw new Error(`bench: --iterations must be a positive integer (got ${args[itIdx + 1]})`);
const warmup = Math.max(5, Math.round(iterations / 5));
const round = (x: number) => roundTo(x, 3);

const names = ['noble', 'node', 'webcrypto'] as const;
type Name = (typeof names)[number];
interface Ready {
  readonly wire: WireSummary;
  readonly calls: { readonly vehicle: Record<string, number>; readonly phone: Record<string, number> };
}
interface Figures {
  readonly vehicle: number;
  readonly phone: number;
  readonly sizes: readonly number[];
  readonly vehicleFloor: number;
  readonly phoneFloor: number;
  readonly vehicleCrypto: number;
  readonly phoneCrypto: number;
}
/** Iterations per provider's turn, and how many of them start a turn uncounted. */
const BLOCK = 20;
const DISCARD = 3;
const KINDS = ['vehicle', 'phone', 'vehicleFloor', 'phoneFloor', 'vehicleCrypto', 'phoneCrypto'] as const;

const children = Object.fromEntries(names.map((n) => [n, child('unlock/provider-process.ts', [n])])) as Record<Name, BenchChild>;
let results: ReturnType<typeof report>;
try {
  const ready = {} as Record<Name, Ready>;
  for (const n of names) ready[n] = JSON.parse((await children[n].line('ready ')).slice('ready '.length)) as Ready;
  const wire = ready.noble.wire;
  if (!names.every((n) => JSON.stringify(ready[n].wire) === JSON.stringify(wire))) throw new Error('bench: providers put different messages on the wire');
  if (!names.every((n) => JSON.stringify(ready[n].calls) === JSON.stringify(ready.noble.calls)))
    throw new Error('bench: providers made different crypto calls');

  const samples = Object.fromEntries(names.map((n) => [n, Object.fromEntries(KINDS.map((k) => [k, [] as number[]]))])) as Record<
    Name,
    Record<(typeof KINDS)[number], number[]>
  >;
  // Turns of BLOCK iterations per provider, the order rotating; the first DISCARD of a turn are
  // not counted (that process's caches were just someone else's).
  let i = 0;
  for (let turn = 0; names.some((n) => samples[n].vehicle.length < iterations); turn++) {
    for (let k = 0; k < names.length; k++) {
      const n = names[(turn + k) % names.length]!;
      for (let j = 0; j < BLOCK; j++, i++) {
        children[n].send(`run ${i}`);
        const f = JSON.parse((await children[n].line('figures ')).slice('figures '.length)) as Figures;
        if (JSON.stringify(f.sizes) !== JSON.stringify(wire.perMessage))
          throw new Error(`bench: sans-IO sizes ${f.sizes.join(',')} ≠ wire ${wire.perMessage.join(',')}`);
        if (turn * BLOCK >= warmup && j >= DISCARD && samples[n].vehicle.length < iterations) for (const kind of KINDS) samples[n][kind].push(f[kind]);
      }
    }
  }
  results = report(samples, wire, ready.noble.calls);
} finally {
  for (const n of names) children[n].send('exit');
}
const { unlock, perProvider, vehicleSpeedup, cryptoCalls } = results;

// The flood: car, flood and phone in separate processes (bench/flood/), the car on nodeCrypto
// like the daemon. `--no-flood` skips it.
const flood = args.includes('--no-flood') ? undefined : await measureFlood();

if (json) {
  console.log(JSON.stringify({ unlock, providers: perProvider, cryptoCalls, vehicleSpeedup, ...(flood && { flood }) }));
} else {
  const pct = (x: number) => `${(x * 100).toFixed(1)} %`.padEnd(9);
  const calls = (c: Record<string, number>) =>
    Object.entries(c)
      .map(([k, v]) => `${v} ${k}`)
      .join(', ');
  const uncounted = `the first ${Math.ceil(warmup / BLOCK)} turn(s) and ${DISCARD} of every turn uncounted`;
  console.log(`proxkey unlock benchmark (${iterations} iterations per provider; one process per provider, in turns of ${BLOCK}, ${uncounted})\n`);
  console.log(`application round trips after subscription  ${unlock.roundTrips} (counted on the link)`);
  console.log(`bytes on the link                           ${unlock.bytes.total} (${unlock.bytes.perMessage.join(' + ')})`);
  console.log(`crypto calls per unlock, vehicle            ${calls(cryptoCalls.vehicle)}`);
  console.log(`crypto calls per unlock, phone              ${calls(cryptoCalls.phone)}`);
  console.log('');
  console.log('                     cpu ms     public-key floor         crypto floor (all crypto calls)');
  console.log('provider   role      (median)   ms (1 keygen+3 ECDH)  +%  ms                       +%');
  for (const n of names) {
    const f = perProvider[n];
    for (const role of ['vehicle', 'phone'] as const) {
      const [cpu, floor, over, cf, overCf] = [
        f[`${role}CpuMs`],
        f[`${role}FloorMs`],
        f[`${role}Overhead`],
        f[`${role}CryptoFloorMs`],
        f[`${role}OverheadAboveCrypto`],
      ];
      console.log(
        `${(role === 'vehicle' ? n : '').padEnd(10)} ${role.padEnd(9)} ${String(cpu).padEnd(10)} ${String(floor).padEnd(18)} ${pct(over)} ${String(cf).padEnd(24)} ${pct(overCf)}`,
      );
    }
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

function report(samples: Record<Name, Record<(typeof KINDS)[number], number[]>>, wire: WireSummary, cryptoCalls: Ready['calls']) {
  const m = (n: Name, k: (typeof KINDS)[number]) => median(samples[n][k]);
  const figures = (n: Name) => ({
    vehicleCpuMs: round(m(n, 'vehicle')),
    phoneCpuMs: round(m(n, 'phone')),
    vehicleFloorMs: round(m(n, 'vehicleFloor')),
    phoneFloorMs: round(m(n, 'phoneFloor')),
    vehicleOverhead: round(m(n, 'vehicle') / m(n, 'vehicleFloor') - 1),
    phoneOverhead: round(m(n, 'phone') / m(n, 'phoneFloor') - 1),
    vehicleCryptoFloorMs: round(m(n, 'vehicleCrypto')),
    phoneCryptoFloorMs: round(m(n, 'phoneCrypto')),
    vehicleOverheadAboveCrypto: round(m(n, 'vehicle') / m(n, 'vehicleCrypto') - 1),
    phoneOverheadAboveCrypto: round(m(n, 'phone') / m(n, 'phoneCrypto') - 1),
  });
  const perProvider = Object.fromEntries(names.map((n) => [n, figures(n)])) as Record<Name, ReturnType<typeof figures>>;
  const speedup = (n: Name) => round(m('noble', 'vehicle') / m(n, 'vehicle'));
  const unlock = {
    roundTrips: wire.roundTrips,
    bytes: { total: wire.bytes, perMessage: wire.perMessage },
    ...perProvider.noble,
    iterations,
    provider: 'noble',
  };
  const vehicleSpeedup = { node: speedup('node'), webcrypto: speedup('webcrypto') };
  return { unlock, perProvider, vehicleSpeedup, cryptoCalls };
}
