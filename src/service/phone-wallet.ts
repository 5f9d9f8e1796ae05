/**
 * The phone as a whole: its long-term key (a software key kept in the store, or any custody), the
 * cars it can open, pairing, commands, and sharing. Everything it learns is saved before it is
 * reported (a paired car is persisted before `pair` resolves).
 */
import { softwareKey, type KeyCustody } from '../crypto/custody.js';
import { generateP256KeyPair } from '../crypto/keygen.js';
import { nobleCrypto } from '../crypto/noble.js';
import type { Clock, CryptoProvider, RandomSource } from '../crypto/provider.js';
import { systemRandom } from '../crypto/random.js';
import { equalBytes } from '../bytes.js';
import { asProxkeyError, LinkClosedError, LocalError, notifyObserver, RemoteError, type ProxkeyError } from '../errors.js';
import { carIdOf, issueGrant } from '../keys/grant.js';
import { keyRequestFromString, keyRequestToString, type KeyRequest } from '../keys/key-request.js';
import { openShare, sealShare } from '../keys/share.js';
import { EMPTY_PHONE_STATE, type CarRecord, type PhoneState } from '../keys/state.js';
import type { PhoneStore } from '../keys/store.js';
import { MIN_ADVERTISING_SECRET_LENGTH } from '../protocol/advertising-id.js';
import type { CommandInput } from '../protocol/commands.js';
import { keyIdOf } from '../protocol/key-id.js';
import { REASONS } from '../protocol/reasons.js';
import type { CommandOptions } from '../roles/phone-session.js';
import type { Link } from '../transport/link.js';
import { withDeadline } from '../transport/deadline.js';
import { pairPhone } from '../transport/pairing-driver.js';
import { openPhoneSession, type CommandResult, type PhoneConnection } from '../transport/phone-driver.js';
import { TurnQueue } from '../transport/turn-queue.js';

/** Bound on one save of the wallet state (a store that hangs fails the change, it does not block the next ones). */
export const WALLET_SAVE_TIMEOUT_MS = 10_000;

/** Statuses after which the car has decided on a presented grant (REASONS[…].settlesGrant). */
const GRANT_SETTLED = new Set<string>(['ok', ...Object.entries(REASONS).flatMap(([name, m]) => (m.settlesGrant ? [name] : []))]);

/** Options of `PhoneWallet.open`: store, crypto, randomness, clock, label, custody. */
export interface PhoneWalletOptions {
  readonly store: PhoneStore;
  readonly crypto?: CryptoProvider;
  readonly random?: RandomSource;
  /** Wall clock (ms since the Unix epoch). Default `Date.now`. */
  readonly now?: Clock;
  /** The phone's key in custody (WebCrypto, keystore). Default: a software key kept in the store. */
  readonly identity?: KeyCustody;
  /** Public key that verifies this phone's grant signatures, if not `identity.publicKey`. */
  readonly signingKey?: Uint8Array;
  readonly label?: string;
  /**
   * Failures that belong to no call's answer: a save that failed after the car had answered (the
   * grant of a shared key the car has now enrolled is kept, presented again next time and dropped
   * then). Exceptions thrown here are ignored.
   */
  readonly onError?: (error: ProxkeyError) => void;
}

/** Bounds of a wait on the car (timeout, abort signal). */
export interface WaitOptions {
  readonly timeoutMs?: number;
  /** Bound for each RESULT (see `PhoneSessionOptions.resultTimeoutMs`). */
  readonly resultTimeoutMs?: number;
  readonly signal?: AbortSignal;
}

/** What an owner shares: which car, the permissions (default unlock, lock), a time window (ms since the epoch). */
export interface ShareOptions {
  readonly car?: string;
  readonly permissions?: readonly string[];
  readonly notBefore?: number;
  readonly notAfter?: number;
}

/** Options of a command on a car: the user's intent, the wait bounds, which car (`car(ref)`). */
export type CarCommandOptions = CommandOptions & WaitOptions & { readonly car?: string };

