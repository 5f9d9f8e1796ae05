/**
 * The phone role for one connection: a sans-IO state machine (docs/PROTOCOL.md §6, phone).
 *
 *   new ──begin(cmd)──▶ awaiting-challenge ──receive(challenge)──▶ awaiting-result
 *   awaiting-result ──receive(result)──▶ ready ──command(cmd)──▶ awaiting-result
 *   awaiting-* ──tick(now) past nextDeadline()──▶ closed (TimeoutError)
 *   any ──close()/alert/close record──▶ closed
 *
 * The first command rides in the handshake (one application round trip). The phone pins the
 * car's static key (Noise KX pre-message), so an impostor car can neither read the phone's
 * identity nor its command, nor forge a result. Rejected input yields an `error` event and leaves
 * the state unchanged. Time is an argument of each step (`now`, on the clock of `options.now`,
 * which is only read when a caller omits it); the only thing a step awaits is the crypto provider.
 */
import { copyOf } from '../bytes.js';
import type { KeyCustody } from '../crypto/custody.js';
import { assertBytes, LocalError, RemoteError, TimeoutError, type ProxkeyError } from '../errors.js';
import { HandshakeState } from '../noise/handshake-state.js';
import { toCommand, type Command, type CommandInput } from '../protocol/commands.js';
import { BodyKind, MessageType, PROTOCOL_VERSIONS, type SuiteId } from '../protocol/constants.js';
import {
  CHALLENGE_HEADER_LENGTH,
  decodeBody,
  decodeMessage,
  encodeBody,
  encodeMessage,
  maskHas,
  Extensions,
  type Body,
  type ChallengeMessage,
  type CommandBody,
  type WireMessage,
} from '../protocol/messages.js';
import { buildPrologue } from '../protocol/prologue.js';
import { deniedError, type DenyReason } from '../protocol/reasons.js';
import { isP256PublicKey } from '../crypto/p256.js';
import { SecureChannel } from './channel.js';
import { asPeerError, output, rejectedInput, StepGuard } from './step.js';
import { checkSuites, custodyAsNoiseKey, noiseProtocolFor } from './suite.js';
import type { PhoneEvent, RoleEnvironment, RoleOutput } from './types.js';

/** Default bound for the CHALLENGE (and each send), in ms. */
export const PHONE_ANSWER_TIMEOUT_MS = 5_000;
/**
 * Default bound for each RESULT, in ms: longer than proxkey's car takes at worst before it answers
 * a physical command — proximity hook 1 s + ranging hook 5 s + policy 2 s + actuation wait 3 s +
 * actuator 10 s = 21 s (docs/PROTOCOL.md §5, §6), plus a margin — so the car's own `busy` or
 * `actuator-failed` reaches the phone instead of a timeout.
 */
export const PHONE_RESULT_TIMEOUT_MS = 25_000;

/** Options of the phone role: identity, the pinned car key, suites, answer bounds. */
export interface PhoneSessionOptions extends RoleEnvironment {
  /** The phone's long-term key, in any custody. */
  readonly identity: KeyCustody;
  /** The car's static public key (65 bytes), pinned at pairing. */
  readonly vehicleKey: Uint8Array;
  /** Suites in order of preference. Default: AES-GCM, then ChaCha20-Poly1305. */
  readonly suites?: readonly SuiteId[];
  /**
   * Bound for each wait on the car, in ms on the `now` clock: the CHALLENGE after `begin()`, each
   * RESULT after its command (`nextDeadline()` says when; `tick(now)` past it ends the session
   * with `TimeoutError`). Default 5 000 for the CHALLENGE; for a RESULT see `resultTimeoutMs`.
   */
  readonly timeoutMs?: number;
  /** Bound for each RESULT. Default: `timeoutMs` when given, else 25 000 (`PHONE_RESULT_TIMEOUT_MS`). */
  readonly resultTimeoutMs?: number;
}

/** The phone role's state (docs/PROTOCOL.md §6). */
export type PhoneSessionState = 'new' | 'awaiting-challenge' | 'awaiting-result' | 'ready' | 'closed';

/** Per-command options: the user-intent flag and, on the first command, a grant to redeem. */
export interface CommandOptions {
  /** The user confirmed this action (required by default for `start`). */
  readonly intent?: boolean;
  /**
   * First command only: an owner-signed grant (bytes) to present, so a shared key's first
   * transaction enrolls it. Ignored by the car once the key is enrolled.
   */
  readonly grant?: Uint8Array;
}

type Output = RoleOutput<PhoneEvent>;

