/**
 * The phone's side of owner pairing (sans-IO; the scrypt stretch of the code is the only slow,
 * async step):
 *
 *   awaiting-challenge ──CHALLENGE──▶ awaiting-params ──PAIR_PARAMS──▶ awaiting-response
 *   awaiting-response ──PAIR_RESPONSE (confirmV ok)──▶ awaiting-done ──PAIR_DONE──▶ closed (paired)
 *
 * A wrong code shows up as a failed key confirmation: `ERR_PAIRING_FAILED`, and nothing about
 * the code is revealed to a listener.
 */
import type { KeyCustody } from '../crypto/custody.js';
import { assertP256PublicKey } from '../crypto/p256.js';
import { utf8 } from '../bytes.js';
import { assertArg, DeniedError, RemoteError } from '../errors.js';
import { deriveSpake2PlusSecretsAsync, Spake2PlusProver } from '../pake/spake2plus.js';
import { MessageType } from '../protocol/constants.js';
import { decodeMessage, encodeMessage } from '../protocol/messages.js';
import { decodeCarInfo, decodePairing, encodePairing, encodePhoneInfo, PAIRING_VERSION, type PairingMessage } from '../protocol/pairing.js';
import { pairingContext, pairingKeys, PAIRING_NONCE } from './pairing-keys.js';
import { output, StepGuard } from './step.js';
import type { PairingPhoneEvent, RoleEnvironment, RoleOutput } from './types.js';

export interface PhonePairingOptions extends RoleEnvironment {
  /** The 8-digit code the car shows. */
  readonly code: string;
  readonly identity: KeyCustody;
  /** The key that will sign this owner's grants, when different from `identity` (WebCrypto). */
  readonly signingKey?: Uint8Array;
  readonly label?: string;
}

type State = 'awaiting-challenge' | 'awaiting-params' | 'awaiting-response' | 'awaiting-done' | 'closed';
type Output = RoleOutput<PairingPhoneEvent>;
const EMPTY = new Uint8Array(0);

export class PhonePairingSession {
  readonly #o: PhonePairingOptions;
  #state: State = 'awaiting-challenge';
  readonly #guard = new StepGuard<State>('pairing');
  #challenge: Uint8Array | undefined;
  #prover: Spake2PlusProver | undefined;
  #carToPhone: Uint8Array | undefined;

  constructor(options: PhonePairingOptions) {
    assertArg(/^\d{8}$/.test(options.code), 'pairing code: 8 digits');
    this.#o = options;
  }

  get state(): State {
    return this.#state;
  }

  async receive(bytes: Uint8Array): Promise<Output> {
    return this.#guard.run(this.#state, ['awaiting-challenge', 'awaiting-params', 'awaiting-response', 'awaiting-done'], async () => {
      if (bytes[0] === MessageType.Alert) {
        let reason: DeniedError['reason'] = 'malformed';
        try {
          const m = decodeMessage(bytes);
          if (m.type === MessageType.Alert) reason = m.reason;
        } catch {
          /* keep malformed */
        }
        const error =
          reason === 'pairing-failed' || reason === 'pairing-closed'
            ? new RemoteError('ERR_PAIRING_FAILED', reason === 'pairing-closed' ? 'the car is not in pairing mode (or it ended)' : 'wrong pairing code')
            : new DeniedError(reason, false);
        return this.#end([{ type: 'error', error }]);
      }
      if (this.#state === 'awaiting-challenge') {
        try {
          const m = decodeMessage(bytes);
          if (m.type !== MessageType.Challenge) throw new RemoteError('ERR_UNEXPECTED_MESSAGE', 'expected the car challenge');
        } catch (e) {
          return reject(e);
        }
        this.#challenge = bytes.slice();
        this.#state = 'awaiting-params';
        return out([encodePairing({ type: MessageType.PairStart, version: PAIRING_VERSION })]);
      }
      let m: PairingMessage;
      try {
        m = decodePairing(bytes);
      } catch (e) {
        return reject(e);
      }
      return this.#step(m, bytes);
    });
  }

  async #step(m: PairingMessage, raw: Uint8Array): Promise<Output> {
    const { crypto, random, identity } = this.#o;
    if (this.#state === 'awaiting-params' && m.type === MessageType.PairParams) {
      const secrets = await deriveSpake2PlusSecretsAsync({
        password: utf8(this.#o.code),
        salt: m.salt,
        idProver: EMPTY,
        idVerifier: EMPTY,
        scrypt: { N: 2 ** m.log2N, r: m.r, p: m.p },
      });
      this.#prover = new Spake2PlusProver({
        ...secrets,
        context: pairingContext(this.#challenge!, raw),
        idProver: EMPTY,
        idVerifier: EMPTY,
        crypto,
        random,
      });
      secrets.w0.fill(0);
      secrets.w1.fill(0);
      this.#state = 'awaiting-response';
      return out([encodePairing({ type: MessageType.PairShare, shareP: this.#prover.start() })]);
    }
    if (this.#state === 'awaiting-response' && m.type === MessageType.PairResponse) {
      let result;
      try {
        result = this.#prover!.finish(m.shareV, m.confirmV);
      } catch (e) {
        if (!(e instanceof RemoteError)) throw e;
        const res = this.#end([{ type: 'error', error: new RemoteError('ERR_PAIRING_FAILED', 'wrong pairing code') }]);
        return { ...res, send: [encodeMessage({ type: MessageType.Alert, reason: 'pairing-failed' })] };
      }
      const keys = pairingKeys(crypto, result.sharedKey);
      result.sharedKey.fill(0);
      const info = encodePhoneInfo({
        publicKey: identity.publicKey,
        ...(this.#o.signingKey && { signingKey: this.#o.signingKey }),
        label: this.#o.label ?? 'phone',
      });
      const sealed = await crypto.aeadSeal('aes-256-gcm', keys.phoneToCar, PAIRING_NONCE, info, Uint8Array.of(MessageType.PairConfirm));
      keys.phoneToCar.fill(0);
      this.#carToPhone = keys.carToPhone;
      this.#state = 'awaiting-done';
      return out([encodePairing({ type: MessageType.PairConfirm, confirmP: result.confirmP, sealed })]);
    }
    if (this.#state === 'awaiting-done' && m.type === MessageType.PairDone) {
      try {
        const plain = await crypto.aeadOpen('aes-256-gcm', this.#carToPhone!, PAIRING_NONCE, m.sealed, Uint8Array.of(MessageType.PairDone));
        const car = decodeCarInfo(plain);
        assertP256PublicKey(car.publicKey, 'car key');
        return this.#end([{ type: 'paired', car }]);
      } catch (e) {
        return reject(e);
      }
    }
    return reject(new RemoteError('ERR_UNEXPECTED_MESSAGE', `pairing: unexpected 0x${m.type.toString(16)} in state ${this.#state}`));
  }

  #end(events: PairingPhoneEvent[]): Output {
    this.#state = 'closed';
    this.#carToPhone?.fill(0);
    return out([], [...events, { type: 'closed', reason: 'ok' }], true);
  }
}

const out = (send: Uint8Array[], events: PairingPhoneEvent[] = [], done = false): Output => output(send, events, done);

function reject(err: unknown): Output {
  if (!(err instanceof RemoteError)) throw err;
  return out([], [{ type: 'error', error: err }]);
}
