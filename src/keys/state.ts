/**
 * The durable state of a car and of a phone, and its JSON form. Parsing is strict: anything that
 * does not match the schema is `StoreError('ERR_STORE_CORRUPT')`, never a silent reset.
 */
import { fromHex, toHex } from '../bytes.js';
import { StoreError } from '../errors.js';
import type { KeyRecord } from './key-record.js';

/** The version of the persisted state's JSON schema. */
export const STATE_SCHEMA_VERSION = 1;

/** Everything the car persists: its identity and advertising secret, its name, enrolled keys, revoked grants, trusted-time floor. */
export interface VehicleState {
  /** The car's long-term key when held in software (absent when custody is external). */
  readonly identity?: { readonly secretKey: Uint8Array };
  /** Secret shared with enrolled phones at pairing, for rotating advertisement ids. */
  readonly advertisingSecret?: Uint8Array;
  readonly name?: string;
  /** Every key ever enrolled, revoked ones included (so old grants can never re-enroll). */
  readonly keys: readonly KeyRecord[];
  /** Grant ids revoked (hex), whether or not they were ever redeemed. */
  readonly revokedGrants: readonly string[];
  /** The latest trusted time (ms since the Unix epoch) when this state was saved: the clock floor. */
  readonly timeFloor?: number;
}

/** A car's state before anything is enrolled. */
export const EMPTY_VEHICLE_STATE: VehicleState = Object.freeze({ keys: [], revokedGrants: [] });

/** A car as a phone knows it. */
export interface CarRecord {
  /** hex(SHA-256(vehicleKey)[0..16]). */
  readonly carId: string;
  readonly name: string;
  readonly vehicleKey: Uint8Array;
  readonly advertisingSecret?: Uint8Array;
  readonly role: 'owner' | 'shared';
  /** This phone's key id at that car. */
  readonly keyId: string;
  /** For a shared key not yet redeemed: the grant to present in the first handshake. */
  readonly grant?: Uint8Array;
  readonly addedAt: number;
}

/** Everything the phone persists: the cars it holds keys for. */
export interface PhoneState {
  readonly identity?: { readonly secretKey: Uint8Array };
  readonly cars: readonly CarRecord[];
}

/** A phone's state before any pairing. */
export const EMPTY_PHONE_STATE: PhoneState = Object.freeze({ cars: [] });

export const AUDIT_EVENTS = ['command', 'enroll', 'revoke', 'pairing', 'passive-entry', 'suppressed'] as const;
export type AuditEvent = (typeof AUDIT_EVENTS)[number];

/** One line of the car's append-only audit log. */
export interface AuditEntry {
  readonly at: number;
  /**
   * `passive-entry`: a proximity decision (walk-away lock, approach unlock) acted on by the car.
   * `suppressed`: a summary of unauthenticated entries not written (rate limit); `result` = count.
   */
  readonly event: AuditEvent;
  readonly keyId: string;
  /** Command name (`unlock`, `custom:130`, `revoke`, …) when relevant. */
  readonly command?: string;
  /** `ok`, a denial reason (`unknown-key`, `relay-suspected`, `pairing-failed`, …; see `DENY_REASONS`), `failed` (a pairing that broke off), or for `suppressed` the count. */
  readonly result: string;
  readonly rttMs?: number;
  readonly intent?: boolean;
  readonly proximity?: string;
  readonly ranging?: boolean;
  readonly detail?: string;
}

// ------------------------------------------------------------------------------ JSON codecs

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

function corrupt(what: string): never {
  throw new StoreError('ERR_STORE_CORRUPT', `state: ${what}`);
}
function obj(v: unknown, what: string): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) corrupt(`${what} is not an object`);
  return v as Record<string, unknown>;
}
function str(v: unknown, what: string): string {
  if (typeof v !== 'string') corrupt(`${what} is not a string`);
  return v;
}
function num(v: unknown, what: string): number {
  if (typeof v !== 'number' || !Number.isFinite(v)) corrupt(`${what} is not a number`);
  return v;
}
function hex(v: unknown, what: string, len?: number): Uint8Array {
  const s = str(v, what);
  if (!/^([0-9a-f]{2})*$/.test(s) || (len !== undefined && s.length !== 2 * len)) corrupt(`${what} is not ${len ?? ''} hex bytes`);
  return fromHex(s);
}
const opt = <T>(v: unknown, f: (v: unknown) => T): T | undefined => (v === undefined ? undefined : f(v));

function keyToJson(k: KeyRecord): Json {
  return {
    id: k.id,
    publicKey: toHex(k.publicKey),
    role: k.role,
    permissions: [...k.permissions],
    ...(k.notBefore !== undefined && { notBefore: k.notBefore }),
    ...(k.notAfter !== undefined && { notAfter: k.notAfter }),
    ...(k.revoked && { revoked: true }),
    ...(k.label !== undefined && { label: k.label }),
    ...(k.signingKey && { signingKey: toHex(k.signingKey) }),
    ...(k.grantId !== undefined && { grantId: k.grantId }),
    ...(k.issuerKeyId !== undefined && { issuerKeyId: k.issuerKeyId }),
    ...(k.enrolledAt !== undefined && { enrolledAt: k.enrolledAt }),
  };
}

