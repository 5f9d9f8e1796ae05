/**
 * One provider's side of `npm run bench` (bench/unlock.ts), in its own process as a car or a phone
 * runs exactly one provider: its call sites see one provider only, as deployed. It measures one
 * iteration each time the parent writes `run <i>` and answers `figures <json>`; the parent has the
 * providers take turns, so machine noise hits every provider's figures alike.
 *
 * Protocol (lines): → `ready <json>` (the wire of one unlock through the real drivers, and how many
 * crypto calls of each kind one unlock makes per role); ← `run <i>` → `figures <json>`; ← `exit`.
 */
import { createInterface } from 'node:readline';
import { nobleCrypto, webCryptoProvider, type CryptoProvider } from '../../src/index.js';
import { nodeCrypto } from '../../src/node/index.js';
import { cryptoFloor, floorInputs, publicKeyFloor, recordCryptoCalls, setup, transaction, wireOfOneUnlock } from './measure.js';

const PROVIDERS: Record<string, () => CryptoProvider> = { noble: () => nobleCrypto, node: () => nodeCrypto, webcrypto: () => webCryptoProvider() };
const name = process.argv[2] ?? '';
const make = PROVIDERS[name];
if (!make) throw new Error(`bench: unknown provider ${name}`);

const s = await setup(make());
const wire = await wireOfOneUnlock(s);
const calls = await recordCryptoCalls(s);
const tally = (cs: readonly { method: string }[]) =>
  Object.fromEntries([...new Set(cs.map((c) => c.method))].map((m) => [m, cs.filter((c) => c.method === m).length]));
console.log(`ready ${JSON.stringify({ wire, calls: { vehicle: tally(calls.vehicle), phone: tally(calls.phone) } })}`);

type Phase = 'transaction' | 'vehicleFloor' | 'phoneFloor' | 'vehicleCrypto' | 'phoneCrypto';
const PHASES: readonly Phase[] = ['transaction', 'vehicleFloor', 'phoneFloor', 'vehicleCrypto', 'phoneCrypto'];

/** One iteration: every phase once, starting at phase `i mod 5`, so that no figure always runs first after the turn. */
async function iteration(i: number) {
  // Fresh peer keys for every floor (a validated array would be cached), made before any timer.
  const forFloor = await floorInputs(s);
  const forCrypto = await floorInputs(s);
  const figures: Record<string, number | readonly number[]> = {};
  for (let k = 0; k < PHASES.length; k++) {
    const phase = PHASES[(i + k) % PHASES.length]!;
    if (phase === 'transaction') {
      const t = await transaction(s);
      Object.assign(figures, { vehicle: t.vehicleMs, phone: t.phoneMs, sizes: t.sizes });
    } else if (phase === 'vehicleFloor') figures.vehicleFloor = await publicKeyFloor(s.crypto, s.car, forFloor.vehicle);
    else if (phase === 'phoneFloor') figures.phoneFloor = await publicKeyFloor(s.crypto, s.phone, forFloor.phone);
    else if (phase === 'vehicleCrypto') figures.vehicleCrypto = await cryptoFloor(s.crypto, s.car, forCrypto.vehicle, calls.vehicle);
    else figures.phoneCrypto = await cryptoFloor(s.crypto, s.phone, forCrypto.phone, calls.phone);
  }
  return figures;
}

for await (const line of createInterface({ input: process.stdin })) {
  if (line === 'exit') break;
  const match = /^run (\d+)$/.exec(line);
  if (!match) throw new Error(`bench: unexpected command ${line}`);
  console.log(`figures ${JSON.stringify(await iteration(Number(match[1])))}`);
}
process.exit(0);
