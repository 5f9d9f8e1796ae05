/**
 * The vehicle (car) role for one session: a sans-IO state machine (docs/PROTOCOL.md §6).
 *
 *   new ──start──▶ challenged ──HANDSHAKE──▶ finding-key ──▶ [redeeming] ──▶ authorizing ──▶ executing ──▶ ready
 *   ready ──RECORD{COMMAND}──▶ finding-key ──▶ …          a denial at any arrow ──▶ ready (or closed)
 *   any ──close / ALERT / CLOSE / terminal denial / deadline (tick)──▶ closed
 *
 * Bytes and answers in; bytes, events and at most one request out. Every step takes `now`, a
 * monotonic time in ms (deadlines, the relay RTT and ages are durations; the car's wall-clock time
 * is the driver's business). The role awaits nothing but the crypto provider (through the
 * handshake lane when one is given): what it needs from the car (is this key enrolled?
 * redeem this grant; may it run this command? run it) it asks as the output's `request` and
 * resumes when the driver calls `answer()`. Timers are data: `nextDeadline()` and `tick(now)`.
 * Input that fails to decode or authenticate yields an `error` event (and an alert to send) and
 * leaves the state exactly as it was; the driver decides to close.
 */
import { type KeyCustody } from '../crypto/custody.js';
import { LocalError, RemoteError } from '../errors.js';
import type { NoiseKey } from '../noise/functions.js';
import { HandshakeState } from '../noise/handshake-state.js';
import { p256Dh } from '../noise/suites.js';
import type { Command } from '../protocol/commands.js';
import { BodyKind, MessageType, PROTOCOL_VERSIONS, type SuiteId } from '../protocol/constants.js';
import { keyIdOf } from '../protocol/key-id.js';
import {
  CHALLENGE_HEADER_LENGTH,
  decodeBody,
  decodeMessage,
  encodeMessage,
  Extensions,
  HANDSHAKE_HEADER_LENGTH,
  isSuiteId,
  maskHas,
  toMask,
  UnknownCommandError,
  type Body,
  type CommandBody,
  type HandshakeMessage,
} from '../protocol/messages.js';
import { buildPrologue } from '../protocol/prologue.js';
import { reasonEndsSession, type DenyReason } from '../protocol/reasons.js';
import { SecureChannel } from './channel.js';
import { output, rejectedWithAlert, StepGuard } from './step.js';
import { checkSuites, custodyAsNoiseKey, noiseProtocolFor } from './suite.js';
import type { ProximityVerdict, RangingVerdict, RoleEnvironment, RoleOutput, VehicleSessionEvent } from './types.js';
import { checkedAuthorization, checkedOutcome, type ExecutionOutcome, type VehicleAnswer, type VehicleRequest } from './vehicle-requests.js';

/** Defaults of the session limits (docs/PROTOCOL.md §5). */
export const SESSION_DEFAULTS = Object.freeze({ sessionMaxAgeMs: 60_000, maxCommands: 32, handshakeTimeoutMs: 5_000, idleTimeoutMs: 30_000 });

/** Options of the vehicle role: the car's identity, suites, session limits, handshake lane. */
export interface VehicleSessionOptions extends Omit<RoleEnvironment, 'now'> {
  /** The car's long-term key (its public key is what phones pin). */
  readonly identity: KeyCustody;
  /** Suites offered, in no particular order (the phone chooses). Default: all. */
  readonly suites?: readonly SuiteId[];
  /** A session (one handshake) is usable for this long. Default 60 000 ms. */
  readonly sessionMaxAgeMs?: number;
  /** At most this many bodies per session, the handshake's included. Default 32. */
  readonly maxCommands?: number;
  /** The phone must answer the challenge within this. Default 5 000 ms. */
  readonly handshakeTimeoutMs?: number;
  /** An open session with no command for this long ends. Default 30 000 ms. */
  readonly idleTimeoutMs?: number;
  /**
   * Runs the handshake's public-key work (the Noise message only). A car serving many connections
   * passes one lane so handshakes run one at a time; `signal` drops a job whose connection is gone.
   * Default: run at once.
   */
  readonly handshakeLane?: <T>(work: () => Promise<T>, signal?: AbortSignal) => Promise<T>;
  /** The connection's signal, for `handshakeLane`. */
  readonly signal?: AbortSignal;
}

/** The established session: what every state after the handshake carries. */
interface Established {
  readonly channel: SecureChannel;
  readonly peerKey: Uint8Array;
  readonly keyId: string;
  readonly rttMs: number;
  readonly establishedAt: number;
  /** Bodies received so far (the handshake's included), understood or not. */
  commands: number;
}

