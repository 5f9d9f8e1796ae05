/**
 * The car as a whole: its durable identity and key registry, policy, actuator, audit log, pairing
 * mode, and one vehicle session per connected phone. Administrative commands from owners
 * (`list-keys`, `revoke`) are handled here; everything else goes to the application's actuator.
 *
 * Durability: enrollments (pairing, grants) and revocations are saved atomically **before** the
 * phone is answered; audit entries are appended in order and flushed before `serve` resolves
 * (kept off the unlock's critical path: no fsync between command and result).
 */
import { softwareKey, type KeyCustody } from '../crypto/custody.js';
import { generateP256KeyPair } from '../crypto/keygen.js';
import { nobleCrypto } from '../crypto/noble.js';
import type { Clock, CryptoProvider, RandomSource } from '../crypto/provider.js';
import { systemRandom } from '../crypto/random.js';
import { LocalError } from '../errors.js';
import { carIdOf } from '../keys/grant.js';
import { KeyRegistry } from '../keys/key-registry.js';
import { encodeKeyList } from '../keys/key-list.js';
import { PairingMode, type PairingModeOptions } from '../keys/pairing-mode.js';
import type { AuditEntry } from '../keys/state.js';
import type { VehicleStore } from '../keys/store.js';
import { defaultPolicy } from '../policy/default-policy.js';
import { ADVERTISING_SECRET_LENGTH } from '../protocol/advertising-id.js';
import { commandName, toCommand, type Command } from '../protocol/commands.js';
import type { ProximityDecision } from '../proximity/engine.js';
import type { DenyReason } from '../protocol/reasons.js';
import type { ExecutionOutcome } from '../roles/vehicle-session.js';
import type { KeyRecord, Policy, ProximityVerdict, RangingVerdict, VehicleEvent, VehicleHooks } from '../roles/types.js';
import type { Link } from '../transport/link.js';
import { runActuator, serveVehicleSession, type Actuator, type ServeSummary, type ServeVehicleOptions } from '../transport/vehicle-driver.js';

export interface VehicleServiceOptions {
  readonly store: VehicleStore;
  readonly actuator: Actuator;
  readonly crypto?: CryptoProvider;
  readonly random?: RandomSource;
  /** Wall-clock ms since the Unix epoch (validity windows, audit). Default `Date.now`. */
  readonly now?: Clock;
  readonly policy?: Policy;
  readonly hooks?: VehicleHooks;
  /** The car's key in external custody (HSM, TPM). Default: a software key kept in the store. */
  readonly identity?: KeyCustody;
  readonly name?: string;
  /** Passed to every session (timeouts, suites, lifetime…). */
  readonly session?: Partial<Omit<ServeVehicleOptions, 'actuator' | 'keys' | 'identity' | 'policy' | 'crypto' | 'random' | 'now'>>;
  /** Observers for UIs and logs. */
  readonly onEvent?: (event: VehicleEvent, keyId: string | undefined) => void;
}

export class VehicleService {
  readonly registry: KeyRegistry;
  readonly identity: KeyCustody;
  readonly name: string;
  readonly #o: VehicleServiceOptions;
  readonly #crypto: CryptoProvider;
  readonly #random: RandomSource;
  readonly #now: Clock;
  readonly #policy: Policy;
  readonly #sessions = new Map<string, Set<(reason: DenyReason) => void>>();
  #pairing: PairingMode | undefined;
  readonly #secretListeners = new Set<(secret: Uint8Array) => void>();
  #audit: Promise<void> = Promise.resolve();
  #auditError: unknown;

  private constructor(o: VehicleServiceOptions, registry: KeyRegistry, identity: KeyCustody) {
    this.#o = o;
    this.registry = registry;
    this.identity = identity;
    this.#crypto = o.crypto ?? nobleCrypto;
    this.#random = o.random ?? systemRandom;
    this.#now = o.now ?? Date.now;
    this.#policy = o.policy ?? defaultPolicy();
    this.name = o.name ?? registry.state.name ?? 'car';
  }

