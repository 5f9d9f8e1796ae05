/**
 * The part of react-native-ble-plx's `BleManager` that `proxkey/react-native` uses, typed by the
 * package's own declarations (a type-only import: nothing of react-native-ble-plx is loaded by
 * proxkey; the app constructs its `BleManager` and passes it in), plus what every radio call
 * shares: power-on, bounded calls with transaction ids, and mapping `BleError` to typed errors.
 */
import type { BleError, BleManager, State } from 'react-native-ble-plx';
import { ProxkeyError } from '../../errors.js';
import { withDeadline } from '../../transport/deadline.js';
import { BleUnavailableError, withRadioDeadline } from '../common.js';

/**
 * The methods of react-native-ble-plx's `BleManager` the adapter calls. A real
 * `new BleManager()` is one; so is a test double implementing exactly this (with the package's
 * `Device`, `Characteristic`, `BleError` and `Subscription` types).
 */
export type BlePlxManager = Pick<
  BleManager,
  | 'state'
  | 'onStateChange'
  | 'startDeviceScan'
  | 'stopDeviceScan'
  | 'connectToDevice'
  | 'cancelDeviceConnection'
  | 'onDeviceDisconnected'
  | 'discoverAllServicesAndCharacteristicsForDevice'
  | 'characteristicsForDevice'
  | 'requestMTUForDevice'
  | 'readCharacteristicForDevice'
  | 'writeCharacteristicWithResponseForDevice'
  | 'writeCharacteristicWithoutResponseForDevice'
  | 'monitorCharacteristicForDevice'
  | 'readRSSIForDevice'
  | 'cancelTransaction'
>;

/** Bound of one radio call, plus the caller's signal. */
export interface RadioBound {
  readonly timeoutMs: number;
  readonly signal?: AbortSignal | undefined;
}

/** What to tell the user for each state that keeps Bluetooth from working (docs/phone-react-native.md). */
export const REACT_NATIVE_HINT =
  'Android 12+: request BLUETOOTH_SCAN and BLUETOOTH_CONNECT at run time (PermissionsAndroid); Android ≤ 11: ACCESS_FINE_LOCATION, with location services on. ' +
  'iOS: NSBluetoothAlwaysUsageDescription in Info.plist, and the user must allow Bluetooth for the app. See docs/phone-react-native.md.';

const UNAVAILABLE_STATES: Record<string, string> = {
  Unsupported: 'this device has no Bluetooth LE',
  Unauthorized: 'the app is not allowed to use Bluetooth',
  PoweredOff: 'Bluetooth is switched off',
};

/** react-native-ble-plx's `BleError` (structurally: a number `errorCode`). */
export function isBleError(err: unknown): err is BleError {
  return err instanceof Error && typeof (err as Partial<BleError>).errorCode === 'number';
}

/** BleErrorCode values that mean "Bluetooth cannot be used here" (100–105, 601). */
const UNAVAILABLE_CODES = new Set([100, 101, 102, 103, 104, 105, 601]);

/**
 * A typed error for a failed call: proxkey errors as they are; a `BleError` saying Bluetooth is
 * unavailable (unsupported, unauthorized, off, location services off) → `BleUnavailableError`
 * with the permission hint; anything else is left to `step` (→ `LinkClosedError` naming the step).
 */
export function fromBleError(err: unknown, what: string): unknown {
  if (err instanceof ProxkeyError || !isBleError(err)) return err;
  if (UNAVAILABLE_CODES.has(err.errorCode)) {
    return new BleUnavailableError(`react-native-ble-plx: ${what} failed: ${err.message}`, REACT_NATIVE_HINT, { cause: err });
  }
  return err;
}

let transactions = 0;

export interface RadioOptions {
  /** Rejects when the car disconnects: the call ends at once. */
  readonly lost?: Promise<never>;
  /** Release what the call holds when the bound wins (default: `cancelTransaction` of its id). */
  readonly cancel?: () => void;
}

/**
 * Run one ble-plx call under a bound. It gets a fresh transaction id; when the bound (timeout,
 * abort, or `lost`: the car disconnected) wins, the native operation is cancelled with
 * `cancelTransaction` (or `cancel`). Errors are typed as `step` and {@link fromBleError} say.
 */
export function radio<T>(
  manager: BlePlxManager,
  what: string,
  call: (transactionId: string) => Promise<T>,
  bound: RadioBound,
  options: RadioOptions = {},
): Promise<T> {
  const transactionId = `proxkey-${++transactions}`;
  let work: Promise<T>;
  try {
    // Promise.resolve: ble-plx before 3.5 returned void from startDeviceScan
    work = Promise.resolve(call(transactionId)).catch((err: unknown) => Promise.reject(fromBleError(err, what)));
  } catch (err) {
    work = Promise.reject(fromBleError(err, what));
  }
  const cancel = options.cancel ?? (() => void manager.cancelTransaction(transactionId).catch(() => {}));
  return withRadioDeadline(what, options.lost ? Promise.race([work, options.lost]) : work, bound, cancel);
}

/**
 * Wait (bounded) until the adapter is `PoweredOn`. `Unsupported` / `Unauthorized` fail at once,
 * `PoweredOff` (the user may still switch it on) at the bound: `BleUnavailableError` with the hint.
 */
export async function waitPoweredOnPlx(manager: BlePlxManager, bound: RadioBound): Promise<void> {
  let last: State | undefined;
  let fail!: (err: Error) => void;
  let ready!: () => void;
  const done = new Promise<void>((resolve, reject) => ((ready = resolve), (fail = reject)));
  done.catch(() => {}); // may fail before it is awaited
  const onState = (state: State) => {
    last = state;
    // ble-plx is imported for its types only: compare the enum's string values.
    const name: string = state;
    if (name === 'PoweredOn') ready();
    else if (name === 'Unsupported' || name === 'Unauthorized') fail(unavailable(state));
  };
  const subscription = manager.onStateChange(onState, true);
  try {
    onState(await radio(manager, 'read the Bluetooth state', () => manager.state(), bound));
    await withDeadline('Bluetooth power-on', done, bound);
  } catch (err) {
    if (err instanceof ProxkeyError && err.code === 'ERR_TIMEOUT' && last !== undefined) throw unavailable(last, err);
    throw err;
  } finally {
    subscription.remove();
  }
}

function unavailable(state: State, cause?: unknown): BleUnavailableError {
  const why = UNAVAILABLE_STATES[state] ?? `Bluetooth stayed in state ${state}`;
  return new BleUnavailableError(`react-native-ble-plx: ${why}`, REACT_NATIVE_HINT, cause === undefined ? undefined : { cause });
}
