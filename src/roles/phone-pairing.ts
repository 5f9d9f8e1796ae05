/**
 * The phone's side of owner pairing (sans-IO; besides the crypto provider, the scrypt stretch of
 * the code is the only slow, async step):
 *
 *   awaiting-challenge ──CHALLENGE──▶ awaiting-params ──PAIR_PARAMS──▶ awaiting-response
 *   awaiting-response ──PAIR_RESPONSE (confirmV ok)──▶ awaiting-done ──PAIR_DONE──▶ closed (paired)
 *   awaiting-* ──tick(now) past nextDeadline()──▶ closed (TimeoutError)
 *
 * A wrong code shows up as a failed key confirmation: `ERR_PAIRING_FAILED`, and nothing about
 * the code is revealed to a listener. Time is an argument of each step (`now`).
 */
import type { KeyCustody } from '../crypto/custody.js';
import { assertP256PublicKey } from '../crypto/p256.js';
import { copyOf, utf8 } from '../bytes.js';
import { assertArg, RemoteError, TimeoutError, type ProxkeyError } from '../errors.js';
import { deriveSpake2PlusSecretsAsync, Spake2PlusProver } from '../pake/spake2plus.js';
import { MessageType } from '../protocol/constants.js';
import { decodeMessage, encodeMessage } from '../protocol/messages.js';
import { decodeCarInfo, decodePairing, encodePairing, encodePhoneInfo, PAIRING_VERSION, type PairingMessage } from '../protocol/pairing.js';
import { deniedError, type DenyReason } from '../protocol/reasons.js';
import { pairingContext, pairingKeys, PAIRING_NONCE } from './pairing-keys.js';
import { asPeerError, output, rejectedInput, StepGuard } from './step.js';
import type { PairingPhoneEvent, RoleEnvironment, RoleOutput } from './types.js';

/** Default bound for each answer the phone waits for during pairing, in ms. */
export const PAIRING_ANSWER_TIMEOUT_MS = 10_000;

/** Options of the phone's pairing role: the code the car shows, the phone's identity and label, a bound per answer. */
export interface PhonePairingOptions extends RoleEnvironment {
  /** The 8-digit code the car shows. */
  readonly code: string;
  readonly identity: KeyCustody;
  /** The key that will sign this owner's grants, when different from `identity` (WebCrypto). */
  readonly signingKey?: Uint8Array;
  readonly label?: string;
  /**
   * Bound for each wait on the car, in ms on the `now` clock, from the step that sent the
   * previous message (`nextDeadline()`, `tick(now)`). Default 10 000.
   */
  readonly timeoutMs?: number;
}

type StateName = 'awaiting-challenge' | 'awaiting-params' | 'awaiting-response' | 'awaiting-done' | 'closed';

/** The state, with exactly what each state needs. */
type State =
  | { readonly kind: 'awaiting-challenge'; readonly deadline: number }
  | { readonly kind: 'awaiting-params'; readonly challenge: Uint8Array; readonly deadline: number }
  | { readonly kind: 'awaiting-response'; readonly prover: Spake2PlusProver; readonly deadline: number }
  | { readonly kind: 'awaiting-done'; readonly carToPhone: Uint8Array; readonly deadline: number }
  | { readonly kind: 'closed' };

type Input =
  | { readonly on: 'alert'; readonly reason: DenyReason }
  | { readonly on: 'challenge'; readonly bytes: Uint8Array; readonly now: number }
  | { readonly on: 'pairing'; readonly message: PairingMessage; readonly raw: Uint8Array; readonly now: number }
  | { readonly on: 'deadline' };

type Output = RoleOutput<PairingPhoneEvent>;
const EMPTY = new Uint8Array(0);
const WAITING: readonly StateName[] = ['awaiting-challenge', 'awaiting-params', 'awaiting-response', 'awaiting-done'];

/** The phone's side of owner pairing (docs/PROTOCOL.md §12): a sans-IO state machine. */
export class PhonePairingSession {
  readonly #options: PhonePairingOptions;
  readonly #timeoutMs: number;
  readonly #guard = new StepGuard<StateName>('pairing');
  #state: State;

