/**
 * Child process of rss.test.ts: a car (VehicleService, memory store) fed 10,000 garbage messages
 * and 2,000 bogus handshakes (a valid ephemeral point, random ciphertext: the car pays its DH and
 * fails to decrypt), each on its own connection, plus 200 stranger probes. Prints one JSON line:
 * RSS after warm-up and at the end (after GC), and the audit length.
 */
import {
  createMemoryLinkPair,
  deterministicRandom,
  encodeMessage,
  generateP256KeyPair,
  MemoryVehicleStore,
  MessageType,
  nobleCrypto,
  VehicleService,
} from '../../src/index.js';

const gc = (globalThis as { gc?: () => void }).gc ?? (() => undefined);
const random = deterministicRandom('rss');
const car = await VehicleService.open({ store: new MemoryVehicleStore(), random, actuator: () => undefined });
const point = (await generateP256KeyPair(nobleCrypto, random)).publicKey;

async function once(message: (challenge: Uint8Array) => Uint8Array): Promise<void> {
  const [phone, carSide] = createMemoryLinkPair();
  const served = car.serve(carSide);
  const challenge = await phone.receive({ timeoutMs: 5_000 });
  await phone.send(message(challenge)).catch(() => undefined);
  await served;
  phone.close();
}

const garbage = () => random(1 + (random(1)[0]! % 200));
const bogusHandshake = () =>
  encodeMessage({ type: MessageType.Handshake, version: 1, suite: 1, noise: Uint8Array.from([...point, ...random(65 + 16 + 16 + 20)]) });

async function round(n: number, make: () => Uint8Array): Promise<void> {
  for (let i = 0; i < n; i += 50) await Promise.all(Array.from({ length: Math.min(50, n - i) }, () => once(make)));
}

await round(2_000, garbage); // warm-up: JIT, pools, heap at its working size
await round(300, bogusHandshake);
/** Let the links' last timers run, then collect: what is left is what the car keeps. */
const settle = async () => {
  await new Promise((r) => setTimeout(r, 100));
  gc();
};
await settle();
const before = process.memoryUsage().rss;
const heapBefore = process.memoryUsage().heapUsed;
await round(10_000, garbage);
await round(2_000, bogusHandshake);
await settle();
const after = process.memoryUsage().rss;
const heapAfter = process.memoryUsage().heapUsed;
const audit = (await car.audit()).length;
process.stdout.write(`${JSON.stringify({ before, after, heapBefore, heapAfter, audit })}\n`);
