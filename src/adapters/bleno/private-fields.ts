/**
 * The one place that reads bleno's private fields. bleno has no public API for two things the car
 * needs: a per-connection RSSI read on `@stoprocent/bleno` (its `updateRssi` is a no-op, so the
 * HCI layer's `readRssi(handle)` / `rssiRead` event is used) and the raw HCI socket for LE privacy
 * (`hci-privacy.ts`). Both live at `bleno._bindings._hci` on the Linux HCI bindings.
 *
 * Version check: a bleno loaded by `loadBleno` is tagged with its package and release; the private
 * layout is used only on the releases it was checked against (`@stoprocent/bleno` 0.12.x,
 * `@abandonware/bleno` 0.6.x). On any other release the car behaves as on a stack without those
 * fields: RSSI through the public `updateRssi` only, no private address (`privateAddress: 'auto'`
 * falls back to the controller's address; `true` fails at start). An instance that did not come
 * from `loadBleno` (the caller built it, or a test double) is trusted on its shape alone.
 */
import type { Emitter } from '../common.js';

/** bleno's HCI layer as the car uses it (structural). */
export interface BlenoHciLayer extends Emitter {
  readonly readRssi?: (handle: number) => void;
  readonly _socket?: unknown;
}

/** The releases whose private layout (`_bindings._hci`, `readRssi`, `rssiRead`, `_hci._socket`) was checked. */
const CHECKED_RELEASES: Readonly<Record<string, RegExp>> = {
  '@stoprocent/bleno': /^0\.12\./,
  '@abandonware/bleno': /^0\.6\./,
};

const releases = new WeakMap<object, { readonly name: string; readonly version: string | undefined }>();

/** Tag a loaded bleno with its package and release (called by `loadBleno`). */
export function recordBlenoRelease(bleno: object, name: string, version: string | undefined): void {
  releases.set(bleno, { name, version });
}

/** Whether this bleno's private layout may be read: a checked release, or an instance of unknown origin. */
export function privateLayoutChecked(bleno: object): boolean {
  const release = releases.get(bleno);
  if (!release) return true;
  const checked = CHECKED_RELEASES[release.name];
  return !!checked && release.version !== undefined && checked.test(release.version);
}

/** `bleno._bindings._hci` when the bindings have one and the release was checked; otherwise undefined. */
export function blenoHciLayer(bleno: unknown): BlenoHciLayer | undefined {
  if (typeof bleno !== 'object' || bleno === null || !privateLayoutChecked(bleno)) return undefined;
  const hci = (bleno as { _bindings?: { _hci?: unknown } })._bindings?._hci;
  return typeof hci === 'object' && hci !== null ? (hci as BlenoHciLayer) : undefined;
}
