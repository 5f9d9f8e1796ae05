/**
 * The phone's driver for owner pairing over a `Link` (`pairPhone`). Every wait is bounded. The car
 * side runs inside `serveVehicleSession` (`VehicleConnection` turns into pairing at PAIR_START).
 */
import { markedIoFailure, ProxkeyError, RemoteError, TimeoutError } from '../errors.js';
import { PAIRING_ANSWER_TIMEOUT_MS, PhonePairingSession, type PhonePairingOptions } from '../roles/phone-pairing.js';
import type { PairingPhoneEvent, RoleOutput } from '../roles/types.js';
import { waitMsUntil } from './deadline.js';
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
      const o = await nextOutput(session, link, options);
      for (const e of o.events) options.onEvent?.(e);
      const error = o.events.find((e) => e.type === 'error');
      // The role's error says what happened; sending its last message is best effort then.
      if (error?.type === 'error') {
        await sendAll(link, o, options.signal).catch(() => undefined);
        throw afterConfirm(session, error.error, options);
      }
      // Sending PAIR_CONFIRM: once it may have left, the car may enroll this phone.
      await sendAll(link, o, options.signal).catch((e: unknown) => {
        throw afterConfirm(session, e, options);
      });
      const paired = o.events.find((e) => e.type === 'paired');
      if (paired?.type === 'paired') return paired.car;
      if (o.done) throw new ProxkeyError('ERR_PAIRING_FAILED', 'the car ended pairing');
    }
  } finally {
    link.close('pairing over');
  }
}

/**
 * The car's next message fed to the role, or (when none came by the role's deadline) its tick.
 * A lost link after PAIR_CONFIRM was sent may have left the phone enrolled: the error says so.
 */
async function nextOutput(session: PhonePairingSession, link: Link, options: PairPhoneOptions): Promise<RoleOutput<PairingPhoneEvent>> {
  const deadline = session.nextDeadline();
  const waitMs = waitMsUntil(deadline, options.now(), options.timeoutMs ?? PAIRING_ANSWER_TIMEOUT_MS);
  let bytes: Uint8Array;
  try {
    bytes = await link.receive({ timeoutMs: waitMs, signal: options.signal });
  } catch (err) {
    if (err instanceof TimeoutError && deadline !== undefined) return session.tick(Math.max(options.now(), deadline));
    throw afterConfirm(session, err, options);
  }
  return session.receive(bytes, options.now());
}

/**
 * A failure once PAIR_CONFIRM was (or was being) sent, marked `mayHaveSucceeded`: the car may have
 * enrolled this phone, and nothing the phone saw since is authenticated (an ALERT, garbage, a
 * PAIR_DONE that does not open, a lost link) — the same class and code otherwise. Earlier: as it is.
 */
function afterConfirm(session: PhonePairingSession, err: unknown, options: PairPhoneOptions): unknown {
  if (session.state !== 'awaiting-done' || !(err instanceof ProxkeyError) || err.mayHaveSucceeded) return err;
  const what = 'pairing after PAIR_CONFIRM';
  const io = markedIoFailure(err, { aborted: what, timedOut: what, timeoutMs: options.timeoutMs ?? PAIRING_ANSWER_TIMEOUT_MS });
  if (io) return io;
  const marked = { mayHaveSucceeded: true, cause: err } as const;
  if (err instanceof RemoteError) return new RemoteError(err.code, err.message, marked);
  return new ProxkeyError(err.code, err.message, marked);
}
