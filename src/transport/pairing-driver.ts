/**
 * The phone's driver for owner pairing over a `Link` (`pairPhone`). Every wait is bounded. The car
 * side runs inside `serveVehicleSession` (`VehicleConnection` turns into pairing at PAIR_START).
 */
import { ProxkeyError } from '../errors.js';
import { PhonePairingSession, type PhonePairingOptions } from '../roles/phone-pairing.js';
import type { PairingPhoneEvent, RoleOutput } from '../roles/types.js';
import type { Link } from './link.js';

async function sendAll<E>(link: Link, o: RoleOutput<E>, signal?: AbortSignal): Promise<void> {
  for (const m of o.send) await link.send(m, { signal });
}

/** Options of `pairPhone`: the phone pairing role's, a bound per wait, a signal and an event observer. */
export interface PairPhoneOptions extends PhonePairingOptions {
  /** Bound for each wait on the car. Default 10 000 ms. */
  readonly timeoutMs?: number;
  readonly signal?: AbortSignal;
  readonly onEvent?: (e: PairingPhoneEvent) => void;
}

/** What a phone learns from pairing: the car's key, advertising secret, key id and name (persist before telling the user). */
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
      await sendAll(link, o, options.signal);
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
