/**
 * The car's side of owner pairing, a sans-IO state machine (docs/PROTOCOL.md §12):
 *
 *   start ──PAIR_START──▶ params-sent ──PAIR_SHARE──▶ responded ──PAIR_CONFIRM──▶ enrolling
 *   enrolling ──complete(carInfo)──▶ closed (PAIR_DONE sent)      enrolling ──refuse(reason)──▶ closed (ALERT)
 *   any ──tick past the step deadline──▶ closed (nothing sent)
 *
 * Sans-IO like the session role: every step takes a monotonic `now` (the pairing authority keeps
 * wall-clock expiry itself); at PAIR_CONFIRM the role asks its driver
 * to enroll the phone (`enroll-owner` request) and resumes with `complete()` or `refuse()`; the
 * phone gets `stepTimeoutMs` for each answer (it runs scrypt in between): `nextDeadline()`/`tick()`.
 *
 * Pairing must be active (an explicit local action opened it); each SPAKE2+ response consumes one
 * attempt; a wrong code is detected by key confirmation and reveals nothing about the code.
 */
import { assertP256PublicKey } from '../crypto/p256.js';
import { LocalError, RemoteError } from '../errors.js';
import { Spake2PlusVerifier } from '../pake/spake2plus.js';
import { MessageType } from '../protocol/constants.js';
import { encodeMessage } from '../protocol/messages.js';
import { decodePairing, decodePhoneInfo, encodeCarInfo, encodePairing, PAIRING_VERSION, type CarInfo, type PairingMessage } from '../protocol/pairing.js';
import type { DenyReason } from '../protocol/reasons.js';
import { pairingContext, pairingKeys, PAIRING_NONCE } from './pairing-keys.js';
import { asPeerError, output, rejectedWithAlert, StepGuard } from './step.js';
import type { EnrollOwnerRequest, PairingAuthority, PairingVehicleEvent, RoleEnvironment, RoleOutput } from './types.js';

/** Options of the car's pairing role: the pairing mode, the CHALLENGE it started with, a bound per phone step. */
export interface VehiclePairingOptions extends Omit<RoleEnvironment, 'now'> {
  readonly authority: PairingAuthority;
  /** The CHALLENGE bytes this connection started with (bound into the SPAKE2+ context). */
  readonly challenge: Uint8Array;
  /** The phone must send its next pairing message within this (it runs scrypt first). Default 30 000 ms. */
  readonly stepTimeoutMs?: number;
}

/** Default bound on each wait for the phone during pairing. */
export const PAIRING_STEP_TIMEOUT_MS = 30_000;

type State =
  | { readonly kind: 'start' }
  | { readonly kind: 'params-sent'; readonly params: Uint8Array; readonly heardAt: number }
  | { readonly kind: 'responded'; readonly verifier: Spake2PlusVerifier; readonly heardAt: number }
  | { readonly kind: 'enrolling'; readonly carToPhone: Uint8Array }
  | { readonly kind: 'closed' };

/** The car's pairing role's state. */
export type VehiclePairingState = State['kind'];
type Output = RoleOutput<PairingVehicleEvent, EnrollOwnerRequest>;
const EMPTY = new Uint8Array(0);

/** The car's side of owner pairing (docs/PROTOCOL.md §12): a sans-IO state machine. */
export class VehiclePairingSession {
  readonly #options: VehiclePairingOptions;
  #state: State = { kind: 'start' };
  readonly #guard = new StepGuard<VehiclePairingState>('pairing');

  constructor(options: VehiclePairingOptions) {
    this.#options = options;
  }

  get state(): VehiclePairingState {
    return this.#state.kind;
  }

