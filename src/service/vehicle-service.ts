/**
 * The car as a whole: its durable identity and key registry, policy, actuator, audit log, pairing
 * mode, and one vehicle session per connected phone. Administrative commands from owners
 * (`list-keys`, `revoke`, `advertising-secret`) are handled here; everything else goes to the
 * application's actuator — one physical action at a time for the whole car.
 *
 * Durability: enrollments (pairing, grants) and revocations are saved atomically **before** the
 * phone is answered; audit entries are appended in order and flushed before `serve` resolves
 * (kept off the unlock's critical path: no fsync between command and result).
 *
 * Robustness: `serve` never rejects; at most `maxUnauthenticated` connections may be waiting
 * for (or doing) their handshake, the oldest is dropped for a new one; handshakes run one at a
 * time; unauthenticated audit entries are rate-limited; time never goes below the persisted
 * clock floor (`TrustedClock`).
 */
import { softwareKey, type KeyCustody } from '../crypto/custody.js';
import { generateP256KeyPair } from '../crypto/keygen.js';
import { nobleCrypto } from '../crypto/noble.js';
import type { Clock, CryptoProvider, RandomSource } from '../crypto/provider.js';
import { systemRandom } from '../crypto/random.js';
import { asProxkeyError, LocalError, notifyObserver, ProxkeyError } from '../errors.js';
import type { AuditLimiterOptions } from '../keys/audit-limiter.js';
import { carIdOf } from '../keys/grant.js';
import { windowDenial, type KeyRecord } from '../keys/key-record.js';
import { KeyRegistry, type LocalRevokeOptions, type RevokeResult } from '../keys/key-registry.js';
import { PairingMode, type PairingModeOptions } from '../keys/pairing-mode.js';
import type { AuditEntry } from '../keys/state.js';
import type { VehicleStore } from '../keys/store.js';
import { TrustedClock } from '../keys/trusted-clock.js';
import { defaultPolicy } from '../policy/default-policy.js';
import type { Policy, VehicleHooks } from '../policy/types.js';
import { ADVERTISING_SECRET_LENGTH } from '../protocol/advertising-id.js';
import type { PhoneInfo } from '../protocol/pairing.js';
import type { DenyReason } from '../protocol/reasons.js';
import type { ProximityDecision } from '../proximity/engine.js';
import { ActuationLock, runActuator } from '../transport/actuation.js';
import type { Link } from '../transport/link.js';
import { createSerialLane } from '../transport/serial-lane.js';
import { serveVehicleSession, type Actuator, type ServeSummary, type ServeVehicleOptions } from '../transport/vehicle-driver.js';
import type { VehicleEvent } from '../transport/vehicle-event.js';
import { runAdminCommand } from './admin-commands.js';
import { ConnectionAdmission, MAX_UNAUTHENTICATED_CONNECTIONS, UNAUTHENTICATED_GRACE_MS, type AdmittedConnection } from './admission.js';
import { AuditTrail, lastAuditTime } from './audit-trail.js';
import { PassiveEntryOrder, runPassiveEntry, type PassiveEntryResult } from './passive-entry.js';

export { MAX_UNAUTHENTICATED_CONNECTIONS, UNAUTHENTICATED_GRACE_MS } from './admission.js';

