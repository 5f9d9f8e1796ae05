/**
 * Deterministic protocol transcripts (fixed keys, fixed ephemerals, fixed clock) and their
 * replay, one role at a time, against the recorded bytes of the other role. Used by
 * `npm run vectors` (scripts/gen-protocol-vectors.ts) and test/protocol-vectors.test.ts, and
 * meant as the interoperability check for other implementations (docs/PROTOCOL.md §9,
 * test/vectors/README.md). Every function takes the CryptoProvider to run the roles on (default
 * nobleCrypto): the transcripts use ECDH, AEAD and SHA-256 only — no ECDSA, whose randomized
 * signatures would differ — so every provider must reproduce them byte for byte, and the Noise
 * intermediates with them (observed through a recording provider, `noise-intermediates.ts`).
 *
 * Application actions are part of the transcript (`actions`): who did what after receiving which
 * message. A phone acts only after it has read the whole flight the car sent (a RESULT and the
 * CLOSE that may follow it), and never sends after a CLOSE.
 */
import {
  buildPrologue,
  defaultPolicy,
  fromHex,
  MemoryKeyRegistry,
  nobleCrypto,
  PhoneSession,
  softwareKey,
  SUITES,
  toHex,
  type CryptoProvider,
  type DenyReason,
  type RandomSource,
  type StandardCommand,
  type SuiteId,
} from '../src/index.js';
import { TestCar } from '../test/helpers/test-car.js';
import { noiseIntermediates, recordingCrypto, type CryptoCall, type NoiseIntermediates } from './noise-intermediates.js';

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
  /** Commands in order; the first rides in the handshake. The phone closes after the last result (unless the car closed). */
  readonly steps: readonly TranscriptStep[];
}

export interface TranscriptMessage {
  readonly from: 'vehicle' | 'phone';
  readonly hex: string;
}

/**
 * An application action: `by` did `action` after it had received message `afterMessage` (an
 * index into `messages`; -1: before any message). What the action sent are the messages listed
 * in `sends`.
 */
export type TranscriptAction = {
  readonly by: 'vehicle' | 'phone';
  readonly afterMessage: number;
  readonly sends: readonly number[];
} & (
  | { readonly action: 'begin'; readonly command: StandardCommand; readonly intent: boolean }
  | { readonly action: 'start' }
  | { readonly action: 'complete'; readonly outcome: { readonly ok: true } }
  | { readonly action: 'command'; readonly command: StandardCommand; readonly intent: boolean }
  | { readonly action: 'close' }
);

export interface TranscriptVector extends TranscriptDefinition {
  readonly vehicleStaticPublic: string;
  readonly phoneStaticPublic: string;
  readonly clockMs: number;
  readonly results: readonly ('ok' | DenyReason)[];
  readonly messages: readonly TranscriptMessage[];
  readonly actions: readonly TranscriptAction[];
  readonly intermediates: NoiseIntermediates;
  readonly totalUnlockBytes: number;
}

const CLOCK_MS = 1_767_225_600_000; // 2026-01-01T00:00:00Z, fixed
const now = () => CLOCK_MS;

/** A RandomSource that yields exactly the given bytes, then fails (a vector needs no more). */
export function scripted(hex: string): RandomSource {
  let pool = fromHex(hex);
  return (n) => {
    if (pool.length < n) throw new Error('transcript: randomness exhausted');
    const out = pool.slice(0, n);
    pool = pool.slice(n);
    return out;
  };
}

export async function vehicleFor(d: TranscriptDefinition, crypto: CryptoProvider, ephemeralSecret = d.vehicleEphemeralSecret) {
  const identity = await softwareKey(crypto, fromHex(d.vehicleStaticSecret));
  const phonePub = (await softwareKey(crypto, fromHex(d.phoneStaticSecret))).publicKey;
  const keys = new MemoryKeyRegistry(crypto);
  if (d.enrolled) await keys.enroll(phonePub, { role: 'owner' });
  return new TestCar({
    crypto,
    random: scripted(ephemeralSecret),
    now,
    identity,
    keys,
    policy: defaultPolicy(),
    suites: d.vehicleSuites,
  });
}

