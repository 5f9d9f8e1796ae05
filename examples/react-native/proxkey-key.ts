/**
 * The proxkey part of a React Native phone-key app, as one typed module to drop in
 * (docs/phone-react-native.md): connect, pair, unlock / lock / start / trunk, share, and a
 * passive-entry toggle (unlock on approach, lock on walk-away, from the phone's side).
 *
 * In an app, replace the relative imports with the package's:
 *
 * ```ts
 * import 'react-native-get-random-values';            // first line of index.js: the CSPRNG
 * import { BleManager } from 'react-native-ble-plx';
 * import { ProxkeyKey } from './proxkey-key';          // this file, imports from 'proxkey' and 'proxkey/react-native'
 * const key = await ProxkeyKey.open({ manager: new BleManager(), store: myAsyncStorageStore });
 * await key.pair('48213907');                          // the code the car shows
 * await key.command('unlock');
 * await key.setPassiveEntry(true);
 * ```
 *
 * The UI gets every status change through `onStatus`. Commands run one at a time.
 */
import {
  PhoneWallet,
  ProximityEngine,
  type CarRecord,
  type CommandResult,
  type KeyCustody,
  type PhoneStore,
  type ProximityDecision,
  type RandomSource,
} from '../../src/index.js';
import { advertisingCarOf, carFilter, connectToCar, PhonePassiveEntry, type BlePlxManager, type CarLink } from '../../src/adapters/react-native/index.js';

export type CarCommand = 'unlock' | 'lock' | 'start' | 'trunk';

/** What the app shows. */
export type KeyStatus =
  | { readonly type: 'connecting' }
  | { readonly type: 'result'; readonly command: string; readonly status: string; readonly passive: boolean }
  | { readonly type: 'error'; readonly command: string; readonly code: string; readonly message: string; readonly passive: boolean }
  | { readonly type: 'proximity'; readonly zone: string };

export interface ProxkeyKeyOptions {
  /** The app's one `new BleManager()`. */
  readonly manager: BlePlxManager;
  /** Where the phone's cars (and its software key, without `identity`) are kept: e.g. over expo-secure-store. */
  readonly store: PhoneStore;
  /** A hardware key (`hardwareKeyCustody`); default: a software key kept in `store`. */
  readonly identity?: KeyCustody;
  /** Default: `crypto.getRandomValues` (install react-native-get-random-values). */
  readonly random?: RandomSource;
  /** The label the car lists this phone under. */
  readonly label?: string;
  readonly onStatus?: (status: KeyStatus) => void;
  /** A failed passive command (out of range, no car) is retried at the next decision; this says after what. */
  readonly scanTimeoutMs?: number;
  /** Monotonic clock for passive entry (default `performance.now`). */
  readonly now?: () => number;
  /** Wall clock (default `Date.now`): rotating ids, validity windows. */
  readonly wallClock?: () => number;
}

export class ProxkeyKey {
  readonly wallet: PhoneWallet;
  readonly #o: ProxkeyKeyOptions;
  readonly #engine: ProximityEngine;
  readonly #now: () => number;
  #passive: PhonePassiveEntry | undefined;
  #queue: Promise<unknown> = Promise.resolve();

  private constructor(options: ProxkeyKeyOptions, wallet: PhoneWallet) {
    this.#o = options;
    this.wallet = wallet;
    this.#now = options.now ?? (() => performance.now());
    this.#engine = new ProximityEngine({ now: this.#now, approachUnlock: true });
  }

  static async open(options: ProxkeyKeyOptions): Promise<ProxkeyKey> {
    const wallet = await PhoneWallet.open({
      store: options.store,
      label: options.label ?? 'phone',
      ...(options.identity && { identity: options.identity }),
      ...(options.random && { random: options.random }),
      ...(options.wallClock && { now: options.wallClock }),
    });
    return new ProxkeyKey(options, wallet);
  }

  /** The paired car, if any. */
  get car(): CarRecord | undefined {
    return this.wallet.cars()[0];
  }

  get passiveEntryEnabled(): boolean {
    return this.#passive !== undefined;
  }

  /** Pair with the car nearby using the 8-digit code it shows (any proxkey car: this phone knows none yet). */
  pair(code: string): Promise<CarRecord> {
    return this.#serial(async () => {
      this.#status({ type: 'connecting' });
      const link = await connectToCar({ manager: this.#o.manager, ...this.#scanBound() });
      try {
        return await this.wallet.pair(link, code);
      } finally {
        link.close();
        await link.disconnected; // never reconnect to a device still disconnecting (Android: GATT error 133)
      }
    });
  }

  /** One command on the paired car. `start` carries the user's intent: call it from a button. */
  command(command: CarCommand): Promise<CommandResult> {
    return this.#serial(() => this.#run(command, false));
  }