/** The state, with exactly what each state needs (docs/PROTOCOL.md §6). */
type State =
  | { readonly kind: 'new' }
  | { readonly kind: 'awaiting-challenge'; readonly first: CommandBody; readonly deadline: number }
  | { readonly kind: 'awaiting-result'; readonly channel: SecureChannel; readonly command: Command; readonly sentAt: number; readonly deadline: number }
  | { readonly kind: 'ready'; readonly channel: SecureChannel }
  | { readonly kind: 'closed' };

/** One input of the state table: a decoded (and, for bodies, authenticated) message or a local step. */
type Input =
  | { readonly on: 'challenge'; readonly message: ChallengeMessage; readonly header: Uint8Array; readonly now: number }
  | { readonly on: 'alert'; readonly reason: DenyReason }
  | { readonly on: 'body'; readonly body: Body; readonly now: number }
  | { readonly on: 'garbled-body'; readonly error: RemoteError }
  | { readonly on: 'command'; readonly body: CommandBody; readonly now: number }
  | { readonly on: 'deadline' }
  | { readonly on: 'close' };

const RECEIVING: readonly PhoneSessionState[] = ['awaiting-challenge', 'awaiting-result', 'ready'];
const OPEN: readonly PhoneSessionState[] = ['new', ...RECEIVING];

/** The phone role for one connection: a sans-IO state machine (docs/PROTOCOL.md §6). */
export class PhoneSession {
  readonly #options: PhoneSessionOptions;
  readonly #suites: readonly SuiteId[];
  readonly #timeoutMs: number;
  readonly #resultTimeoutMs: number;
  readonly #guard = new StepGuard<PhoneSessionState>('phone session');
  #state: State = { kind: 'new' };
  /** What the handshake settled, kept after the session ends. */
  #negotiated: { readonly suite: SuiteId; readonly handshakeHash: Uint8Array } | undefined;

  constructor(options: PhoneSessionOptions) {
    assertBytes(options.vehicleKey, 'vehicleKey', 65);
    // Local configuration, not peer input: a misuse error.
    if (!isP256PublicKey(options.vehicleKey)) throw new LocalError('ERR_INVALID_ARGUMENT', 'vehicleKey: not a valid P-256 public key');
    const timeoutMs = options.timeoutMs ?? PHONE_ANSWER_TIMEOUT_MS;
    const resultTimeoutMs = options.resultTimeoutMs ?? options.timeoutMs ?? PHONE_RESULT_TIMEOUT_MS;
    for (const [name, ms] of [
      ['timeoutMs', timeoutMs],
      ['resultTimeoutMs', resultTimeoutMs],
    ] as const)
      if (!Number.isFinite(ms) || ms < 0) throw new LocalError('ERR_INVALID_ARGUMENT', `${name}: a finite number of ms ≥ 0`);
    this.#options = options;
    this.#suites = checkSuites(options.suites);
    this.#timeoutMs = timeoutMs;
    this.#resultTimeoutMs = resultTimeoutMs;
  }

