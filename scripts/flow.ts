/**
 * Service-level transcripts ("flows", test/vectors/flow-*.json): a whole car (`VehicleService`)
 * and phones (`PhoneWallet`) over in-memory links, each party on its own seeded randomness and
 * the same fixed clock, every byte each side sent recorded per connection, with the application
 * actions (API calls, actuator runs, local car actions) in the order they happened. Grants are
 * signed deterministically (RFC 6979, `deterministicSigning`), so regenerating gives the same
 * bytes on every CryptoProvider. Used by `npm run vectors` and test/flow-vectors.test.ts.
 */
import { p256 } from '@noble/curves/nist.js';
import { concatBytes, fromHex, toHex, utf8 } from '../src/bytes.js';
import {
  MemoryPhoneStore,
  MemoryVehicleStore,
  PhoneWallet,
  SUITES,
  VehicleService,
  buildPrologue,
  createMemoryLinkPair,
  defaultPolicy,
  type CryptoProvider,
  type Link,
  type RandomSource,
  type Command,
  type SuiteId,
  type VehicleState,
} from '../src/index.js';
import { noiseIntermediates, recordingCrypto, type CryptoCall, type NoiseIntermediates } from './noise-intermediates.js';
import type { TranscriptMessage } from './transcript.js';

export const FLOW_CLOCK_MS = 1_767_225_600_000; // 2026-01-01T00:00:00Z

/** P-256 group order n. */
const N = 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n;

/**
 * `inner` whose ECDSA signatures are deterministic (RFC 6979, no extra entropy), low-S unless
 * `highS()` says otherwise: then s is replaced by n − s, the other valid signature of the same
 * message, which every verifier must accept (docs/PROTOCOL.md §2.1).
 */
export function deterministicSigning(inner: CryptoProvider, highS: () => boolean): CryptoProvider {
  return {
    ...inner,
    p256Sign: async (secretKey, message) => {
      const sig = p256.sign(message, secretKey, { prehash: true, lowS: true, format: 'compact', extraEntropy: false });
      if (!highS()) return sig;
      const s = N - BigInt(`0x${toHex(sig.subarray(32))}`);
      return concatBytes(sig.subarray(0, 32), fromBigInt(s));
    },
  };
}

function fromBigInt(v: bigint): Uint8Array {
  const hex = v.toString(16).padStart(64, '0');
  return Uint8Array.from(hex.match(/../g)!.map((b) => parseInt(b, 16)));
}

/** True when a 64-byte P1363 signature's s is above n/2. */
export const isHighS = (signature: Uint8Array): boolean => BigInt(`0x${toHex(signature.subarray(32))}`) > N / 2n;

/** SHA-256(label ‖ u32 counter) blocks as a RandomSource; every draw is appended to `draws` (hex). */
export function seededRandom(crypto: CryptoProvider, label: string, draws: string[]): RandomSource {
  let counter = 0;
  let pool: Uint8Array = new Uint8Array(0);
  return (n) => {
    while (pool.length < n)
      pool = concatBytes(pool, crypto.sha256(concatBytes(utf8(`proxkey vectors ${label}`), Uint8Array.of(0, 0, counter >> 8, counter++ & 0xff))));
    const out = pool.slice(0, n);
    pool = pool.slice(n);
    draws.push(toHex(out));
    return out;
  };
}

/** Bytes as hex, recursively (for JSON). */
export function jsonable(v: unknown): unknown {
  if (v instanceof Uint8Array) return toHex(v);
  if (Array.isArray(v)) return v.map(jsonable);
  if (typeof v === 'object' && v !== null) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, jsonable(x)]));
  return v;
}

/** Something a party did: `afterMessage` indexes its connection's `messages` (-1: before any). */
export interface FlowAction {
  readonly by: string;
  readonly action: string;
  readonly afterMessage: number;
  readonly [detail: string]: unknown;
}

export interface FlowConnection {
  readonly name: string;
  /** The phone (party name) on this connection. */
  readonly phone: string;
  readonly messages: TranscriptMessage[];
  readonly actions: FlowAction[];
  /** The Noise handshake's intermediates (none on a pairing or a refused connection). */
  intermediates?: NoiseIntermediates;
}

/** A local action between connections (no messages): a car action, an owner sharing a key, a phone accepting a share. */
export interface FlowLocalAction {
  readonly by: string;
  readonly action: string;
  /** Connections before it. */
  readonly afterConnection: number;
  readonly [detail: string]: unknown;
}

interface Party {
  readonly crypto: CryptoProvider;
  readonly calls: CryptoCall[];
  readonly draws: string[];
  readonly random: RandomSource;
}