  /** Owner: a sealed key for the friend whose key request this is (default: unlock and lock). */
  async share(request: string, permissions: readonly string[] = ['unlock', 'lock'], notAfter?: number): Promise<string> {
    return (await this.wallet.share(request, { permissions, ...(notAfter !== undefined && { notAfter }) })).share;
  }

  /** Friend: this phone's key request, to send to the owner. */
  keyRequest(): string {
    return this.wallet.keyRequest();
  }

  /** Friend: store the share the owner sent (the first command enrolls it). */
  acceptShare(share: string): Promise<CarRecord> {
    return this.wallet.acceptShare(share);
  }

  /**
   * Passive entry on or off. On: the phone scans for its car and unlocks as the owner arrives,
   * locks as they leave (docs/PROXIMITY.md §3: RSSI is comfort, not security; a relay can fake
   * it — keep `start` behind intent).
   */
  async setPassiveEntry(enabled: boolean): Promise<void> {
    if (!enabled) return this.#stopPassive();
    if (this.#passive) return;
    const target = this.car && advertisingCarOf(this.car);
    if (!target) throw new Error('passive entry needs a paired car with an advertising secret');
    this.#passive = await PhonePassiveEntry.start({
      manager: this.#o.manager,
      cars: [target],
      engine: this.#engine,
      now: this.#now,
      ...(this.#o.wallClock && { wallClock: this.#o.wallClock }),
      onDecision: (d) => void this.#onDecision(d),
      onEvent: (e) => {
        if (e.type === 'zone') this.#status({ type: 'proximity', zone: e.to });
      },
    });
  }

  /** Let passive entry's time pass (its timer does this by itself; for tests with a virtual clock). */
  tick(at?: number): void {
    this.#passive?.tick(at);
  }

  /** Resolves when every queued command has finished. */
  async idle(): Promise<void> {
    await this.#queue.catch(() => {});
  }

  async close(): Promise<void> {
    await this.#stopPassive();
    await this.idle();
  }

  async #onDecision(decision: ProximityDecision): Promise<void> {
    const command = decision.type === 'approach-unlock' ? 'unlock' : 'lock';
    await this.#serial(() => this.#run(command, true)).catch(() => {}); // reported through onStatus
  }

  async #run(command: CarCommand, passive: boolean): Promise<CommandResult> {
    const car = this.car;
    if (!car) throw new Error('no car paired yet');
    this.#status({ type: 'connecting' });
    try {
      const link = await this.#connect(car);
      const filter = carFilter(car);
      const refreshAdvertising = !filter || !filter(link.device); // found by the fallback: the car's secret changed
      const r = await this.wallet.command(link, command, { intent: command === 'start' && !passive, refreshAdvertising }).finally(async () => {
        link.close();
        await link.disconnected;
      });
      this.#status({ type: 'result', command, status: r.status, passive });
      if (refreshAdvertising) await this.#restartPassive(); // follow the new secret
      return r;
    } catch (err) {
      const code = err instanceof Error && 'code' in err && typeof err.code === 'string' ? err.code : 'ERR_UNKNOWN';
      this.#status({ type: 'error', command, code, message: err instanceof Error ? err.message : String(err), passive });
      throw err;
    }
  }

  /** Our car by its rotating id (after 4 s without it: the proxkey car heard last). No second scan while passive entry scans. */
  async #connect(car: CarRecord): Promise<CarLink> {
    const known = this.#passive?.deviceOf(car.carId);
    if (known) return connectToCar({ manager: this.#o.manager, device: known, ...this.#scanBound() });
    const wasPassive = this.#passive !== undefined;
    await this.#stopPassive(); // ble-plx runs one scan at a time
    try {
      const filter = carFilter(car);
      return await connectToCar({ manager: this.#o.manager, ...(filter && { filter, fallbackAfterMs: 4_000 }), ...this.#scanBound() });
    } finally {
      if (wasPassive) await this.setPassiveEntry(true);
    }
  }

  async #restartPassive(): Promise<void> {
    if (!this.#passive) return;
    await this.#stopPassive();
    await this.setPassiveEntry(true);
  }

  async #stopPassive(): Promise<void> {
    const passive = this.#passive;
    this.#passive = undefined;
    await passive?.stop();
  }

  #scanBound(): { scanTimeoutMs?: number } {
    return this.#o.scanTimeoutMs === undefined ? {} : { scanTimeoutMs: this.#o.scanTimeoutMs };
  }

  #serial<T>(work: () => Promise<T>): Promise<T> {
    const run = this.#queue.catch(() => {}).then(work);
    this.#queue = run;
    return run;
  }

  #status(status: KeyStatus): void {
    try {
      this.#o.onStatus?.(status);
    } catch {
      /* the UI must not break the key */
    }
  }
}