/** Options of `VehicleService.open`. */
export interface VehicleServiceOptions {
  readonly store: VehicleStore;
  readonly actuator: Actuator;
  readonly crypto?: CryptoProvider;
  readonly random?: RandomSource;
  /** Wall-clock ms since the Unix epoch (validity windows, audit). Default `Date.now`. */
  readonly now?: Clock;
  /** A clock that never jumps, for time elapsed while the wall clock is behind (`TrustedClock`). Default `performance.now`. */
  readonly monotonic?: Clock;
  readonly policy?: Policy;
  readonly hooks?: VehicleHooks;
  /** The car's key in external custody (HSM, TPM). Default: a software key kept in the store. */
  readonly identity?: KeyCustody;
  readonly name?: string;
  /** Passed to every session (timeouts, suites, lifetime…). */
  readonly session?: Partial<Omit<ServeVehicleOptions, 'actuator' | 'keys' | 'identity' | 'policy' | 'crypto' | 'random' | 'now'>>;
  /**
   * Observers for UIs and logs: every session event, the session's key id once known, and the
   * link it happened on (the object `serve(link)` was given).
   */
  readonly onEvent?: (event: VehicleEvent, keyId: string | undefined, link: Link) => void;
  /**
   * Failures that belong to no session's answer (an audit append that failed, an unexpected
   * error a session survived). The car goes on serving. Exceptions thrown here are ignored.
   */
  readonly onError?: (error: ProxkeyError) => void;
  /**
   * At most this many connections may be unauthenticated at once (waiting for or doing their
   * handshake, or pairing). Beyond it a new connection evicts one: the oldest that has been
   * connected longer than `unauthenticatedGraceMs` (a phone answers well within it), else the
   * oldest. Default 128.
   */
  readonly maxUnauthenticated?: number;
  /** See `maxUnauthenticated`. Default 1 000 ms. */
  readonly unauthenticatedGraceMs?: number;
  /** Rate limit for unauthenticated audit entries (default 10 per 60 s, then one summary). */
  readonly auditLimits?: AuditLimiterOptions;
}

/** The car as a whole: identity, key registry, policy, actuator, audit, pairing mode, and a session per connected phone. */
export class VehicleService {
  readonly registry: KeyRegistry;
  readonly identity: KeyCustody;
  readonly name: string;
  readonly #options: VehicleServiceOptions;
  readonly #crypto: CryptoProvider;
  readonly #random: RandomSource;
  readonly #now: Clock;
  readonly #policy: Policy;
  readonly #hooks: VehicleHooks | undefined;
  readonly #sessions = new Map<string, Set<(reason: DenyReason) => void>>();
  /** Set by `stopSessions`: every session, open or yet to authenticate, ends with it. */
  #stoppedWith: DenyReason | undefined;
  #pairing: PairingMode | undefined;
  readonly #secretListeners = new Set<(secret: Uint8Array) => void>();
  readonly #audit: AuditTrail;
  readonly #clock: TrustedClock;
  readonly #actuation = new ActuationLock();
  readonly #passiveEntryOrder = new PassiveEntryOrder();
  readonly #handshakeLane = createSerialLane();
  readonly #admission: ConnectionAdmission;

  private constructor(o: VehicleServiceOptions, registry: KeyRegistry, identity: KeyCustody, clock: TrustedClock) {
    this.#options = o;
    this.registry = registry;
    this.identity = identity;
    this.#crypto = o.crypto ?? nobleCrypto;
    this.#random = o.random ?? systemRandom;
    this.#clock = clock;
    this.#now = clock.now;
    this.#policy = o.policy ?? defaultPolicy();
    this.#hooks = o.hooks;
    this.name = o.name ?? registry.state.name ?? 'car';
    this.#audit = new AuditTrail(o.store, this.#now, o.auditLimits);
    this.#admission = new ConnectionAdmission(o.maxUnauthenticated ?? MAX_UNAUTHENTICATED_CONNECTIONS, o.unauthenticatedGraceMs ?? UNAUTHENTICATED_GRACE_MS);
  }

  /**
   * Load the car's state (a corrupt store throws `StoreError`, never resets). On first start,
   * create the car's key and advertising secret and persist them before serving anyone.
   */
  static async open(options: VehicleServiceOptions): Promise<VehicleService> {
    // The name travels in PAIR_DONE and shares (at most 64 UTF-8 bytes): refuse it now, not at the first pairing.
    if (options.name !== undefined && new TextEncoder().encode(options.name).length > 64)
      throw new LocalError('ERR_INVALID_ARGUMENT', 'car name: at most 64 bytes (UTF-8)');
    const crypto = options.crypto ?? nobleCrypto;
    const random = options.random ?? systemRandom;
    const registry = await KeyRegistry.open({ store: options.store, crypto });
    const floor = Math.max(registry.state.timeFloor ?? 0, await lastAuditTime(options.store));
    const clock = new TrustedClock(options.now ?? Date.now, floor, ...(options.monotonic ? [options.monotonic] : []));
    registry.setClock(clock.now);
    if (!registry.state.advertisingSecret || (!options.identity && !registry.state.identity)) {
      const secret = options.identity ? undefined : (await generateP256KeyPair(crypto, random)).secretKey;
      await registry.update((s) => ({
        state: {
          ...s,
          ...(secret && !s.identity && { identity: { secretKey: secret } }),
          ...(!s.advertisingSecret && { advertisingSecret: random(32) }),
          ...(options.name !== undefined && { name: options.name }),
        },
        value: undefined,
      }));
    }
    const stored = registry.state.identity;
    if (!options.identity && !stored) throw new ProxkeyError('ERR_INTERNAL', 'vehicle state has no identity after initialisation');
    const identity = options.identity ?? (await softwareKey(crypto, stored?.secretKey ?? new Uint8Array(0)));
    registry.setVehicleKey(identity.publicKey);
    return new VehicleService(options, registry, identity, clock);
  }

