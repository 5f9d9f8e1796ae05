/**
 * The public types of `proxkey/noble`: the parts of noble the adapter uses (structural: both families
 * match, no type import of an optional peer), and the options and link of a connection to a car.
 */
import type { GattInfo } from '../../transport/gatt-info.js';
import type { FramingOptions } from '../../transport/fragment-codec.js';
import type { Link } from '../../transport/link.js';
import type { Emitter, GattLinkOptions } from '../common.js';

/** A noble instance (`@stoprocent/noble` or `@abandonware/noble`). */
export interface NobleLike extends Emitter {
  readonly state: string;
  startScanningAsync(serviceUuids?: string[], allowDuplicates?: boolean): Promise<void>;
  stopScanningAsync(): Promise<void>;
  stop?(): void;
}

/** A peripheral noble discovered (a car, or any other advertiser). */
export interface NoblePeripheral extends Emitter {
  readonly id: string;
  readonly address: string;
  readonly rssi: number;
  readonly mtu: number | null;
  readonly state: string;
  readonly advertisement: NobleAdvertisement;
  connectAsync(options?: object): Promise<void>;
  disconnectAsync(): Promise<void>;
  cancelConnect?(options?: object): void;
  discoverSomeServicesAndCharacteristicsAsync(serviceUuids: string[], characteristicUuids: string[]): Promise<{ characteristics: NobleCharacteristic[] }>;
}

/** What noble parsed from the advertisement and scan response (both families, merged by noble). */
export interface NobleAdvertisement {
  readonly localName?: string;
  readonly serviceUuids?: string[];
  /** Service data AD structures: UUID as noble prints it (lower-case hex, no dashes) and the data after it. */
  readonly serviceData?: readonly { readonly uuid: string; readonly data: Uint8Array }[];
  /** Manufacturer-specific data: company id (2 bytes, little-endian) ‖ data. */
  readonly manufacturerData?: Uint8Array;
}

/** A GATT characteristic of a connected peripheral. */
export interface NobleCharacteristic extends Emitter {
  readonly uuid: string;
  readonly properties: string[];
  readAsync(): Promise<Uint8Array>;
  writeAsync(data: Uint8Array, withoutResponse: boolean): Promise<void>;
  subscribeAsync(): Promise<void>;
  unsubscribeAsync(): Promise<void>;
}

/** Options of `findCar` (and the scanning part of `connectToCar`). */
export interface ScanOptions {
  /** The injected noble instance (see `loadNoble`). */
  readonly noble: NobleLike;
  /** Service to look for (default: the proxkey service). */
  readonly serviceUuid?: string;
  /**
   * Choose among advertising cars (default: the first one seen), e.g. `advertisingFilter(...)`.
   * Called for every advertisement of a proxkey car; must not throw.
   */
  readonly filter?: (peripheral: NoblePeripheral) => boolean;
  /**
   * Report every advertisement, not only a peripheral's first (default: true with a `filter`, so
   * a car rejected on an early report — before its scan response arrived, or from the previous
   * epoch — is judged again on its next one).
   */
  readonly allowDuplicates?: boolean;
  /**
   * With a `filter`: when no advertiser has passed it after this long (ms), accept the first
   * proxkey car seen anyway. For a car whose advertising secret changed (a revocation rotates it,
   * docs/PRIVACY.md): the handshake still pins the car's key, so the wrong car fails safely, and
   * the caller can tell (`!filter(link.peripheral)`) that it should fetch the new secret.
   */
  readonly fallbackAfterMs?: number;
  /** Bound on power-on (default 5000 ms). */
  readonly powerOnTimeoutMs?: number;
  /** Bound on the scan (default 10 000 ms). */
  readonly scanTimeoutMs?: number;
  readonly signal?: AbortSignal | undefined;
}

/** Options of `connectToCar`: scanning (unless `peripheral`), framing, and the GATT link's bounds. */
export interface ConnectToCarOptions extends ScanOptions, FramingOptions, GattLinkOptions {
  /** Connect to this peripheral (from `findCar`) instead of scanning. */
  readonly peripheral?: NoblePeripheral;
  /** ATT MTU to request (stacks that support it; default 256, the emulator's and bleno's cap). */
  readonly mtu?: number;
}

/** A connected, subscribed car: a `Link` plus what the car announced. */
export interface CarLink extends Link {
  /** The car's info characteristic. */
  readonly info: GattInfo;
  /** The peripheral (for RSSI, address). */
  readonly peripheral: NoblePeripheral;
  /** The negotiated ATT MTU (23 until the exchange completes). */
  readonly mtu: number;
  /** Resolves once the BLE connection is released after the link closed (never rejects). */
  readonly disconnected: Promise<void>;
}
