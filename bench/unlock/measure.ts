/**
 * The figures of one provider's unlock benchmark, each timed in CPU time of this process (user +
 * system, all threads: WebCrypto's jobs run on libuv's pool), not wall time, which would add
 * whatever the scheduler gives other processes meanwhile:
 *
 * - `transaction`: one sans-IO unlock (challenge → handshake+command → result), each role's steps
 *   timed separately.
 * - `publicKeyFloor`: the public-key work one role must do in a transaction (1 P-256 keygen +
 *   3 ECDH), on the inputs a real transaction has.
 * - `cryptoFloor`: *every* crypto call one role made in a real transaction (recorded once by
 *   `recordCryptoCalls`), replayed back to back with no protocol code around it: the public-key
 *   floor plus the hashing, HMAC/HKDF and AEAD the protocol mandates. What a role costs above this
 *   is the implementation's own code.
 */
import { copyOf } from '../../src/bytes.js';
import {
  defaultPolicy,
  generateP256KeyPair,
  MemoryKeyRegistry,
  openPhoneSession,
  PhoneSession,
  serveVehicleSession,
  softwareKey,
  systemRandom,
  type CryptoProvider,
  type KeyCustody,
} from '../../src/index.js';
import { TestCar } from '../../test/helpers/test-car.js';
import { recordingCrypto, type CryptoCall } from '../../test/helpers/recording-crypto.js';
import { recordingLinkPair, wireSummary } from '../../test/helpers/recording-link.js';

/** CPU time of this process in ms (µs resolution). */
export const cpuNow = (): number => {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
};
const now = () => performance.now();
const policy = defaultPolicy();
const countingPolicy = defaultPolicy({ maxRttMs: Infinity });

export interface Setup {
  readonly crypto: CryptoProvider;
  readonly car: KeyCustody;
  readonly phone: KeyCustody;
  readonly keys: MemoryKeyRegistry;
}

export async function setup(crypto: CryptoProvider): Promise<Setup> {
  const car = await softwareKey(crypto, (await generateP256KeyPair(crypto, systemRandom)).secretKey);
  const phone = await softwareKey(crypto, (await generateP256KeyPair(crypto, systemRandom)).secretKey);
  const keys = new MemoryKeyRegistry(crypto);
  await keys.enroll(phone.publicKey);
  return { crypto, car, phone, keys };
}

export interface TransactionFigures {
  readonly vehicleMs: number;
  readonly phoneMs: number;
  /** Bytes of each message (challenge, handshake, result). */
  readonly sizes: readonly number[];
}

/** One sans-IO unlock, each role's steps timed separately. `crypto` per role lets a caller record each role's calls. */
export async function transaction(s: Setup, crypto: { vehicle: CryptoProvider; phone: CryptoProvider } = { vehicle: s.crypto, phone: s.crypto }) {
  let vehicleMs = 0;
  let phoneMs = 0;
  const timed = async <T>(role: 'v' | 'p', f: () => Promise<T> | T): Promise<T> => {
    const t = cpuNow();
    const r = await f();
    const dt = cpuNow() - t;
    if (role === 'v') vehicleMs += dt;
    else phoneMs += dt;
    return r;
  };
  const v = await timed('v', () => new TestCar({ crypto: crypto.vehicle, random: systemRandom, now, identity: s.car, keys: s.keys, policy }));
  const p = await timed('p', () => new PhoneSession({ crypto: crypto.phone, random: systemRandom, now, identity: s.phone, vehicleKey: s.car.publicKey }));
  await timed('p', () => p.begin('unlock'));
  const [challenge] = (await timed('v', () => v.start())).send;
  const [handshake] = (await timed('p', () => p.receive(challenge!))).send;
  const exec = await timed('v', () => v.receive(handshake!));
  if (!exec.events.some((e) => e.type === 'execute')) throw new Error('bench: unlock not authorized');
  const [result] = (await timed('v', () => v.complete({ ok: true }))).send;
  const done = await timed('p', () => p.receive(result!));
  if (!done.events.some((e) => e.type === 'result' && e.status === 'ok')) throw new Error('bench: no ok result');
  return { vehicleMs, phoneMs, sizes: [challenge!.length, handshake!.length, result!.length] } satisfies TransactionFigures;
}

/** The inputs of one role's floor: a fresh peer ephemeral, and the peer's static key as a real transaction holds it. */
export interface FloorInputs {
  readonly peerEphemeral: Uint8Array;
  readonly peerStatic: Uint8Array;
}

/** Both roles' floor inputs, made by the other party (not timed): the car gets the phone's key as fresh bytes, the phone holds the car's pinned array. */
export async function floorInputs({ crypto, car, phone }: Setup): Promise<{ vehicle: FloorInputs; phone: FloorInputs }> {
  // A new array, as a received key is: a provider may have validated (and cached) the one it returned.
  const fresh = async () => copyOf((await generateP256KeyPair(crypto, systemRandom)).publicKey);
  return {
    vehicle: { peerEphemeral: await fresh(), peerStatic: phone.publicKey.slice() },
    phone: { peerEphemeral: await fresh(), peerStatic: car.publicKey },
  };
}

