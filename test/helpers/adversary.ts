/**
 * Helpers for the adversarial and protocol tests: deterministic cars and phones driven sans-IO
 * (no timers, no links), a manual clock, an actuator counter, a recorded unlock + lock transcript
 * whose intermediate role states can be rebuilt byte for byte, and message mutators.
 * Not a test file itself.
 */
import {
  BodyKind,
  buildPrologue,
  createMemoryLinkPair,
  decodeMessage,
  encodeBody,
  encodeMessage,
  MessageType,
  noise,
  SUITES,
  defaultPolicy,
  deterministicRandom,
  equalBytes,
  generateP256KeyPair,
  LinkClosedError,
  MemoryKeyRegistry,
  nobleCrypto,
  PhoneSession,
  ProxkeyError,
  softwareKey,
  toHex,
  type Command,
  type CommandInput,
  type CommandOptions,
  type ErrorCode,
  type KeyCustody,
  type KeyRecord,
  type Link,
  type PhoneEvent,
  type PhoneSessionOptions,
  type Policy,
  type RoleOutput,
  type SuiteId,
} from '../../src/index.js';
import { TestCar, type TestCarOptions, type TestCarOutput } from './test-car.js';

export { TestCar, type TestCarEvent, type TestCarOutput } from './test-car.js';

export const crypto = nobleCrypto;

/** 2026-01-01T00:00:00Z: the fixed start of every manual clock. */
export const T0 = 1_767_225_600_000;

/** A clock the test moves by hand. */
export class ManualClock {
  t = T0;
  readonly now = (): number => this.t;
  advance(ms: number): void {
    this.t += ms;
  }
}

/** A long-term key derived deterministically from a seed string. */
export async function keyFromSeed(seed: string): Promise<KeyCustody> {
  const kp = await generateP256KeyPair(crypto, deterministicRandom(`key:${seed}`));
  return softwareKey(crypto, kp.secretKey);
}

/** Everything that outlives one connection on the car (identity, key directory, policy), plus the phone's key. */
export interface World {
  readonly carKey: KeyCustody;
  readonly phoneKey: KeyCustody;
  readonly keys: MemoryKeyRegistry;
  readonly clock: ManualClock;
  readonly policy: Policy;
  /** The phone's enrolled record (undefined when not enrolled). */
  readonly record: KeyRecord | undefined;
}

export async function makeWorld(
  options: { carSeed?: string; phoneSeed?: string; enrolled?: boolean; role?: KeyRecord['role']; policy?: Policy } = {},
): Promise<World> {
  const carKey = await keyFromSeed(options.carSeed ?? 'car');
  const phoneKey = await keyFromSeed(options.phoneSeed ?? 'phone');
  const keys = new MemoryKeyRegistry(crypto);
  const record = options.enrolled === false ? undefined : await keys.enroll(phoneKey.publicKey, { label: 'phone', role: options.role ?? 'owner' });
  return { carKey, phoneKey, keys, clock: new ManualClock(), policy: options.policy ?? defaultPolicy(), record };
}

/** A new VehicleSession for `w` whose ephemeral comes from `seed` (same seed ⇒ same challenge). */
export function newCar(w: World, seed: string, extra: Partial<TestCarOptions> = {}): TestCar {
  return new TestCar({
    crypto,
    random: deterministicRandom(`car-eph:${seed}`),
    now: w.clock.now,
    identity: w.carKey,
    keys: w.keys,
    policy: w.policy,
    ...extra,
  });
}

/** A new PhoneSession with `w`'s phone key, pinning `w`'s car (same seed ⇒ same handshake). */
export function newPhone(w: World, seed: string, extra: Partial<PhoneSessionOptions> = {}): PhoneSession {
  return new PhoneSession({
    crypto,
    random: deterministicRandom(`phone-eph:${seed}`),
    now: w.clock.now,
    identity: w.phoneKey,
    vehicleKey: w.carKey.publicKey,
    ...extra,
  });
}

/** Counts what the car's actuator was asked to do. */
export class Actuator {
  readonly calls: Command[] = [];
  get count(): number {
    return this.calls.length;
  }
}

type AnyOutput = TestCarOutput | RoleOutput<PhoneEvent>;

/**
 * What a driver does with one incoming message: `car.receive(bytes)`, and for an `execute`
 * event, run the actuator (count it) and `complete()` with `outcome`. Returns both outputs merged.
 */