  /** The longest wait this role allows for any answer (drivers cap each wait with it, whatever the clock does). */
  get longestWaitMs(): number {
    return Math.max(this.#timeoutMs, this.#resultTimeoutMs);
  }

  get state(): PhoneSessionState {
    return this.#state.kind;
  }

  /** The suite negotiated with the car, once the handshake was sent. */
  get suite(): SuiteId | undefined {
    return this.#negotiated?.suite;
  }

  /** The Noise handshake hash (a public session id), once established. */
  get sessionId(): Uint8Array | undefined {
    return this.#negotiated?.handshakeHash.slice();
  }

  /**
   * A command (the first one: the handshake carrying it) was handed out to send and its RESULT
   * has not arrived: if the session ends now, the car may have executed it.
   */
  get commandInFlight(): boolean {
    return this.#state.kind === 'awaiting-result';
  }

  /** When the answer the phone waits for is due (same clock as `now`), or `undefined` when it waits for nothing. */
  nextDeadline(): number | undefined {
    const s = this.#state;
    return s.kind === 'awaiting-challenge' || s.kind === 'awaiting-result' ? s.deadline : undefined;
  }

  /** Choose the command the handshake will carry. Sends nothing: the car speaks first. */
  begin(command: CommandInput, options: CommandOptions = {}, now: number = this.#options.now()): void {
    if (this.#state.kind !== 'new') throw new LocalError('ERR_INVALID_STATE', `phone session: begin() in state ${this.#state.kind}`);
    if (options.grant !== undefined && options.grant !== null) assertBytes(options.grant, 'grant'); // null: no grant, as before
    const extensions = options.grant ? [{ type: Extensions.Grant, value: copyOf(options.grant) }] : [];
    const first: CommandBody = { kind: BodyKind.Command, command: toCommand(command), intent: options.intent === true, extensions };
    this.#state = { kind: 'awaiting-challenge', first, deadline: now + this.#timeoutMs };
  }

  /** Feed one message received from the car; `now`: when it arrived. */
  async receive(bytes: Uint8Array, now: number = this.#options.now()): Promise<Output> {
    return this.#guard.run(this.#state.kind, RECEIVING, async () => {
      const input = await this.#read(bytes, now);
      return input instanceof RemoteError ? rejectedInput(this.#inFlight(input)) : this.#transition(input);
    });
  }

  /** Send a further command on the established session; `now`: when it is sent. */
  async command(command: CommandInput, options: CommandOptions = {}, now: number = this.#options.now()): Promise<Output> {
    const body: CommandBody = { kind: BodyKind.Command, command: toCommand(command), intent: options.intent === true, extensions: [] };
    return this.#guard.run(this.#state.kind, ['ready'], () => this.#transition({ on: 'command', body, now }));
  }

  /**
   * Let time pass: at or after `nextDeadline()` the session ends with an `error` event
   * (`TimeoutError`; `mayHaveSucceeded` when a command was in flight) and, when a channel
   * exists, an authenticated CLOSE to send. Before it (or with nothing awaited): no output.
   */
  async tick(now: number): Promise<Output> {
    const deadline = this.nextDeadline();
    if (deadline === undefined || now < deadline) return out([]);
    return this.#guard.run(this.#state.kind, ['awaiting-challenge', 'awaiting-result'], () => this.#transition({ on: 'deadline' }));
  }

  /** End the session; sends an authenticated close when a channel exists. Idempotent. */
  async close(): Promise<Output> {
    if (this.#state.kind === 'closed') return out([], [], true);
    return this.#guard.run(this.#state.kind, OPEN, () => this.#transition({ on: 'close' }));
  }

  // ------------------------------------------------------------------ the state table

  /**
   * docs/PROTOCOL.md §6 (phone), one branch per row; `begin()` is the row `new → awaiting-challenge`.
   *
   *   state               input                           action                                  next
   *   awaiting-challenge  CHALLENGE                       send HANDSHAKE with the first command   awaiting-result
   *   awaiting-challenge  CHALLENGE, nothing acceptable   send ALERT(unsupported)                 closed
   *   awaiting-result     RECORD{RESULT}                  `result` event                          ready
   *   ready               command(c)                      send RECORD{COMMAND}                    awaiting-result
   *   awaiting-*          deadline passed (tick)          `error` (timeout), RECORD{CLOSE} if any closed
   *   any                 ALERT, RECORD{CLOSE}            —                                       closed
   *   any                 RECORD{other or garbled body}   `error` (the car itself is broken)      closed
   *   any                 close()                         RECORD{CLOSE} when a channel exists     closed
   */
  async #transition(input: Input): Promise<Output> {
    const s = this.#state;
    switch (input.on) {
      case 'challenge':
        if (s.kind !== 'awaiting-challenge') return rejectedInput(unexpectedMessage(MessageType.Challenge, s.kind));
        return this.#answerChallenge(s.first, input);
      case 'body':
        if (input.body.kind === BodyKind.Close) return this.#end(input.body.reason);
        if (input.body.kind === BodyKind.Result && s.kind === 'awaiting-result') return this.#acceptResult(s, input.body, input.now);
        return this.#end('malformed', new RemoteError('ERR_UNEXPECTED_MESSAGE', `unexpected body 0x${input.body.kind.toString(16)}`));
      case 'garbled-body':
        return this.#end('malformed', this.#inFlight(input.error));
      case 'alert':
        return this.#end(input.reason, deniedError(input.reason, false, this.#state.kind === 'awaiting-result'));
      case 'command': {
        if (s.kind !== 'ready') throw new LocalError('ERR_INVALID_STATE', `phone session: command() in state ${s.kind}`);
        const record = await s.channel.seal(input.body);
        this.#state = awaitingResult(s.channel, input.body.command, input.now, this.#resultTimeoutMs);
        return out([record]);
      }
      case 'deadline':
        return this.#closeWith(this.#timeout());
      case 'close':
        return this.#closeWith(undefined);
    }
  }

  /** Decode one message from the car into an input (decrypting a record), or the error rejecting it. */
  async #read(bytes: Uint8Array, now: number): Promise<Input | RemoteError> {
    let m: WireMessage;
    try {
      m = decodeMessage(bytes);
    } catch (e) {
      return asPeerError(e);
    }
    if (m.type === MessageType.Alert) return { on: 'alert', reason: m.reason };
    if (m.type === MessageType.Challenge) return { on: 'challenge', message: m, header: bytes.subarray(0, CHALLENGE_HEADER_LENGTH), now };
    const s = this.#state;
    if (m.type !== MessageType.Record || (s.kind !== 'awaiting-result' && s.kind !== 'ready')) return unexpectedMessage(m.type, s.kind);
    let plaintext: Uint8Array;
    try {
      plaintext = await s.channel.decrypt(m.ciphertext);
    } catch (e) {
      return asPeerError(e);
    }
    try {
      return { on: 'body', body: decodeBody(plaintext), now };
    } catch (e) {
      // Authenticated garbage from the car itself: nothing sensible can follow.
      return { on: 'garbled-body', error: asPeerError(e) };
    }
  }