/** 1 keygen + 3 ECDH; every peer key is validated by the ECDH, as in the protocol. Untimed. */
async function publicKeyWork(crypto: CryptoProvider, staticKey: KeyCustody, { peerEphemeral, peerStatic }: FloorInputs): Promise<void> {
  const e = await generateP256KeyPair(crypto, systemRandom);
  await crypto.p256Ecdh(e.secretKey, peerEphemeral); // ee
  await crypto.p256Ecdh(e.secretKey, peerStatic); // es or se (ephemeral × peer static)
  await staticKey.ecdh(peerEphemeral); // se or es (static × peer ephemeral)
}

/** The public-key floor of one role's transaction, in ms. */
export async function publicKeyFloor(crypto: CryptoProvider, staticKey: KeyCustody, inputs: FloorInputs): Promise<number> {
  const t = cpuNow();
  await publicKeyWork(crypto, staticKey, inputs);
  return cpuNow() - t;
}

/** Custody `key` whose ECDH is recorded in `calls` as the provider's would be. */
const recordingCustody = (key: KeyCustody, calls: CryptoCall[]): KeyCustody => ({
  ...key,
  ecdh: async (peer) => {
    const output = await key.ecdh(peer);
    calls.push({ method: 'p256Ecdh', output: copyOf(output) });
    return output;
  },
});

/**
 * The crypto calls each role makes in one real unlock (a sans-IO transaction through recording
 * providers). Throws unless each role's public-key calls are exactly the floor's: 1 keygen and
 * 3 ECDH (the static key's included), so the floors cannot drift from what the protocol does.
 */
export async function recordCryptoCalls(s: Setup): Promise<{ vehicle: CryptoCall[]; phone: CryptoCall[] }> {
  const vehicle: CryptoCall[] = [];
  const phone: CryptoCall[] = [];
  const recorded: Setup = { ...s, car: recordingCustody(s.car, vehicle), phone: recordingCustody(s.phone, phone) };
  await transaction(recorded, { vehicle: recordingCrypto(s.crypto, vehicle), phone: recordingCrypto(s.crypto, phone) });
  for (const [role, calls] of [
    ['vehicle', vehicle],
    ['phone', phone],
  ] as const) {
    const count = (m: CryptoCall['method']) => calls.filter((c) => c.method === m).length;
    const publicKeyCalls = calls.length - calls.filter(isSymmetric).length;
    if (count('p256KeyPairFromSecret') !== 1 || count('p256Ecdh') !== 3 || publicKeyCalls !== 4)
      throw new Error(`bench: the ${role}'s public-key calls are not the floor's 1 keygen + 3 ECDH`);
  }
  return { vehicle, phone };
}

type SymmetricCall = Extract<CryptoCall, { method: 'sha256' | 'hmacSha256' | 'hkdfSha256' | 'aeadSeal' | 'aeadOpen' }>;
const SYMMETRIC: readonly CryptoCall['method'][] = ['sha256', 'hmacSha256', 'hkdfSha256', 'aeadSeal', 'aeadOpen'];
const isSymmetric = (c: CryptoCall): c is SymmetricCall => SYMMETRIC.includes(c.method);

async function replay(crypto: CryptoProvider, c: SymmetricCall): Promise<void> {
  switch (c.method) {
    case 'sha256':
      crypto.sha256(c.input);
      return;
    case 'hmacSha256':
      crypto.hmacSha256(c.key, c.data);
      return;
    case 'hkdfSha256':
      crypto.hkdfSha256(c.ikm, c.salt, c.info, c.output.length);
      return;
    case 'aeadSeal':
      await crypto.aeadSeal(c.alg, c.key, c.nonce, c.plaintext, c.ad);
      return;
    case 'aeadOpen':
      await crypto.aeadOpen(c.alg, c.key, c.nonce, c.ciphertext, c.ad);
      return;
  }
}

/**
 * The crypto floor of one role, in ms: its public-key floor plus every other crypto call it made
 * in a real unlock (`calls`, from `recordCryptoCalls`), in the same order, back to back.
 */
export async function cryptoFloor(crypto: CryptoProvider, staticKey: KeyCustody, inputs: FloorInputs, calls: readonly CryptoCall[]): Promise<number> {
  // Fresh arrays, as a real transaction's are (no cache keyed by an array can hit).
  const symmetric = calls.filter(isSymmetric).map((c) => structuredClone(c));
  const t = cpuNow();
  await publicKeyWork(crypto, staticKey, inputs);
  for (const c of symmetric) await replay(crypto, c);
  return cpuNow() - t;
}

/** One unlock through the real drivers over a recording memory link: what went on the wire. */
export async function wireOfOneUnlock({ crypto, car, phone, keys }: Setup) {
  const { phone: phoneLink, vehicle: carLink, wire } = recordingLinkPair();
  // Only the messages count here: no relay bound (this run shares the machine with the others).
  const served = serveVehicleSession(carLink, { crypto, random: systemRandom, now, identity: car, keys, policy: countingPolicy, actuator: () => undefined });
  const { result, connection } = await openPhoneSession(phoneLink, { crypto, random: systemRandom, now, identity: phone, vehicleKey: car.publicKey }, 'unlock');
  if (result.status !== 'ok') throw new Error(`bench: wire unlock gave ${result.status}`);
  const summary = wireSummary(wire); // the transaction, up to its result (before the close)
  await connection.close();
  await served;
  return summary;
}
