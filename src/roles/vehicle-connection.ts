/**
 * The car's side of one connection: it sends the CHALLENGE, and the phone's first answer decides
 * what the connection is — a HANDSHAKE makes it a session (`VehicleSession`), a PAIR_START owner
 * pairing (`VehiclePairingSession`, docs/PROTOCOL.md §12). The driver feeds bytes and answers to
 * this one object and reads `mode` to know which role's events it is given.
 */
import { LocalError } from '../errors.js';
import { isPairingType, type CarInfo } from '../protocol/pairing.js';
import type { DenyReason } from '../protocol/reasons.js';
import { VehiclePairingSession } from './vehicle-pairing.js';
import { VehicleSession, type VehicleSessionOptions } from './vehicle-session.js';
import type { VehicleAnswer, VehicleRequest } from './vehicle-requests.js';
import type { EnrollOwnerRequest, PairingAuthority, PairingVehicleEvent, RoleOutput, VehicleSessionEvent } from './types.js';

/** Options of `VehicleConnection`: the session role's, plus the pairing mode and its step bound. */
export interface VehicleConnectionOptions extends VehicleSessionOptions {
  /** The car's pairing mode at the moment a phone starts pairing (undefined: not in pairing mode). */
  readonly pairingAuthority?: () => PairingAuthority | undefined;
  /** Bound on each wait for a pairing phone. Default 30 000 ms. */
  readonly pairingStepTimeoutMs?: number;
}

/** What `VehicleConnection` may wait on: a session request or an owner enrollment. */
export type VehicleConnectionRequest = VehicleRequest | EnrollOwnerRequest;
/** An answer to a `VehicleConnectionRequest`. */
export type VehicleConnectionAnswer = VehicleAnswer | { readonly type: 'enroll-owner'; readonly result: CarInfo | DenyReason };
/** Session events, or pairing events once `mode` is `pairing` (`error`/`closed` have the same shape in both). */
export type VehicleConnectionEvent = VehicleSessionEvent | PairingVehicleEvent;
/** One step's output of `VehicleConnection`. */
export type VehicleConnectionOutput = RoleOutput<VehicleConnectionEvent, VehicleConnectionRequest>;

/** Pairing mode is closed: every pairing attempt is told so. */
const NOT_PAIRING: PairingAuthority = { credentials: () => undefined, attemptStarted: () => undefined, succeeded: () => undefined };

/** The car's side of one connection: the CHALLENGE, then a session or owner pairing, decided by the phone's first message. */
export class VehicleConnection {
  readonly #options: VehicleConnectionOptions;
  readonly session: VehicleSession;
  #pairing: VehiclePairingSession | undefined;
  #challenge: Uint8Array | undefined;

  constructor(options: VehicleConnectionOptions) {
    this.#options = options;
    this.session = new VehicleSession(options);
  }

  /** What the connection became: a session (until the phone starts pairing) or owner pairing. */
  get mode(): 'session' | 'pairing' {
    return this.#pairing ? 'pairing' : 'session';
  }

  get closed(): boolean {
    return this.#pairing ? this.#pairing.state === 'closed' : this.session.state === 'closed';
  }

  /** The authenticated phone's key id (sessions only). */
  get keyId(): string | undefined {
    return this.session.keyId;
  }

  nextDeadline(): number | undefined {
    return this.#pairing ? this.#pairing.nextDeadline() : this.session.nextDeadline();
  }

  /** Send the CHALLENGE. */
  async start(now: number): Promise<VehicleConnectionOutput> {
    const o = await this.session.start(now);
    this.#challenge = o.send[0];
    return o;
  }

  /** One message from the phone, with the instant it arrived. */
  async receive(bytes: Uint8Array, now: number): Promise<VehicleConnectionOutput> {
    if (this.#pairing) return this.#pairing.receive(bytes, now);
    const challenge = this.#challenge;
    if (this.session.state !== 'challenged' || !challenge || !isPairingType(bytes[0])) return this.session.receive(bytes, now);
    await this.session.close(); // no channel yet: nothing to send; wipes the ephemeral
    this.#pairing = new VehiclePairingSession({
      crypto: this.#options.crypto,
      random: this.#options.random,
      authority: this.#options.pairingAuthority?.() ?? NOT_PAIRING,
      challenge,
      ...(this.#options.pairingStepTimeoutMs !== undefined && { stepTimeoutMs: this.#options.pairingStepTimeoutMs }),
    });
    return this.#pairing.receive(bytes, now);
  }

  /** Resume with the answer to the pending request. */
  async answer(answer: VehicleConnectionAnswer, now: number): Promise<VehicleConnectionOutput> {
    if (answer.type !== 'enroll-owner') return this.session.answer(answer, now);
    const pairing = this.#pairing;
    if (!pairing) throw new LocalError('ERR_INVALID_STATE', 'vehicle connection: an enroll-owner answer without pairing');
    return typeof answer.result === 'string' ? pairing.refuse(answer.result, now) : pairing.complete(answer.result, now);
  }

  async tick(now: number): Promise<VehicleConnectionOutput> {
    return this.#pairing ? this.#pairing.tick(now) : this.session.tick(now);
  }

  /** End the connection: an authenticated CLOSE when a session channel exists; pairing ends quietly. */
  async close(reason: 'ok' | DenyReason, now: number): Promise<VehicleConnectionOutput> {
    return this.#pairing ? this.#pairing.close(now) : this.session.close(reason);
  }
}