/** The phone as a whole: its key, its cars, pairing, commands, shares and key requests. */
export class PhoneWallet {
  readonly identity: KeyCustody;
  readonly #options: PhoneWalletOptions;
  readonly #crypto: CryptoProvider;
  readonly #random: RandomSource;
  readonly #now: Clock;
  #state: PhoneState;
  /** Every read-modify-save of `#state` takes one turn, so overlapping saves never lose an update. */
  readonly #saves = new TurnQueue();

  private constructor(o: PhoneWalletOptions, identity: KeyCustody, state: PhoneState) {
    this.#options = o;
    this.identity = identity;
    this.#state = state;
    this.#crypto = o.crypto ?? nobleCrypto;
    this.#random = o.random ?? systemRandom;
    this.#now = o.now ?? Date.now;
  }

  /** Load (or on first use create and persist) the phone's key and cars. */
  static async open(options: PhoneWalletOptions): Promise<PhoneWallet> {
    const crypto = options.crypto ?? nobleCrypto;
    const { store } = options;
    let state = (await store.load()) ?? EMPTY_PHONE_STATE;
    if (options.identity) return new PhoneWallet(options, options.identity, state);
    let secretKey = state.identity?.secretKey;
    if (!secretKey) {
      // First use: as the only writer, so two processes starting at once end with one key.
      const created = await exclusively(store, async () => {
        const fresh = (await store.load()) ?? EMPTY_PHONE_STATE;
        if (fresh.identity) return fresh;
        const next = { ...fresh, identity: { secretKey: (await generateP256KeyPair(crypto, options.random ?? systemRandom)).secretKey } };
        await store.save(next);
        return next;
      });
      state = created;
      secretKey = created.identity!.secretKey;
    }
    return new PhoneWallet(options, await softwareKey(crypto, secretKey), state);
  }