export async function phoneFor(d: TranscriptDefinition, crypto: CryptoProvider) {
  const identity = await softwareKey(crypto, fromHex(d.phoneStaticSecret));
  const vehicleKey = (await softwareKey(crypto, fromHex(d.vehicleStaticSecret))).publicKey;
  return new PhoneSession({ crypto, random: scripted(d.phoneEphemeralSecret), now, identity, vehicleKey, suites: d.phoneSuites });
}

/** The intermediates one role computed, from the calls its recording provider saw (undefined before the handshake). */
function intermediatesOf(calls: readonly CryptoCall[], messages: readonly TranscriptMessage[], until = Infinity): NoiseIntermediates | undefined {
  const seen = messages.slice(0, until + 1);
  const challenge = seen[0];
  const handshake = seen.find((m) => m.from === 'phone' && m.hex.startsWith('02'));
  if (!challenge || !handshake) return undefined;
  const [c, h] = [fromHex(challenge.hex), fromHex(handshake.hex)];
  return noiseIntermediates(calls, SUITES[h[2] as SuiteId], buildPrologue(c.subarray(0, 3), h.subarray(0, 3)));
}

export interface Replay {
  readonly sent: string[];
  readonly results: ('ok' | DenyReason)[];
  readonly intermediates: NoiseIntermediates | undefined;
}

/** How far a replay goes: through message `until` (an index into `messages`; default all), and on which car ephemeral. */
export interface ReplayOptions {
  readonly until?: number;
  readonly vehicleEphemeralSecret?: string;
}

/**
 * Replay one role: its own actions where the transcript has them (before the first message, then
 * after each message), and every message of the other party, in order, through `message` — until
 * `until` or the role has closed.
 */
async function replayRole(
  v: TranscriptVector,
  by: 'vehicle' | 'phone',
  until: number,
  role: { readonly closed: () => boolean; action(a: TranscriptAction): Promise<void>; message(bytes: Uint8Array): Promise<void> },
): Promise<void> {
  const act = async (after: number) => {
    for (const a of v.actions.filter((x) => x.by === by && x.afterMessage === after)) await role.action(a);
  };
  await act(-1);
  for (const [i, m] of v.messages.slice(0, until + 1).entries()) {
    if (m.from === by) continue;
    if (!role.closed()) await role.message(fromHex(m.hex));
    await act(i);
  }
}

/**
 * Play the vehicle role alone: its actions (`start`, `complete`) where the transcript has them,
 * and every recorded phone message in order. Returns what it sent, its Noise intermediates (when
 * the handshake happened) and the session, to feed it more.
 */
export async function playVehicle(
  v: TranscriptVector,
  crypto: CryptoProvider = nobleCrypto,
  options: ReplayOptions = {},
): Promise<Replay & { session: TestCar }> {
  const calls: CryptoCall[] = [];
  const car = await vehicleFor(v, recordingCrypto(crypto, calls), options.vehicleEphemeralSecret);
  const sent: Uint8Array[] = [];
  await replayRole(v, 'vehicle', options.until ?? Infinity, {
    closed: () => car.state === 'closed',
    action: async (a) => {
      if (a.action === 'start') sent.push(...(await car.start()).send);
      else if (a.action === 'complete') sent.push(...(await car.complete(a.outcome)).send);
      else throw new Error(`transcript: the vehicle has no action ${a.action}`);
    },
    message: async (bytes) => void sent.push(...(await car.receive(bytes)).send),
  });
  return { sent: sent.map(toHex), results: [], intermediates: intermediatesOf(calls, v.messages, options.until), session: car };
}

/**
 * Play the phone role alone: its actions (`begin`, `command`, `close`) where the transcript has
 * them, and every recorded vehicle message in order. Returns what it sent, its results, its
 * Noise intermediates and the session.
 */
