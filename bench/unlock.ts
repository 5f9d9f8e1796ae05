/**
 * `npm run bench [-- --json] [-- --iterations N]`
 *
 * Measures one full unlock transaction (challenge → handshake+command → result) with the sans-IO
 * roles directly (no link, no timers), per role, against that role's *floor*: the public-key
 * operations it must do in one transaction (1 P-256 keygen + 3 ECDH each), run back to back with
 * the same provider in the same process. Overhead = cpu / floor − 1. Medians over N iterations.
 */
import {
  defaultPolicy,
  generateP256KeyPair,
  MemoryKeyStore,
  nobleCrypto as crypto,
  PhoneSession,
  softwareKey,
  systemRandom,
  VehicleSession,
} from '../src/index.js';

const args = process.argv.slice(2);
const json = args.includes('--json');
const itIdx = args.indexOf('--iterations');
const iterations = itIdx >= 0 ? Number(args[itIdx + 1]) : 100;
const warmup = Math.max(5, Math.round(iterations / 5));
const now = () => performance.now();

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};
const round = (x: number) => Math.round(x * 1000) / 1000;

const car = await softwareKey(crypto, (await generateP256KeyPair(crypto, systemRandom)).secretKey);
const phone = await softwareKey(crypto, (await generateP256KeyPair(crypto, systemRandom)).secretKey);
const keys = new MemoryKeyStore(crypto);
await keys.enroll(phone.publicKey);
const policy = defaultPolicy();

async function transaction() {
  let vehicleMs = 0;
  let phoneMs = 0;
  const timed = async <T>(role: 'v' | 'p', f: () => Promise<T> | T): Promise<T> => {
    const t = now();
    const r = await f();
    const dt = now() - t;
    if (role === 'v') vehicleMs += dt;
    else phoneMs += dt;
    return r;
  };
  const v = await timed('v', () => new VehicleSession({ crypto, random: systemRandom, now, identity: car, keys, policy }));
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

/** The public-key floor of one role's transaction: 1 keygen + 3 ECDH, same provider. */
async function floor(staticKey: typeof car, peerStatic: Uint8Array) {
  const peerEphemeral = (await generateP256KeyPair(crypto, systemRandom)).publicKey;
  const t = now();
  const e = await generateP256KeyPair(crypto, systemRandom);
  await crypto.p256Ecdh(e.secretKey, peerEphemeral); // ee
  await crypto.p256Ecdh(e.secretKey, peerStatic); // es or se (ephemeral × peer static)
  await staticKey.ecdh(peerEphemeral); // se or es (static × peer ephemeral)
  return now() - t;
}

const samples = { vehicle: [] as number[], phone: [] as number[], vFloor: [] as number[], pFloor: [] as number[] };
let sizes: number[] = [];
for (let i = 0; i < warmup + iterations; i++) {
  // Interleave measurements so machine noise hits both sides of each ratio alike.
  const t = await transaction();
  const vf = await floor(car, phone.publicKey);
  const pf = await floor(phone, car.publicKey);
  if (i < warmup) continue;
  samples.vehicle.push(t.vehicleMs);
  samples.phone.push(t.phoneMs);
  samples.vFloor.push(vf);
  samples.pFloor.push(pf);
  sizes = t.sizes;
}

const unlock = {
  roundTrips: 1,
  bytes: { total: sizes.reduce((a, b) => a + b, 0), perMessage: sizes },
  vehicleCpuMs: round(median(samples.vehicle)),
  phoneCpuMs: round(median(samples.phone)),
  vehicleFloorMs: round(median(samples.vFloor)),
  phoneFloorMs: round(median(samples.pFloor)),
  vehicleOverhead: round(median(samples.vehicle) / median(samples.vFloor) - 1),
  phoneOverhead: round(median(samples.phone) / median(samples.pFloor) - 1),
  iterations,
  provider: crypto.name,
};

if (json) {
  console.log(JSON.stringify({ unlock }));
} else {
  const pct = (x: number) => `${(x * 100).toFixed(1)} %`;
  console.log(`proxkey unlock benchmark (${iterations} iterations after ${warmup} warm-up, provider ${crypto.name})\n`);
  console.log(`application round trips after subscription  ${unlock.roundTrips}`);
  console.log(`bytes on the link                           ${unlock.bytes.total} (${sizes.join(' + ')})`);
  console.log('');
  console.log('role      cpu ms (median)   floor ms (1 keygen + 3 ECDH)   overhead');
  console.log(`vehicle   ${String(unlock.vehicleCpuMs).padEnd(17)} ${String(unlock.vehicleFloorMs).padEnd(30)} ${pct(unlock.vehicleOverhead)}`);
  console.log(`phone     ${String(unlock.phoneCpuMs).padEnd(17)} ${String(unlock.phoneFloorMs).padEnd(30)} ${pct(unlock.phoneOverhead)}`);
}