  async #answerChallenge(first: CommandBody, { message, header, now }: Extract<Input, { on: 'challenge' }>): Promise<Output> {
    const version = PROTOCOL_VERSIONS.find((v) => maskHas(message.versions, v));
    const suite = this.#suites.find((s) => maskHas(message.suites, s));
    if (version === undefined || suite === undefined) {
      const res = this.#end('unsupported', new RemoteError('ERR_UNSUPPORTED', 'the car offers no version/suite this phone supports'));
      return { ...res, send: [encodeMessage({ type: MessageType.Alert, reason: 'unsupported' })] };
    }
    const hs = this.#handshake(buildPrologue(header, Uint8Array.of(MessageType.Handshake, version, suite)), suite);
    let noise: Uint8Array;
    try {
      await hs.readMessage(message.ephemeral); // validates the car's ephemeral (on curve, not identity)
      noise = await hs.writeMessage(encodeBody(first));
    } catch (err) {
      hs.destroy();
      return rejectedInput(err);
    }
    const { send, receive, handshakeHash } = hs.result;
    this.#negotiated = { suite, handshakeHash };
    this.#state = awaitingResult(new SecureChannel(send, receive, handshakeHash), first.command, now, this.#resultTimeoutMs);
    return out([encodeMessage({ type: MessageType.Handshake, version, suite, noise })]);
  }

  #handshake(prologue: Uint8Array, suite: SuiteId): HandshakeState {
    const { crypto, identity, vehicleKey, random } = this.#options;
    const proto = noiseProtocolFor(suite, crypto);
    return new HandshakeState({ ...proto, protocolName: proto.name, initiator: false, prologue, s: custodyAsNoiseKey(identity), rs: vehicleKey, random });
  }

  #acceptResult(s: Extract<State, { kind: 'awaiting-result' }>, body: Extract<Body, { kind: typeof BodyKind.Result }>, now: number): Output {
    this.#state = { kind: 'ready', channel: s.channel };
    return out([], [{ type: 'result', command: s.command, status: body.status, data: body.data, elapsedMs: now - s.sentAt }]);
  }

  /**
   * A failure while a command waits for its RESULT: the car may already have executed it (a
   * tampered or undecodable RESULT, garbage in its place), so the error says so.
   */
  #inFlight(error: RemoteError): RemoteError {
    if (this.#state.kind !== 'awaiting-result' || error.mayHaveSucceeded) return error;
    return new RemoteError(error.code, error.message, { cause: error, mayHaveSucceeded: true, transient: error.transient });
  }

  /** The error for the answer that did not come in time. */
  #timeout(): TimeoutError {
    const s = this.#state;
    const what = s.kind === 'awaiting-result' ? `waiting for the car's result of ${s.command.kind}` : "waiting for the car's challenge";
    const bound = s.kind === 'awaiting-result' ? this.#resultTimeoutMs : this.#timeoutMs;
    return new TimeoutError(what, bound, { mayHaveSucceeded: s.kind === 'awaiting-result' });
  }

  /** End the session from this side: an authenticated CLOSE(ok) when a channel exists. */
  async #closeWith(error: TimeoutError | undefined): Promise<Output> {
    const s = this.#state;
    const send = 'channel' in s ? [await s.channel.seal({ kind: BodyKind.Close, reason: 'ok' })] : [];
    return { ...this.#end('ok', error), send };
  }

  #end(reason: 'ok' | DenyReason, error?: ProxkeyError): Output {
    const s = this.#state;
    if ('channel' in s) s.channel.destroy();
    this.#state = { kind: 'closed' };
    const events: PhoneEvent[] = error ? [{ type: 'error', error }] : [];
    return out([], [...events, { type: 'closed', reason }], true);
  }
}

function awaitingResult(channel: SecureChannel, command: Command, now: number, timeoutMs: number): State {
  return { kind: 'awaiting-result', channel, command, sentAt: now, deadline: now + timeoutMs };
}

const out = (send: Uint8Array[], events: PhoneEvent[] = [], done = false): Output => output(send, events, done);

function unexpectedMessage(type: number, state: PhoneSessionState): RemoteError {
  return new RemoteError('ERR_UNEXPECTED_MESSAGE', `unexpected message 0x${type.toString(16)} in state ${state}`);
}