export async function carReceive(
  car: TestCar,
  bytes: Uint8Array,
  act: Actuator,
  outcome: { ok: true } | { ok: false; reason: 'actuator-failed' } = { ok: true },
): Promise<TestCarOutput> {
  const o = await car.receive(bytes);
  const exec = o.events.find((e) => e.type === 'execute');
  if (!exec || exec.type !== 'execute') return o;
  act.calls.push(exec.command);
  const c = await car.complete(outcome);
  return { send: [...o.send, ...c.send], events: [...o.events, ...c.events], done: c.done };
}

/** The errors carried by `error` events. */
export function errorsOf(o: AnyOutput): ProxkeyError[] {
  return o.events.flatMap((e) => (e.type === 'error' ? [e.error] : []));
}

export function eventTypes(o: AnyOutput): string[] {
  return o.events.map((e) => e.type);
}

/** Codes a receiver may use when it rejects a tampered message. */
export const REJECT_CODES: readonly ErrorCode[] = ['ERR_DECODE', 'ERR_DECRYPT', 'ERR_INVALID_POINT', 'ERR_UNEXPECTED_MESSAGE', 'ERR_UNSUPPORTED'];

/** A short description of why `err` is not a typed rejection, or undefined if it is one. */
export function notTypedRejection(err: unknown, codes: readonly ErrorCode[] = REJECT_CODES): string | undefined {
  if (!(err instanceof ProxkeyError)) return `untyped error ${String(err)}`;
  if (!codes.includes(err.code)) return `unexpected code ${err.code} (${err.message})`;
  return undefined;
}

/** Every message in `send` is a plaintext alert. */
export function onlyAlerts(send: readonly Uint8Array[]): boolean {
  return send.every((m) => {
    try {
      return decodeMessage(m).type === 0x0f;
    } catch {
      return false;
    }
  });
}

// ------------------------------------------------------------------------ mutations

export interface Mutation {
  readonly label: string;
  readonly kind: 'flip' | 'truncate';
  readonly bytes: Uint8Array;
}

/** `msg` with one bit flipped (bit 0 = LSB of byte 0). */
export function flipBit(msg: Uint8Array, bit: number): Uint8Array {
  const out = msg.slice();
  out[bit >> 3]! ^= 1 << (bit & 7);
  return out;
}

/** Every single-bit flip of `msg`. */
export function* bitFlips(msg: Uint8Array): Generator<Mutation> {
  for (let bit = 0; bit < msg.length * 8; bit++) yield { label: `flip byte ${bit >> 3} bit ${bit & 7}`, kind: 'flip', bytes: flipBit(msg, bit) };
}

/** Every proper prefix of `msg` (lengths 0 .. len-1). */
export function* truncations(msg: Uint8Array, step = 1): Generator<Mutation> {
  for (let n = 0; n < msg.length; n += step) yield { label: `truncate to ${n}`, kind: 'truncate', bytes: msg.slice(0, n) };
}

export function* allMutations(msg: Uint8Array): Generator<Mutation> {
  yield* bitFlips(msg);
  yield* truncations(msg);
}

// ------------------------------------------------------------------------ a recorded transcript

/** Seeds of the recorded transaction's ephemerals. */
export const RECORDED_CAR_SEED = 'recorded';
export const RECORDED_PHONE_SEED = 'recorded';

/** One recorded transaction: unlock in the handshake, then lock on the same session. */
export interface Transcript {
  readonly suite: SuiteId;
  readonly challenge: Uint8Array;
  readonly handshake: Uint8Array;
  readonly result: Uint8Array;
  readonly lockCommand: Uint8Array;
  readonly lockResult: Uint8Array;
}

export class TranscriptMismatch extends Error {}

function same(what: string, a: Uint8Array | undefined, b: Uint8Array): void {
  if (!a || !equalBytes(a, b)) throw new TranscriptMismatch(`${what}: ${a ? toHex(a) : 'nothing'} ≠ recorded ${toHex(b)}`);
}

/**
 * Rebuilds role states of the recorded transaction deterministically (same seeds, same fixed
 * clock), checking at every step that the bytes are exactly the recorded ones.
 */
export class Recorded {
  private constructor(
    readonly w: World,
    readonly t: Transcript,
  ) {}