  /** @param now when the phone starts waiting for the car's challenge (default: `options.now()`). */
  constructor(options: PhonePairingOptions, now: number = options.now()) {
    assertArg(/^\d{8}$/.test(options.code), 'pairing code: 8 digits');
    const timeoutMs = options.timeoutMs ?? PAIRING_ANSWER_TIMEOUT_MS;
    assertArg(Number.isFinite(timeoutMs) && timeoutMs >= 0, 'timeoutMs: a finite number of ms ≥ 0');
    this.#options = options;
    this.#timeoutMs = timeoutMs;
    this.#state = { kind: 'awaiting-challenge', deadline: now + timeoutMs };
  }

  get state(): StateName {
    return this.#state.kind;
  }

  /** When the car's next message is due (same clock as `now`), or `undefined` once closed. */
  nextDeadline(): number | undefined {
    return this.#state.kind === 'closed' ? undefined : this.#state.deadline;
  }

  /** Feed one message received from the car; `now`: when it arrived. */
  async receive(bytes: Uint8Array, now: number = this.#options.now()): Promise<Output> {
    return this.#guard.run(this.#state.kind, WAITING, async () => {
      const input = this.#read(bytes, now);
      return input instanceof RemoteError ? rejectedInput(input) : this.#transition(input);
    });
  }

  /**
   * Let time pass: at or after `nextDeadline()` pairing ends with an `error` event
   * (`TimeoutError`; `mayHaveSucceeded` once PAIR_CONFIRM was sent: the car may have enrolled
   * this phone). Before it: no output.
   */
  async tick(now: number): Promise<Output> {
    const deadline = this.nextDeadline();
    if (deadline === undefined || now < deadline) return out([]);
    return this.#guard.run(this.#state.kind, WAITING, () => this.#transition({ on: 'deadline' }));
  }

  // ------------------------------------------------------------------ the state table

  /**
   *   state               input                      action                                   next
   *   awaiting-challenge  CHALLENGE                  send PAIR_START                          awaiting-params
   *   awaiting-params     PAIR_PARAMS                scrypt(code), send PAIR_SHARE            awaiting-response
   *   awaiting-response   PAIR_RESPONSE, confirmV ok send PAIR_CONFIRM(sealed phone info)     awaiting-done
   *   awaiting-response   PAIR_RESPONSE, wrong code  `error`, send ALERT(pairing-failed)      closed
   *   awaiting-done       PAIR_DONE                  `paired` event                           closed
   *   any                 ALERT                      `error`                                  closed
   *   any                 deadline passed (tick)     `error` (timeout)                        closed
   *   any                 anything else              `error`, state unchanged
   */
  async #transition(input: Input): Promise<Output> {
    const s = this.#state;
    // An ALERT is unauthenticated: in place of PAIR_DONE it cannot prove the car did not enroll us.
    if (input.on === 'alert') return this.#end(alertError(input.reason, s.kind === 'awaiting-done'));
    if (input.on === 'deadline') return this.#end(this.#timeout());
    if (input.on === 'challenge') {
      this.#state = { kind: 'awaiting-params', challenge: copyOf(input.bytes), deadline: input.now + this.#timeoutMs };
      return out([encodePairing({ type: MessageType.PairStart, version: PAIRING_VERSION })]);
    }
    const { message: m, raw, now } = input;
    if (s.kind === 'awaiting-params' && m.type === MessageType.PairParams) return this.#sendShare(s.challenge, m, raw, now);
    if (s.kind === 'awaiting-response' && m.type === MessageType.PairResponse) return this.#confirm(s.prover, m, now);
    if (s.kind === 'awaiting-done' && m.type === MessageType.PairDone) return this.#openCarInfo(s.carToPhone, m);
    return rejectedInput(new RemoteError('ERR_UNEXPECTED_MESSAGE', `pairing: unexpected 0x${m.type.toString(16)} in state ${s.kind}`));
  }

  /** Decode one message from the car into an input, or the error rejecting it. */
  #read(bytes: Uint8Array, now: number): Input | RemoteError {
    if (bytes[0] === MessageType.Alert) {
      try {
        const m = decodeMessage(bytes);
        if (m.type === MessageType.Alert) return { on: 'alert', reason: m.reason };
      } catch {
        /* an undecodable alert still ends pairing */
      }
      return { on: 'alert', reason: 'malformed' };
    }
    try {
      if (this.#state.kind !== 'awaiting-challenge') return { on: 'pairing', message: decodePairing(bytes), raw: bytes, now };
      if (decodeMessage(bytes).type !== MessageType.Challenge) return new RemoteError('ERR_UNEXPECTED_MESSAGE', 'expected the car challenge');
      return { on: 'challenge', bytes, now };
    } catch (e) {
      return asPeerError(e);
    }
  }

  async #sendShare(challenge: Uint8Array, m: Extract<PairingMessage, { type: typeof MessageType.PairParams }>, raw: Uint8Array, now: number): Promise<Output> {
    const secrets = await deriveSpake2PlusSecretsAsync({
      password: utf8(this.#options.code),
      salt: m.salt,
      idProver: EMPTY,
      idVerifier: EMPTY,
      scrypt: { N: 2 ** m.log2N, r: m.r, p: m.p },
    });
    const { crypto, random } = this.#options;
    const prover = new Spake2PlusProver({ ...secrets, context: pairingContext(challenge, raw), idProver: EMPTY, idVerifier: EMPTY, crypto, random });
    secrets.w0.fill(0);
    secrets.w1.fill(0);
    this.#state = { kind: 'awaiting-response', prover, deadline: now + this.#timeoutMs };
    return out([encodePairing({ type: MessageType.PairShare, shareP: prover.start() })]);
  }

  async #confirm(prover: Spake2PlusProver, m: Extract<PairingMessage, { type: typeof MessageType.PairResponse }>, now: number): Promise<Output> {
    let result;
    try {
      result = prover.finish(m.shareV, m.confirmV);
    } catch (e) {
      asPeerError(e);
      const res = this.#end(new RemoteError('ERR_PAIRING_FAILED', 'wrong pairing code'));
      return { ...res, send: [encodeMessage({ type: MessageType.Alert, reason: 'pairing-failed' })] };
    }
    const { crypto, identity, signingKey, label } = this.#options;
    const keys = pairingKeys(crypto, result.sharedKey);
    result.sharedKey.fill(0);
    const info = encodePhoneInfo({ publicKey: identity.publicKey, ...(signingKey && { signingKey }), label: label ?? 'phone' });
    const sealed = await crypto.aeadSeal('aes-256-gcm', keys.phoneToCar, PAIRING_NONCE, info, Uint8Array.of(MessageType.PairConfirm));
    keys.phoneToCar.fill(0);
    this.#state = { kind: 'awaiting-done', carToPhone: keys.carToPhone, deadline: now + this.#timeoutMs };
    return out([encodePairing({ type: MessageType.PairConfirm, confirmP: result.confirmP, sealed })]);
  }

  async #openCarInfo(carToPhone: Uint8Array, m: Extract<PairingMessage, { type: typeof MessageType.PairDone }>): Promise<Output> {
    try {
      const plain = await this.#options.crypto.aeadOpen('aes-256-gcm', carToPhone, PAIRING_NONCE, m.sealed, Uint8Array.of(MessageType.PairDone));
      const car = decodeCarInfo(plain);
      assertP256PublicKey(car.publicKey, 'car key');
      return this.#end(undefined, [{ type: 'paired', car }]);
    } catch (e) {
      return rejectedInput(e);
    }
  }

  #timeout(): TimeoutError {
    const s = this.#state;
    return new TimeoutError(`pairing (${s.kind})`, this.#timeoutMs, { mayHaveSucceeded: s.kind === 'awaiting-done' });
  }

  #end(error: ProxkeyError | undefined, events: PairingPhoneEvent[] = []): Output {
    if (this.#state.kind === 'awaiting-done') this.#state.carToPhone.fill(0);
    this.#state = { kind: 'closed' };
    const all: PairingPhoneEvent[] = error ? [...events, { type: 'error', error }] : events;
    return out([], [...all, { type: 'closed', reason: 'ok' }], true);
  }
}

/** What a car's ALERT during pairing means for the phone; `afterConfirm`: it came in place of PAIR_DONE. */
function alertError(reason: DenyReason, afterConfirm: boolean): ProxkeyError {
  const marked = { mayHaveSucceeded: afterConfirm };
  if (reason === 'pairing-closed') return new RemoteError('ERR_PAIRING_FAILED', 'the car is not in pairing mode (or it ended)', marked);
  if (reason === 'pairing-failed') return new RemoteError('ERR_PAIRING_FAILED', 'wrong pairing code', marked);
  return deniedError(reason, false, afterConfirm);
}

const out = (send: Uint8Array[], events: PairingPhoneEvent[] = [], done = false): Output => output(send, events, done);
