/**
 * The car's pairing mode: opened only by an explicit local action (API call, button, CLI), for a
 * limited time, with a fresh random 8-digit code. The car derives the SPAKE2+ verifier values
 * from the code (scrypt, fresh salt) and keeps only those; the code is returned once, to show.
 * Ends after one successful pairing, after `maxAttempts` failed attempts, on timeout, or on cancel.
 */
import { utf8 } from '../bytes.js';
import type { Clock, CryptoProvider, RandomSource } from '../crypto/provider.js';
import { sampleUntilAccepted } from '../crypto/random.js';
import { assertArg } from '../errors.js';
import { computeVerifierRecord, deriveSpake2PlusSecretsAsync, SPAKE2PLUS_SCRYPT_DEFAULTS } from '../pake/spake2plus.js';
import { scryptWithinBounds } from '../protocol/pairing.js';
import type { PairingAuthority, PairingCredentials } from '../roles/types.js';

/** Options of `PairingMode.open`: crypto, randomness, clock, lifetime, attempts, scrypt cost, what the QR payload names. */
export interface PairingModeOptions {
  readonly crypto: CryptoProvider;
  readonly random: RandomSource;
  readonly now: Clock;
  /** How long pairing mode stays open. Default 120 000 ms. */
  readonly ttlMs?: number;
  /** Failed attempts before pairing mode ends. Default 3. */
  readonly maxAttempts?: number;
  /** scrypt cost as log2(N), r, p. Default N = 2^15, r = 8, p = 1 (RFC 7914 interactive use). */
  readonly scrypt?: { readonly log2N: number; readonly r: number; readonly p: number };
  /** Shown in the pairing payload (QR code) so the phone can tell cars apart. */
  readonly carName?: string;
  readonly carId?: string;
}

/** `claimed`: a phone proved the code and its enrollment is being saved (closed to others). */
export type PairingModeStatus = 'active' | 'claimed' | 'expired' | 'exhausted' | 'paired' | 'cancelled';

/** A uniformly random 8-digit code (rejection sampling, no modulo bias). */
export function randomPairingCode(random: RandomSource): string {
  const limit = Math.floor(2 ** 32 / 1e8) * 1e8;
  return sampleUntilAccepted('pairing code', () => {
    const b = random(4);
    const n = ((b[0]! << 24) | (b[1]! << 16) | (b[2]! << 8) | b[3]!) >>> 0;
    return n < limit ? String(n % 1e8).padStart(8, '0') : undefined;
  });
}

/** One opening of the car's pairing mode: an 8-digit code (SPAKE2+ verifier only kept), a lifetime, a number of attempts, single use. */
export class PairingMode implements PairingAuthority {
  readonly expiresAt: number;
  readonly maxAttempts: number;
  #attempts = 0;
  #ended: 'paired' | 'cancelled' | undefined;
  /** A phone proved the code and its enrollment is being saved: closed to everyone else. */
  #claimed = false;
  #creds: PairingCredentials | undefined;

  private constructor(
    private readonly now: Clock,
    creds: PairingCredentials,
    ttlMs: number,
    maxAttempts: number,
  ) {
    this.#creds = creds;
    this.expiresAt = now() + ttlMs;
    this.maxAttempts = maxAttempts;
  }

  /**
   * Open pairing mode. Returns the mode (what the car keeps) and the code and payload to show
   * (never stored). Takes one scrypt run.
   */
  static async open(options: PairingModeOptions): Promise<{ mode: PairingMode; code: string; payload: string }> {
    const ttlMs = options.ttlMs ?? 120_000;
    const maxAttempts = options.maxAttempts ?? 3;
    assertArg(Number.isFinite(ttlMs) && ttlMs > 0, 'ttlMs: positive');
    assertArg(Number.isInteger(maxAttempts) && maxAttempts >= 1, 'maxAttempts: ≥ 1');
    const scrypt = options.scrypt ?? { log2N: Math.log2(SPAKE2PLUS_SCRYPT_DEFAULTS.N), r: SPAKE2PLUS_SCRYPT_DEFAULTS.r, p: SPAKE2PLUS_SCRYPT_DEFAULTS.p };
    assertArg(
      scryptWithinBounds(scrypt.log2N, scrypt.r, scrypt.p),
      'scrypt: outside what phones accept (PAIRING_SCRYPT_BOUNDS: ≤ 64 MiB, ≤ 4× the default work)',
    );
    const code = randomPairingCode(options.random);
    const salt = options.random(16);
    const secrets = await deriveSpake2PlusSecretsAsync({
      password: utf8(code),
      salt,
      idProver: new Uint8Array(0),
      idVerifier: new Uint8Array(0),
      scrypt: { N: 2 ** scrypt.log2N, r: scrypt.r, p: scrypt.p },
    });
    const record = computeVerifierRecord(secrets);
    secrets.w0.fill(0);
    secrets.w1.fill(0);
    const mode = new PairingMode(options.now, { salt, scrypt, w0: record.w0, L: record.L }, ttlMs, maxAttempts);
    const params = new URLSearchParams({ v: '1', code });
    if (options.carId) params.set('car', options.carId.slice(0, 8));
    if (options.carName) params.set('name', options.carName);
    return { mode, code, payload: `proxkey://pair?${params.toString()}` };
  }

  status(now = this.now()): PairingModeStatus {
    if (this.#ended) return this.#ended;
    if (this.#claimed) return 'claimed';
    if (this.#attempts >= this.maxAttempts) return 'exhausted';
    if (now > this.expiresAt) return 'expired';
    return 'active';
  }

  get attempts(): number {
    return this.#attempts;
  }

  /** The verifier values while pairing mode is open; none while a claim is pending (kept for a release), none ever again once it has ended (wiped). */
  credentials(now = this.now()): PairingCredentials | undefined {
    const status = this.status(now);
    if (status === 'active') return this.#creds;
    if (status !== 'claimed') this.#wipe();
    return undefined;
  }

  attemptStarted(): void {
    this.#attempts++;
  }

  /**
   * Take pairing mode for the phone whose PAIR_CONFIRM just verified. A phone counts its
   * attempt when the car responded, so the last allowed attempt may still confirm: only time,
   * cancellation and an earlier claim or success close it here.
   */
  claim(now = this.now()): boolean {
    if (this.#ended || this.#claimed || now > this.expiresAt) return false;
    this.#claimed = true;
    return true;
  }

  release(): void {
    this.#claimed = false;
  }

  succeeded(): void {
    this.#ended = 'paired';
    this.#wipe();
  }

  cancel(): void {
    this.#ended ??= 'cancelled';
    this.#wipe();
  }

  #wipe(): void {
    this.#creds?.w0.fill(0);
    this.#creds = undefined;
  }
}

/** Parse a pairing payload (`proxkey://pair?v=1&code=…`) into its code and hints. */
export function parsePairingPayload(payload: string): { code: string; carId?: string; name?: string } {
  const t = payload.trim();
  const q = t.startsWith('proxkey://pair?') ? t.slice('proxkey://pair?'.length) : undefined;
  assertArg(q !== undefined, 'pairing payload: expected proxkey://pair?…');
  const p = new URLSearchParams(q);
  const code = p.get('code') ?? '';
  assertArg(p.get('v') === '1' && /^\d{8}$/.test(code), 'pairing payload: unsupported version or bad code');
  const carId = p.get('car') ?? undefined;
  const name = p.get('name') ?? undefined;
  return { code, ...(carId && { carId }), ...(name && { name }) };
}
