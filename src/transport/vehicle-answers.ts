/**
 * Answering the vehicle role's requests (`find-key`, `redeem-grant`, `authorize`) from the car's
 * key directory, policy and hooks — the application code the role itself never awaits. One
 * instance per session: it remembers the key record the lookup found, which the policy, the
 * actuator and the audit are then given. Lookups, the policy and the hooks are bounded and fail
 * closed (a directory that throws or hangs is `failed`, never a known key; a hung policy denies
 * `internal-error`). A grant redemption is not time-bounded: it must persist before it answers,
 * and a late answer must not turn a durable enrollment into a failure.
 */
import { notifyObserver } from '../errors.js';
import type { KeyDirectory, KeyRecord } from '../keys/key-record.js';
import { authorizeCommand } from '../policy/authorize.js';
import type { Policy, VehicleHooks } from '../policy/types.js';
import { isDenyReason } from '../protocol/reasons.js';
import type { VehicleAnswer, VehicleRequest } from '../roles/vehicle-requests.js';
import { boundedHooks, boundedPolicy } from './bounded-callbacks.js';
import { withDeadline } from './deadline.js';

/**
 * Bound on the key-directory lookup of a command (a directory is local: memory or disk). With the
 * re-check's bound and the other bounds (PROTOCOL.md §6) the car answers a physical command within
 * 24 s, inside the phone's 25 s wait for its RESULT.
 */
export const KEY_DIRECTORY_TIMEOUT_MS = 2_000;
/** Bound on the re-check right before acting, made while the one-action lock is held (others wait). */
export const KEY_RECHECK_TIMEOUT_MS = 1_000;

/** What `VehicleAnswerer` answers from. */
export interface VehicleAnswererOptions {
  readonly keys: KeyDirectory;
  readonly policy: Policy;
  readonly hooks?: VehicleHooks;
  /** Identifies the connection to the hooks (the link). */
  readonly connection?: object;
  /** A grant enrolled this key (already durable). */
  readonly onEnrolled?: (key: KeyRecord) => void;
}

type Answerable = Exclude<VehicleRequest, { type: 'execute' }>;

/** Answers the vehicle role's find-key, redeem-grant and authorize requests from a key directory, policy and hooks (bounded, fail-closed). */
export class VehicleAnswerer {
  readonly #options: VehicleAnswererOptions;
  #key: KeyRecord | undefined;

  constructor(options: VehicleAnswererOptions) {
    // Bounded here, whoever drives: a slow or hung policy or hook delays only its own session.
    this.#options = { ...options, policy: boundedPolicy(options.policy), ...(options.hooks && { hooks: boundedHooks(options.hooks) }) };
  }

  /** The record of the session's key, as last found (or enrolled). */
  get key(): KeyRecord | undefined {
    return this.#key;
  }

  /** Answer one request; `now` is the car's trusted time. */
  async answer(request: Answerable, now: number): Promise<VehicleAnswer> {
    switch (request.type) {
      case 'find-key':
        return { type: 'find-key', found: await this.#find(request.publicKey) };
      case 'redeem-grant':
        return { type: 'redeem-grant', result: await this.#redeem(request.grant, request.presenter, now) };
      case 'authorize':
        return this.#authorize(request, now);
    }
  }

  /** Right before acting: `revoked` unless the directory still holds this key, not revoked (a failing directory throws). */
  async stillEnrolled(key: KeyRecord): Promise<'revoked' | undefined> {
    const now = await this.#lookup(key.publicKey, KEY_RECHECK_TIMEOUT_MS);
    return now && !now.revoked ? undefined : 'revoked';
  }

  #lookup(publicKey: Uint8Array, timeoutMs = KEY_DIRECTORY_TIMEOUT_MS): Promise<KeyRecord | undefined> {
    return withDeadline('key lookup', this.#options.keys.findKey(publicKey), { timeoutMs });
  }

  async #find(publicKey: Uint8Array): Promise<'known' | 'unknown' | 'failed'> {
    try {
      this.#key = await this.#lookup(publicKey);
      return this.#key ? 'known' : 'unknown';
    } catch {
      this.#key = undefined;
      return 'failed';
    }
  }

  async #redeem(grant: Uint8Array, presenter: Uint8Array, now: number): Promise<Extract<VehicleAnswer, { type: 'redeem-grant' }>['result']> {
    const { keys, onEnrolled } = this.#options;
    if (!keys.redeemGrant) return 'unsupported';
    let r: KeyRecord | string;
    try {
      r = await keys.redeemGrant(grant, presenter, now);
    } catch {
      return 'internal-error';
    }
    if (typeof r === 'string') return isDenyReason(r) ? r : 'internal-error';
    this.#key = r;
    notifyObserver(() => onEnrolled?.(r));
    return 'enrolled';
  }

  async #authorize(request: Extract<VehicleRequest, { type: 'authorize' }>, now: number): Promise<VehicleAnswer> {
    const key = this.#key;
    if (!key) return { type: 'authorize', decision: 'internal-error' };
    const { policy, hooks, connection } = this.#options;
    const a = await authorizeCommand(policy, hooks, { ...request, key, now, ...(connection && { connection }) });
    return { type: 'authorize', ...a };
  }
}
