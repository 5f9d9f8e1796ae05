/**
 * Passive entry from the phone's side (docs/PROXIMITY.md, docs/phone-react-native.md): a
 * long-running scan resolves each advertisement's rotating id to one of the phone's cars and
 * feeds the car's scan RSSI — and, while a link is open, its connection RSSI
 * (`readRSSIForDevice`) — into a `ProximityEngine` keyed by the car's id. Its approach-unlock and
 * walk-away-lock decisions go to `onDecision`; the app then opens a session and sends the
 * command (examples/react-native/). A browser cannot do this: it sees neither advertisements nor
 * RSSI.
 */
import { notifyObserver } from '../../errors.js';
import type { Device, ScanOptions as PlxScanOptions } from 'react-native-ble-plx';
import type { Clock } from '../../crypto/provider.js';
import type { AdvertisingCar } from '../../protocol/advertising-id.js';
import { ProximityEngine, type ProximityDecision, type ProximityEvent } from '../../proximity/engine.js';
import type { CarLink } from './connect.js';
import type { BlePlxManager } from './manager.js';
import { advertisingFilter, scanForCars } from './scan.js';

/** Options of {@link PhonePassiveEntry}: the BLE manager, the cars to watch, the proximity engine's settings and the decision callback. */
export interface PhonePassiveEntryOptions {
  readonly manager: BlePlxManager;
  /** The cars to watch (`carId`, advertising secret); the engine is keyed by `carId`. */
  readonly cars: readonly AdvertisingCar[];
  /**
   * The engine (calibrate it per car with `configureKey`). Default: default parameters with
   * approach-unlock **on** — creating a passive entry is the deliberate opt-in (docs/PROXIMITY.md §3).
   */
  readonly engine?: ProximityEngine;
  /**
   * Monotonic clock in ms (default `performance.now`). Without `engine`, the new engine's clock;
   * with one, pass the engine's clock here too (samples are timed by the engine's own clock, this
   * one only times the timer for what falls due).
   */
  readonly now?: Clock;
  /** The phone's wall clock for resolving rotating ids (default `Date.now`). */
  readonly wallClock?: () => number;
  /** An approach-unlock or walk-away-lock decision for one car (must not throw; errors are ignored). */
  readonly onDecision: (decision: ProximityDecision) => void;
  /** Every engine event (zone changes too), for a UI. */
  readonly onEvent?: (event: ProximityEvent) => void;
  /** Period of connection RSSI reads while a followed link is open (default 250 ms). */
  readonly rssiIntervalMs?: number;
  /** Passed to `startDeviceScan` (default `{ allowDuplicates: true }`). */
  readonly scanOptions?: PlxScanOptions;
  /** Told about scan errors (the scan has then stopped; `start` again, e.g. after permissions change). */
  readonly onScanError?: (error: unknown) => void;
}

/** A running phone-side passive entry: one scan, one engine, one timer for what falls due. */
export class PhonePassiveEntry {
  readonly engine: ProximityEngine;
  readonly #options: PhonePassiveEntryOptions;
  readonly #now: Clock;
  readonly #devices = new Map<string, Device>();
  #scan: { stop(): Promise<void> } | undefined;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #stopped = false;

  private constructor(options: PhonePassiveEntryOptions) {
    this.#options = options;
    this.#now = options.now ?? (() => performance.now());
    this.engine = options.engine ?? new ProximityEngine({ now: this.#now, approachUnlock: true });
  }

  /** Start scanning for the cars (waits only for the scan to start; power-on is the app's `connectToCar`/`findCar` concern). */
  static async start(options: PhonePassiveEntryOptions): Promise<PhonePassiveEntry> {
    const passive = new PhonePassiveEntry(options);
    const filter = advertisingFilter<Device>({
      cars: options.cars,
      ...(options.wallClock && { now: options.wallClock }),
      onMatch: (match, device) => passive.#onAdvertisement(match.carId, device),
    });
    passive.#scan = await scanForCars(
      { manager: options.manager, ...(options.scanOptions && { scanOptions: options.scanOptions }) },
      (device) => void filter(device),
      (err) => {
        void passive.#scan?.stop();
        notifyObserver(() => options.onScanError?.(err));
      },
    );
    return passive;
  }

  /** The device a car was last heard from (connect to it with `connectToCar({ device })`: no second scan). */
  deviceOf(carId: string): Device | undefined {
    return this.#devices.get(carId);
  }

  /**
   * Feed the connection RSSI of an open link to `carId` every `rssiIntervalMs` until it closes.
   * A link the car or the radio ends counts as the signal lost (`linkLost`); one the app closes
   * does not (the scan carries on).
   */
  follow(link: CarLink, carId: string): void {
    const interval = this.#options.rssiIntervalMs ?? 250;
    const closed = link.closed.then((info) => {
      if (info.by !== 'local' && !this.#stopped) this.#emit(this.engine.linkLost(carId));
    });
    void (async () => {
      while (!link.isClosed && !this.#stopped) {
        const rssi = await link.readRssi();
        if (rssi !== undefined && !link.isClosed) this.#emit(this.engine.sample(carId, rssi));
        let timer: ReturnType<typeof setTimeout> | undefined;
        await Promise.race([closed, new Promise<void>((r) => (timer = setTimeout(r, interval)))]);
        clearTimeout(timer);
      }
    })();
  }

  /** Let time pass (the timer does this by itself at `engine.nextDeadline()`). */
  tick(at?: number): ProximityEvent[] {
    const events = this.engine.tick(at);
    this.#emit(events);
    return events;
  }

  /** Stop scanning and the timer (bounded; never rejects). */
  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    await this.#scan?.stop();
  }

  #onAdvertisement(carId: string, device: Device): void {
    if (this.#stopped) return;
    this.#devices.set(carId, device);
    if (device.rssi !== null) this.#emit(this.engine.sample(carId, device.rssi));
  }

  #emit(events: readonly ProximityEvent[]): void {
    for (const e of events)
      notifyObserver(() => {
        this.#options.onEvent?.(e);
        if (e.type !== 'zone') this.#options.onDecision(e);
      });
    this.#reschedule();
  }

  #reschedule(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    const due = this.engine.nextDeadline();
    if (due === undefined || this.#stopped) return;
    this.#timer = setTimeout(() => this.tick(), Math.max(0, due - this.#now()));
  }
}