  /** Run the transaction once and record its five messages. The world's clock must stay fixed. */
  static async record(w: World, suite: SuiteId = 1): Promise<Recorded> {
    const car = newCar(w, RECORDED_CAR_SEED);
    const phone = newPhone(w, RECORDED_PHONE_SEED, { suites: [suite] });
    const act = new Actuator();
    phone.begin('unlock');
    const challenge = (await car.start()).send[0]!;
    const handshake = (await phone.receive(challenge)).send[0]!;
    const result = (await carReceive(car, handshake, act)).send[0]!;
    const r1 = (await phone.receive(result)).events[0];
    if (r1?.type !== 'result' || r1.status !== 'ok') throw new Error(`recording: unlock failed: ${JSON.stringify(r1)}`);
    const lockCommand = (await phone.command('lock')).send[0]!;
    const lockResult = (await carReceive(car, lockCommand, act)).send[0]!;
    const r2 = (await phone.receive(lockResult)).events[0];
    if (r2?.type !== 'result' || r2.status !== 'ok') throw new Error('recording: lock failed');
    if (act.calls.map((c) => c.kind).join() !== 'unlock,lock') throw new Error('recording: actuator');
    return new Recorded(w, { suite, challenge, handshake, result, lockCommand, lockResult });
  }

  phoneOptions(): Partial<PhoneSessionOptions> {
    return { suites: [this.t.suite] };
  }

  /** A car that has sent the recorded challenge and awaits the handshake. */
  async carChallenged(): Promise<TestCar> {
    const car = newCar(this.w, RECORDED_CAR_SEED);
    same('challenge', (await car.start()).send[0], this.t.challenge);
    return car;
  }

  /** A phone that began `unlock` and awaits the challenge. */
  phoneAwaitingChallenge(): PhoneSession {
    const phone = newPhone(this.w, RECORDED_PHONE_SEED, this.phoneOptions());
    phone.begin('unlock');
    return phone;
  }

  /** A phone that has sent the recorded handshake and awaits the unlock result. */
  async phoneAwaitingResult(): Promise<PhoneSession> {
    const phone = this.phoneAwaitingChallenge();
    same('handshake', (await phone.receive(this.t.challenge)).send[0], this.t.handshake);
    return phone;
  }

  /** A car that executed the recorded unlock (counted on `act`) and is ready for a record. */
  async carReady(act: Actuator): Promise<TestCar> {
    const car = await this.carChallenged();
    same('result', (await carReceive(car, this.t.handshake, act)).send[0], this.t.result);
    return car;
  }

  /** A phone that received the unlock result and sent the recorded lock command. */
  async phoneAwaitingLockResult(): Promise<PhoneSession> {
    const phone = await this.phoneAwaitingResult();
    const r = (await phone.receive(this.t.result)).events[0];
    if (r?.type !== 'result' || r.status !== 'ok') throw new TranscriptMismatch('unlock result');
    same('lock command', (await phone.command('lock')).send[0], this.t.lockCommand);
    return phone;
  }
}

// ------------------------------------------------------------------------ whole transactions

export interface Transaction {
  readonly results: string[];
  readonly executed: Command[];
  /** Sizes of every message, in the order they were sent. */
  readonly sizes: number[];
}

/**
 * A complete, fresh transaction between a new car session and a new phone session of `w`
 * (fresh ephemerals from `seed`): the commands in order, each result. Denials are results.
 */
export async function transact(
  w: World,
  seed: string,
  commands: readonly CommandInput[] = ['unlock'],
  options: { car?: Partial<TestCarOptions>; phone?: Partial<PhoneSessionOptions>; intent?: CommandOptions } = {},
): Promise<Transaction> {
  const car = newCar(w, `fresh:${seed}`, options.car);
  const phone = newPhone(w, `fresh:${seed}`, options.phone);
  const act = new Actuator();
  const results: string[] = [];
  const sizes: number[] = [];
  const [first, ...rest] = commands;
  phone.begin(first!, options.intent);
  const challenge = (await car.start()).send[0]!;
  sizes.push(challenge.length);
  let toCar = (await phone.receive(challenge)).send;
  let next = 0;
  while (toCar.length > 0) {
    const toPhone: Uint8Array[] = [];
    for (const m of toCar) {
      sizes.push(m.length);
      if (car.state !== 'closed') toPhone.push(...(await carReceive(car, m, act)).send);
    }
    for (const m of toPhone) {
      sizes.push(m.length);
      if (phone.state === 'closed') continue;
      const o = await phone.receive(m);
      for (const e of o.events) if (e.type === 'error') throw e.error;
      for (const e of o.events) if (e.type === 'result') results.push(e.status);
    }
    const cmd = rest[next++];
    toCar = cmd !== undefined && phone.state === 'ready' ? (await phone.command(cmd, options.intent)).send : [];
  }
  return { results, executed: act.calls, sizes };
}

