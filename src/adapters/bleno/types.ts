/**
 * The public types of `proxkey/bleno`: the parts of bleno the adapter uses (structural, both
 * families match) and the car peripheral's options, links and advertisement.
 */
import type { CryptoProvider, RandomSource } from '../../crypto/provider.js';
import type { FramingOptions } from '../../transport/fragment-codec.js';
import type { Link, ReceiveOptions } from '../../transport/link.js';
import type { Emitter } from '../common.js';

type BlenoCtor = new (options: Record<string, unknown>) => unknown;

/** A bleno instance (`@stoprocent/bleno` or `@abandonware/bleno`). */
export interface BlenoLike extends Emitter {
  readonly state: string;
  readonly address?: string;
  readonly Characteristic: BlenoCtor & { readonly RESULT_SUCCESS: number; readonly RESULT_ATTR_NOT_LONG: number; readonly RESULT_UNLIKELY_ERROR: number };
  readonly PrimaryService: BlenoCtor;
  setServices(services: unknown[], callback?: (err?: unknown) => void): void;
  startAdvertisingWithEIRData(advertisementData: Uint8Array, scanData: Uint8Array, callback?: (err?: unknown) => void): void;
  stopAdvertising(callback?: () => void): void;
  /** stoprocent: `disconnect(handle?)`; abandonware: `disconnect()` (its one connection). */
  disconnect(handle?: unknown): void;
  /**
   * Read the RSSI of the connection; answered by an `rssiUpdate` event. Works on abandonware
   * (one connection). On stoprocent 0.12.4 it is a no-op (its bindings never record a handle), so
   * the adapter asks the HCI layer per connection handle instead (see `readRssi`).
   */
  updateRssi?(callback?: (err: unknown, rssi: number) => void): void;
  stop?(): void;
}

/** Options of `startCarPeripheral`: the bleno instance, what to advertise, how links are handed out, RSSI sampling, bounds. */
export interface CarPeripheralOptions extends FramingOptions {
  /** The injected bleno instance (see `loadBleno`). */
  readonly bleno: BlenoLike;
  /** Service UUID (default: the proxkey service). */
  readonly serviceUuid?: string;
  /**
   * Advertised local name (default: none; a static name lets anyone track the car). Goes into the
   * scan response, which must also fit the advertising id (27 bytes of 31): at most 2 bytes then.
   */
  readonly localName?: string;
  /**
   * Advertise the car's rotating identifier (docs/PRIVACY.md) and re-advertise at each epoch
   * boundary. Without it the car advertises only flags and the service UUID.
   */
  readonly advertising?: CarAdvertisingOptions;
  /**
   * Called when re-advertising at an epoch boundary failed (it is retried with back-off), with the
   * number of failures in a row: 1 after a rotation that went on air, reset by each success.
   */
  readonly onAdvertisingError?: (error: Error, consecutiveFailures: number) => void;
  /**
   * A usable RSSI reading (dBm) of a phone's connection, sampled every `rssiIntervalMs` while its
   * link is open (from subscription to close). Readings the controller marks "not available"
   * are dropped (see `usableRssi`); RSSI errors never affect the session. Exceptions thrown here
   * are ignored.
   */
  readonly onRssi?: (link: PhoneLink, rssi: number) => void;
  /** RSSI sampling period per open link (default 250 ms when `onRssi` is set; 0 disables sampling). */
  readonly rssiIntervalMs?: number;
  /** Protocol versions announced in the info characteristic, most preferred first (default [1]). */
  readonly protocolVersions?: readonly number[];
  /**
   * Each connected phone's session link, once it subscribed. Without `onLink`, links queue for
   * `accept()`. Exceptions thrown here are ignored.
   */
  readonly onLink?: ((link: PhoneLink) => void) | undefined;
  /** Bound on power-on, service setup and advertising start, each (default 10 000 ms). */
  readonly startTimeoutMs?: number;
  /**
   * After the car closes a link, give the phone this long to disconnect itself (so the last
   * notification is not cut off by the disconnect) before the car disconnects it (default 250 ms).
   */
  readonly disconnectGraceMs?: number;
  readonly signal?: AbortSignal | undefined;
}