/** A store whose next save fails once armed (a full disk). */
export class FailingStore extends MemoryVehicleStore {
  failNext = false;
  override async save(state: VehicleState): Promise<void> {
    if (this.failNext) {
      this.failNext = false;
      throw new Error('vector: disk full');
    }
    return super.save(state);
  }
}

/** A local action of the car (between connections), as recorded in `localActions` and replayed. */
export type CarAction =
  | { readonly action: 'open-pairing'; readonly scrypt: { readonly log2N: number; readonly r: number; readonly p: number } }
  | { readonly action: 'close-pairing' }
  | {
      readonly action: 'enroll';
      readonly publicKey: string;
      readonly role: 'owner' | 'shared';
      readonly label: string;
      readonly permissions?: readonly string[];
    }
  | { readonly action: 'revoke'; readonly keyId: string }
  | { readonly action: 'fail-next-save' };

/** The car action a recorded local action describes (throws for another party's action or an unknown one). */
export function carActionOf(a: FlowLocalAction): CarAction {
  const str = (k: string) => String(a[k]);
  switch (a.action) {
    case 'open-pairing': {
      const s = a.scrypt as { log2N: number; r: number; p: number };
      return { action: 'open-pairing', scrypt: { log2N: s.log2N, r: s.r, p: s.p } };
    }
    case 'close-pairing':
    case 'fail-next-save':
      return { action: a.action };
    case 'enroll':
      return {
        action: 'enroll',
        publicKey: str('publicKey'),
        role: a.role === 'owner' ? 'owner' : 'shared',
        label: str('label'),
        ...(Array.isArray(a.permissions) && { permissions: a.permissions.map(String) }),
      };
    case 'revoke':
      return { action: 'revoke', keyId: str('keyId') };
    default:
      throw new Error(`flow: no car action ${a.action}`);
  }
}

/** Do `a` on the car; returns what it yields (the pairing code and payload for `open-pairing`). */
export async function applyCarAction(car: VehicleService, store: FailingStore, a: CarAction): Promise<Record<string, unknown>> {
  switch (a.action) {
    case 'open-pairing': {
      const { code, payload } = await car.openPairing({ scrypt: a.scrypt });
      return { code, payload };
    }
    case 'close-pairing':
      car.cancelPairing();
      return {};
    case 'enroll':
      await car.registry.enroll(fromHex(a.publicKey), {
        role: a.role,
        label: a.label,
        ...(a.permissions && { permissions: a.permissions }),
        enrolledAt: FLOW_CLOCK_MS,
      });
      return {};
    case 'revoke':
      await car.revoke(a.keyId);
      return {};
    case 'fail-next-save':
      store.failNext = true;
      return {};
  }
}

/** The car of every flow (and of its replay): fixed clock, the vector actuator. */
export function openVectorCar(
  crypto: CryptoProvider,
  random: RandomSource,
  store: FailingStore,
  onExecute: (command: Command, outcome: unknown) => void = () => undefined,
) {
  return VehicleService.open({
    name: 'vector car',
    policy: defaultPolicy({ maxRttMs: Infinity }),
    store,
    crypto,
    random,
    now: () => FLOW_CLOCK_MS,
    monotonic: () => 0,
    actuator: (command) => {
      const outcome = command.kind === 'custom' ? { ok: true as const, data: customAnswer(command.args) } : { ok: true as const };
      onExecute(command, outcome);
      return outcome;
    },
  });
}

/** A car and its phones, recording every connection. */
export class Flow {
  readonly connections: FlowConnection[] = [];
  readonly local: FlowLocalAction[] = [];
  readonly parties = new Map<string, Party>();
  readonly phones = new Map<string, PhoneWallet>();
  readonly #labels = new Map<string, string>();
  car!: VehicleService;
  /** The car's advertising secret when it was created (hex). */
  initialAdvertisingSecret = '';
  /** Set while a grant is being signed high-S. */
  highS = false;
  #current: FlowConnection | undefined;
  /** Index in the current connection's messages of the last one each end has received (-1: none). */
  #received = { vehicle: -1, phone: -1 };

  constructor(private readonly base: CryptoProvider) {}

