/**
 * Deterministic protocol transcripts (fixed keys, fixed ephemerals, fixed clock) and their
 * replay, one role at a time, against the recorded bytes of the other role. Used by
 * `npm run vectors` (scripts/gen-protocol-vectors.ts) and test/protocol-vectors.test.ts, and
 * meant as the interoperability check for other implementations (docs/PROTOCOL.md §9). Every
 * function takes the CryptoProvider to run the roles on (default nobleCrypto): the transcripts
 * use ECDH, AEAD and SHA-256 only — no ECDSA, whose randomized signatures would differ — so every
 * provider must reproduce them byte for byte.
 */
import {
  defaultPolicy,
  fromHex,
  MemoryKeyStore,
  nobleCrypto,
  PhoneSession,
  softwareKey,
  toHex,
  type CryptoProvider,
  type RandomSource,
  type StandardCommand,
  type SuiteId,
  type DenyReason,
} from '../src/index.js';
import { TestCar } from '../test/helpers/test-car.js';

export interface TranscriptStep {
  readonly command: StandardCommand;
  readonly intent?: boolean;
}

export interface TranscriptDefinition {
  readonly name: string;
  readonly description: string;
  readonly vehicleStaticSecret: string;
  readonly vehicleEphemeralSecret: string;
  readonly phoneStaticSecret: string;
  readonly phoneEphemeralSecret: string;
  /** Suites the car offers and the phone's preference order. */
  readonly vehicleSuites: readonly SuiteId[];
  readonly phoneSuites: readonly SuiteId[];
  /** Whether the car has the phone enrolled (as owner, all permissions). */
  readonly enrolled: boolean;
  /** Commands in order; the first rides in the handshake. The phone closes at the end. */
  readonly steps: readonly TranscriptStep[];
}

export interface TranscriptMessage {
  readonly from: 'vehicle' | 'phone';
  readonly hex: string;
}

export interface TranscriptVector extends TranscriptDefinition {
  readonly vehicleStaticPublic: string;
  readonly phoneStaticPublic: string;
  readonly clockMs: number;
  readonly results: readonly ('ok' | DenyReason)[];
  readonly messages: readonly TranscriptMessage[];
  readonly totalUnlockBytes: number;
}

const CLOCK_MS = 1_767_225_600_000; // 2026-01-01T00:00:00Z, fixed
const now = () => CLOCK_MS;

/** A RandomSource that yields exactly the given bytes, then fails (a vector needs no more). */
function scripted(hex: string): RandomSource {
  let pool = fromHex(hex);
  return (n) => {
    if (pool.length < n) throw new Error('transcript: randomness exhausted');
    const out = pool.slice(0, n);
    pool = pool.slice(n);
    return out;
  };
}

async function vehicleFor(d: TranscriptDefinition, crypto: CryptoProvider) {
  const identity = await softwareKey(crypto, fromHex(d.vehicleStaticSecret));
  const phonePub = (await softwareKey(crypto, fromHex(d.phoneStaticSecret))).publicKey;
  const keys = new MemoryKeyStore(crypto);
  if (d.enrolled) await keys.enroll(phonePub, { role: 'owner' });
  return new TestCar({
    crypto,
    random: scripted(d.vehicleEphemeralSecret),
    now,
    identity,
    keys,
    policy: defaultPolicy(),
    suites: d.vehicleSuites,
  });
}

async function phoneFor(d: TranscriptDefinition, crypto: CryptoProvider) {
  const identity = await softwareKey(crypto, fromHex(d.phoneStaticSecret));
  const vehicleKey = (await softwareKey(crypto, fromHex(d.vehicleStaticSecret))).publicKey;
  return new PhoneSession({ crypto, random: scripted(d.phoneEphemeralSecret), now, identity, vehicleKey, suites: d.phoneSuites });
}

/**
 * Play the vehicle role: `start()`, then feed it each phone message from `incoming()`, executing
 * every authorized command successfully. Returns what the vehicle sent.
 */
