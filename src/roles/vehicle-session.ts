/**
 * The vehicle (car) role for one connection: a sans-IO state machine.
 *
 *   new ──start()──▶ challenged ──receive(handshake)──▶ executing ──complete()──▶ ready
 *                                         │                  ▲                      │
 *                                         └─(denied)─▶ ready └──receive(command)────┘
 *   any ──close()/peer close/terminal denial──▶ closed
 *
 * Bytes in, bytes and events out; no timers, no I/O; time, randomness, key lookup, policy and
 * hooks are injected. Input that fails to decode or authenticate yields an `error` event (and an
 * alert to send) and leaves the state exactly as it was; the driver decides to close.
 */
import { type KeyCustody } from '../crypto/custody.js';
import { generateP256KeyPair } from '../crypto/keygen.js';
import { RemoteError } from '../errors.js';
import type { NoiseKey } from '../noise/functions.js';
import { HandshakeState } from '../noise/handshake-state.js';
import { commandName, type Command } from '../protocol/commands.js';
import { BodyKind, LIMITS, MessageType, PROTOCOL_VERSIONS, type SuiteId } from '../protocol/constants.js';
import { keyIdOf } from '../protocol/key-id.js';
import {
  CHALLENGE_HEADER_LENGTH,
  decodeBody,
  encodeMessage,
  isSuiteId,
  maskHas,
  toMask,
  UnknownCommandError,
  Extensions,
  type Body,
  type CommandBody,
  type HandshakeMessage,
  type WireMessage,
  decodeMessage,
  HANDSHAKE_HEADER_LENGTH,
} from '../protocol/messages.js';
import { buildPrologue } from '../protocol/prologue.js';
import { isDenyReason, reasonEndsSession, type DenyReason } from '../protocol/reasons.js';
import { checkedDecision } from './authorize.js';
import { SecureChannel } from './channel.js';
import { output, StepGuard } from './step.js';
import { checkSuites, custodyAsNoiseKey, noiseProtocolFor } from './suite.js';
import type { KeyDirectory, KeyRecord, Policy, ProximityVerdict, RangingVerdict, RoleEnvironment, RoleOutput, VehicleEvent, VehicleHooks } from './types.js';

export interface VehicleSessionOptions extends RoleEnvironment {
  /** The car's long-term key (its public key is what phones pin). */
  readonly identity: KeyCustody;
  readonly keys: KeyDirectory;
  readonly policy: Policy;
  readonly hooks?: VehicleHooks;
  /** Suites offered, in no particular order (the phone chooses). Default: all. */
  readonly suites?: readonly SuiteId[];
  /** A session (one handshake) is usable for this long. Default 60 000 ms. */
  readonly sessionMaxAgeMs?: number;
  /** At most this many commands per session. Default 32. */
  readonly maxCommands?: number;
  /**
   * Runs the handshake's public-key work (the Noise message only: never hooks, policy or
   * storage). A car serving many connections passes one FIFO/LIFO lane so handshakes run one at
   * a time; `signal` drops a job whose connection is gone. Default: run at once.
   */
  readonly handshakeLane?: <T>(work: () => Promise<T>, signal?: AbortSignal) => Promise<T>;
  /** The connection's signal, for `handshakeLane`. */
  readonly signal?: AbortSignal;
}

export type VehicleSessionState = 'new' | 'challenged' | 'executing' | 'ready' | 'closed';

/** Outcome of executing a command, reported by the driver through `complete()`. */
export type ExecutionOutcome = { readonly ok: true; readonly data?: Uint8Array } | { readonly ok: false; readonly reason: DenyReason };

const EMPTY = new Uint8Array(0);

interface Pending {
  readonly command: Command;
  readonly key: KeyRecord;
  readonly intent: boolean;
  readonly proximity: ProximityVerdict | undefined;
  readonly ranging: RangingVerdict | undefined;
}

type Output = RoleOutput<VehicleEvent>;

export class VehicleSession {
  readonly #o: VehicleSessionOptions;
  readonly #suites: readonly SuiteId[];
  #state: VehicleSessionState = 'new';
  readonly #guard = new StepGuard<VehicleSessionState>('vehicle session');
  #ephemeral: NoiseKey | undefined;
  #challengeHeader: Uint8Array | undefined;
  #challengedAt = 0;
  #channel: SecureChannel | undefined;
  #peerKey: Uint8Array | undefined;
  #keyId: string | undefined;
  #rttMs = 0;
  #establishedAt = 0;
  #commands = 0;
  #pending: Pending | undefined;

