/**
 * Types shared by the phone and vehicle roles: key records, the policy interface and its hooks,
 * role outputs and events.
 */
import type { CryptoProvider, Clock, RandomSource } from '../crypto/provider.js';
import type { ProxkeyError } from '../errors.js';
import type { Command } from '../protocol/commands.js';
import type { DenyReason } from '../protocol/reasons.js';

/** An enrolled phone key as the car knows it. */
export interface KeyRecord {
  /** `keyIdOf(publicKey)`: 16 hex chars. */
  readonly id: string;
  /** 65-byte uncompressed P-256 public key: the identity that is checked. */
  readonly publicKey: Uint8Array;
  readonly role: 'owner' | 'shared';
  /** Command names this key may use (`unlock`, `custom:130`, ...), or `*` for all. */
  readonly permissions: readonly string[];
  /** Validity window (ms since the Unix epoch, inclusive). */
  readonly notBefore?: number;
  readonly notAfter?: number;
  readonly revoked?: boolean;
  readonly label?: string;
  /** The key that verifies grants this key signs (owners); defaults to `publicKey`. */
  readonly signingKey?: Uint8Array;
  /** For shared keys: the grant that enrolled it (16-byte id, hex) and its issuer's key id. */
  readonly grantId?: string;
  readonly issuerKeyId?: string;
  /** When the car enrolled it (ms since the Unix epoch). */
  readonly enrolledAt?: number;
}

/** Where the vehicle role looks keys up (a store, a cache, a remote directory). */
export interface KeyDirectory {
  /** The record whose public key equals `publicKey` (exact bytes), or undefined. */
  findKey(publicKey: Uint8Array): Promise<KeyRecord | undefined>;
  /**
   * Enroll the phone presenting `grant` (an owner-signed grant, see `keys/grant.ts`) whose
   * authenticated static key is `presenter`. Must persist the enrollment before resolving.
   * Resolves with the new record, or the reason the grant is refused. Optional: without it,
   * grants are refused with `unsupported`.
   */
  redeemGrant?(grant: Uint8Array, presenter: Uint8Array, now: number): Promise<KeyRecord | DenyReason>;
}

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

/** Hooks the vehicle role consults before asking the policy. All optional. */
export interface VehicleHooks {
  proximity?(keyId: string): ProximityVerdict | undefined | Promise<ProximityVerdict | undefined>;
  ranging?(keyId: string, command: Command): Promise<RangingVerdict | undefined>;
}

/** Everything a policy may base a decision on. */
export interface PolicyContext {
  readonly key: KeyRecord;
  readonly command: Command;
  /** Command name / permission string (`unlock`, `custom:130`). */
  readonly commandName: string;
  /** The phone asserted user intent for this command. */
  readonly intent: boolean;
  /** ms between the car producing its challenge and receiving the phone's handshake. */
  readonly rttMs: number;
  /** ms since the session's handshake completed (0 for the handshake's own command). */
  readonly sessionAgeMs: number;
  readonly now: number;
  readonly proximity: ProximityVerdict | undefined;
  readonly ranging: RangingVerdict | undefined;
}

export type PolicyDecision = { readonly allow: true } | { readonly allow: false; readonly reason: DenyReason };

/** Decides every command. Pure functions are best; async is allowed. */
export type Policy = (ctx: PolicyContext) => PolicyDecision | Promise<PolicyDecision>;

/** Dependencies every role gets injected. */
export interface RoleEnvironment {
  readonly crypto: CryptoProvider;
  readonly random: RandomSource;
  readonly now: Clock;
}

/** What a role step produced: messages to send (in order) and events for the application. */
export interface RoleOutput<E> {
  readonly send: Uint8Array[];
  readonly events: E[];
  /** The session is over: send what is in `send`, then close the link. */
  readonly done: boolean;
}

export type VehicleEvent =
  | { readonly type: 'authenticated'; readonly keyId: string; readonly known: boolean; readonly rttMs: number }
  /** A shared key was enrolled by redeeming its grant (already persisted by the key directory). */
  | { readonly type: 'enrolled'; readonly key: KeyRecord }
  /** Run the command, then call `VehicleSession.complete()`. */
  | {
      readonly type: 'execute';
      readonly command: Command;
      readonly key: KeyRecord;
      readonly intent: boolean;
      readonly rttMs: number;
    }
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
      readonly at: number;
    }
  | { readonly type: 'error'; readonly error: ProxkeyError }
  | { readonly type: 'closed'; readonly reason: 'ok' | DenyReason };

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
  /** Credentials while pairing mode is active (not expired, attempts left, unused), else undefined. */
  credentials(now: number): PairingCredentials | undefined;
  /** A SPAKE2+ response was sent: one attempt is consumed (a failure unless `succeeded` follows). */
  attemptStarted(now: number): void;
  /**
   * A phone proved the code (PAIR_CONFIRM verified): take pairing mode for it, atomically. True
   * only while pairing mode is still open (not expired, not cancelled, not used or taken by
   * another phone); from then on every other attempt finds it closed. Optional for
   * compatibility: an authority without it is claimed when `credentials(now)` is defined.
   */
  claim?(now: number): boolean;
  /** The claimed enrollment could not be saved: pairing mode is open again (if still in time). */
  release?(now: number): void;
  /** The attempt succeeded and the owner is enrolled: pairing mode ends (single use). */
  succeeded(now: number): void;
}

export type PairingVehicleEvent =
  /** Confirmed: enroll this phone as owner (persist!), then call `complete(carInfo)`. */
  | { readonly type: 'enroll'; readonly phone: { readonly publicKey: Uint8Array; readonly signingKey?: Uint8Array; readonly label: string } }
  | { readonly type: 'paired'; readonly keyId: string }
  | { readonly type: 'error'; readonly error: ProxkeyError }
  | { readonly type: 'closed'; readonly reason: 'ok' | DenyReason };

export type PairingPhoneEvent =
  | {
      readonly type: 'paired';
      readonly car: { readonly publicKey: Uint8Array; readonly advertisingSecret: Uint8Array; readonly keyId: string; readonly name: string };
    }
  | { readonly type: 'error'; readonly error: ProxkeyError }
  | { readonly type: 'closed'; readonly reason: 'ok' | DenyReason };
