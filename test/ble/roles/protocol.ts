/**
 * The protocol side of the role processes, in one place: how the car serves and the phone opens
 * a session, with the lead's drivers (`serveVehicleSession`, `openPhoneSession`), as in
 * examples/demo.ts. Keys come from the parent as hex.
 */
import {
  MemoryKeyRegistry,
  defaultPolicy,
  generateP256KeyPair,
  fromHex,
  nobleCrypto,
  softwareKey,
  systemRandom,
  type Link,
  type ServeSummary,
} from '../../../src/index.js';
import { MemoryPhoneStore, MemoryVehicleStore, PhoneWallet, VehicleService, openPhoneSession, serveVehicleSession } from '../../../src/index.js';

import { nodeCrypto } from '../../../src/node/node-crypto.js';

const now = () => performance.now();
/** ROLE_CRYPTO=node runs the role on nodeCrypto (the daemon's default; `npm run bench:ble`), else nobleCrypto. */
const crypto = process.env.ROLE_CRYPTO === 'node' ? nodeCrypto : nobleCrypto;

export interface CarKeys {
  /** The car's secret key (hex). */
  readonly carSecret: string;
  /** Enrolled phones' public keys (hex). */
  readonly phonePublics: readonly string[];
}

export async function makeVehicleServer(
  keys: CarKeys & { readonly maxRttMs?: number },
  actuator: (command: string, keyId: string) => void,
  onDecision: (d: { command: string; result: string; rttMs: number }) => void = () => {},
) {
  const identity = await softwareKey(crypto, fromHex(keys.carSecret));
  const store = new MemoryKeyRegistry(crypto);
  for (const [i, pub] of keys.phonePublics.entries()) await store.enroll(fromHex(pub), { role: 'owner', label: `phone ${i + 1}` });
  return (link: Link): Promise<ServeSummary> =>
    serveVehicleSession(link, {
      crypto,
      random: systemRandom,
      now,
      identity,
      keys: store,
      // the relay bound (default 300 ms) is meant for real radios; the bench shares 2 cores between
      // the test runner, two stacks and pure-JS crypto, so the parent may loosen it
      policy: defaultPolicy(keys.maxRttMs !== undefined ? { maxRttMs: keys.maxRttMs } : {}),
      handshakeTimeoutMs: 5000,
      idleTimeoutMs: 10_000,
      actuator: (command, key) => actuator(command.kind, key.id),
      onEvent: (e) => {
        if (e.type === 'decision') onDecision({ command: e.command?.kind ?? 'none', result: e.result, rttMs: e.rttMs });
      },
    });
}

export interface PhoneCommand {
  readonly kind: 'unlock' | 'lock' | 'start' | 'trunk';
  readonly intent?: boolean;
}

/** Exercise the crypto once so the first session does not pay JIT warm-up inside the car's RTT bound. */
export async function warmUp(): Promise<void> {
  const a = await generateP256KeyPair(crypto, systemRandom);
  const b = await generateP256KeyPair(crypto, systemRandom);
  const ka = await softwareKey(crypto, a.secretKey);
  const kb = await softwareKey(crypto, b.secretKey);
  await ka.ecdh(kb.publicKey);
}

/** Open a session with the first command in the handshake, run the rest, close. */
export async function runPhoneCommands(link: Link, phoneSecret: string, carPublic: string, commands: readonly PhoneCommand[]) {
  const options = await phoneOptionsFor(phoneSecret, carPublic);
  const [first, ...rest] = commands;
  const results: { kind: string; status: string; elapsedMs: number }[] = [];
  const { result, connection } = await openPhoneSession(link, options, first!.kind, { intent: first!.intent ?? false });
  results.push({ kind: first!.kind, status: result.status, elapsedMs: result.elapsedMs });
  try {
    for (const c of rest) {
      const r = await connection.send(c.kind, { intent: c.intent ?? false });
      results.push({ kind: c.kind, status: r.status, elapsedMs: r.elapsedMs });
    }
  } finally {
    await connection.close();
  }
  return results;
}

/** The phone's key and options, prepared outside any timed window. */
export async function phoneOptionsFor(phoneSecret: string, carPublic: string) {
  const identity = await softwareKey(crypto, fromHex(phoneSecret));
  return { crypto, random: systemRandom, now, identity, vehicleKey: fromHex(carPublic), timeoutMs: 5000 };
}

/** Low scrypt cost for pairing in tests (the default 2^15 is for real use). */
export { FAST_SCRYPT as TEST_SCRYPT } from '../../helpers/scrypt.js';

/** A car as the product runs it (`VehicleService` on an in-memory store), for pairing over BLE. */
export async function makeVehicleService(maxRttMs: number | undefined, actuator: (command: string, keyId: string) => void) {
  return VehicleService.open({
    store: new MemoryVehicleStore(),
    actuator: (command, key) => actuator(command.kind, key.id),
    policy: defaultPolicy(maxRttMs !== undefined ? { maxRttMs } : {}),
  });
}

/** A phone as the product runs it (`PhoneWallet` on an in-memory store). */
export function makeWallet(): Promise<PhoneWallet> {
  return PhoneWallet.open({ store: new MemoryPhoneStore(), label: 'ble test phone' });
}