/** One connected, subscribed phone. */
export interface PhoneLink extends Link {
  /** The phone's BLE address as the controller reported it (random/private for real phones). */
  readonly address: string | undefined;
  /** The connection handle (stoprocent bleno) or `undefined` (abandonware: one connection). */
  readonly handle: unknown;
  /** Largest notification value for this phone (MTU - 3 at subscription, at most 512). */
  readonly maxValueSize: number;
  /** The latest usable RSSI (dBm) sampled on this connection (with `onRssi`), or undefined. */
  readonly rssi: number | undefined;
  /**
   * Read this connection's RSSI now: dBm, or undefined when the stack or controller cannot say
   * (no answer within `timeoutMs`, default 1000; "not available" values; link closed). Never rejects.
   */
  readRssi(options?: { readonly timeoutMs?: number }): Promise<number | undefined>;
}

/** The car's rotating advertising identifier (docs/PRIVACY.md). */
export interface CarAdvertisingOptions {
  /** The car's advertising secret (`VehicleService.advertisingSecret`; ≥ 16 bytes). */
  readonly secret: Uint8Array;
  /** Wall clock, ms since the Unix epoch (default `Date.now`): the car needs real time (RTC or NTP). */
  readonly now?: () => number;
  /** Default: the pure-JS provider (`nobleCrypto`). */
  readonly crypto?: CryptoProvider;
  /** Seconds per epoch (default 900); phones must use the same. */
  readonly rotationSeconds?: number;
  /** Identifier length in bytes (default 8, or 6 with `companyId`); phones must use the same. */
  readonly length?: number;
  /**
   * With a Bluetooth SIG company identifier: carry the id as manufacturer-specific data in the
   * primary advertisement (`09 ff <company LE> <id: 6 B>`) instead of service data in the scan
   * response, so passive scanners see it too. Phones must pass the same `companyId`.
   */
  readonly companyId?: number;
  /**
   * Advertise from a resolvable private address that changes with the id (docs/PRIVACY.md), so
   * the device address is not a static identifier either. `'auto'` (default): when the stack
   * allows it (Linux HCI bindings); `true`: required (start fails otherwise); `false`: the
   * controller's own address.
   */
  readonly privateAddress?: boolean | 'auto';
  /** Randomness for private addresses (default: the platform CSPRNG). */
  readonly random?: RandomSource;
}

/** The AD structures on air (legacy advertising: at most 31 bytes each). */
export interface CarAdvertisement {
  /** Advertising data: flags, 128-bit service UUID list (and manufacturer data with `companyId`). */
  readonly advertisement: Uint8Array;
  /** Scan response data: service data with the rotating id (and the local name, if any). */
  readonly scanResponse: Uint8Array;
  /** The rotating identifier now on air, when `advertising` is set. */
  readonly id?: Uint8Array;
  /** Its epoch. */
  readonly epoch?: number;
  /** The resolvable private address advertised from ("aa:bb:…"); undefined: the controller's own. */
  readonly address?: string;
}

/** The running car peripheral (`startCarPeripheral`): its phone links, what it advertises, and its controls. */
export interface CarPeripheral {
  /** The next phone link (from the queue when no `onLink` is set). */
  accept(options?: ReceiveOptions): Promise<PhoneLink>;
  /** Links currently open. */
  readonly links: ReadonlySet<PhoneLink>;
  /** The controller's address. */
  readonly address: string | undefined;
  /** What the car advertises now (changes at each epoch boundary with `advertising`). */
  readonly advertisement: CarAdvertisement;
  /**
   * Advertise under a new secret now (a fresh id and private address), e.g. after a revocation
   * rotated it (`VehicleService.onAdvertisingSecretChange`). Resolves once the new advertisement
   * is on air (or the attempt failed and was handed to the retry loop: see `onAdvertisingError`).
   */
  updateAdvertisingSecret(secret: Uint8Array): Promise<void>;
  /** Disconnect every phone now (a "drop the link" for tests and emergencies). */
  disconnectAll(): void;
  /** Stop advertising and rotating, close every link, remove the service and our listeners (idempotent). */
  stop(): Promise<void>;
}
