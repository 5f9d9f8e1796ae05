/**
 * The phone role for one connection: a sans-IO state machine.
 *
 *   new ──begin(cmd)──▶ awaiting-challenge ──receive(challenge)──▶ awaiting-result
 *   awaiting-result ──receive(result)──▶ ready ──command(cmd)──▶ awaiting-result
 *   any ──close()/alert/close record──▶ closed
 *
 * The first command rides in the handshake (one application round trip). The phone pins the
 * car's static key (Noise KX pre-message), so an impostor car can neither read the phone's
 * identity nor its command, nor forge a result. Rejected input yields an `error` event and leaves
 * the state unchanged.
 */
import type { KeyCustody } from '../crypto/custody.js';
import { assertBytes, DeniedError, LocalError, RemoteError } from '../errors.js';
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
  type Extension,
  type ChallengeMessage,
  type WireMessage,
} from '../protocol/messages.js';
import { buildPrologue } from '../protocol/prologue.js';
import type { DenyReason } from '../protocol/reasons.js';
import { isP256PublicKey } from '../crypto/p256.js';
import { SecureChannel } from './channel.js';
import { output, StepGuard } from './step.js';
import { checkSuites, custodyAsNoiseKey, noiseProtocolFor } from './suite.js';
import type { PhoneEvent, RoleEnvironment, RoleOutput } from './types.js';

export interface PhoneSessionOptions extends RoleEnvironment {
  /** The phone's long-term key, in any custody. */
  readonly identity: KeyCustody;
  /** The car's static public key (65 bytes), pinned at pairing. */
  readonly vehicleKey: Uint8Array;
  /** Suites in order of preference. Default: AES-GCM, then ChaCha20-Poly1305. */
  readonly suites?: readonly SuiteId[];
}

export type PhoneSessionState = 'new' | 'awaiting-challenge' | 'awaiting-result' | 'ready' | 'closed';

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

export class PhoneSession {
  readonly #o: PhoneSessionOptions;
  readonly #suites: readonly SuiteId[];
  #state: PhoneSessionState = 'new';
  readonly #guard = new StepGuard<PhoneSessionState>('phone session');
  #first: { command: Command; intent: boolean; extensions: Extension[] } | undefined;
  #inFlight: { command: Command; sentAt: number } | undefined;
  #channel: SecureChannel | undefined;
  #suite: SuiteId | undefined;

  constructor(options: PhoneSessionOptions) {
    assertBytes(options.vehicleKey, 'vehicleKey', 65);
    // Local configuration, not peer input: a misuse error.
    if (!isP256PublicKey(options.vehicleKey)) throw new LocalError('ERR_INVALID_ARGUMENT', 'vehicleKey: not a valid P-256 public key');
    this.#o = options;
    this.#suites = checkSuites(options.suites);
  }

  get state(): PhoneSessionState {
    return this.#state;
  }

  /** The suite negotiated with the car, once the handshake was sent. */
  get suite(): SuiteId | undefined {
    return this.#suite;
  }

  /** The Noise handshake hash (a public session id), once established. */
  get sessionId(): Uint8Array | undefined {
    return this.#channel?.handshakeHash.slice();
  }