  #party(name: string): Party {
    const calls: CryptoCall[] = [];
    const draws: string[] = [];
    const crypto = deterministicSigning(recordingCrypto(this.base, calls), () => this.highS);
    const party = { crypto, calls, draws, random: seededRandom(this.base, name, draws) };
    this.parties.set(name, party);
    return party;
  }

  readonly store = new FailingStore();

  async openCar() {
    const p = this.#party('car');
    this.car = await openVectorCar(p.crypto, p.random, this.store, (command, outcome) => this.act('car', 'execute', { command, outcome }));
    this.initialAdvertisingSecret = toHex(this.car.advertisingSecret);
    return this.car;
  }

  /** A local car action, applied and recorded. */
  async carAction(a: CarAction): Promise<Record<string, unknown>> {
    const result = await applyCarAction(this.car, this.store, a);
    this.note('car', a.action, { ...a, ...result });
    return result;
  }

  async openPhone(name: string, label = name): Promise<PhoneWallet> {
    const p = this.#party(name);
    const wallet = await PhoneWallet.open({ store: new MemoryPhoneStore(), crypto: p.crypto, random: p.random, now: () => FLOW_CLOCK_MS, label });
    this.phones.set(name, wallet);
    this.#labels.set(name, label);
    return wallet;
  }

  /** name → the phone's label and static public key. */
  phoneInfo(): Record<string, { label: string; staticPublic: string }> {
    return Object.fromEntries([...this.phones].map(([name, w]) => [name, { label: this.#labels.get(name)!, staticPublic: toHex(w.identity.publicKey) }]));
  }

  phone(name: string): PhoneWallet {
    return this.phones.get(name)!;
  }

  /** A local action (recorded in order, between connections). */
  note(by: string, action: string, details: Record<string, unknown> = {}): void {
    this.local.push({ by, action, afterConnection: this.connections.length - 1, ...(jsonable(details) as object) });
  }

  /** An action inside the current connection: after the last message its actor had received. */
  act(by: string, action: string, details: Record<string, unknown> = {}): void {
    const c = this.#current;
    if (!c) return this.note(by, action, details);
    const afterMessage = this.#received[by === 'car' ? 'vehicle' : 'phone'];
    c.actions.push({ by, action, afterMessage, ...(jsonable(details) as object) });
  }

  /** One connection of `phone` to the car: `run` drives the phone end; the car serves the other. */
  async connect(name: string, phone: string, run: (link: Link) => Promise<void>): Promise<FlowConnection> {
    const connection: FlowConnection = { name, phone, messages: [], actions: [] };
    this.connections.push(connection);
    this.#current = connection;
    this.#received = { vehicle: -1, phone: -1 };
    for (const p of this.parties.values()) p.calls.length = 0;
    const [phoneEnd, carEnd] = createMemoryLinkPair();
    const served = this.car.serve(this.#recorded(carEnd, 'vehicle', connection));
    const link = this.#recorded(phoneEnd, 'phone', connection);
    try {
      await run(link);
    } finally {
      if (!link.isClosed) link.close('flow: connection over');
      await served;
      this.#current = undefined;
    }
    const intermediates = connectionIntermediates(connection.messages, this.parties.get('car')!.calls);
    if (intermediates && JSON.stringify(connectionIntermediates(connection.messages, this.parties.get(phone)!.calls)) !== JSON.stringify(intermediates))
      throw new Error(`flow ${name}: the car and the phone disagree on the Noise intermediates`);
    if (intermediates) connection.intermediates = intermediates;
    return connection;
  }

  #recorded(inner: Link, from: TranscriptMessage['from'], c: FlowConnection): Link {
    return {
      send: (m, options) => {
        if (!inner.isClosed) c.messages.push({ from, hex: toHex(m) });
        return inner.send(m, options);
      },
      receive: async (options) => {
        const m = await inner.receive(options);
        // messages arrive in order: the next one the other end sent
        const after = this.#received[from];
        this.#received[from] = c.messages.findIndex((x, i) => i > after && x.from !== from);
        return m;
      },
      // Who drops the link first after a CLOSE or an ALERT depends on scheduling: not recorded.
      close: (reason) => inner.close(reason),
      get closed() {
        return inner.closed;
      },
      get isClosed() {
        return inner.isClosed;
      },
    };
  }

  /** Every party's random draws, in order (hex), for seeding a replay. */
  draws(): Record<string, string[]> {
    return Object.fromEntries([...this.parties].map(([name, p]) => [name, [...p.draws]]));
  }
}

/** The Noise intermediates of a connection's handshake from one party's recorded calls; undefined when no session was established. */
export function connectionIntermediates(messages: readonly TranscriptMessage[], calls: readonly CryptoCall[]): NoiseIntermediates | undefined {
  const challenge = messages.find((m) => m.hex.startsWith('01'));
  const handshake = messages.find((m) => m.from === 'phone' && m.hex.startsWith('02'));
  const record = messages.find((m) => m.hex.startsWith('03'));
  if (!challenge || !handshake || !record) return undefined;
  const [c, h] = [fromHex(challenge.hex), fromHex(handshake.hex)];
  return noiseIntermediates(calls, SUITES[h[2] as SuiteId], buildPrologue(c.subarray(0, 3), h.subarray(0, 3)));
}

/** The vector car's answer to a custom command: "ok:" ‖ the args reversed. */
export const customAnswer = (args: Uint8Array | undefined): Uint8Array => concatBytes(utf8('ok:'), Uint8Array.from(args ?? []).reverse());
