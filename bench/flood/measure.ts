/**
 * Flood benchmark: a legitimate owner's unlock latency with the car alone, under 64 bogus
 * connections, and under 64 stranger handshakes — car, flood and phone each in their own process,
 * over unix sockets (the byte-stream binding). Medians of `runs` unlocks per phase, in one run, so
 * the ratios compare like with like on a shared machine.
 */
import { median, roundTo } from '../stats.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { child } from '../child.js';
import { fromHex, generateP256KeyPair, nobleCrypto, runPhoneCommand, softwareKey, systemRandom, toHex } from '../../src/index.js';
import { connectSocketLink } from '../../src/node/index.js';

const round = (x: number) => roundTo(x, 2);

export interface FloodPhase {
  readonly medianMs: number;
  readonly ratio: number;
  readonly denied: number;
}
export interface FloodReport {
  readonly aloneMs: number;
  readonly bogus64: FloodPhase;
  readonly strangers64: FloodPhase;
  readonly runs: number;
  readonly carCrypto: 'node' | 'noble';
  readonly carRssGrowthMiB: number;
}

export async function measureFlood(options: { runs?: number; attackers?: number; cap?: number; carCrypto?: 'node' | 'noble' } = {}): Promise<FloodReport> {
  const runs = options.runs ?? 15;
  const carCrypto = options.carCrypto ?? 'node';
  const attackers = options.attackers ?? 64;
  const dir = mkdtempSync(join(tmpdir(), 'proxkey-flood-'));
  const socket = join(dir, 'car.sock');
  const owner = await softwareKey(nobleCrypto, (await generateP256KeyPair(nobleCrypto, systemRandom)).secretKey);
  const car = child('flood/car.ts', [socket, toHex(owner.publicKey), carCrypto, ...(options.cap ? [String(options.cap)] : [])]);
  const carKey = fromHex((await car.line('car ')).slice(4));
  await car.line('ready');
  const rss = async () => {
    car.send('rss');
    return Number((await car.line('rss ')).slice(4));
  };
  const rss0 = await rss();

  const unlockOnce = async (): Promise<{ ms: number; ok: boolean }> => {
    const t = performance.now();
    try {
      const link = await connectSocketLink(socket);
      const r = await runPhoneCommand(
        link,
        { crypto: nobleCrypto, random: systemRandom, now: () => performance.now(), identity: owner, vehicleKey: carKey, timeoutMs: 10_000 },
        'unlock',
      );
      return { ms: performance.now() - t, ok: r.ok };
    } catch {
      return { ms: performance.now() - t, ok: false };
    }
  };
  const phase = async () => {
    const ms: number[] = [];
    let denied = 0;
    for (let i = 0; i < runs; i++) {
      const r = await unlockOnce();
      ms.push(r.ms);
      if (!r.ok) denied++;
      await new Promise((res) => setTimeout(res, 20));
    }
    return { medianMs: median(ms), denied };
  };
  const underFlood = async (mode: 'bogus' | 'strangers') => {
    const flood = child('flood/attacker.ts', [socket, String(attackers), mode, toHex(carKey)]);
    await flood.line('flooding');
    await new Promise((res) => setTimeout(res, 1_500)); // let the flood reach its steady state
    const r = await phase();
    // A flood that died meanwhile would make this phase a measurement without one.
    if (flood.proc.exitCode !== null || flood.proc.signalCode !== null) throw new Error(`bench: the ${mode} flood ended during its phase`);
    flood.proc.kill('SIGKILL');
    await new Promise((res) => setTimeout(res, 500));
    return r;
  };

  try {
    await phase(); // warm-up (JIT, socket paths)
    const alone = await phase();
    const bogus = await underFlood('bogus');
    const strangers = await underFlood('strangers');
    const rss1 = await rss();
    const ph = (p: { medianMs: number; denied: number }): FloodPhase => ({
      medianMs: round(p.medianMs),
      ratio: round(p.medianMs / alone.medianMs),
      denied: p.denied,
    });
    return { aloneMs: round(alone.medianMs), bogus64: ph(bogus), strangers64: ph(strangers), runs, carCrypto, carRssGrowthMiB: round((rss1 - rss0) / 2 ** 20) };
  } finally {
    car.proc.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const capIdx = process.argv.indexOf('--cap');
  const report = await measureFlood({
    ...(capIdx > 0 && { cap: Number(process.argv[capIdx + 1]) }),
    ...(process.argv.includes('--noble') && { carCrypto: 'noble' as const }),
  });
  console.log(process.argv.includes('--json') ? JSON.stringify({ flood: report }, null, 2) : report);
  process.exit(0);
}
