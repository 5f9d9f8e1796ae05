/**
 * `npm run demo` — the whole of proxkey in one process, over the in-memory link:
 * pair the owner's phone with the 8-digit code the car shows (SPAKE2+), unlock in one round trip,
 * lock and start on the same session, share a key with a friend (who cannot start the car),
 * revoke it and watch the next attempt fail, refuse a stranger, and print the car's audit log.
 * Every message on the link is printed with its size.
 */
import {
  createMemoryLinkPair,
  decodeKeyList,
  MemoryPhoneStore,
  MemoryVehicleStore,
  MessageType,
  nobleCrypto,
  PhoneWallet,
  runPhoneCommand,
  systemRandom,
  toHex,
  VehicleService,
  type Link,
} from '../src/index.js';
import { runProximityDemo } from './demo-proximity.js';

const now = () => performance.now();
const tty = process.stdout.isTTY;
const paint = (c: number) => (s: string) => (tty ? `\x1b[${c}m${s}\x1b[0m` : s);
const [dim, ok, bad, bold] = [paint(2), paint(32), paint(31), paint(1)];
const ms = (t: number) => `${t.toFixed(1)} ms`;
const TYPE_NAMES: Record<number, string> = {
  [MessageType.Challenge]: 'challenge',
  [MessageType.Handshake]: 'handshake+command',
  [MessageType.Record]: 'record',
  [MessageType.Alert]: 'alert',
  [MessageType.PairStart]: 'pair-start',
  [MessageType.PairParams]: 'pair-params',
  [MessageType.PairShare]: 'pair-share',
  [MessageType.PairResponse]: 'pair-response',
  [MessageType.PairConfirm]: 'pair-confirm',
  [MessageType.PairDone]: 'pair-done',
};

/** Wrap a link so every message sent through it is printed and counted. */
function tap(link: Link, who: string, log: number[] | undefined, quiet = false): Link {
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
      log?.push(m.length);
      if (!quiet) {
        const name = TYPE_NAMES[m[0]!] ?? '?';
        console.log(dim(`      ${who} ${name.padEnd(18)} ${String(m.length).padStart(4)} B  ${toHex(m.subarray(0, 10))}…`));
      }
      return link.send(m, o);
    },
  };
}

function section(title: string) {
  console.log(`\n${bold(title)}`);
}