/** Asserts that the car of `w` (same identity, same key store) serves a fresh unlock. */
export async function expectFreshUnlock(w: World, seed: string): Promise<void> {
  const tx = await transact(w, seed, ['unlock']);
  if (tx.results.join() !== 'ok' || tx.executed.map((c) => c.kind).join() !== 'unlock')
    throw new Error(`fresh unlock (${seed}) failed: results ${tx.results.join()} executed ${tx.executed.length}`);
}

/** A JSON snapshot of the key store (to show that nothing changed it). */
export async function keyStoreSnapshot(keys: MemoryKeyRegistry): Promise<string> {
  return JSON.stringify((await keys.list()).map((r) => ({ ...r, publicKey: toHex(r.publicKey) })));
}

// ------------------------------------------------------------------------ man in the middle over links

/**
 * A man in the middle between a phone link and a car link: two in-memory pairs and a relay that
 * passes every message through `edit(direction, index, bytes)` (return the bytes to forward, or
 * undefined to drop). Returns the phone's and the car's ends.
 */
export function mitmLinks(edit: (from: 'car' | 'phone', index: number, bytes: Uint8Array) => Uint8Array | undefined): {
  phoneLink: Link;
  carLink: Link;
  relayed: Promise<void>;
} {
  const [phoneLink, mitmToPhone] = createMemoryLinkPair();
  const [mitmToCar, carLink] = createMemoryLinkPair();
  const pump = async (from: 'car' | 'phone', src: Link, dst: Link) => {
    let i = 0;
    try {
      for (;;) {
        const m = await src.receive();
        const out = edit(from, i++, m);
        if (out) await dst.send(out);
      }
    } catch (e) {
      if (!(e instanceof LinkClosedError)) throw e;
    } finally {
      src.close('mitm');
      dst.close('mitm');
    }
  };
  const relayed = Promise.all([pump('car', mitmToCar, mitmToPhone), pump('phone', mitmToPhone, mitmToCar)]).then(() => undefined);
  return { phoneLink, carLink, relayed };
}

// ------------------------------------------------------------------------ hand-made handshakes

/** A long-term key as a Noise static key. */
export const asNoiseKey = (k: KeyCustody): noise.NoiseKey => ({ publicKey: k.publicKey, dh: (r) => k.ecdh(r) });

/**
 * Play the phone's side of the handshake by hand (public Noise API): answer `challenge` with
 * `staticKey` (any public key and DH function: forged, invalid, stolen) for the pinned
 * `vehicleKey`, carrying `command`. Lets tests build messages a real PhoneSession never would.
 */
export async function craftHandshake(options: {
  challenge: Uint8Array;
  staticKey: noise.NoiseKey;
  vehicleKey: Uint8Array;
  suite?: SuiteId;
  version?: number;
  command?: Command;
  seed?: string;
}): Promise<Uint8Array> {
  const { challenge, suite = 1, version = 1 } = options;
  const proto = noise.parseProtocolName(SUITES[suite], crypto);
  const hs = new noise.HandshakeState({
    ...proto,
    protocolName: proto.name,
    initiator: false,
    prologue: buildPrologue(challenge.slice(0, 3), Uint8Array.of(MessageType.Handshake, version, suite)),
    s: options.staticKey,
    rs: options.vehicleKey,
    random: deterministicRandom(`crafted:${options.seed ?? ''}`),
  });
  await hs.readMessage(challenge.slice(3));
  const body = encodeBody({ kind: BodyKind.Command, command: options.command ?? { kind: 'unlock' }, intent: false, extensions: [] });
  return encodeMessage({ type: MessageType.Handshake, version, suite, noise: await hs.writeMessage(body) });
}
