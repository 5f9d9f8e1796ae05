/**
 * The flood of the flood benchmark, in its own process: `argv[3]` concurrent attackers against
 * the car's socket (`argv[2]`), each reconnecting as soon as the car drops it, until killed.
 *   bogus     — take the challenge, answer with garbage (the car alerts and closes)
 *   strangers — a full, valid handshake with an unknown phone key (denied `unknown-key`)
 */
import { deterministicRandom, fromHex, generateP256KeyPair, nobleCrypto, openPhoneSession, softwareKey } from '../../src/index.js';
import { connectSocketLink } from '../../src/node/index.js';

const [socketPath, countArg, mode, carKeyHex] = process.argv.slice(2);
const count = Number(countArg ?? 64);
const random = deterministicRandom(`flood-${process.pid}`);

async function bogusOnce(): Promise<void> {
  const link = await connectSocketLink(socketPath!);
  try {
    await link.receive({ timeoutMs: 5_000 });
    await link.send(random(40 + (random(1)[0]! % 60)));
    await link.receive({ timeoutMs: 5_000 }).catch(() => undefined);
  } finally {
    link.close();
  }
}

async function strangerOnce(vehicleKey: Uint8Array): Promise<void> {
  const identity = await softwareKey(nobleCrypto, (await generateP256KeyPair(nobleCrypto, random)).secretKey);
  const link = await connectSocketLink(socketPath!);
  await openPhoneSession(link, { crypto: nobleCrypto, random, now: () => performance.now(), identity, vehicleKey, timeoutMs: 5_000 }, 'unlock')
    .then(({ connection }) => connection.close())
    .catch(() => link.close());
}

async function attacker(): Promise<never> {
  const vehicleKey = carKeyHex ? fromHex(carKeyHex) : undefined;
  for (;;) await (mode === 'strangers' && vehicleKey ? strangerOnce(vehicleKey) : bogusOnce()).catch(() => new Promise((r) => setTimeout(r, 5)));
}

// Die with the benchmark: its end of our stdin closes when it exits, however it exits.
process.stdin.on('end', () => process.exit(0)).resume();
process.stdout.write('flooding\n');
await Promise.all(Array.from({ length: count }, attacker));