  /** Choose the command the handshake will carry. Sends nothing: the car speaks first. */
  begin(command: CommandInput, options: CommandOptions = {}): void {
    if (this.#state !== 'new') throw new LocalError('ERR_INVALID_STATE', `phone session: begin() in state ${this.#state}`);
    const extensions = options.grant ? [{ type: Extensions.Grant, value: options.grant.slice() }] : [];
    this.#first = { command: toCommand(command), intent: options.intent === true, extensions };
    this.#state = 'awaiting-challenge';
  }

  /** Feed one message received from the car. */
  async receive(bytes: Uint8Array): Promise<Output> {
    return this.#step(['awaiting-challenge', 'awaiting-result', 'ready'], async () => {
      let m: WireMessage;
      try {
        m = decodeMessage(bytes);
      } catch (e) {
        return rejected(e);
      }
      if (m.type === MessageType.Alert) return this.#finish(m.reason, [{ type: 'error', error: new DeniedError(m.reason, false) }]);
      if (this.#state === 'awaiting-challenge' && m.type === MessageType.Challenge) return this.#onChallenge(m, bytes.subarray(0, CHALLENGE_HEADER_LENGTH));
      if (this.#state !== 'awaiting-challenge' && m.type === MessageType.Record) return this.#onRecord(m.ciphertext);
      return rejected(new RemoteError('ERR_UNEXPECTED_MESSAGE', `unexpected message 0x${m.type.toString(16)} in state ${this.#state}`));
    });
  }

  /** Send a further command on the established session. */
  async command(command: CommandInput, options: CommandOptions = {}): Promise<Output> {
    const cmd = toCommand(command);
    return this.#step(['ready'], async () => {
      const record = await this.#channel!.seal({ kind: BodyKind.Command, command: cmd, intent: options.intent === true, extensions: [] });
      this.#inFlight = { command: cmd, sentAt: this.#o.now() };
      this.#state = 'awaiting-result';
      return out([record]);
    });
  }

  /** End the session; sends an authenticated close when a channel exists. Idempotent. */
  async close(): Promise<Output> {
    if (this.#state === 'closed') return out([], [], true);
    return this.#step(['new', 'awaiting-challenge', 'awaiting-result', 'ready'], async () => {
      const send = this.#channel ? [await this.#channel.seal({ kind: BodyKind.Close, reason: 'ok' })] : [];
      const res = this.#finish('ok', []);
      return { ...res, send };
    });
  }

  // ------------------------------------------------------------------ internals

  async #onChallenge(m: ChallengeMessage, header: Uint8Array): Promise<Output> {
    const { crypto, identity, vehicleKey } = this.#o;
    const version = PROTOCOL_VERSIONS.find((v) => maskHas(m.versions, v));
    const suite = this.#suites.find((s) => maskHas(m.suites, s));
    if (version === undefined || suite === undefined) {
      const alert = encodeMessage({ type: MessageType.Alert, reason: 'unsupported' });
      const res = this.#finish('unsupported', [
        { type: 'error', error: new RemoteError('ERR_UNSUPPORTED', 'the car offers no version/suite this phone supports') },
      ]);
      return { ...res, send: [alert] };
    }
    const handshakeHeader = Uint8Array.of(MessageType.Handshake, version, suite);
    const proto = noiseProtocolFor(suite, crypto);
    const hs = new HandshakeState({
      ...proto,
      protocolName: proto.name,
      initiator: false,
      prologue: buildPrologue(header, handshakeHeader),
      s: custodyAsNoiseKey(identity),
      rs: vehicleKey,
      random: this.#o.random,
    });
    const first = this.#first!;
    let noise: Uint8Array;
    try {
      await hs.readMessage(m.ephemeral); // validates the car's ephemeral (on curve, not identity)
      noise = await hs.writeMessage(encodeBody({ kind: BodyKind.Command, command: first.command, intent: first.intent, extensions: first.extensions }));
    } catch (err) {
      hs.destroy();
      return rejected(err);
    }
    const { send, receive, handshakeHash } = hs.result;
    this.#channel = new SecureChannel(send, receive, handshakeHash);
    this.#suite = suite;
    this.#inFlight = { command: first.command, sentAt: this.#o.now() };
    this.#state = 'awaiting-result';
    return out([encodeMessage({ type: MessageType.Handshake, version, suite, noise })]);
  }

  async #onRecord(ciphertext: Uint8Array): Promise<Output> {
    let plaintext: Uint8Array;
    try {
      plaintext = await this.#channel!.decrypt(ciphertext);
    } catch (err) {
      return rejected(err);
    }
    let body;
    try {
      body = decodeBody(plaintext);
    } catch (err) {
      // Authenticated garbage from the car itself: nothing sensible can follow.
      return this.#finish('malformed', [{ type: 'error', error: err as RemoteError }]);
    }
    if (body.kind === BodyKind.Close) return this.#finish(body.reason, []);
    if (body.kind === BodyKind.Result && this.#state === 'awaiting-result') {
      const { command, sentAt } = this.#inFlight!;
      this.#inFlight = undefined;
      this.#state = 'ready';
      return out([], [{ type: 'result', command, status: body.status, data: body.data, elapsedMs: this.#o.now() - sentAt }]);
    }
    return this.#finish('malformed', [{ type: 'error', error: new RemoteError('ERR_UNEXPECTED_MESSAGE', `unexpected body 0x${body.kind.toString(16)}`) }]);
  }

  #finish(reason: 'ok' | DenyReason, events: PhoneEvent[]): Output {
    this.#state = 'closed';
    this.#channel?.destroy();
    this.#inFlight = undefined;
    return out([], [...events, { type: 'closed', reason }], true);
  }

  #step(allowed: readonly PhoneSessionState[], run: () => Promise<Output>): Promise<Output> {
    return this.#guard.run(this.#state, allowed, run);
  }
}

const out = (send: Uint8Array[], events: PhoneEvent[] = [], done = false): Output => output(send, events, done);

function rejected(err: unknown): Output {
  if (!(err instanceof RemoteError)) throw err;
  return out([], [{ type: 'error', error: err }]);
}
