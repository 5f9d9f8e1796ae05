/**
 * Types shared by the phone and vehicle roles: role outputs and events, the verdicts the car's
 * hooks give, and what the pairing roles need from the car's pairing mode.
 */
import type { CryptoProvider, Clock, RandomSource } from '../crypto/provider.js';
import type { ProxkeyError } from '../errors.js';
import type { Command } from '../protocol/commands.js';
import type { PhoneInfo } from '../protocol/pairing.js';
import type { DenyReason } from '../protocol/reasons.js';

/** Proximity as the car's proximity engine sees a key (`ProximityEngine`, docs/PROXIMITY.md). */
export interface ProximityVerdict {
  readonly zone: 'near' | 'approach' | 'far' | 'unknown';
  readonly distanceM?: number;
}

/** A secure-ranging (distance-bounding, e.g. UWB) verdict. */
export interface RangingVerdict {
  readonly ok: boolean;
  readonly distanceM?: number;
}

/** Dependencies every role gets injected. */
export interface RoleEnvironment {
  readonly crypto: CryptoProvider;
  readonly random: RandomSource;
  readonly now: Clock;
}

/**
 * What a role step produced: messages to send (in order), events for the application, and at most
 * one request the role waits on (it resumes when the driver answers it).
 */
export interface RoleOutput<E, R = never> {
  readonly send: Uint8Array[];
  readonly events: E[];
  /** The role waits for the driver's answer to this (see the role's `answer()`). */
  readonly request?: R;
  /** The session is over: send what is in `send`, then close the link. */
  readonly done: boolean;
}

/** What the vehicle role reports (the car's driver stamps decisions with the time and adds `enrolled`: see `VehicleEvent`). */
export type VehicleSessionEvent =
  | { readonly type: 'authenticated'; readonly keyId: string; readonly known: boolean; readonly rttMs: number }
  /** Every decision, for the audit log: denials at once, executions once completed. */
  | {
      readonly type: 'decision';
      readonly keyId: string;
      readonly command: Command | undefined;
      readonly result: 'ok' | DenyReason;
      readonly rttMs: number;
      readonly intent: boolean;
      readonly proximity: ProximityVerdict | undefined;
      readonly ranging: RangingVerdict | undefined;
    }
  | { readonly type: 'error'; readonly error: ProxkeyError }
  | { readonly type: 'closed'; readonly reason: 'ok' | DenyReason };

/** Events of the phone role: a command's result, an error, the end of the session. */
export type PhoneEvent =
  | {
      readonly type: 'result';
      readonly command: Command;
      readonly status: 'ok' | DenyReason;
      readonly data: Uint8Array;
      /** ms from sending the command to receiving this result (phone clock). */
      readonly elapsedMs: number;
    }
  | { readonly type: 'error'; readonly error: ProxkeyError }
  | { readonly type: 'closed'; readonly reason: 'ok' | DenyReason };

/** The verifier values of an active pairing mode (the car never keeps the code itself). */
export interface PairingCredentials {
  readonly salt: Uint8Array;
  readonly scrypt: { readonly log2N: number; readonly r: number; readonly p: number };
  /** SPAKE2+ registration record (RFC 9383 §3.2). */
  readonly w0: Uint8Array;
  readonly L: Uint8Array;
}

/** The car's pairing mode, as the pairing role sees it. */
export interface PairingAuthority {
  // The authority keeps its own time (the car's trusted clock: pairing mode expires in wall time);
  // the pairing role passes none, so its steps' monotonic `now` never meets wall-clock expiry.
  /** Credentials while pairing mode is active (not expired, attempts left, unused), else undefined. */
  credentials(): PairingCredentials | undefined;
  /** A SPAKE2+ response was sent: one attempt is consumed (a failure unless `succeeded` follows). */
  attemptStarted(): void;
  /**
   * A phone proved the code (PAIR_CONFIRM verified): take pairing mode for it, atomically. True
   * only while pairing mode is still open (not expired, not cancelled, not used or taken by
   * another phone); from then on every other attempt finds it closed. Optional for
   * compatibility: an authority without it is claimed when `credentials()` is defined.
   */
  claim?(): boolean;
  /** The claimed enrollment could not be saved: pairing mode is open again (if still in time). */
  release?(): void;
  /** The attempt succeeded and the owner is enrolled: pairing mode ends (single use). */
  succeeded(): void;
}

/** The phone that proved the pairing code, as it described itself. */
export type PairingPhone = PhoneInfo;

/** The car's pairing role waits on this: enroll the phone as owner (persist first), then `complete(carInfo)` or `refuse(reason)`. */
export interface EnrollOwnerRequest {
  readonly type: 'enroll-owner';
  readonly phone: PairingPhone;
}

/** Events of the car's pairing role (it asks for the enrollment as an `enroll-owner` request). */
export type PairingVehicleEvent =
  | { readonly type: 'paired'; readonly keyId: string }
  | { readonly type: 'error'; readonly error: ProxkeyError }
  | { readonly type: 'closed'; readonly reason: 'ok' | DenyReason };

/** Events of the phone's pairing role. */
export type PairingPhoneEvent =
  | {
      readonly type: 'paired';
      readonly car: { readonly publicKey: Uint8Array; readonly advertisingSecret: Uint8Array; readonly keyId: string; readonly name: string };
    }
  | { readonly type: 'error'; readonly error: ProxkeyError }
  | { readonly type: 'closed'; readonly reason: 'ok' | DenyReason };
