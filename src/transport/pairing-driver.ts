/**
 * Drivers for owner pairing over a `Link`: the car side (entered from `serveVehicleSession` when
 * the phone answers the challenge with PAIR_START) and the phone side (`pairPhone`). Every wait
 * is bounded; the enrollment is persisted by the callback **before** the car confirms.
 */
import { ProxkeyError } from '../errors.js';
import type { CarInfo, PhoneInfo } from '../protocol/pairing.js';
import type { DenyReason } from '../protocol/reasons.js';
import { PhonePairingSession, type PhonePairingOptions } from '../roles/phone-pairing.js';
import type { PairingAuthority, PairingPhoneEvent, PairingVehicleEvent, RoleEnvironment, RoleOutput } from '../roles/types.js';
import { VehiclePairingSession } from '../roles/vehicle-pairing.js';
import type { Link } from './link.js';

export interface VehiclePairingHooks {
  /** The active pairing mode, if any (undefined ⇒ the phone is told pairing is closed). */
  authority(): PairingAuthority | undefined;
  /**
   * Enroll the confirmed phone as owner — durably — and return what the phone must store, or
   * the reason it cannot be enrolled (a throw counts as `internal-error`).
   */
  enrollOwner(phone: PhoneInfo): Promise<CarInfo | DenyReason>;
  /** Bound on each wait for the phone (it runs scrypt between messages). Default 30 000 ms. */
  readonly stepTimeoutMs?: number;
}

const CLOSED: PairingAuthority = {
  credentials: () => undefined,
  attemptStarted: () => undefined,
  succeeded: () => undefined,
};

/** Observers must not break the car. */
function emit<E>(onEvent: ((e: E) => void) | undefined, e: E): void {
  try {
    onEvent?.(e);
  } catch {
    /* ignored */
  }
}

async function enrollSafely(hooks: VehiclePairingHooks, phone: PhoneInfo): Promise<CarInfo | DenyReason> {
  try {
    return await hooks.enrollOwner(phone);
  } catch {
    return 'internal-error';
  }
}

async function flush<E>(link: Link, o: RoleOutput<E>, signal?: AbortSignal): Promise<void> {
  for (const m of o.send) await link.send(m, { signal });
}

/**
 * Car side, after CHALLENGE was sent and PAIR_START received (`first`). Resolves with the
 * outcome; never throws for what the phone does.
 */
export async function serveVehiclePairing(
  link: Link,
  env: RoleEnvironment,
  challenge: Uint8Array,
  first: Uint8Array,
  hooks: VehiclePairingHooks | undefined,
  options: { signal?: AbortSignal; onEvent?: (e: PairingVehicleEvent) => void } = {},
): Promise<{ paired: boolean; keyId?: string; error?: ProxkeyError }> {
  const session = new VehiclePairingSession({ ...env, authority: hooks?.authority() ?? CLOSED, challenge });
  let bytes = first;
  let error: ProxkeyError | undefined;
  for (;;) {
    let o = await session.receive(bytes);
    for (const e of o.events) {
      emit(options.onEvent, e);
      if (e.type === 'error') error = e.error;
    }
    await flush(link, o, options.signal);
    const enroll = o.events.find((e) => e.type === 'enroll');
    if (enroll?.type === 'enroll') {
      const car = await enrollSafely(hooks!, enroll.phone);
      o = typeof car === 'string' ? await session.refuse(car) : await session.complete(car);
      for (const e of o.events) emit(options.onEvent, e);
      await flush(link, o, options.signal);
      return typeof car === 'string' ? { paired: false } : { paired: true, keyId: car.keyId };
    }
    if (o.done || error) return { paired: false, ...(error && { error }) };
    bytes = await link.receive({ timeoutMs: hooks?.stepTimeoutMs ?? 30_000, signal: options.signal });
  }
}

export interface PairPhoneOptions extends PhonePairingOptions {
  /** Bound for each wait on the car. Default 10 000 ms. */
  readonly timeoutMs?: number;
  readonly signal?: AbortSignal;
  readonly onEvent?: (e: PairingPhoneEvent) => void;
}

export type PairedCar = Extract<PairingPhoneEvent, { type: 'paired' }>['car'];

/**
 * Phone side: pair with the car on `link` using the code it shows. Resolves with the car's
 * identity (persist it before telling the user); rejects with `ERR_PAIRING_FAILED` for a wrong
 * code or a car not in pairing mode, or a typed I/O error.
 */
export async function pairPhone(link: Link, options: PairPhoneOptions): Promise<PairedCar> {
  const session = new PhonePairingSession(options);
  try {
    for (;;) {
      const bytes = await link.receive({ timeoutMs: options.timeoutMs ?? 10_000, signal: options.signal });
      const o = await session.receive(bytes);
      for (const e of o.events) options.onEvent?.(e);
      await flush(link, o, options.signal);
      const error = o.events.find((e) => e.type === 'error');
      if (error?.type === 'error') throw error.error;
      const paired = o.events.find((e) => e.type === 'paired');
      if (paired?.type === 'paired') return paired.car;
      if (o.done) throw new ProxkeyError('ERR_PAIRING_FAILED', 'the car ended pairing');
    }
  } finally {
    link.close('pairing over');
  }
}