  /** This phone's key id (as cars list it). */
  get keyId(): string {
    return keyIdOf(this.#crypto, this.identity.publicKey);
  }

  cars(): readonly CarRecord[] {
    return this.#state.cars;
  }

  /** Find a car by id prefix or exact name; the only car when `ref` is omitted. */
  car(ref?: string): CarRecord {
    const cars = this.#state.cars;
    const found = ref === undefined ? (cars.length === 1 ? cars : []) : cars.filter((c) => c.carId.startsWith(ref) || c.name === ref);
    const [only, ...others] = found;
    if (!only || others.length > 0) throw new LocalError('ERR_INVALID_ARGUMENT', noSingleCarMessage(cars, ref, found.length));
    return only;
  }

  /** Pair with the car on `link` using the code it shows; the car is saved before this resolves. */
  async pair(link: Link, code: string, options: WaitOptions = {}): Promise<CarRecord> {
    const { signingKey, label = 'phone' } = this.#options;
    const car = await pairPhone(link, { ...this.#environment(), code, identity: this.identity, ...(signingKey && { signingKey }), label, ...options });
    return this.#saveCar({
      carId: carIdOf(this.#crypto, car.publicKey),
      name: car.name,
      vehicleKey: car.publicKey,
      advertisingSecret: car.advertisingSecret,
      role: 'owner',
      keyId: car.keyId,
      addedAt: this.#now(),
    });
  }

  /**
   * Run `command` on a car over `link` (one round trip). A shared key presents its grant until the
   * car has accepted it once. Returns the result and the open connection for further commands.
   * @throws the driver's typed errors (`openPhoneSession`): `mayHaveSucceeded` says whether the
   *   car may have run the command anyway, `transient` whether retrying unchanged may help. A
   *   failed first command keeps the grant (presenting it again is harmless). Once the car has
   *   answered, a failure to save the grant's drop does not fail the call: the result and the
   *   connection are returned, the failure goes to `onError` and the grant is kept for next time.
   */
  async open(link: Link, command: CommandInput, options: CarCommandOptions = {}): Promise<{ result: CommandResult; connection: PhoneConnection }> {
    const car = this.car(options.car);
    const { timeoutMs, resultTimeoutMs, signal, intent } = options;
    const session = {
      ...this.#environment(),
      identity: this.identity,
      vehicleKey: car.vehicleKey,
      ...(timeoutMs !== undefined && { timeoutMs }),
      ...(resultTimeoutMs !== undefined && { resultTimeoutMs }),
      ...(signal && { signal }),
    };
    const r = await openPhoneSession(link, session, command, { ...(intent !== undefined && { intent }), ...(car.grant && { grant: car.grant }) });
    await this.#dropGrantOnceSettled(car, r.result.status).catch((e: unknown) => {
      notifyObserver(() => this.#options.onError?.(asProxkeyError(e, 'saving the grant drop')));
    });
    return r;
  }

  /**
   * One command, then close. After a successful `revoke`, or with `refreshAdvertising` (the phone
   * found the car without resolving its advertising id: a revocation changed the car's secret),
   * the car's current advertising secret is fetched in the same session and stored before closing.
   */
  async command(link: Link, command: CommandInput, options: CarCommandOptions & { readonly refreshAdvertising?: boolean } = {}): Promise<CommandResult> {
    const { result, connection } = await this.open(link, command, options);
    // A successful revoke changed the car's secret; so may have whatever made the caller fall back.
    // Best effort: the command has its result; a failed refresh is retried at the next fallback.
    if (options.refreshAdvertising || (result.ok && result.command.kind === 'revoke'))
      await this.refreshAdvertisingSecret(connection, options).catch(() => false);
    await connection.close();
    return result;
  }

  /**
   * Ask the car on an open connection for its current advertising secret (docs/PRIVACY.md: it
   * changes when a key is revoked) and store it if it changed. Returns whether it changed; false
   * (nothing stored) when the car refuses or ends the session. Timeouts and aborts throw.
   */
  async refreshAdvertisingSecret(connection: PhoneConnection, options: { readonly car?: string } = {}): Promise<boolean> {
    if (!connection.isOpen) return false;
    const car = this.car(options.car);
    let r: CommandResult;
    try {
      r = await connection.send('advertising-secret');
    } catch (e) {
      if (e instanceof RemoteError || e instanceof LinkClosedError) return false; // the car ended the session
      throw e;
    }
    if (!r.ok || r.data.length < MIN_ADVERTISING_SECRET_LENGTH || (car.advertisingSecret && equalBytes(car.advertisingSecret, r.data))) return false;
    const advertisingSecret = r.data.slice();
    await this.#updateCar(car.carId, (c) => ({ ...c, advertisingSecret }));
    return true;
  }

  /** A key request for a friend who wants a key to someone's car: give this string to the owner. */
  keyRequest(label = this.#options.label ?? 'phone'): string {
    return keyRequestToString({ publicKey: this.identity.publicKey, label });
  }

  /**
   * Owner: grant the phone that made `request` a key to `car` — permissions (default unlock, lock),
   * a time window — as a sealed share string only that phone can open.
   */
  async share(request: string, options: ShareOptions = {}): Promise<{ share: string; grantId: string }> {
    const car = this.car(options.car);
    if (car.role !== 'owner') throw new LocalError('ERR_INVALID_STATE', 'only an owner can share this car');
    const grant = await this.#issueGrant(car, keyRequestFromString(request), options);
    const advertisingSecret = car.advertisingSecret ?? new Uint8Array(32);
    const share = await sealShare(this.#crypto, this.#random, { vehicleKey: car.vehicleKey, advertisingSecret, carName: car.name, grant });
    return { share, grantId: grant.grantId };
  }

  /** Friend: store a share received from an owner (its grant is presented on first use). */
  async acceptShare(share: string): Promise<CarRecord> {
    const s = await openShare(this.#crypto, this.identity, share);
    return this.#saveCar({
      carId: carIdOf(this.#crypto, s.vehicleKey),
      name: s.carName,
      vehicleKey: s.vehicleKey,
      advertisingSecret: s.advertisingSecret,
      role: 'shared',
      keyId: this.keyId,
      grant: s.grant.bytes,
      addedAt: this.#now(),
    });
  }

  /** Forget a car on this phone (does not revoke anything at the car). */
  async forget(ref: string): Promise<void> {
    const { carId } = this.car(ref);
    await this.#update((state) => ({ ...state, cars: state.cars.filter((c) => c.carId !== carId) }));
  }

  /** The owner's signed grant for the phone that made `request`. */
  async #issueGrant(car: CarRecord, request: KeyRequest, options: ShareOptions) {
    const { permissions = ['unlock', 'lock'], notBefore, notAfter } = options;
    return issueGrant({
      crypto: this.#crypto,
      random: this.#random,
      issuer: this.identity,
      issuerKeyId: car.keyId,
      vehicleKey: car.vehicleKey,
      subject: request.publicKey,
      permissions,
      ...(notBefore !== undefined && { notBefore }),
      ...(notAfter !== undefined && { notAfter }),
      label: request.label,
    });
  }

  /** What every role this phone runs is given: crypto, randomness, the clock. */
  #environment(): { readonly crypto: CryptoProvider; readonly random: RandomSource; readonly now: Clock } {
    return { crypto: this.#crypto, random: this.#random, now: this.#now };
  }

  /**
   * Once the car has enrolled this key (it answered with a policy/execution status) or the grant
   * is dead (revoked, expired), the grant is no longer needed.
   */
  async #dropGrantOnceSettled(car: CarRecord, status: CommandResult['status']): Promise<void> {
    const presented = car.grant;
    if (!presented || !GRANT_SETTLED.has(status)) return;
    // Only the grant that was presented: a share accepted meanwhile brings a grant of its own.
    await this.#updateCar(car.carId, ({ grant, ...withoutGrant }) => (grant && equalBytes(grant, presented) ? withoutGrant : undefined));
  }