function keyFromJson(v: unknown, i: number): KeyRecord {
  const o = obj(v, `keys[${i}]`);
  const role = str(o.role, 'role');
  if (role !== 'owner' && role !== 'shared') corrupt(`keys[${i}].role`);
  if (!Array.isArray(o.permissions)) corrupt(`keys[${i}].permissions`);
  const rec: KeyRecord = {
    id: str(o.id, 'id'),
    publicKey: hex(o.publicKey, 'publicKey', 65),
    role,
    permissions: o.permissions.map((p, j) => str(p, `permissions[${j}]`)),
    ...(o.notBefore !== undefined && { notBefore: num(o.notBefore, 'notBefore') }),
    ...(o.notAfter !== undefined && { notAfter: num(o.notAfter, 'notAfter') }),
    ...(o.revoked === true && { revoked: true }),
    ...(o.label !== undefined && { label: str(o.label, 'label') }),
    ...(o.signingKey !== undefined && { signingKey: hex(o.signingKey, 'signingKey', 65) }),
    ...(o.grantId !== undefined && { grantId: str(o.grantId, 'grantId') }),
    ...(o.issuerKeyId !== undefined && { issuerKeyId: str(o.issuerKeyId, 'issuerKeyId') }),
    ...(o.enrolledAt !== undefined && { enrolledAt: num(o.enrolledAt, 'enrolledAt') }),
  };
  return Object.freeze(rec);
}

/** The car's state as JSON (bytes as hex). */
export function vehicleStateToJson(s: VehicleState): Json {
  return {
    ...(s.identity && { identity: { secretKey: toHex(s.identity.secretKey) } }),
    ...(s.advertisingSecret && { advertisingSecret: toHex(s.advertisingSecret) }),
    ...(s.name !== undefined && { name: s.name }),
    keys: s.keys.map(keyToJson),
    revokedGrants: [...s.revokedGrants],
    ...(s.timeFloor !== undefined && { timeFloor: s.timeFloor }),
  };
}

/**
 * The car's state read back from JSON, checked field by field.
 * @throws {StoreError} when the document is corrupt.
 */
export function vehicleStateFromJson(v: unknown): VehicleState {
  const o = obj(v, 'vehicle state');
  if (!Array.isArray(o.keys) || !Array.isArray(o.revokedGrants)) corrupt('keys/revokedGrants missing');
  const id = opt(o.identity, (x) => obj(x, 'identity'));
  return {
    ...(id && { identity: { secretKey: hex(id.secretKey, 'identity.secretKey', 32) } }),
    ...(o.advertisingSecret !== undefined && { advertisingSecret: hex(o.advertisingSecret, 'advertisingSecret', 32) }),
    ...(o.name !== undefined && { name: str(o.name, 'name') }),
    keys: o.keys.map(keyFromJson),
    revokedGrants: o.revokedGrants.map((g, i) => str(g, `revokedGrants[${i}]`)),
    ...(o.timeFloor !== undefined && { timeFloor: num(o.timeFloor, 'timeFloor') }),
  };
}

/** The phone's state as JSON (bytes as hex). */
export function phoneStateToJson(s: PhoneState): Json {
  return {
    ...(s.identity && { identity: { secretKey: toHex(s.identity.secretKey) } }),
    cars: s.cars.map((c) => ({
      carId: c.carId,
      name: c.name,
      vehicleKey: toHex(c.vehicleKey),
      ...(c.advertisingSecret && { advertisingSecret: toHex(c.advertisingSecret) }),
      role: c.role,
      keyId: c.keyId,
      ...(c.grant && { grant: toHex(c.grant) }),
      addedAt: c.addedAt,
    })),
  };
}

/**
 * The phone's state read back from JSON, checked field by field.
 * @throws {StoreError} when the document is corrupt.
 */
export function phoneStateFromJson(v: unknown): PhoneState {
  const o = obj(v, 'phone state');
  if (!Array.isArray(o.cars)) corrupt('cars missing');
  const id = opt(o.identity, (x) => obj(x, 'identity'));
  return {
    ...(id && { identity: { secretKey: hex(id.secretKey, 'identity.secretKey', 32) } }),
    cars: o.cars.map((c, i) => {
      const r = obj(c, `cars[${i}]`);
      const role = str(r.role, 'role');
      if (role !== 'owner' && role !== 'shared') corrupt(`cars[${i}].role`);
      return {
        carId: str(r.carId, 'carId'),
        name: str(r.name, 'name'),
        vehicleKey: hex(r.vehicleKey, 'vehicleKey', 65),
        ...(r.advertisingSecret !== undefined && { advertisingSecret: hex(r.advertisingSecret, 'advertisingSecret', 32) }),
        role,
        keyId: str(r.keyId, 'keyId'),
        ...(r.grant !== undefined && { grant: hex(r.grant, 'grant') }),
        addedAt: num(r.addedAt, 'addedAt'),
      };
    }),
  };
}

/**
 * One audit line read back, checked.
 * @throws {StoreError} when it is corrupt.
 */
export function auditEntryFromJson(v: unknown): AuditEntry {
  const o = obj(v, 'audit entry');
  const event = str(o.event, 'event');
  if (!(AUDIT_EVENTS as readonly string[]).includes(event)) corrupt('audit event');
  return {
    ...(o as object),
    at: num(o.at, 'at'),
    event: event as AuditEntry['event'],
    keyId: str(o.keyId, 'keyId'),
    result: str(o.result, 'result'),
  };
}
