/**
 * The car's key directory over a durable `VehicleStore`: enroll, revoke (keys and grants),
 * redeem grants, list. Every change is saved (atomically, durably) **before** it takes effect in
 * memory or is acknowledged; changes are serialized, so concurrent sessions cannot lose updates.
 */
import { copyOf, equalBytes } from '../bytes.js';
import { nobleCrypto } from '../crypto/noble.js';
import { assertP256PublicKey, p256Uncompressed } from '../crypto/p256.js';
import type { Clock, CryptoProvider } from '../crypto/provider.js';
import { assertArg, LocalError, RemoteError } from '../errors.js';
import { keyIdOf } from '../protocol/key-id.js';
import type { DenyReason } from '../protocol/reasons.js';
import { windowDenial, type KeyDirectory, type KeyRecord } from './key-record.js';
import { carIdOf, decodeGrant, verifyGrantSignature, type Grant } from './grant.js';
import { permissionsCover } from './permissions.js';
import { EMPTY_VEHICLE_STATE, type VehicleState } from './state.js';
import { MemoryVehicleStore, type VehicleStore } from './store.js';

/** Options of `KeyRegistry.enroll`: role, permissions, validity window, label, signing key. */
export interface EnrollOptions {
  readonly role?: KeyRecord['role'];
  /** Default: `['*']` for owners, `['unlock', 'lock']` for shared keys. */
  readonly permissions?: readonly string[];
  readonly notBefore?: number;
  readonly notAfter?: number;
  readonly label?: string;
  /** Owners: the key that signs their grants, if not their static key. */
  readonly signingKey?: Uint8Array;
  readonly enrolledAt?: number;
}

/** Options of {@link KeyRegistry}: its store (default in memory), crypto, the car's key (for grants), the trusted clock. */
export interface KeyRegistryOptions {
  readonly store?: VehicleStore;
  readonly crypto?: CryptoProvider;
  /** This car's static public key: needed to redeem grants (they name the car). */
  readonly vehicleKey?: Uint8Array;
  /** The car's trusted clock: every save records its time as the state's `timeFloor`. */
  readonly clock?: Clock;
}

/** The car's enrolled keys over a `VehicleStore`: enroll, look up, revoke, redeem grants; every change durable before it resolves. */
export class KeyRegistry implements KeyDirectory {
  readonly store: VehicleStore;
  readonly #crypto: CryptoProvider;
  #vehicleKey: Uint8Array | undefined;
  #state: VehicleState = EMPTY_VEHICLE_STATE;
  #queue: Promise<unknown> = Promise.resolve();
  #clock: Clock | undefined;

  constructor(options: KeyRegistryOptions = {}) {
    this.store = options.store ?? new MemoryVehicleStore();
    this.#crypto = options.crypto ?? nobleCrypto;
    this.#vehicleKey = options.vehicleKey;
    this.#clock = options.clock;
  }

  /** Stamp every later save with this clock's time (the persisted clock floor). */
  setClock(clock: Clock): void {
    this.#clock = clock;
  }

  /** Open a registry on a store, loading what it holds (a corrupt store throws `StoreError`). */
  static async open(options: KeyRegistryOptions & { readonly store: VehicleStore }): Promise<KeyRegistry> {
    const reg = new KeyRegistry(options);
    reg.#state = (await options.store.load()) ?? EMPTY_VEHICLE_STATE;
    return reg;
  }

  /** The current (last durably saved) state. */
  get state(): VehicleState {
    return this.#state;
  }

  /** Set the car's static public key (once known), for grant redemption. */
  setVehicleKey(vehicleKey: Uint8Array): void {
    this.#vehicleKey = copyOf(vehicleKey);
  }

