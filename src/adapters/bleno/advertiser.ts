/**
 * The car's advertising loop: puts the scheduled advertisement on air, re-advertises at each
 * epoch boundary and after a secret update (stop + start, one operation at a time), retries with
 * back-off, and with private addresses advertises each id from a fresh resolvable private address.
 * The timing decisions are the pure functions of `rotation-schedule.ts`; this module owns the timer.
 *
 * On abandonware (one connection, advertising resumes by itself on disconnect) a rotation due
 * while the phone is connected waits for the disconnect: re-enabling advertising would invite a
 * second phone that stack cannot serve.
 */
import { copyOf } from '../../bytes.js';
import { assertArg, notifyObserver } from '../../errors.js';
import { MIN_ADVERTISING_SECRET_LENGTH } from '../../protocol/advertising-id.js';
import { callbackToPromise, withRadioDeadline } from '../common.js';
import type { PrivateAddresses } from './hci-privacy.js';
import { checkDelay, retryDelay, rotationDecision, scheduledAdvertisement, type AdvertisingPlan, type ScheduledAdvertisement } from './rotation-schedule.js';
import type { BlenoLike } from './types.js';

export interface AdvertiserOptions {
  readonly bleno: BlenoLike;
  readonly plan: AdvertisingPlan;
  /** The advertising secret (with `plan.rotation`). */
  readonly secret: Uint8Array;
  /** Wall clock, ms since the Unix epoch. */
  readonly now: () => number;
  readonly privateAddresses: PrivateAddresses | undefined;
  /** Bound on starting to advertise (capped at 5 s when re-advertising). */
  readonly startTimeoutMs: number;
  /** Whether abandonware's one connection is up (a rotation then waits for its disconnect). */
  readonly onlyConnectionUp: () => boolean;
  /** A failed re-advertisement (retried with back-off); `consecutiveFailures` counts since the last one that went on air (1, 2, …). */
  readonly onError?: (error: Error, consecutiveFailures: number) => void;
}

/** Bound on each radio step of a rotation. */
const ROTATION_STEP_MS = 2000;

export class Advertiser {
  readonly #options: AdvertiserOptions;
  #secret: Uint8Array;
  #generation = 0;
  #onAir: ScheduledAdvertisement;
  #lastAttemptOk = true;
  #failures = 0;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #deferred = false;
  #stopped = false;
  #operation: Promise<void> = Promise.resolve();

  /** Validates the advertisement before anything touches the stack. */
  constructor(options: AdvertiserOptions) {
    this.#options = options;
    this.#secret = options.secret;
    this.#onAir = this.#scheduled();
  }

  /** What is on air (or about to be, before `start`). */
  get onAir(): ScheduledAdvertisement {
    return this.#onAir;
  }

  /** Advertise now (the GATT service is set); then rotate on schedule. */
  async start(bound: { readonly timeoutMs: number; readonly signal?: AbortSignal | undefined }): Promise<void> {
    if (this.#options.plan.rotation) this.#onAir = this.#scheduled(); // power-on may have taken a while
    const address = await this.#options.privateAddresses?.next(bound);
    if (address) this.#onAir = { ...this.#onAir, address };
    await this.#startAdvertising(this.#onAir, bound);
    this.#scheduleNext();
  }

  /** Advertise under a new secret: resolves once it is on air, deferred, or handed to the retry loop. */
  async updateSecret(secret: Uint8Array): Promise<void> {
    assertArg(!!this.#options.plan.rotation, 'updateAdvertisingSecret: the car was started without `advertising`');
    assertArg(
      secret instanceof Uint8Array && secret.length >= MIN_ADVERTISING_SECRET_LENGTH,
      `secret: expected at least ${MIN_ADVERTISING_SECRET_LENGTH} bytes`,
    );
    this.#secret = copyOf(secret);
    this.#options.privateAddresses?.rekey(this.#secret);
    this.#generation++;
    if (this.#stopped) return;
    if (this.#options.onlyConnectionUp()) {
      this.#deferred = true; // abandonware: after its one phone leaves
      return;
    }
    this.#operation = this.#operation.then(() => this.#readvertise());
    return this.#operation;
  }

  /** Abandonware's one phone left: a rotation deferred meanwhile runs now. */
  onlyConnectionGone(): void {
    if (!this.#deferred) return;
    this.#deferred = false;
    this.#schedule(0);
  }

  /** Stop rotating and advertising (idempotent; bounded: each radio step has its own timeout). */
  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    await this.#operation;
    await withRadioDeadline(
      'stop advertising',
      callbackToPromise((cb) => this.#options.bleno.stopAdvertising(() => cb())),
      { timeoutMs: ROTATION_STEP_MS },
    ).catch(() => {});
  }

  #scheduled(): ScheduledAdvertisement {
    const now = this.#options.plan.rotation ? this.#options.now() : 0;
    return scheduledAdvertisement(this.#options.plan, now, this.#secret, this.#generation);
  }

  #scheduleNext(): void {
    if (this.#options.plan.rotation) this.#schedule(checkDelay(this.#onAir.nextAt ?? 0, this.#options.now()));
  }

  #schedule(delayMs: number): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#stopped || !this.#options.plan.rotation) return;
    this.#timer = setTimeout(() => this.#onTimer(), checkDelay(delayMs, 0));
    this.#timer.unref?.();
  }

  #onTimer(): void {
    this.#timer = undefined;
    const rotation = this.#options.plan.rotation;
    if (this.#stopped || !rotation) return;
    const decision = rotationDecision(this.#onAir, this.#options.now(), this.#generation, this.#lastAttemptOk, rotation.rotationSeconds);
    if (decision.kind === 'wait') return this.#schedule(decision.delayMs);
    if (this.#options.onlyConnectionUp()) {
      this.#deferred = true;
      return;
    }
    this.#operation = this.#operation.then(() => this.#readvertise());
  }

  async #readvertise(): Promise<void> {
    if (this.#stopped || !this.#options.plan.rotation) return;
    try {
      await withRadioDeadline(
        'stop advertising',
        callbackToPromise((cb) => this.#options.bleno.stopAdvertising(() => cb())),
        { timeoutMs: ROTATION_STEP_MS },
      );
      this.#lastAttemptOk = false;
      if (this.#stopped) return;
      const next = this.#scheduled(); // computed now, advertising off: the latest secret and clock
      const address = await this.#options.privateAddresses?.next({ timeoutMs: ROTATION_STEP_MS });
      if (this.#stopped) return;
      await this.#startAdvertising(next, { timeoutMs: Math.min(this.#options.startTimeoutMs, 5000) });
      this.#onAir = { ...next, ...(address && { address }) };
      this.#lastAttemptOk = true;
      this.#failures = 0;
      this.#scheduleNext();
    } catch (err) {
      this.#lastAttemptOk = false;
      this.#failures++;
      notifyObserver(() => this.#options.onError?.(err instanceof Error ? err : new Error(String(err)), this.#failures));
      this.#schedule(retryDelay(this.#failures));
    }
  }

  #startAdvertising(ad: ScheduledAdvertisement, bound: { readonly timeoutMs: number; readonly signal?: AbortSignal | undefined }): Promise<void> {
    const { bleno } = this.#options;
    return withRadioDeadline(
      'start advertising',
      callbackToPromise((cb) => bleno.startAdvertisingWithEIRData(Buffer.from(ad.advertisement), Buffer.from(ad.scanResponse), cb)),
      bound,
    );
  }
}