  /** When the phone's next message is due (counted from its last one); undefined before the first, while enrolling and once closed. */
  nextDeadline(): number | undefined {
    const s = this.#state;
    return 'heardAt' in s ? s.heardAt + (this.#options.stepTimeoutMs ?? PAIRING_STEP_TIMEOUT_MS) : undefined;
  }

  /** Past the deadline, pairing ends quietly (the attempt, if started, stays consumed). */
  tick(now: number): Output {
    if (this.#state.kind === 'closed') return out([], [], true);
    const deadline = this.nextDeadline();
    if (deadline === undefined || now < deadline) return out([]);
    return this.#end('session-expired', []);
  }

  /** Feed one message from the phone, with the instant it arrived. */
  async receive(bytes: Uint8Array, now: number): Promise<Output> {
    return this.#guard.run(this.#state.kind, ['start', 'params-sent', 'responded'], async () => {
      if (bytes[0] === MessageType.Alert) {
        // After our response, an alert means the phone rejected our confirmation: a wrong code.
        const events: PairingVehicleEvent[] =
          this.#state.kind === 'responded' ? [{ type: 'error', error: new RemoteError('ERR_PAIRING_FAILED', 'the phone reported a wrong code') }] : [];
        return this.#end('ok', events);
      }
      let m: PairingMessage;
      try {
        m = decodePairing(bytes);
      } catch (e) {
        return rejectedWithAlert(e);
      }
      const s = this.#state;
      if (s.kind === 'start' && m.type === MessageType.PairStart) return this.#onStart(m.version, now);
      if (s.kind === 'params-sent' && m.type === MessageType.PairShare) return this.#onShare(s.params, m.shareP, now);
      if (s.kind === 'responded' && m.type === MessageType.PairConfirm) return this.#onConfirm(s.verifier, m.confirmP, m.sealed);
      return rejectedWithAlert(new RemoteError('ERR_UNEXPECTED_MESSAGE', `pairing: unexpected 0x${m.type.toString(16)} in state ${s.kind}`));
    });
  }