interface Verdicts {
  readonly proximity: ProximityVerdict | undefined;
  readonly ranging: RangingVerdict | undefined;
}

type State =
  | { readonly kind: 'new' }
  | { readonly kind: 'challenged'; readonly ephemeral: NoiseKey; readonly header: Uint8Array; readonly since: number }
  /** After the handshake (`payload`: its body, still to be read) or for a command of an open session. */
  | { readonly kind: 'finding-key'; readonly session: Established; readonly payload?: Uint8Array; readonly command?: CommandBody }
  | { readonly kind: 'redeeming'; readonly session: Established; readonly command: CommandBody }
  | { readonly kind: 'authorizing'; readonly session: Established; readonly command: CommandBody }
  | { readonly kind: 'executing'; readonly session: Established; readonly command: CommandBody; readonly verdicts: Verdicts }
  | { readonly kind: 'ready'; readonly session: Established; readonly idleSince: number }
  | { readonly kind: 'closed' };

/** The vehicle role's state (docs/PROTOCOL.md §6). */
export type VehicleSessionState = State['kind'];

type Output = RoleOutput<VehicleSessionEvent, VehicleRequest>;

const EMPTY = new Uint8Array(0);
const NO_VERDICTS: Verdicts = { proximity: undefined, ranging: undefined };
/** Every state but `closed`. */
const OPEN: readonly VehicleSessionState[] = ['new', 'challenged', 'finding-key', 'redeeming', 'authorizing', 'executing', 'ready'];

/** The vehicle role for one session: a sans-IO state machine that asks for what it needs (docs/PROTOCOL.md §6). */
export class VehicleSession {
  readonly #options: VehicleSessionOptions;
  readonly #suites: readonly SuiteId[];
  readonly #limits: { readonly [K in keyof typeof SESSION_DEFAULTS]: number };
  readonly #guard = new StepGuard<VehicleSessionState>('vehicle session');
  #state: State = { kind: 'new' };
  #keyId: string | undefined;
  #sessionId: Uint8Array | undefined;

