/**
 * `npm run bench:ble [-- --json] [-- --runs N]`
 *
 * The unlock over the real stacks (noble phone, bleno car, each in its own process) on BlueZ's
 * emulated controller (test/ble/harness), for both stack families, against the radio's own floor
 * measured in the same run: from the moment the phone starts connecting (scan → connect →
 * discover → subscribe) to a car that is *already advertising*,
 *
 * - `unlockMs`: … to the unlock's `ok` result (challenge, handshake + command, result);
 * - `echoMs`:   … to one 20-byte write → notify echo from a bare GATT echo car.
 *
 * Both cars advertise at once under different rotating-id secrets; the phone finds each by its
 * secret (the product's filter), and the trials alternate echo / unlock so machine noise hits
 * both alike. Car and phone run on nodeCrypto (the daemon's default). Medians of N runs (≥ 10),
 * after one warm-up trial of each. Needs btvirt, socat and gcc (see test/ble/harness/emulator.ts).
 *
 * JSON: `{ "ble": { "<family>": { "unlockMs", "echoMs", "ratio", "runs" } } }`.
 */
import { median, roundTo } from './stats.js';
import { generateP256KeyPair, nobleCrypto, softwareKey, systemRandom, toHex } from '../src/index.js';
import { Emulator, missingTools, type Controller } from '../test/ble/harness/emulator.js';
import { RoleProcess, type Impl } from '../test/ble/harness/role-process.js';

const args = process.argv.slice(2);
const json = args.includes('--json');
const runsIdx = args.indexOf('--runs');
const runs = Math.max(10, runsIdx >= 0 ? Number(args[runsIdx + 1]) : 15);
const families = (process.env.BLE_FAMILIES ?? 'stoprocent,abandonware').split(',').filter(Boolean) as Impl[];
/** Time for a car to be advertising again after the phone left (bleno re-advertises on disconnect). */
const SETTLE_MS = 250;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const round = (x: number) => roundTo(x, 2);

async function key() {
  const kp = await generateP256KeyPair(nobleCrypto, systemRandom);
  return { secret: toHex(kp.secretKey), public: toHex((await softwareKey(nobleCrypto, kp.secretKey)).publicKey) };
}
const secretHex = () => toHex(systemRandom(32));

async function measureFamily(emu: Emulator, impl: Impl) {
  const procs: RoleProcess[] = [];
  const ctrls: Controller[] = [];
  const role = async (name: string, script: 'car' | 'phone', env: NodeJS.ProcessEnv) => {
    const ctrl = await emu.controller(`${impl}-${name}`);
    ctrls.push(ctrl);
    const p = await RoleProcess.start(name, script, { BLE_IMPL: impl, HCI_PORT: ctrl.port, ROLE_CRYPTO: 'node', ...env });
    procs.push(p);
    return p;
  };
  try {
    const [car, phoneKey] = [await key(), await key()];
    const echoSecret = secretHex();
    const carSecret = secretHex();
    await role('echo-car', 'car', { CAR_MODE: 'echo', CAR_ADV_SECRET: echoSecret });
    await role('car', 'car', {
      CAR_MODE: 'vehicle',
      CAR_ADV_SECRET: carSecret,
      // the relay bound is for real radios; 2 shared cores and two stacks here
      CAR_KEYS: JSON.stringify({ carSecret: car.secret, phonePublics: [phoneKey.public], maxRttMs: 2000 }),
    });
    const phone = await role('phone', 'phone', {});
    const echo = () => phone.call<{ ms: number; connectMs: number }>('timedEcho', { secrets: [echoSecret] }, 30_000);
    const unlock = async () => {
      const r = await phone.call<{ ms: number; connectMs: number; status: string }>(
        'timedUnlock',
        { secrets: [carSecret], phoneSecret: phoneKey.secret, carPublic: car.public },
        30_000,
      );
      if (r.status !== 'ok') throw new Error(`bench:ble: unlock gave ${r.status}`);
      return r;
    };
    const echoMs: number[] = [];
    const unlockMs: number[] = [];
    for (let i = 0; i <= runs; i++) {
      await sleep(SETTLE_MS);
      const e = await echo();
      await sleep(SETTLE_MS);
      const u = await unlock();
      if (process.env.BENCH_DEBUG)
        console.error(`echo ${e.ms.toFixed(1)} (connect ${e.connectMs.toFixed(1)})  unlock ${u.ms.toFixed(1)} (connect ${u.connectMs.toFixed(1)})`);
      if (i === 0) continue; // warm-up
      echoMs.push(e.ms);
      unlockMs.push(u.ms);
    }
    const u = median(unlockMs);
    const e = median(echoMs);
    return { unlockMs: round(u), echoMs: round(e), ratio: round(u / e), runs };
  } finally {
    for (const p of procs.reverse()) await p.stop();
    for (const c of ctrls.reverse()) await c.close();
  }
}

const missing = missingTools();
if (missing.length > 0) {
  console.error(`bench:ble needs ${missing.join('; ')}`);
  process.exit(2);
}
const emu = await Emulator.start();
const ble: Record<string, Awaited<ReturnType<typeof measureFamily>>> = {};
try {
  for (const impl of families) ble[impl] = await measureFamily(emu, impl);
} finally {
  await emu.stop();
}

if (json) console.log(JSON.stringify({ ble }));
else {
  console.log(`proxkey BLE unlock vs bare GATT echo, emulated controller (median of ${runs}, nodeCrypto)\n`);
  console.log('family        connect → unlock ok   connect → echo   ratio');
  for (const [f, r] of Object.entries(ble)) console.log(`${f.padEnd(13)} ${`${r.unlockMs} ms`.padEnd(21)} ${`${r.echoMs} ms`.padEnd(16)} ${r.ratio}×`);
}
