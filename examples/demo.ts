/**
 * `npm run demo` — a car and two phones in one process over the in-memory link: enroll the
 * owner's phone, unlock (one round trip), lock and start on the same session, then a phone the
 * car does not know is refused. Every message on the link is printed with its size.
 */
import {
  createMemoryLinkPair,
  defaultPolicy,
  generateP256KeyPair,
  MemoryKeyStore,
  MessageType,
  nobleCrypto as crypto,
  openPhoneSession,
  serveVehicleSession,
  softwareKey,
  systemRandom,
  toHex,
  type Link,
} from '../src/index.js';

const now = () => performance.now();
const color = process.stdout.isTTY ? (c: number, s: string) => `\x1b[${c}m${s}\x1b[0m` : (_c: number, s: string) => s;
const dim = (s: string) => color(2, s);
const ok = (s: string) => color(32, s);
const bad = (s: string) => color(31, s);
const TYPE_NAMES: Record<number, string> = {
  [MessageType.Challenge]: 'challenge',
  [MessageType.Handshake]: 'handshake+command',
  [MessageType.Record]: 'record',
  [MessageType.Alert]: 'alert',
};

/** Wrap a link so every message sent through it is printed and counted. */
function tap(link: Link, who: string, log: number[]): Link {
  return {
    get closed() {
      return link.closed;
    },
    get isClosed() {
      return link.isClosed;
    },
    receive: (o) => link.receive(o),
    close: (r) => link.close(r),
    async send(m, o) {
      log.push(m.length);
      const name = TYPE_NAMES[m[0]!] ?? '?';
      console.log(dim(`    ${who} ${name.padEnd(18)} ${String(m.length).padStart(4)} B  ${toHex(m.subarray(0, 12))}…`));
      return link.send(m, o);
    },
  };
}

async function newKey() {
  const kp = await generateP256KeyPair(crypto, systemRandom);
  return softwareKey(crypto, kp.secretKey);
}

async function main() {
  console.log('proxkey demo — car and phones in one process, in-memory link\n');
  const car = await newKey();
  const owner = await newKey();
  const stranger = await newKey();
  const keys = new MemoryKeyStore(crypto);
  const rec = await keys.enroll(owner.publicKey, { role: 'owner', label: "owner's phone" });
  console.log(`car key     ${toHex(crypto.sha256(car.publicKey).subarray(0, 8))}`);
  console.log(`enrolled    ${rec.id} (${rec.label}, ${rec.role}, permissions ${rec.permissions.join(',')})\n`);

  const serve = (link: Link) =>
    serveVehicleSession(link, {
      crypto,
      random: systemRandom,
      now,
      identity: car,
      keys,
      policy: defaultPolicy(),
      actuator: (command) => console.log(ok(`    car: actuator → ${command.kind}`)),
    });
  const phoneOptions = (identity: typeof owner) => ({ crypto, random: systemRandom, now, identity, vehicleKey: car.publicKey });

  // 1. Owner: unlock in the handshake, then lock and start on the same session.
  const sizes: number[] = [];
  const [phoneLink, carLink] = createMemoryLinkPair();
  const served = serve(tap(carLink, 'car  →', sizes));
  console.log('owner phone connects and sends unlock in its first message:');
  const t0 = now();
  const { result, connection } = await openPhoneSession(tap(phoneLink, 'phone→', sizes), phoneOptions(owner), 'unlock');
  const unlockMs = now() - t0;
  const unlockBytes = sizes.reduce((a, b) => a + b, 0);
  console.log(`  unlock: ${ok(result.status)} in ${unlockMs.toFixed(1)} ms — 1 round trip, ${unlockBytes} B on the link (${sizes.join(' + ')})\n`);

  console.log('same session, lock:');
  let r = await connection.send('lock');
  console.log(`  lock: ${ok(r.status)} in ${r.elapsedMs.toFixed(1)} ms\n`);
  console.log('same session, start without the user confirming:');
  r = await connection.send('start');
  console.log(`  start: ${bad(r.status)} (policy requires intent for start)\n`);
  console.log('same session, start after the user confirmed on the phone:');
  r = await connection.send('start', { intent: true });
  console.log(`  start: ${ok(r.status)} in ${r.elapsedMs.toFixed(1)} ms\n`);
  await connection.close();
  const summary = await served;
  console.log(dim(`  car: session ended (${summary.end}), ${summary.executed} executed, ${summary.denied} denied\n`));

  // 2. A phone the car does not know.
  console.log('a phone the car does not know tries to unlock:');
  const [l1, l2] = createMemoryLinkPair();
  const served2 = serve(tap(l2, 'car  →', []));
  const denied = await openPhoneSession(tap(l1, 'phone→', []), phoneOptions(stranger), 'unlock');
  console.log(`  unlock: ${bad(denied.result.status)} (authenticated denial; nothing executed)`);
  await denied.connection.close();
  await served2;

  if (result.status !== 'ok' || denied.result.status !== 'unknown-key') throw new Error('demo: unexpected outcome');
  console.log(`\ndone: full unlock = ${unlockBytes} B on the link (budget 300 B; Tesla ≈ 540 B in 2 round trips).`);
}

main().catch((err) => {
  console.error(bad(`demo failed: ${err instanceof Error ? err.message : String(err)}`));
  process.exit(1);
});
