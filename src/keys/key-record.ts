/**
 * An enrolled phone key as the car knows it, and the directory the car's drivers look keys up in.
 * The vehicle role itself never sees a record: it asks its driver (`find-key`, `redeem-grant`
 * requests) and is told whether the key is known.
 */
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

/** Where the car's driver looks keys up (a store, a cache, a remote directory). */
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

/** Why `key` (or any window `{ notBefore?, notAfter? }`, inclusive) is not valid at `now`, or undefined when it is. */
export function windowDenial(key: { readonly notBefore?: number; readonly notAfter?: number }, now: number): 'not-yet-valid' | 'expired' | undefined {
  if (key.notBefore !== undefined && now < key.notBefore) return 'not-yet-valid';
  if (key.notAfter !== undefined && now > key.notAfter) return 'expired';
  return undefined;
}
