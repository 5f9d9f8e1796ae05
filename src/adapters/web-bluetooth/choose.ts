/**
 * Asking the user to pick the car: `requestDevice` with the proxkey service filter. The browser
 * shows its chooser every time (it needs a user gesture: call this from a click handler), lists
 * the advertisers of the proxkey service, and names a car without a local name "Unknown or
 * unsupported device" — proxkey cars advertise no name (docs/PRIVACY.md), so that is what the
 * user sees, once per car in range.
 */
import { AbortedError, ProxkeyError, TimeoutError, messageOf } from '../../errors.js';
import { withDeadline } from '../../transport/deadline.js';
import { PROXKEY_SERVICE_UUID } from '../../transport/framing.js';
import { BleUnavailableError } from '../common.js';
import type { BluetoothDeviceLike, BluetoothLike } from './types.js';

/** What a browser needs for Web Bluetooth: the hint of the `BleUnavailableError` when it is missing. */
export const BROWSER_HINT =
  'Web Bluetooth needs Chrome, Edge, Opera or Samsung Internet on Android, Windows, macOS, ChromeOS or Linux ' +
  '(on iOS: the Bluefy or WebBLE browser), a page served over HTTPS (or from localhost), and Bluetooth switched on.';

/** Options of `chooseCar`: `navigator.bluetooth`, the service the chooser filters on, and its bound. */
export interface ChooseCarOptions {
  /** `navigator.bluetooth` (or a fake). Undefined: `BleUnavailableError` (not supported here). */
  readonly bluetooth: BluetoothLike | undefined;
  /** Service to filter on (default: the proxkey service). */
  readonly serviceUuid?: string;
  /** Bound on the chooser (default 120 000 ms: the user is reading a list). */
  readonly chooserTimeoutMs?: number;
  readonly signal?: AbortSignal | undefined;
}

function domErrorName(e: unknown): string | undefined {
  return typeof e === 'object' && e !== null && 'name' in e && typeof e.name === 'string' ? e.name : undefined;
}

async function adapterMissing(bluetooth: BluetoothLike): Promise<boolean> {
  if (!bluetooth.getAvailability) return false;
  return !(await withDeadline('Bluetooth availability', bluetooth.getAvailability(), { timeoutMs: 2000 }).catch(() => true));
}

/**
 * What a failed `requestDevice` means: no Bluetooth (`BleUnavailableError`), the user cancelled
 * or picked nothing (`AbortedError`), a call outside a user gesture or from an insecure page
 * (`BleUnavailableError` saying so).
 */
export async function chooserError(bluetooth: BluetoothLike, e: unknown): Promise<ProxkeyError> {
  if (e instanceof ProxkeyError) return e;
  const name = domErrorName(e);
  const message = messageOf(e);
  if (name === 'NotFoundError') {
    if (/adapter|bluetooth is (off|disabled)/i.test(message) || (await adapterMissing(bluetooth)))
      return new BleUnavailableError(`Bluetooth is off or this device has no Bluetooth adapter (${message})`, 'Switch Bluetooth on and try again.');
    return new AbortedError('choosing a car (the chooser was cancelled or no car was picked)', e);
  }
  if (name === 'SecurityError')
    return new BleUnavailableError(
      `the browser refused to show the Bluetooth chooser: ${message}`,
      'Call it from a button press, on a page served over HTTPS or from localhost.',
    );
  if (name === 'NotAllowedError')
    return new BleUnavailableError(`Bluetooth permission denied: ${message}`, 'Allow this site to use Bluetooth in the browser settings.');
  return new BleUnavailableError(`Web Bluetooth failed: ${message}`, BROWSER_HINT);
}

/**
 * Show the chooser filtered on the proxkey service and return the car the user picked. Throws
 * `BleUnavailableError` when the browser has no Web Bluetooth or the adapter is off,
 * `AbortedError` when the user cancels, `TimeoutError` after `chooserTimeoutMs`.
 */
export async function chooseCar(options: ChooseCarOptions): Promise<BluetoothDeviceLike> {
  const { bluetooth, signal } = options;
  if (!bluetooth) throw new BleUnavailableError('this browser does not support Web Bluetooth (navigator.bluetooth is missing)', BROWSER_HINT);
  const service = (options.serviceUuid ?? PROXKEY_SERVICE_UUID).toLowerCase();
  let request: Promise<BluetoothDeviceLike>;
  try {
    request = bluetooth.requestDevice({ filters: [{ services: [service] }] });
  } catch (e) {
    request = Promise.reject(e instanceof Error ? e : new Error(String(e)));
  }
  try {
    return await withDeadline('choosing a car', request, { timeoutMs: options.chooserTimeoutMs ?? 120_000, signal });
  } catch (e) {
    request.catch(() => {});
    if (e instanceof TimeoutError || e instanceof AbortedError) throw e;
    throw await chooserError(bluetooth, e);
  }
}