  /** The owner is enrolled (durably): send the car's identity to the phone. */
  async complete(car: CarInfo, _now: number): Promise<Output> {
    return this.#guard.run(this.#state.kind, ['enrolling'], async () => {
      const s = this.#state;
      if (s.kind !== 'enrolling') throw new LocalError('ERR_INVALID_STATE', 'pairing: not enrolling');
      const { crypto, authority } = this.#options;
      const sealed = await crypto.aeadSeal('aes-256-gcm', s.carToPhone, PAIRING_NONCE, encodeCarInfo(car), Uint8Array.of(MessageType.PairDone));
      authority.succeeded();
      const res = this.#end('ok', [{ type: 'paired', keyId: car.keyId }]);
      return { ...res, send: [encodePairing({ type: MessageType.PairDone, sealed })] };
    });
  }

  /**
   * The enrollment was refused or could not be saved (`revoked`: that key was revoked before;
   * `internal-error`: the store failed). Pairing mode reopens (if still in time); the phone
   * gets ALERT(reason) and nothing is enrolled.
   */
  async refuse(reason: DenyReason, _now: number): Promise<Output> {
    return this.#guard.run(this.#state.kind, ['enrolling'], async () => {
      this.#options.authority.release?.();
      return this.#fail(reason, new RemoteError('ERR_PAIRING_FAILED', `enrollment refused: ${reason}`));
    });
  }

  /** End pairing from outside (the car shuts down, the connection is dropped). Idempotent; nothing is sent. */
  close(_now: number): Output {
    if (this.#state.kind === 'closed') return out([], [], true);
    if (this.#state.kind === 'enrolling') this.#options.authority.release?.();
    return this.#end('ok', []);
  }

  // ------------------------------------------------------------------ transitions (§12)

  /** start + PAIR_START: the scrypt parameters, if pairing mode is open. */
  #onStart(version: number, now: number): Output {
    if (version !== PAIRING_VERSION) return this.#fail('unsupported', new RemoteError('ERR_UNSUPPORTED', 'pairing version'));
    const creds = this.#options.authority.credentials();
    if (!creds) return this.#fail('pairing-closed', new RemoteError('ERR_PAIRING_FAILED', 'the car is not in pairing mode'));
    const params = encodePairing({ type: MessageType.PairParams, salt: creds.salt, ...creds.scrypt });
    this.#state = { kind: 'params-sent', params, heardAt: now };
    return out([params]);
  }

  /** params-sent + PAIR_SHARE: the SPAKE2+ response (one attempt consumed). */
  #onShare(params: Uint8Array, shareP: Uint8Array, now: number): Output {
    const { authority, crypto, random, challenge } = this.#options;
    const creds = authority.credentials();
    if (!creds) return this.#fail('pairing-closed', new RemoteError('ERR_PAIRING_FAILED', 'pairing mode ended'));
    const verifier = new Spake2PlusVerifier({
      w0: creds.w0,
      L: creds.L,
      context: pairingContext(challenge, params),
      idProver: EMPTY,
      idVerifier: EMPTY,
      crypto,
      random,
    });
    let response;
    try {
      response = verifier.respond(shareP); // validates shareP; no state change on a bad point
    } catch (e) {
      return rejectedWithAlert(e);
    }
    authority.attemptStarted();
    this.#state = { kind: 'responded', verifier, heardAt: now };
    return out([encodePairing({ type: MessageType.PairResponse, ...response })]);
  }

  /** responded + PAIR_CONFIRM: key confirmation, the phone's sealed identity, then ask to enroll it. */
  async #onConfirm(verifier: Spake2PlusVerifier, confirmP: Uint8Array, sealedInfo: Uint8Array): Promise<Output> {
    const { authority, crypto } = this.#options;
    let sharedKey: Uint8Array;
    try {
      sharedKey = verifier.finish(confirmP).sharedKey;
    } catch (e) {
      asPeerError(e);
      return this.#fail('pairing-failed', new RemoteError('ERR_PAIRING_FAILED', 'key confirmation failed: wrong code'));
    }
    const keys = pairingKeys(crypto, sharedKey);
    sharedKey.fill(0);
    try {
      const info = decodePhoneInfo(await crypto.aeadOpen('aes-256-gcm', keys.phoneToCar, PAIRING_NONCE, sealedInfo, Uint8Array.of(MessageType.PairConfirm)));
      assertP256PublicKey(info.publicKey, 'phone key');
      if (info.signingKey) assertP256PublicKey(info.signingKey, 'phone signing key');
      // Single use in fact: re-check, atomically with the enrollment that follows, that pairing
      // mode is still open and unused (another phone may have confirmed first, or time ran out).
      if (!(authority.claim ? authority.claim() : authority.credentials() !== undefined)) {
        keys.carToPhone.fill(0);
        return this.#fail('pairing-closed', new RemoteError('ERR_PAIRING_FAILED', 'pairing mode ended before this phone confirmed'));
      }
      this.#state = { kind: 'enrolling', carToPhone: keys.carToPhone };
      return { ...out([]), request: { type: 'enroll-owner', phone: info } };
    } catch (e) {
      keys.carToPhone.fill(0);
      return this.#fail('pairing-failed', asPeerError(e));
    } finally {
      keys.phoneToCar.fill(0);
    }
  }

  #fail(reason: DenyReason, error: RemoteError): Output {
    const res = this.#end(reason, [{ type: 'error', error }]);
    return { ...res, send: [encodeMessage({ type: MessageType.Alert, reason })] };
  }

  #end(reason: 'ok' | DenyReason, events: PairingVehicleEvent[]): Output {
    if (this.#state.kind === 'enrolling') this.#state.carToPhone.fill(0);
    this.#state = { kind: 'closed' };
    return out([], [...events, { type: 'closed', reason }], true);
  }
}

const out = (send: Uint8Array[], events: PairingVehicleEvent[] = [], done = false): Output => output(send, events, done);