  /**
   * Load the car's state (a corrupt store throws `StoreError`, never resets). On first start,
   * create the car's key and advertising secret and persist them before serving anyone.
   */
  static async open(options: VehicleServiceOptions): Promise<VehicleService> {
    const crypto = options.crypto ?? nobleCrypto;
    const random = options.random ?? systemRandom;
    const registry = await KeyRegistry.open({ store: options.store, crypto });
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
    const identity = options.identity ?? (await softwareKey(crypto, registry.state.identity!.secretKey));
    registry.setVehicleKey(identity.publicKey);
    return new VehicleService(options, registry, identity);
  }

  /** hex(SHA-256(car key)[0..16]): names the car in grants. */
  get carId(): string {
    return carIdOf(this.#crypto, this.identity.publicKey);
  }

  get advertisingSecret(): Uint8Array {
    return this.registry.state.advertisingSecret!;
  }

  /** Serve one connected, subscribed phone until its session ends. Never throws for what the phone does. */
  async serve(link: Link, options: { readonly signal?: AbortSignal } = {}): Promise<ServeSummary> {
    let keyId: string | undefined;
    const summary = await serveVehicleSession(link, {
      ...this.#o.session,
      ...options,
      crypto: this.#crypto,
      random: this.#random,
      now: this.#now,
      identity: this.identity,
      keys: this.registry,
      policy: this.#policy,
      ...(this.#o.hooks && { hooks: this.#o.hooks }),
      actuator: (command, key) => this.#execute(command, key),
      onEvent: (e) => {
        if (e.type === 'authenticated') keyId = e.keyId;
        this.#record(e);
        try {
          this.#o.onEvent?.(e, keyId);
        } catch {
          /* observers must not break the car */
        }
      },
      onSession: (id, end) => {
        const set = this.#sessions.get(id) ?? new Set();
        set.add(end);
        this.#sessions.set(id, set);
        return () => {
          set.delete(end);
          if (set.size === 0) this.#sessions.delete(id);
        };
      },
      pairing: {
        authority: () => this.#pairing,
        enrollOwner: async (phone) => {
          const rec = await this.registry.enroll(phone.publicKey, {
            role: 'owner',
            label: phone.label,
            enrolledAt: this.#now(),
            ...(phone.signingKey && { signingKey: phone.signingKey }),
          });
          this.#log({ at: this.#now(), event: 'pairing', keyId: rec.id, result: 'ok', detail: phone.label });
          return { publicKey: this.identity.publicKey, advertisingSecret: this.advertisingSecret, keyId: rec.id, name: this.name };
        },
      },
      onPairingEvent: (e) => {
        if (e.type === 'error') this.#log({ at: this.#now(), event: 'pairing', keyId: '', result: 'failed', detail: e.error.message });
      },
    });
    await this.flushAudit();
    return summary;
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
  async revoke(target: string, by = 'local'): Promise<{ keyId?: string; grantId?: string }> {
    // A new advertising secret in the same durable write: the revoked phone keeps the old one and
    // can no longer recognise (track) the car's advertisements; the others fetch the new one.
    const before = this.advertisingSecret;
    const r = await this.registry.revoke(target, { advertisingSecret: this.#random(ADVERTISING_SECRET_LENGTH) });
    this.#log({ at: this.#now(), event: 'revoke', keyId: r.keyId ?? '', result: 'ok', detail: `${target} by ${by}` });
    if (r.keyId) for (const end of this.#sessions.get(r.keyId) ?? []) end('revoked');
    if (this.advertisingSecret === before) return r; // already revoked: nothing changed
    for (const listener of this.#secretListeners) {
      try {
        listener(this.advertisingSecret);
      } catch {
        /* observers must not break the car */
      }
    }
    return r;
  }

  /**
   * Called with the new advertising secret whenever it changes (at each revocation), e.g. to
   * re-advertise at once: `car.onAdvertisingSecretChange((s) => void peripheral.updateAdvertisingSecret(s))`.
   * Returns a function that removes the listener.
   */
  onAdvertisingSecretChange(listener: (secret: Uint8Array) => void): () => void {
    this.#secretListeners.add(listener);
    return () => void this.#secretListeners.delete(listener);
  }

  /**
   * Act on a proximity engine's decision for `decision.keyId`: `walk-away-lock` locks,
   * `approach-unlock` unlocks — each only if the car's policy allows that command for that key
   * now (revoked, expired, not permitted, intent or ranging required… all deny), with the zone
   * the decision implies as the proximity verdict and no handshake RTT (the key's samples come
   * from a link its session authenticated). Audited as `passive-entry` either way. Returns `ok`
   * or the denial reason; never throws for a policy or actuator refusal.
   */
  async passiveEntry(decision: ProximityDecision): Promise<'ok' | DenyReason> {
    const command = toCommand(decision.type === 'walk-away-lock' ? 'lock' : 'unlock');
    const name = commandName(command);
    const key = this.registry.state.keys.find((k) => k.id === decision.keyId);
    const zone: ProximityVerdict['zone'] = decision.type === 'walk-away-lock' ? (decision.cause === 'far' ? 'far' : 'unknown') : 'near';
    const proximity: ProximityVerdict = decision.distanceM === undefined || zone === 'unknown' ? { zone } : { zone, distanceM: decision.distanceM };
    let result: 'ok' | DenyReason = 'unknown-key';
    if (key) {
      const ranging = await Promise.resolve(this.#o.hooks?.ranging?.(key.id, command)).catch(() => ({ ok: false }) as RangingVerdict);
      const verdict = await this.#policy({ key, command, commandName: name, intent: false, rttMs: 0, sessionAgeMs: 0, now: this.#now(), proximity, ranging });
      if (!verdict.allow) result = verdict.reason;
      else {
        // as in a session: bounded, and a throw is `actuator-failed`
        const outcome = await runActuator({ actuator: this.#o.actuator, ...(this.#o.session?.actuatorTimeoutMs !== undefined && { actuatorTimeoutMs: this.#o.session.actuatorTimeoutMs }) }, command, key);
        result = outcome.ok ? 'ok' : outcome.reason;
      }
    }
    this.#log({
      at: this.#now(),
      event: 'passive-entry',
      keyId: decision.keyId,
      command: name,
      result,
      proximity: zone,
      detail: `${decision.type} (${decision.cause}${decision.distanceM === undefined ? '' : `, ${decision.distanceM.toFixed(1)} m`})`,
    });
    return result;
  }

  /** The audit log, oldest first (after flushing pending entries). */
  async audit(): Promise<AuditEntry[]> {
    await this.flushAudit();
    return this.#o.store.readAudit();
  }

  /** Wait until every audit entry so far is durable. Rethrows the first append failure. */
  async flushAudit(): Promise<void> {
    await this.#audit;
    if (this.#auditError) {
      const e = this.#auditError;
      this.#auditError = undefined;
      throw e;
    }
  }

  async #execute(command: Command, key: KeyRecord): Promise<ExecutionOutcome | void> {
    if (command.kind === 'list-keys') return { ok: true, data: encodeKeyList(await this.registry.list(), command.page ?? 0) };
    if (command.kind === 'advertising-secret') return { ok: true, data: this.advertisingSecret.slice() };
    if (command.kind === 'revoke') {
      try {
        await this.revoke(command.target, key.id);
        return { ok: true };
      } catch (e) {
        if (e instanceof LocalError) return { ok: false, reason: e.code === 'ERR_INVALID_ARGUMENT' ? 'unknown-key' : 'not-permitted' };
        throw e;
      }
    }
    return this.#o.actuator(command, key);
  }

  #record(e: VehicleEvent): void {
    if (e.type === 'decision')
      this.#log({
        at: e.at,
        event: 'command',
        keyId: e.keyId,
        ...(e.command && { command: commandName(e.command) }),
        result: e.result,
        rttMs: Math.round(e.rttMs * 10) / 10,
        intent: e.intent,
        ...(e.proximity && { proximity: e.proximity.zone }),
        ...(e.ranging && { ranging: e.ranging.ok }),
      });
    else if (e.type === 'enrolled')
      this.#log({ at: this.#now(), event: 'enroll', keyId: e.key.id, result: 'ok', detail: `grant ${e.key.grantId} from ${e.key.issuerKeyId}` });
  }

  #log(entry: AuditEntry): void {
    this.#audit = this.#audit.then(
      () => this.#o.store.appendAudit(entry),
    ).catch((err: unknown) => {
      this.#auditError ??= err;
    });
  }
}