  /**
   * Apply a change: compute the new state, save it durably, then make it current. Serialized.
   * `mutate` may throw (nothing is saved) or return a value alongside the new state.
   */
  update<T>(mutate: (s: VehicleState) => { state: VehicleState; value: T }): Promise<T> {
    const run = this.#queue.then(async () => {
      const { state: next, value } = mutate(this.#state);
      if (next !== this.#state) {
        const state = this.#clock ? { ...next, timeFloor: Math.max(next.timeFloor ?? 0, this.#clock()) } : next;
        await this.store.save(state);
        this.#state = state;
      }
      return value;
    });
    this.#queue = run.catch(() => undefined);
    return run;
  }

  /** Enroll (or re-enroll, replacing a non-revoked record) a phone key. Durable before it resolves. */
  async enroll(publicKey: Uint8Array, options: EnrollOptions = {}): Promise<KeyRecord> {
    assertP256PublicKey(publicKey, 'phone public key');
    if (options.signingKey) assertP256PublicKey(options.signingKey, 'signing key');
    const pub = p256Uncompressed(publicKey);
    const role = options.role ?? 'owner';
    assertArg(role === 'owner' || role === 'shared', 'role: owner or shared');
    const record: KeyRecord = Object.freeze({
      id: keyIdOf(this.#crypto, pub),
      publicKey: pub,
      role,
      permissions: Object.freeze([...(options.permissions ?? (role === 'owner' ? ['*'] : ['unlock', 'lock']))]),
      ...(options.notBefore !== undefined && { notBefore: options.notBefore }),
      ...(options.notAfter !== undefined && { notAfter: options.notAfter }),
      ...(options.label !== undefined && { label: options.label }),
      ...(options.signingKey && { signingKey: p256Uncompressed(options.signingKey) }),
      ...(options.enrolledAt !== undefined && { enrolledAt: options.enrolledAt }),
    });
    return this.update((s) => {
      const existing = s.keys.find((k) => k.id === record.id);
      if (existing?.revoked) throw new LocalError('ERR_INVALID_STATE', `key ${record.id} was revoked and cannot be enrolled again`);
      return { state: { ...s, keys: [...s.keys.filter((k) => k.id !== record.id), record] }, value: record };
    });
  }

  /**
   * Revoke a key (by 16-hex key id) or a grant (by 32-hex grant id). A revoked key's grant is
   * revoked too, so it can never enroll again. Refuses to revoke the last active owner. With
   * `advertisingSecret`, the car's advertising secret is replaced in the same write (unless the
   * target was already revoked: nothing changes then).
   */
  async revoke(target: string, options: RevokeOptions = {}): Promise<RevokeResult> {
    const fresh = options.advertisingSecret && { advertisingSecret: copyOf(options.advertisingSecret) };
    return this.update<RevokeResult>((s) => {
      if (options.revoker !== undefined) {
        const revoker = s.keys.find((k) => k.id === options.revoker);
        if (!revoker || revoker.revoked || revoker.role !== 'owner') throw new RevokerNotActiveError(options.revoker);
      }
      // with `advertisingSecret`: replaced in the same durable write, if the revocation changes anything
      const secret = (changed: boolean) => (fresh && changed ? fresh : {});
      if (/^[0-9a-f]{32}$/.test(target)) {
        const key = s.keys.find((k) => k.grantId === target);
        const keys = key ? s.keys.map((k) => (k === key ? Object.freeze({ ...k, revoked: true }) : k)) : s.keys;
        const changed = !s.revokedGrants.includes(target) || (!!key && !key.revoked);
        const revokedGrants = s.revokedGrants.includes(target) ? s.revokedGrants : [...s.revokedGrants, target];
        return { state: { ...s, keys, revokedGrants, ...secret(changed) }, value: { grantId: target, ...(key && { keyId: key.id }) } };
      }
      const key = s.keys.find((k) => k.id === target);
      if (!key) throw new LocalError('ERR_INVALID_ARGUMENT', `no key with id ${target}`);
      if (key.role === 'owner' && !key.revoked && s.keys.filter((k) => k.role === 'owner' && !k.revoked).length === 1)
        throw new LocalError('ERR_INVALID_STATE', 'refusing to revoke the last owner key (pair another owner first)');
      // With `cascade`: the shared keys this owner enrolled go with it, in the same write.
      const hit = (k: KeyRecord) => k === key || (!!options.cascade && k.issuerKeyId === key.id && !k.revoked);
      const also = s.keys.filter((k) => k !== key && hit(k)).map((k) => k.id);
      const keys = s.keys.map((k) => (hit(k) ? Object.freeze({ ...k, revoked: true }) : k));
      const newGrants = s.keys.filter((k) => hit(k) && k.grantId && !s.revokedGrants.includes(k.grantId)).map((k) => k.grantId!);
      const revokedGrants = newGrants.length ? [...s.revokedGrants, ...newGrants] : s.revokedGrants;
      const changed = !key.revoked || revokedGrants !== s.revokedGrants || also.length > 0;
      const value: RevokeResult = { keyId: key.id, ...(key.grantId && { grantId: key.grantId }), ...(also.length && { cascaded: also }) };
      return { state: { ...s, keys, revokedGrants, ...secret(changed) }, value };
    });
  }

  async get(id: string): Promise<KeyRecord | undefined> {
    return this.#state.keys.find((k) => k.id === id);
  }

  async list(): Promise<KeyRecord[]> {
    return [...this.#state.keys];
  }

  async findKey(publicKey: Uint8Array): Promise<KeyRecord | undefined> {
    const id = keyIdOf(this.#crypto, publicKey);
    const rec = this.#state.keys.find((k) => k.id === id);
    return rec && equalBytes(rec.publicKey, publicKey) ? rec : undefined;
  }

  /** Check a grant presented by `presenter` and enroll it (durably) — or say why not. */
  async redeemGrant(bytes: Uint8Array, presenter: Uint8Array, now: number): Promise<KeyRecord | DenyReason> {
    let grant: Grant;
    try {
      grant = decodeGrant(bytes);
    } catch (e) {
      if (e instanceof RemoteError) return 'invalid-grant';
      throw e;
    }
    if (!this.#vehicleKey) return 'unsupported';
    if (grant.carId !== carIdOf(this.#crypto, this.#vehicleKey)) return 'invalid-grant';
    if (!equalBytes(grant.subject, presenter)) return 'invalid-grant';
    const issuer = await this.get(grant.issuerKeyId);
    if (!issuer) return 'invalid-grant';
    if (!(await verifyGrantSignature(this.#crypto, grant, issuer.signingKey ?? issuer.publicKey))) return 'invalid-grant';
    if (issuer.revoked || this.#state.revokedGrants.includes(grant.grantId)) return 'revoked';
    if (issuer.role !== 'owner' || !permissionsCover(issuer.permissions, grant.permissions)) return 'not-permitted';
    // The issuer must be valid now, as at every command of its own: an owner outside its window
    // cannot delegate.
    const issuerDenial = windowDenial(issuer, now);
    if (issuerDenial) return issuerDenial;
    // A grant is bounded by its issuer's window: the friend's window is the intersection.
    const window = intersectWindows(grant, issuer);
    // An expired grant enrolls nothing; a future window enrolls now and the policy waits for it.
    if (window.notAfter !== undefined && now > window.notAfter) return 'expired';
    const record: KeyRecord = Object.freeze({
      id: keyIdOf(this.#crypto, presenter),
      publicKey: copyOf(presenter),
      role: 'shared',
      permissions: Object.freeze([...grant.permissions]),
      ...window,
      ...(grant.label !== '' && { label: grant.label }),
      grantId: grant.grantId,
      issuerKeyId: grant.issuerKeyId,
      enrolledAt: now,
    });
    return this.update((s) => {
      // Re-check inside the serialized section: a revocation may have landed meanwhile.
      const issuerNow = s.keys.find((k) => k.id === grant.issuerKeyId);
      if (s.revokedGrants.includes(grant.grantId) || !issuerNow || issuerNow.revoked) return { state: s, value: 'revoked' as const };
      const existing = s.keys.find((k) => k.id === record.id);
      if (existing) return { state: s, value: existing.revoked ? ('revoked' as const) : existing };
      return { state: { ...s, keys: [...s.keys, record] }, value: record };
    });
  }
}

export interface RevokeOptions {
  /** Replace the car's advertising secret in the same write (when the revocation changes anything). */
  readonly advertisingSecret?: Uint8Array;
  /** Key ids only: also revoke every (not yet revoked) shared key this owner enrolled. */
  readonly cascade?: boolean;
  /**
   * The key id of the phone asking (an owner's `revoke` command): checked in the same serialized
   * update, so a phone revoked a moment earlier can no longer revoke anyone.
   */
  readonly revoker?: string;
}

/** What a caller of the car's revoke chooses (the advertising secret is the car's own). */
export type LocalRevokeOptions = Pick<RevokeOptions, 'cascade' | 'revoker'>;

/** The revoking phone's key is no longer an active owner (revoked meanwhile). */
export class RevokerNotActiveError extends LocalError {
  constructor(keyId: string) {
    super('ERR_INVALID_STATE', `key ${keyId} is no longer an active owner: it cannot revoke`);
    this.name = 'RevokerNotActiveError';
  }
}

export type RevokeResult = {
  readonly keyId?: string;
  readonly grantId?: string;
  /** With `cascade`: the shared keys revoked with it. */
  readonly cascaded?: readonly string[];
};

/** The grant's window (0 = unbounded) narrowed to its issuer's window. */
function intersectWindows(grant: Grant, issuer: KeyRecord): { notBefore?: number; notAfter?: number } {
  const starts = [grant.notBefore || undefined, issuer.notBefore].filter((t): t is number => t !== undefined);
  const ends = [grant.notAfter || undefined, issuer.notAfter].filter((t): t is number => t !== undefined);
  return {
    ...(starts.length && { notBefore: Math.max(...starts) }),
    ...(ends.length && { notAfter: Math.min(...ends) }),
  };
}

/**
 * A key registry on a fresh in-memory store: for tests, the demo and simulations.
 * @param crypto the provider (default: the pure-TS `nobleCrypto`).
 * @param vehicleKey the car's public key, when grants are to be redeemed.
 */
export class MemoryKeyRegistry extends KeyRegistry {
  constructor(crypto: CryptoProvider = nobleCrypto, vehicleKey?: Uint8Array) {
    super({ crypto, ...(vehicleKey && { vehicleKey }) });
  }
}

/** @deprecated Renamed {@link MemoryKeyRegistry} (it is a registry on an in-memory store, not a store); this alias stays for existing code. */
export const MemoryKeyStore = MemoryKeyRegistry;
/** @deprecated Renamed {@link MemoryKeyRegistry}. */
export type MemoryKeyStore = MemoryKeyRegistry;