  constructor(options: VehicleSessionOptions) {
    this.#o = options;
    this.#suites = checkSuites(options.suites);
  }

  get state(): VehicleSessionState {
    return this.#state;
  }

  /** The authenticated phone's key id, once the handshake succeeded. */
  get keyId(): string | undefined {
    return this.#keyId;
  }

  /** The Noise handshake hash (a public session id), once established. */
  get sessionId(): Uint8Array | undefined {
    return this.#channel?.handshakeHash.slice();
  }

  /**
   * Produce the challenge (a fresh ephemeral key). Call when the phone has subscribed.
   * @param now the instant the challenge is produced (default: the injected clock, read after
   *   the ephemeral key is generated); the relay RTT is measured from it
   */
  async start(now?: number): Promise<Output> {
    return this.#step(['new'], async () => {
      const { crypto, random } = this.#o;
      const kp = await generateP256KeyPair(crypto, random);
      const secret = kp.secretKey;
      this.#ephemeral = {
        publicKey: kp.publicKey,
        dh: (remote) => crypto.p256Ecdh(secret, remote),
        wipe: () => secret.fill(0),
      };
      const challenge = encodeMessage({
        type: MessageType.Challenge,
        versions: toMask(PROTOCOL_VERSIONS),
        suites: toMask(this.#suites),
        ephemeral: kp.publicKey,
      });
      this.#challengeHeader = challenge.slice(0, CHALLENGE_HEADER_LENGTH);
      this.#challengedAt = now ?? this.#o.now();
      this.#state = 'challenged';
      return out([challenge]);
    });
  }

  /**
   * Feed one message received from the phone.
   * @param now the instant the message **arrived** (the driver's timestamp): the relay RTT is
   *   measured to it, so the car's own crypto and other sessions' work never count against the phone.
   */
  async receive(bytes: Uint8Array, now: number = this.#o.now()): Promise<Output> {
    return this.#step(['new', 'challenged', 'ready', 'executing'], async () => {
      let message: WireMessage;
      try {
        message = decodeMessage(bytes);
      } catch (e) {
        return rejected(e);
      }
      if (message.type === MessageType.Alert) return this.#finish([], message.reason, []);
      if (this.#state === 'challenged' && message.type === MessageType.Handshake)
        return this.#onHandshake(message, bytes.subarray(0, HANDSHAKE_HEADER_LENGTH), now);
      if (this.#state === 'ready' && message.type === MessageType.Record) return this.#onRecord(message.ciphertext, now);
      return rejected(new RemoteError('ERR_UNEXPECTED_MESSAGE', `unexpected message 0x${message.type.toString(16)} in state ${this.#state}`));
    });
  }

  /** Report the outcome of the command announced by the last `execute` event. */
  async complete(outcome: ExecutionOutcome): Promise<Output> {
    return this.#step(['executing'], async () => {
      const p = this.#pending!;
      this.#pending = undefined;
      this.#state = 'ready';
      const { status, data } = checkedOutcome(outcome);
      const record = await this.#channel!.seal({ kind: BodyKind.Result, status, data });
      return out([record], [this.#decision(p.command, status, p.intent, p.proximity, p.ranging)]);
    });
  }

  /**
   * End the session (e.g. the key was revoked, the car shuts down). Sends an authenticated close
   * when a channel exists. Idempotent.
   */
  async close(reason: 'ok' | DenyReason = 'ok'): Promise<Output> {
    if (this.#state === 'closed') return out([], [], true);
    return this.#step(['new', 'challenged', 'ready', 'executing'], async () => {
      const send = this.#channel ? [await this.#channel.seal({ kind: BodyKind.Close, reason })] : [];
      return this.#finish(send, reason, []);
    });
  }

  // ------------------------------------------------------------------ internals

  async #onHandshake(m: HandshakeMessage, header: Uint8Array, arrivedAt: number): Promise<Output> {
    const { crypto, identity } = this.#o;
    if (!maskHas(toMask(PROTOCOL_VERSIONS), m.version) || !isSuiteId(m.suite) || !this.#suites.includes(m.suite))
      return rejected(new RemoteError('ERR_UNSUPPORTED', `version ${m.version} / suite ${m.suite} not offered`), 'unsupported');
    const proto = noiseProtocolFor(m.suite, crypto);
    const e = this.#ephemeral!;
    // A fresh HandshakeState per attempt, fed a non-wiping view of our ephemeral, so a rejected
    // message leaves this session exactly as it was.
    const hs = new HandshakeState({
      ...proto,
      protocolName: proto.name,
      initiator: true,
      prologue: buildPrologue(this.#challengeHeader!, header),
      s: custodyAsNoiseKey(identity),
      e: { publicKey: e.publicKey, dh: (remote) => e.dh(remote) },
      random: this.#o.random,
    });
    let payload: Uint8Array;
    const noise = async () => {
      await hs.writeMessage(EMPTY); // message 1 = e ‖ empty payload: the challenge we already sent
      return hs.readMessage(m.noise);
    };
    try {
      payload = await (this.#o.handshakeLane ? this.#o.handshakeLane(noise, this.#o.signal) : noise());
    } catch (err) {
      hs.destroy();
      return rejected(err);
    }
    const { send, receive, handshakeHash, remoteStatic } = hs.result;
    this.#rttMs = Math.max(0, arrivedAt - this.#challengedAt);
    this.#establishedAt = arrivedAt;
    this.#channel = new SecureChannel(send, receive, handshakeHash);
    this.#peerKey = remoteStatic!;
    this.#keyId = keyIdOf(crypto, this.#peerKey);
    e.wipe?.();
    this.#ephemeral = undefined;
    this.#state = 'ready';
    const found = await this.#lookup(this.#peerKey);
    const known = found !== undefined && found !== 'failed';
    const authenticated: VehicleEvent = { type: 'authenticated', keyId: this.#keyId, known, rttMs: this.#rttMs };
    const res = await this.#onBody(payload, arrivedAt);
    return { ...res, events: [authenticated, ...res.events] };
  }

  async #onRecord(ciphertext: Uint8Array, now: number): Promise<Output> {
    let plaintext: Uint8Array;
    try {
      plaintext = await this.#channel!.decrypt(ciphertext);
    } catch (err) {
      return rejected(err);
    }
    return this.#onBody(plaintext, now);
  }

  /** An authenticated body from the phone. */
  async #onBody(plaintext: Uint8Array, now: number): Promise<Output> {
    let body: Body | undefined;
    let undecodable: DenyReason | undefined;
    try {
      body = decodeBody(plaintext);
    } catch (err) {
      undecodable =
        err instanceof UnknownCommandError ? 'unknown-command' : err instanceof RemoteError && err.code === 'ERR_UNSUPPORTED' ? 'unsupported' : 'malformed';
    }
    if (body?.kind === BodyKind.Close) return this.#finish([], body.reason, []);
    // Every other body counts toward the session's limits, understood or not, before anything
    // else is looked at: a session cannot be kept alive (nor the audit log fed) with garbage.
    this.#commands++;
    const command = body?.kind === BodyKind.Command ? body : undefined;
    const limit = this.#limitReached(now);
    if (limit) return this.#deny(command?.command, limit, command?.intent ?? false);
    // Authenticated but not understood: an authenticated denial; the session stays usable.
    if (!command) return this.#deny(undefined, undecodable ?? 'malformed', false);
    return this.#onCommand(command, now);
  }

  /** `session-expired` past the session's lifetime, `rate-limited` past its command budget. */
  #limitReached(now: number): DenyReason | undefined {
    if (now - this.#establishedAt > (this.#o.sessionMaxAgeMs ?? 60_000)) return 'session-expired';
    if (this.#commands > (this.#o.maxCommands ?? 32)) return 'rate-limited';
    return undefined;
  }

  /** The key directory's answer; a directory that fails is no answer (the command is denied). */
  async #lookup(publicKey: Uint8Array): Promise<KeyRecord | undefined | 'failed'> {
    try {
      return await this.#o.keys.findKey(publicKey);
    } catch {
      return 'failed';
    }
  }

  /** Redeem a grant (the directory persists first); a failing directory is `internal-error`. */
  async #redeem(grant: Uint8Array, now: number): Promise<KeyRecord | DenyReason> {
    if (!this.#o.keys.redeemGrant) return 'unsupported';
    try {
      const r = await this.#o.keys.redeemGrant(grant, this.#peerKey!, now);
      return typeof r === 'string' ? (isDenyReason(r) ? r : 'internal-error') : r;
    } catch {
      return 'internal-error';
    }
  }

  async #onCommand(body: CommandBody, now: number): Promise<Output> {
    const { command, intent } = body;
    let key = await this.#lookup(this.#peerKey!);
    if (key === 'failed') return this.#deny(command, 'internal-error', intent);
    if (!key) {
      // A shared key's first use: redeem the owner-signed grant it presents (persisted first).
      const grant = body.extensions.find((e) => e.type === Extensions.Grant);
      if (!grant) return this.#deny(command, 'unknown-key', intent);
      const redeemed = await this.#redeem(grant.value, now);
      if (typeof redeemed === 'string') return this.#deny(command, redeemed, intent);
      key = redeemed;
      const res = await this.#decide(body, key, now);
      return { ...res, events: [{ type: 'enrolled', key }, ...res.events] };
    }
    return this.#decide(body, key, now);
  }

  async #decide(body: CommandBody, key: KeyRecord, now: number): Promise<Output> {
    const { command, intent } = body;
    const hooks = this.#o.hooks ?? {};
    // A hook that fails gives no verdict (proximity unknown, ranging not ok): fail closed.
    const proximity = await Promise.resolve()
      .then(() => hooks.proximity?.(key.id))
      .catch(() => undefined);
    const ranging = await Promise.resolve()
      .then(() => hooks.ranging?.(key.id, command))
      .catch((): RangingVerdict => ({ ok: false }));
    const decision = await checkedDecision(() =>
      this.#o.policy({
        key,
        command,
        commandName: commandName(command),
        intent,
        rttMs: this.#rttMs,
        sessionAgeMs: now - this.#establishedAt,
        now,
        proximity,
        ranging,
      }),
    );
    if (decision !== 'allow') return this.#deny(command, decision, intent, proximity, ranging);
    this.#pending = { command, key, intent, proximity, ranging };
    this.#state = 'executing';
    return out([], [{ type: 'execute', command, key, intent, rttMs: this.#rttMs }]);
  }

  /** Authenticated denial; terminal reasons also close the session. */
  async #deny(command: Command | undefined, reason: DenyReason, intent: boolean, proximity?: ProximityVerdict, ranging?: RangingVerdict): Promise<Output> {
    const channel = this.#channel!;
    const send = [await channel.seal({ kind: BodyKind.Result, status: reason, data: EMPTY })];
    const events: VehicleEvent[] = [this.#decision(command, reason, intent, proximity, ranging)];
    if (!reasonEndsSession(reason)) return out(send, events);
    send.push(await channel.seal({ kind: BodyKind.Close, reason }));
    return this.#finish(send, reason, events);
  }

  #decision(command: Command | undefined, result: 'ok' | DenyReason, intent: boolean, proximity?: ProximityVerdict, ranging?: RangingVerdict): VehicleEvent {
    return { type: 'decision', keyId: this.#keyId ?? '', command, result, rttMs: this.#rttMs, intent, proximity, ranging, at: this.#o.now() };
  }

  #finish(send: Uint8Array[], reason: 'ok' | DenyReason, events: VehicleEvent[]): Output {
    this.#state = 'closed';
    this.#ephemeral?.wipe?.();
    this.#ephemeral = undefined;
    this.#channel?.destroy();
    this.#pending = undefined;
    return out(send, [...events, { type: 'closed', reason }], true);
  }

  #step(allowed: readonly VehicleSessionState[], run: () => Promise<Output>): Promise<Output> {
    return this.#guard.run(this.#state, allowed, run);
  }
}