  constructor(options: VehicleSessionOptions) {
    this.#options = options;
    this.#suites = checkSuites(options.suites);
    this.#limits = {
      sessionMaxAgeMs: options.sessionMaxAgeMs ?? SESSION_DEFAULTS.sessionMaxAgeMs,
      maxCommands: options.maxCommands ?? SESSION_DEFAULTS.maxCommands,
      handshakeTimeoutMs: options.handshakeTimeoutMs ?? SESSION_DEFAULTS.handshakeTimeoutMs,
      idleTimeoutMs: options.idleTimeoutMs ?? SESSION_DEFAULTS.idleTimeoutMs,
    };
  }

  get state(): VehicleSessionState {
    return this.#state.kind;
  }

  /** The authenticated phone's key id, once the handshake succeeded (kept after the session closed). */
  get keyId(): string | undefined {
    return this.#keyId;
  }

  /** The Noise handshake hash (a public session id), once established. */
  get sessionId(): Uint8Array | undefined {
    return this.#sessionId?.slice();
  }

  /**
   * When the role times out unless something arrives first: the handshake deadline while
   * challenged, the idle deadline while ready; undefined while it waits on an answer (the driver
   * bounds those) or is new/closed. Call `tick(now)` once it has passed.
   */
  nextDeadline(): number | undefined {
    const s = this.#state;
    if (s.kind === 'challenged') return s.since + this.#limits.handshakeTimeoutMs;
    if (s.kind === 'ready') return s.idleSince + this.#limits.idleTimeoutMs;
    return undefined;
  }

  /**
   * Produce the challenge (a fresh ephemeral key). Call when the phone has subscribed.
   * @param now the instant the challenge is produced: the relay RTT is measured from it
   */
  async start(now: number): Promise<Output> {
    return this.#step(['new'], async () => {
      const { crypto, random } = this.#options;
      // Noise's own P-256 key: its wipe() also drops the provider's cached copy of the scalar.
      const ephemeral: NoiseKey = await p256Dh(crypto).generateKeyPair(random);
      const challenge = encodeMessage({
        type: MessageType.Challenge,
        versions: toMask(PROTOCOL_VERSIONS),
        suites: toMask(this.#suites),
        ephemeral: ephemeral.publicKey,
      });
      this.#state = { kind: 'challenged', ephemeral, header: challenge.slice(0, CHALLENGE_HEADER_LENGTH), since: now };
      return out([challenge]);
    });
  }

  /**
   * Feed one message received from the phone.
   * @param now the instant the message **arrived** (the driver's timestamp): the relay RTT is
   *   measured to it, so the car's own crypto and other sessions' work never count against the phone.
   */
  async receive(bytes: Uint8Array, now: number): Promise<Output> {
    return this.#step(OPEN, async () => {
      let message;
      try {
        message = decodeMessage(bytes);
      } catch (e) {
        return rejectedWithAlert(e);
      }
      const s = this.#state;
      if (message.type === MessageType.Alert) return this.#finish([], message.reason);
      if (s.kind === 'challenged' && message.type === MessageType.Handshake)
        return this.#onHandshake(s, message, bytes.subarray(0, HANDSHAKE_HEADER_LENGTH), now);
      if (s.kind === 'ready' && message.type === MessageType.Record) return this.#onRecord(s.session, message.ciphertext, now);
      return rejectedWithAlert(new RemoteError('ERR_UNEXPECTED_MESSAGE', `unexpected message 0x${message.type.toString(16)} in state ${s.kind}`));
    });
  }

  /**
   * Resume with the answer to the pending request (its `type` must match the request's).
   * Answers are checked fail-closed at run time: only exactly `allow` allows, only `{ ok: true }`
   * succeeds, an unknown reason is `internal-error` (`actuator-failed` for an execution).
   */
  async answer(answer: VehicleAnswer, now: number): Promise<Output> {
    return this.#step(['finding-key', 'redeeming', 'authorizing', 'executing'], async () => {
      const s = this.#state;
      if (s.kind === 'finding-key' && answer.type === 'find-key') return this.#onKeyFound(s, answer.found, now);
      if (s.kind === 'redeeming' && answer.type === 'redeem-grant') return this.#onRedeemed(s.session, s.command, answer.result, now);
      if (s.kind === 'authorizing' && answer.type === 'authorize') return this.#onAuthorized(s.session, s.command, answer, now);
      if (s.kind === 'executing' && answer.type === 'execute') return this.#onExecuted(s.session, s.command, s.verdicts, answer.outcome, now);
      throw new LocalError('ERR_INVALID_STATE', `vehicle session: a ${answer.type} answer in state ${s.kind}`);
    });
  }

  /** Shorthand for `answer({ type: 'execute', outcome }, now)`. */
  complete(outcome: ExecutionOutcome, now: number): Promise<Output> {
    return this.answer({ type: 'execute', outcome }, now);
  }

  /**
   * The deadline passed (`nextDeadline()`): an unanswered challenge ends quietly, an idle session
   * with an authenticated CLOSE(`session-expired`). Before the deadline: nothing happens.
   */
  async tick(now: number): Promise<Output> {
    if (this.#state.kind === 'closed') return out([], [], undefined, true);
    const deadline = this.nextDeadline();
    if (deadline === undefined || now < deadline) return out([]);
    return this.close('session-expired');
  }

  /**
   * End the session (e.g. the key was revoked, the car shuts down). Sends an authenticated close
   * when a channel exists. Idempotent.
   */
  async close(reason: 'ok' | DenyReason = 'ok'): Promise<Output> {
    if (this.#state.kind === 'closed') return out([], [], undefined, true);
    return this.#step(OPEN, async () => {
      const s = this.#state;
      const send = 'session' in s ? [await s.session.channel.seal({ kind: BodyKind.Close, reason })] : [];
      return this.#finish(send, reason);
    });
  }

  // ------------------------------------------------------------------ transitions (§6 table rows)

  /** challenged + HANDSHAKE: authenticate the phone, then ask whether its key is enrolled. */
  async #onHandshake(s: Extract<State, { kind: 'challenged' }>, m: HandshakeMessage, header: Uint8Array, arrivedAt: number): Promise<Output> {
    const { crypto, identity, handshakeLane, signal } = this.#options;
    if (!maskHas(toMask(PROTOCOL_VERSIONS), m.version) || !isSuiteId(m.suite) || !this.#suites.includes(m.suite))
      return rejectedWithAlert(new RemoteError('ERR_UNSUPPORTED', `version ${m.version} / suite ${m.suite} not offered`), 'unsupported');
    const proto = noiseProtocolFor(m.suite, crypto);
    // A fresh HandshakeState per attempt, fed a non-wiping view of our ephemeral, so a rejected
    // message leaves this session exactly as it was.
    const hs = new HandshakeState({
      ...proto,
      protocolName: proto.name,
      initiator: true,
      prologue: buildPrologue(s.header, header),
      s: custodyAsNoiseKey(identity),
      e: { publicKey: s.ephemeral.publicKey, dh: (remote) => s.ephemeral.dh(remote) },
      random: this.#options.random,
    });
    const noise = async () => {
      await hs.writeMessage(EMPTY); // message 1 = e ‖ empty payload: the challenge we already sent
      return hs.readMessage(m.noise);
    };
    let payload: Uint8Array;
    try {
      payload = await (handshakeLane ? handshakeLane(noise, signal) : noise());
    } catch (err) {
      hs.destroy();
      return rejectedWithAlert(err);
    }
    const { send, receive, handshakeHash, remoteStatic } = hs.result;
    s.ephemeral.wipe?.();
    const peerKey = remoteStatic ?? EMPTY;
    const session: Established = {
      channel: new SecureChannel(send, receive, handshakeHash),
      peerKey,
      keyId: keyIdOf(crypto, peerKey),
      rttMs: Math.max(0, arrivedAt - s.since),
      establishedAt: arrivedAt,
      commands: 0,
    };
    this.#keyId = session.keyId;
    this.#sessionId = handshakeHash;
    this.#state = { kind: 'finding-key', session, payload };
    return out([], [], { type: 'find-key', publicKey: peerKey, keyId: session.keyId });
  }

  /** ready + RECORD: authenticate and decrypt, then read the body. */
  async #onRecord(session: Established, ciphertext: Uint8Array, now: number): Promise<Output> {
    let plaintext: Uint8Array;
    try {
      plaintext = await session.channel.decrypt(ciphertext);
    } catch (err) {
      return rejectedWithAlert(err);
    }
    return this.#onBody(session, plaintext, now, undefined);
  }

  /**
   * An authenticated body. `found`: the handshake's key lookup (its body needs no second one);
   * undefined for a record, whose command asks for a fresh lookup (a revocation is immediate).
   * `arrivedAt`: when the body arrived, the time its session's age and limits are judged at.
   */
  async #onBody(session: Established, plaintext: Uint8Array, now: number, found: 'known' | 'unknown' | 'failed' | undefined, arrivedAt = now): Promise<Output> {
    let body: Body | undefined;
    let undecodable: DenyReason | undefined;
    try {
      body = decodeBody(plaintext);
    } catch (err) {
      undecodable =
        err instanceof UnknownCommandError ? 'unknown-command' : err instanceof RemoteError && err.code === 'ERR_UNSUPPORTED' ? 'unsupported' : 'malformed';
    }
    if (body?.kind === BodyKind.Close) return this.#finish([], body.reason);
    // Every other body counts toward the session's limits, understood or not, before anything
    // else is looked at: a session cannot be kept alive (nor the audit log fed) with garbage.
    session.commands++;
    const command = body?.kind === BodyKind.Command ? body : undefined;
    const limit = this.#limitReached(session, arrivedAt);
    if (limit) return this.#deny(session, command, limit, NO_VERDICTS, now);
    // Authenticated but not understood: an authenticated denial; the session stays usable.
    if (!command) return this.#deny(session, undefined, undecodable ?? 'malformed', NO_VERDICTS, now);
    if (found === undefined) {
      this.#state = { kind: 'finding-key', session, command };
      return out([], [], { type: 'find-key', publicKey: session.peerKey, keyId: session.keyId });
    }
    return this.#withKey(session, command, found, now, arrivedAt);
  }

  /** finding-key + answer. */
  async #onKeyFound(s: Extract<State, { kind: 'finding-key' }>, found: 'known' | 'unknown' | 'failed', now: number): Promise<Output> {
    const verified: 'known' | 'unknown' | 'failed' = found === 'known' || found === 'unknown' ? found : 'failed';
    const { session } = s;
    if (s.command) return this.#withKey(session, s.command, verified, now);
    const authenticated: VehicleSessionEvent = { type: 'authenticated', keyId: session.keyId, known: verified === 'known', rttMs: session.rttMs };
    // The handshake's own command is judged as of its arrival (age 0), however long the lookup
    // took; an idle deadline after its answer counts from now, as after any answer.
    const res = await this.#onBody(session, s.payload ?? EMPTY, now, verified, session.establishedAt);
    return { ...res, events: [authenticated, ...res.events] };
  }

  /** A command whose key lookup is answered: authorize it, or first redeem the grant of an unknown key. */
  async #withKey(session: Established, command: CommandBody, found: 'known' | 'unknown' | 'failed', now: number, arrivedAt = now): Promise<Output> {
    if (found === 'failed') return this.#deny(session, command, 'internal-error', NO_VERDICTS, now);
    if (found === 'known') return this.#askAuthorization(session, command, arrivedAt);
    // A shared key's first use: redeem the owner-signed grant it presents (persisted first).
    const grant = command.extensions.find((e) => e.type === Extensions.Grant);
    if (!grant) return this.#deny(session, command, 'unknown-key', NO_VERDICTS, now);
    this.#state = { kind: 'redeeming', session, command };
    return out([], [], { type: 'redeem-grant', grant: grant.value, presenter: session.peerKey });
  }

  /** redeeming + answer. */
  async #onRedeemed(session: Established, command: CommandBody, result: 'enrolled' | DenyReason, now: number): Promise<Output> {
    const checked = result === 'enrolled' ? result : checkedAuthorization(result);
    if (checked !== 'enrolled') return this.#deny(session, command, checked === 'allow' ? 'internal-error' : checked, NO_VERDICTS, now);
    return this.#askAuthorization(session, command, now);
  }

  #askAuthorization(session: Established, command: CommandBody, arrivedAt: number): Output {
    this.#state = { kind: 'authorizing', session, command };
    const { rttMs, establishedAt } = session;
    return out([], [], { type: 'authorize', command: command.command, intent: command.intent, rttMs, sessionAgeMs: arrivedAt - establishedAt });
  }

  /** authorizing + answer: execute, or an authenticated denial. */
  async #onAuthorized(session: Established, command: CommandBody, a: Extract<VehicleAnswer, { type: 'authorize' }>, now: number): Promise<Output> {
    const verdicts: Verdicts = { proximity: a.proximity, ranging: a.ranging };
    const decision = checkedAuthorization(a.decision);
    if (decision !== 'allow') return this.#deny(session, command, decision, verdicts, now);
    this.#state = { kind: 'executing', session, command, verdicts };
    return out([], [], { type: 'execute', command: command.command, intent: command.intent, rttMs: session.rttMs });
  }

  /**
   * executing + answer: RESULT with the outcome (checked fail-closed). An outcome never ends the
   * session, whatever its reason (§3.3: e.g. `revoke` of an unknown id answers `unknown-key`);
   * a revocation ends it from outside (the driver), or the next command's lookup does.
   */
  async #onExecuted(session: Established, command: CommandBody, verdicts: Verdicts, outcome: unknown, now: number): Promise<Output> {
    const { status, data } = checkedOutcome(outcome);
    const record = await session.channel.seal({ kind: BodyKind.Result, status, data });
    this.#state = { kind: 'ready', session, idleSince: now };
    return out([record], [this.#decision(session, command, status, verdicts)]);
  }

  /** `session-expired` past the session's lifetime, `rate-limited` past its command budget. */
  #limitReached(session: Established, now: number): DenyReason | undefined {
    if (now - session.establishedAt > this.#limits.sessionMaxAgeMs) return 'session-expired';
    if (session.commands > this.#limits.maxCommands) return 'rate-limited';
    return undefined;
  }

  /** Authenticated denial (RESULT); terminal reasons also close the session (CLOSE). */
  async #deny(session: Established, command: CommandBody | undefined, reason: DenyReason, verdicts: Verdicts, now: number): Promise<Output> {
    const send = [await session.channel.seal({ kind: BodyKind.Result, status: reason, data: EMPTY })];
    const events: VehicleSessionEvent[] = [this.#decision(session, command, reason, verdicts)];
    if (!reasonEndsSession(reason)) {
      this.#state = { kind: 'ready', session, idleSince: now };
      return out(send, events);
    }
    send.push(await session.channel.seal({ kind: BodyKind.Close, reason }));
    return this.#finish(send, reason, events);
  }

  #decision(session: Established, body: CommandBody | undefined, result: 'ok' | DenyReason, verdicts: Verdicts): VehicleSessionEvent {
    const command: Command | undefined = body?.command;
    return { type: 'decision', keyId: session.keyId, command, result, rttMs: session.rttMs, intent: body?.intent ?? false, ...verdicts };
  }

  #finish(send: Uint8Array[], reason: 'ok' | DenyReason, events: VehicleSessionEvent[] = []): Output {
    const s = this.#state;
    if (s.kind === 'challenged') s.ephemeral.wipe?.();
    if ('session' in s) s.session.channel.destroy();
    this.#state = { kind: 'closed' };
    return out(send, [...events, { type: 'closed', reason }], undefined, true);
  }

  #step(allowed: readonly VehicleSessionState[], run: () => Promise<Output>): Promise<Output> {
    return this.#guard.run(this.#state.kind, allowed, run);
  }
}

function out(send: Uint8Array[], events: VehicleSessionEvent[] = [], request?: VehicleRequest, done = false): Output {
  return request ? { ...output(send, events, done), request } : output(send, events, done);
}