  /** Add `car`, or replace the record with its id. */
  async #saveCar(car: CarRecord): Promise<CarRecord> {
    await this.#update((state) => ({ ...state, cars: [...state.cars.filter((c) => c.carId !== car.carId), car] }));
    return car;
  }

  /** Change the current record of a car, if it is still known; `change` returns undefined for no change. */
  async #updateCar(carId: string, change: (car: CarRecord) => CarRecord | undefined): Promise<void> {
    await this.#update((state) => {
      const current = state.cars.find((c) => c.carId === carId);
      const changed = current && change(current);
      return changed ? { ...state, cars: state.cars.map((c) => (c === current ? changed : c)) } : undefined;
    });
  }

  /**
   * One read-modify-save of the wallet state, in its turn: `next` sees the state as the store
   * holds it now — loaded again inside the store's `exclusive` section, when it has one, so a
   * change another process or tab saved meanwhile is kept (undefined: nothing to save). Memory
   * changes only once the store has saved — also when the save ends after the caller was told it
   * timed out. The caller waits at most WALLET_SAVE_TIMEOUT_MS for its turn and as long for its
   * save; the next change starts only once this save has really ended, so a late save can never
   * land over a newer one (a store that hangs makes each later change time out in turn).
   */
  async #update(next: (state: PhoneState) => PhoneState | undefined): Promise<void> {
    const turn = this.#saves.take();
    let ended: Promise<unknown> = Promise.resolve();
    const bound = { timeoutMs: WALLET_SAVE_TIMEOUT_MS };
    const { store } = this.#options;
    try {
      await withDeadline('waiting for an earlier save of the wallet', turn.previous, bound);
      const saving = exclusively(store, async () => {
        const current = store.exclusive ? ((await store.load()) ?? this.#state) : this.#state;
        const state = next(current);
        if (!state) return void (this.#state = current);
        await store.save(state);
        this.#state = state;
      });
      ended = saving.catch(() => undefined);
      await withDeadline('saving the wallet', saving, bound);
    } finally {
      void ended.then(turn.release);
    }
  }
}

/** `work` inside the store's `exclusive` section, or at once for a store without one. */
const exclusively = <T>(store: PhoneStore, work: () => Promise<T>): Promise<T> => (store.exclusive ? store.exclusive(work) : work());

/** Why `car(ref)` found no single car, with the cars it knows. */
function noSingleCarMessage(cars: readonly CarRecord[], ref: string | undefined, matches: number): string {
  if (cars.length === 0) return 'no car known yet: pair with a car or accept a share first';
  const known = cars.map((c) => `${c.name} (${c.carId.slice(0, 8)})`).join(', ');
  return `car ${ref ?? '(unspecified)'}: ${matches === 0 ? 'not found' : 'ambiguous'}; known: ${known}`;
}