const out = (send: Uint8Array[], events: VehicleEvent[] = [], done = false): Output => output(send, events, done);

/**
 * Fail closed on what the driver reports, checked at run time (JavaScript callers and `any` reach
 * here too): only `{ ok: true }` is success; data that cannot travel is `internal-error`; a
 * failure without a known reason is `actuator-failed`. Never `ok` by accident.
 */
export function checkedOutcome(outcome: unknown): { status: 'ok' | DenyReason; data: Uint8Array } {
  if (typeof outcome !== 'object' || outcome === null) return { status: 'actuator-failed', data: EMPTY };
  const o = outcome as { ok?: unknown; data?: unknown; reason?: unknown };
  if (o.ok === true) {
    if (o.data === undefined) return { status: 'ok', data: EMPTY };
    if (!(o.data instanceof Uint8Array) || o.data.length > LIMITS.maxResultData) return { status: 'internal-error', data: EMPTY };
    return { status: 'ok', data: o.data };
  }
  return { status: isDenyReason(o.reason) ? o.reason : 'actuator-failed', data: EMPTY };
}

/** Rejected input: error event + an unauthenticated alert; state untouched. Non-remote errors propagate. */
function rejected(err: unknown, reason: DenyReason = 'malformed'): Output {
  if (!(err instanceof RemoteError)) throw err;
  return out([encodeMessage({ type: MessageType.Alert, reason })], [{ type: 'error', error: err }]);
}