export async function playPhone(
  v: TranscriptVector,
  crypto: CryptoProvider = nobleCrypto,
  options: ReplayOptions = {},
): Promise<Replay & { session: PhoneSession }> {
  const calls: CryptoCall[] = [];
  const p = await phoneFor(v, recordingCrypto(crypto, calls));
  const sent: Uint8Array[] = [];
  const results: ('ok' | DenyReason)[] = [];
  await replayRole(v, 'phone', options.until ?? Infinity, {
    closed: () => p.state === 'closed',
    action: async (a) => {
      if (a.action === 'begin') p.begin(a.command, { intent: a.intent });
      else if (a.action === 'command') sent.push(...(await p.command(a.command, { intent: a.intent })).send);
      else if (a.action === 'close') sent.push(...(await p.close()).send);
      else throw new Error(`transcript: the phone has no action ${a.action}`);
    },
    message: async (bytes) => {
      const o = await p.receive(bytes);
      sent.push(...o.send);
      for (const e of o.events) {
        if (e.type === 'error') throw e.error;
        if (e.type === 'result') results.push(e.status);
      }
    },
  });
  return { sent: sent.map(toHex), results, intermediates: intermediatesOf(calls, v.messages, options.until), session: p };
}

/** Run both roles against each other and record the transcript (messages, actions, intermediates). */
export async function recordTranscript(d: TranscriptDefinition, crypto: CryptoProvider = nobleCrypto): Promise<TranscriptVector> {
  const carCalls: CryptoCall[] = [];
  const phoneCalls: CryptoCall[] = [];
  const car = await vehicleFor(d, recordingCrypto(crypto, carCalls));
  const p = await phoneFor(d, recordingCrypto(crypto, phoneCalls));
  const messages: TranscriptMessage[] = [];
  const actions: TranscriptAction[] = [];
  const results: ('ok' | DenyReason)[] = [];
  const received = { vehicle: -1, phone: -1 };
  /** Append what an action (or a reply) sent; returns their indices. */
  const emit = (from: TranscriptMessage['from'], send: readonly Uint8Array[]) => send.map((m) => messages.push({ from, hex: toHex(m) }) - 1);
  const [first, ...rest] = d.steps;
  p.begin(first!.command, { intent: first!.intent ?? false });
  actions.push({ by: 'phone', action: 'begin', command: first!.command, intent: first!.intent ?? false, afterMessage: -1, sends: [] });
  let flight = emit('vehicle', (await car.start()).send);
  actions.push({ by: 'vehicle', action: 'start', afterMessage: -1, sends: flight });
  let next = 0;
  while (flight.length > 0) {
    // The phone reads the car's whole flight, then acts (next command or close) if still open.
    const replies: number[] = [];
    for (const i of flight) {
      received.phone = i;
      if (p.state === 'closed') continue;
      const o = await p.receive(fromHex(messages[i]!.hex));
      replies.push(...emit('phone', o.send));
      for (const e of o.events) {
        if (e.type === 'error') throw e.error;
        if (e.type === 'result') results.push(e.status);
      }
    }
    if (p.state === 'ready') {
      const step = rest[next++];
      const intent = step?.intent ?? false;
      const sends = emit('phone', (step ? await p.command(step.command, { intent }) : await p.close()).send);
      actions.push(
        step
          ? { by: 'phone', action: 'command', command: step.command, intent, afterMessage: received.phone, sends }
          : { by: 'phone', action: 'close', afterMessage: received.phone, sends },
      );
      replies.push(...sends);
    }
    flight = [];
    for (const i of replies) {
      received.vehicle = i;
      if (car.state === 'closed') continue;
      const o = await car.receive(fromHex(messages[i]!.hex));
      flight.push(...emit('vehicle', o.send));
      if (o.events.some((e) => e.type === 'execute')) {
        const sends = emit('vehicle', (await car.complete({ ok: true })).send);
        actions.push({ by: 'vehicle', action: 'complete', outcome: { ok: true }, afterMessage: i, sends });
        flight.push(...sends);
      }
    }
  }
  const intermediates = intermediatesOf(carCalls, messages);
  if (!intermediates || JSON.stringify(intermediatesOf(phoneCalls, messages)) !== JSON.stringify(intermediates))
    throw new Error('transcript: no handshake, or the roles disagree on the Noise intermediates');
  const identityPub = async (hex: string) => toHex((await softwareKey(crypto, fromHex(hex))).publicKey);
  return {
    ...d,
    vehicleStaticPublic: await identityPub(d.vehicleStaticSecret),
    phoneStaticPublic: await identityPub(d.phoneStaticSecret),
    clockMs: CLOCK_MS,
    results,
    messages,
    actions,
    intermediates,
    totalUnlockBytes: messages.slice(0, 3).reduce((n, m) => n + m.hex.length / 2, 0),
  };
}