  /**
   * The car's trusted time (ms since the Unix epoch): its clock, never below the persisted floor.
   * Pass it wherever the car needs time (e.g. the BLE peripheral's advertising epochs).
   */
  get now(): () => number {
    return this.#clock.now;
  }

  /** True while the car's wall clock is behind time it has already seen (reset clock, no RTC yet). */
  get clockBehind(): boolean {
    return this.#clock.behind;
  }

  /** Save the current trusted time as the clock floor (a daemon calls this now and then, e.g. hourly). */
  async persistTimeFloor(): Promise<void> {
    await this.registry.update((s) => ({ state: { ...s }, value: undefined }));
  }

  /** hex(SHA-256(car key)[0..16]): names the car in grants. */
  get carId(): string {
    return carIdOf(this.#crypto, this.identity.publicKey);
  }

  /** The secret the car's rotating advertising ids are derived from (created at first start, renewed at each revocation). */
  get advertisingSecret(): Uint8Array {
    const secret = this.registry.state.advertisingSecret;
    if (!secret) throw new ProxkeyError('ERR_INTERNAL', 'vehicle state has no advertising secret');
    return secret;
  }

  /**
   * Serve one connected, subscribed phone until its session ends. Never rejects — whatever the
   * phone, the store or the integrator's callbacks do; failures outside a session's answer go to
   * `onError`.
   */
  async serve(link: Link, options: { readonly signal?: AbortSignal } = {}): Promise<ServeSummary> {
    const { connection, release } = this.#admission.admit(options.signal);
    try {
      return await serveVehicleSession(link, this.#sessionOptions(link, connection));
    } finally {
      release();
      await this.flushAudit().catch((e: unknown) => this.#reportError(e));
    }
  }

  #sessionOptions(link: Link, connection: AdmittedConnection): ServeVehicleOptions {
    let keyId: string | undefined;
    return {
      ...this.#options.session,
      signal: connection.control.signal,
      crypto: this.#crypto,
      random: this.#random,
      now: this.#now,
      ...(this.#options.monotonic && { monotonic: this.#options.monotonic }),
      identity: this.identity,
      keys: this.registry,
      policy: this.#policy,
      ...(this.#hooks && { hooks: this.#hooks }),
      actuator: this.#options.actuator,
      actuationLock: this.#actuation,
      admin: (command, key) => runAdminCommand(this.#adminTarget, command, key),
      handshakeLane: this.#handshakeLane,
      onEvent: (e) => {
        if (e.type === 'authenticated') keyId = e.keyId;
        // Trusted (never evicted, always audited): a key that is enrolled and valid right now,
        // or one its grant just enrolled. Revoked or expired keys are treated as strangers.
        if ((e.type === 'authenticated' && this.isActiveKey(e.keyId)) || e.type === 'enrolled') connection.trusted = true;
        if (e.type === 'error' && e.error.code === 'ERR_INTERNAL') this.#reportError(e.error);
        this.#audit.record(e, connection.trusted);
        notifyObserver(() => this.#options.onEvent?.(e, keyId, link));
      },
      onSession: (id, end) => this.#trackSession(id, end),
      pairing: { authority: () => this.#pairing, enrollOwner: (phone) => this.#enrollOwner(phone) },
      onPairingEvent: (e) => {
        if (e.type === 'error') this.#audit.log({ at: this.#now(), event: 'pairing', keyId: '', result: 'failed', detail: e.error.message });
      },
    };
  }

  readonly #adminTarget = {
    listKeys: () => this.registry.list(),
    advertisingSecret: () => this.advertisingSecret,
    revoke: (target: string, by: string, options: LocalRevokeOptions) => this.revoke(target, by, options),
    reportError: (e: unknown) => this.#reportError(e),
  };

  /**
   * For shutdown: end every authenticated session from outside, and every session that
   * authenticates from now on (docs/PROTOCOL.md §5 "Ended from outside"). A command waiting for
   * the actuator is denied with `reason` and drives nothing; one already running completes and its
   * RESULT is sent, then CLOSE(`reason`). Passive-entry decisions are no longer acted on (answered
   * `reason`), also one waiting for the actuator. Irreversible for this instance; then
   * `whenActuationIdle` says when the last physical action has returned. Returns how many sessions
   * it ended.
   */
  stopSessions(reason: DenyReason = 'session-expired'): number {
    this.#stoppedWith ??= reason;
    const ends = [...this.#sessions.values()].flatMap((set) => [...set]);
    for (const end of ends) end(this.#stoppedWith);
    return ends.length;
  }

  /**
   * Resolves `true` once every physical action queued so far (sessions' and passive entry's) has
   * returned, or `false` after `timeoutMs`.
   */
  async whenActuationIdle(timeoutMs: number): Promise<boolean> {
    return (await this.#actuation.run(timeoutMs, async () => true)) === true;
  }

  #trackSession(id: string, end: (reason: DenyReason) => void): () => void {
    if (this.#stoppedWith) end(this.#stoppedWith);
    const set = this.#sessions.get(id) ?? new Set();
    set.add(end);
    this.#sessions.set(id, set);
    return () => {
      set.delete(end);
      if (set.size === 0) this.#sessions.delete(id);
    };
  }

  /** Enroll the phone that proved the pairing code (durably), or say why not. */
  async #enrollOwner(phone: PhoneInfo) {
    let rec: KeyRecord;
    try {
      rec = await this.registry.enroll(phone.publicKey, {
        role: 'owner',
        label: phone.label,
        enrolledAt: this.#now(),
        ...(phone.signingKey && { signingKey: phone.signingKey }),
      });
    } catch (e) {
      const reason: DenyReason = e instanceof LocalError && e.code === 'ERR_INVALID_STATE' ? 'revoked' : 'internal-error';
      if (reason === 'internal-error') this.#reportError(e);
      this.#audit.log({ at: this.#now(), event: 'pairing', keyId: '', result: reason, detail: phone.label });
      return reason;
    }
    this.#audit.log({ at: this.#now(), event: 'pairing', keyId: rec.id, result: 'ok', detail: phone.label });
    return { publicKey: this.identity.publicKey, advertisingSecret: this.advertisingSecret, keyId: rec.id, name: this.name };
  }

  /**
   * Enter pairing mode (an explicit local action: a button, the CLI). Returns the 8-digit code and
   * the QR payload to show; the car keeps only SPAKE2+ verifier values.
   */
  async openPairing(options: Partial<Omit<PairingModeOptions, 'crypto' | 'random' | 'now'>> = {}) {
    this.#pairing?.cancel();
    const { mode, code, payload } = await PairingMode.open({
      crypto: this.#crypto,
      random: this.#random,
      now: this.#now,
      carName: this.name,
      carId: this.carId,
      ...options,
    });
    this.#pairing = mode;
    return { code, payload, expiresAt: mode.expiresAt };
  }

  cancelPairing(): void {
    this.#pairing?.cancel();
  }

  get pairingStatus() {
    return this.#pairing?.status() ?? 'closed';
  }

  /**
   * Revoke a key (16-hex id) or grant (32-hex id): durable first, then every open session of that
   * key is closed with `revoked`. Refuses to revoke the last owner.
   */
  async revoke(target: string, by = 'local', options: LocalRevokeOptions = {}): Promise<RevokeResult> {
    // A new advertising secret in the same durable write: the revoked phone keeps the old one and
    // can no longer recognise (track) the car's advertisements; the others fetch the new one.
    const before = this.advertisingSecret;
    const r = await this.registry.revoke(target, {
      advertisingSecret: this.#random(ADVERTISING_SECRET_LENGTH),
      ...(options.cascade && { cascade: true }),
      ...(options.revoker !== undefined && { revoker: options.revoker }),
    });
    const cascaded = r.cascaded ?? [];
    this.#audit.log({
      at: this.#now(),
      event: 'revoke',
      keyId: r.keyId ?? '',
      result: 'ok',
      detail: `${target} by ${by}${cascaded.length ? ` (cascade: ${cascaded.length})` : ''}`,
    });
    for (const id of cascaded) this.#audit.log({ at: this.#now(), event: 'revoke', keyId: id, result: 'ok', detail: `${id} by ${by} (enrolled by ${target})` });
    for (const id of [...(r.keyId ? [r.keyId] : []), ...cascaded]) for (const end of this.#sessions.get(id) ?? []) end('revoked');
    if (this.advertisingSecret === before) return r; // already revoked: nothing changed
    for (const listener of this.#secretListeners) notifyObserver(() => listener(this.advertisingSecret));
    return r;
  }

  /**
   * Called with the new advertising secret whenever it changes (at each revocation), e.g. to
   * re-advertise at once: `car.onAdvertisingSecretChange((s) => peripheral.updateAdvertisingSecret(s))` (a listener that throws or rejects is ignored).
   * Returns a function that removes the listener.
   */
  onAdvertisingSecretChange(listener: (secret: Uint8Array) => void): () => void {
    this.#secretListeners.add(listener);
    return () => void this.#secretListeners.delete(listener);
  }

  /**
   * Act on a proximity engine's decision for `decision.keyId`: `walk-away-lock` locks,
   * `approach-unlock` unlocks — each only if the car's policy allows that command for that key
   * now (`runPassiveEntry`). Audited as `passive-entry` either way. Returns `ok`, the denial
   * reason, or `superseded` (a newer decision for the key got there first: nothing driven); never
   * throws for a policy or actuator refusal.
   */
  async passiveEntry(decision: ProximityDecision): Promise<PassiveEntryResult> {
    // Stopping (`stopSessions`): no decision is acted on any more, nor one that waited for the lock.
    if (this.#stoppedWith) return this.#stoppedWith;
    const findKey = (id: string) => this.registry.state.keys.find((k) => k.id === id);
    const session = this.#options.session;
    return runPassiveEntry(
      {
        findKey,
        policy: this.#policy,
        hooks: this.#hooks,
        order: this.#passiveEntryOrder,
        // as in a session: one physical action at a time, bounded, a throw is `actuator-failed`
        actuate: (command, key, stillCurrent) =>
          runActuator(
            {
              actuator: this.#options.actuator,
              lock: this.#actuation,
              ...(session?.actuatorTimeoutMs !== undefined && { actuatorTimeoutMs: session.actuatorTimeoutMs }),
              ...(session?.actuationWaitMs !== undefined && { actuationWaitMs: session.actuationWaitMs }),
              // it may have waited for the lock: a revocation, or a newer decision for the key, meanwhile means nothing is driven
              stillAllowed: () => this.#stoppedWith ?? (findKey(key.id)?.revoked ? 'revoked' : stillCurrent()),
            },
            command,
            key,
          ),
        now: this.#now,
        log: (entry, unauthenticated) => this.#audit.log(entry, unauthenticated),
        isActiveKey: (id) => this.isActiveKey(id),
      },
      decision,
    );
  }

  /** The audit log, oldest first (after flushing pending entries and the count of suppressed ones). */
  async audit(): Promise<AuditEntry[]> {
    await this.flushAudit({ final: true });
    return this.#options.store.readAudit();
  }

  /**
   * Wait until every audit entry so far is durable. Rethrows the first append failure.
   * `final` (at shutdown, and when the log is read) also writes the pending count of suppressed
   * unauthenticated entries, so none goes uncounted.
   */
  async flushAudit(options: { readonly final?: boolean } = {}): Promise<void> {
    await this.#audit.flush(options);
  }

  #reportError(e: unknown): void {
    notifyObserver(() => this.#options.onError?.(asProxkeyError(e)));
  }

  /** Whether `keyId` is an enrolled key that is not revoked and inside its validity window now (the car's trusted time). */
  isActiveKey(keyId: string): boolean {
    const key = this.registry.state.keys.find((k) => k.id === keyId);
    const now = this.#now();
    return !!key && !key.revoked && windowDenial(key, now) === undefined;
  }
}