async function main() {
  console.log(bold('proxkey demo') + ' — a car and three phones in one process, in-memory link');

  const car = await VehicleService.open({
    store: new MemoryVehicleStore(),
    name: 'Demo car',
    actuator: (command) => console.log(ok(`      car: actuator → ${command.kind}`)),
  });
  const owner = await PhoneWallet.open({ store: new MemoryPhoneStore(), label: "Owner's phone" });
  const friend = await PhoneWallet.open({ store: new MemoryPhoneStore(), label: "Alice's phone" });
  const stranger = await PhoneWallet.open({ store: new MemoryPhoneStore(), label: 'stranger' });
  console.log(dim(`car id ${car.carId.slice(0, 16)}…  owner key ${owner.keyId}  friend key ${friend.keyId}`));

  /** A fresh connection: the car serves its end; the phone gets a (tapped) link. */
  const connect = (sizes?: number[], quiet = false) => {
    const [phoneLink, carLink] = createMemoryLinkPair();
    const served = car.serve(tap(carLink, 'car  →', sizes, quiet));
    return { link: tap(phoneLink, 'phone→', sizes, quiet), served };
  };

  // 1. Pairing.
  section('1. Owner pairing (SPAKE2+, RFC 9383, scrypt N=2^15)');
  let t = now();
  const { code, payload } = await car.openPairing();
  console.log(`   car enters pairing mode (button pressed) and shows: ${bold(code)}   QR: ${dim(payload)}   (${ms(now() - t)})`);
  t = now();
  let c = connect();
  const paired = await owner.pair(c.link, code);
  await c.served;
  console.log(`   owner phone paired with "${paired.name}" in ${ms(now() - t)}: enrolled as ${paired.role}, key ${paired.keyId}`);

  // 2. Owner: unlock in one round trip, then lock and start on the same session.
  section('2. Owner: unlock (one round trip), then lock and start on the same session');
  const sizes: number[] = [];
  c = connect(sizes);
  t = now();
  const { result, connection } = await owner.open(c.link, 'unlock');
  const unlockMs = now() - t;
  const unlockBytes = sizes.reduce((a, b) => a + b, 0);
  console.log(`   unlock: ${ok(result.status)} in ${ms(unlockMs)} — 1 round trip, ${unlockBytes} B on the link (${sizes.join(' + ')})`);
  let r = await connection.send('lock');
  console.log(`   lock:   ${ok(r.status)} in ${ms(r.elapsedMs)}`);
  r = await connection.send('start');
  console.log(`   start without the user confirming: ${bad(r.status)}`);
  r = await connection.send('start', { intent: true });
  console.log(`   start after the user confirmed:    ${ok(r.status)} in ${ms(r.elapsedMs)}`);
  await connection.close();
  await c.served;

  // 3. Sharing.
  section('3. Sharing: Alice asks for a key, the owner grants unlock + lock for 7 days');
  const request = friend.keyRequest('Alice');
  console.log(`   Alice's key request: ${dim(request.slice(0, 48) + '…')}`);
  const { share } = await owner.share(request, { permissions: ['unlock', 'lock'], notAfter: Date.now() + 7 * 86_400_000 });
  console.log(`   owner's signed grant, sealed to Alice's key: ${dim(share.slice(0, 48) + '…')} (${share.length} chars)`);
  await friend.acceptShare(share);
  c = connect();
  const first = await friend.open(c.link, 'unlock');
  console.log(`   Alice unlocks (her grant rides in the handshake; the car enrolls her first): ${ok(first.result.status)}`);
  r = await first.connection.send('start', { intent: true });
  console.log(`   Alice tries to start the car: ${bad(r.status)}`);
  await first.connection.close();
  await c.served;

  // 4. Keys and revocation.
  section('4. The owner lists the keys and revokes Alice');
  c = connect(undefined, true);
  const list = decodeKeyList((await owner.command(c.link, 'list-keys')).data);
  for (const k of list.entries) console.log(`   ${k.id}  ${k.role.padEnd(6)}  ${k.permissions.join(',')}${k.revoked ? '  revoked' : ''}`);
  c = connect(undefined, true);
  r = await owner.command(c.link, { kind: 'revoke', target: friend.keyId });
  console.log(`   revoke ${friend.keyId}: ${ok(r.status)} (saved before the car answered)`);
  c = connect();
  r = await friend.command(c.link, 'unlock');
  console.log(`   Alice tries to unlock again: ${bad(r.status)}`);
  await c.served;

  // 5. A stranger.
  section("5. A phone the car has never seen (it knows the car's public key, nothing else)");
  c = connect();
  const denied = await runPhoneCommand(
    c.link,
    { crypto: nobleCrypto, random: systemRandom, now, identity: stranger.identity, vehicleKey: car.identity.publicKey },
    'unlock',
  );
  console.log(`   unlock: ${bad(denied.status)} (an authenticated denial; nothing executed)`);
  await c.served;

  // 6. Audit.
  section("6. The car's audit log");
  for (const e of await car.audit())
    console.log(
      `   ${e.event.padEnd(8)} ${(e.keyId || '-').padEnd(16)} ${(e.command ?? '').padEnd(9)} ${e.result.padEnd(16)}${e.rttMs !== undefined ? ` rtt ${e.rttMs} ms` : ''}${e.detail ? dim(`  ${e.detail}`) : ''}`,
    );

  // 7. Proximity and relay defence (simulated RSSI).
  section('7. Proximity: passive entry and relay defence');
  await runProximityDemo();

  if (result.status !== 'ok' || first.result.status !== 'ok' || denied.status !== 'unknown-key') throw new Error('demo: unexpected outcome');
  console.log(`\ndone: a full unlock is ${unlockBytes} B on the link in 1 round trip (budget 300 B; Tesla ≈ 540 B in 2).`);
}

main().catch((err) => {
  console.error(bad(`demo failed: ${err instanceof Error ? err.message : String(err)}`));
  process.exit(1);
});