export async function playVehicle(d: TranscriptDefinition, phoneMessages: readonly Uint8Array[], crypto: CryptoProvider = nobleCrypto): Promise<Uint8Array[]> {
  const v = await vehicleFor(d, crypto);
  const sent: Uint8Array[] = [...(await v.start()).send];
  for (const m of phoneMessages) {
    let o = await v.receive(m);
    sent.push(...o.send);
    if (o.events.some((e) => e.type === 'execute')) {
      o = await v.complete({ ok: true });
      sent.push(...o.send);
    }
    if (o.done) break;
  }
  return sent;
}

/**
 * Play the phone role: begin with the first step, feed it each vehicle message, send the next
 * step after each result, close after the last. Returns what the phone sent and the results.
 */
export async function playPhone(
  d: TranscriptDefinition,
  vehicleMessages: readonly Uint8Array[],
  crypto: CryptoProvider = nobleCrypto,
): Promise<{ sent: Uint8Array[]; results: ('ok' | DenyReason)[] }> {
  const p = await phoneFor(d, crypto);
  const [first, ...rest] = d.steps;
  p.begin(first!.command, { intent: first!.intent ?? false });
  const sent: Uint8Array[] = [];
  const results: ('ok' | DenyReason)[] = [];
  let next = 0;
  for (const m of vehicleMessages) {
    const o = await p.receive(m);
    sent.push(...o.send);
    for (const e of o.events) {
      if (e.type === 'error') throw e.error;
      if (e.type !== 'result') continue;
      results.push(e.status);
      const step = rest[next++];
      if (p.state !== 'ready') continue;
      sent.push(...(step ? await p.command(step.command, { intent: step.intent ?? false }) : await p.close()).send);
    }
    if (p.state === 'closed') break;
  }
  return { sent, results };
}

/** Run both roles against each other and record the transcript. */
export async function recordTranscript(d: TranscriptDefinition, crypto: CryptoProvider = nobleCrypto): Promise<TranscriptVector> {
  const v = await vehicleFor(d, crypto);
  const p = await phoneFor(d, crypto);
  const messages: TranscriptMessage[] = [];
  const results: ('ok' | DenyReason)[] = [];
  const [first, ...rest] = d.steps;
  p.begin(first!.command, { intent: first!.intent ?? false });
  let toPhone = [...(await v.start()).send];
  let next = 0;
  while (toPhone.length > 0) {
    const toVehicle: Uint8Array[] = [];
    for (const m of toPhone) {
      messages.push({ from: 'vehicle', hex: toHex(m) });
      if (p.state === 'closed') continue;
      const o = await p.receive(m);
      toVehicle.push(...o.send);
      for (const e of o.events) {
        if (e.type === 'error') throw e.error;
        if (e.type !== 'result') continue;
        results.push(e.status);
        const step = rest[next++];
        if (p.state === 'ready') toVehicle.push(...(step ? await p.command(step.command, { intent: step.intent ?? false }) : await p.close()).send);
      }
    }
    toPhone = [];
    for (const m of toVehicle) {
      messages.push({ from: 'phone', hex: toHex(m) });
      if (v.state === 'closed') continue;
      let o = await v.receive(m);
      toPhone.push(...o.send);
      if (o.events.some((e) => e.type === 'execute')) {
        o = await v.complete({ ok: true });
        toPhone.push(...o.send);
      }
    }
  }
  const identityPub = async (hex: string) => toHex((await softwareKey(crypto, fromHex(hex))).publicKey);
  return {
    ...d,
    vehicleStaticPublic: await identityPub(d.vehicleStaticSecret),
    phoneStaticPublic: await identityPub(d.phoneStaticSecret),
    clockMs: CLOCK_MS,
    results,
    messages,
    totalUnlockBytes: messages.slice(0, 3).reduce((n, m) => n + m.hex.length / 2, 0),
  };
}
