/**
 * SPAKE2+ (RFC 9383), ciphersuite SPAKE2+-P256-SHA256-HKDF-SHA256-HMAC-SHA256, for owner pairing:
 * the phone is the Prover (knows the password), the car is the Verifier (stores only the
 * registration record `{ w0, L }`).
 *
 * ```
 *   Prover (phone)                                   Verifier (car)
 *   shareP = start()           ── shareP ──▶
 *                              ◀─ shareV, confirmV ─  { shareV, confirmV } = respond(shareP)
 *   { confirmP, sharedKey } =
 *     finish(shareV, confirmV) ── confirmP ─▶         { sharedKey } = finish(confirmP)
 * ```
 *
 * Sans-IO: no timers, no I/O; randomness (`random`) and hash/HMAC/HKDF (`crypto`) are injected.
 * Points are 65-byte SEC1 uncompressed; scalars are 32-byte big-endian.
 *
 * Failure handling:
 * - A malformed received element (wrong length, off-curve, identity) is rejected with
 *   `RemoteError('ERR_INVALID_POINT')` before any secret is touched; the state is unchanged.
 * - Once secrets are involved (Z or V is the identity, or a confirmation MAC does not match) the
 *   session aborts for good (RFC 9383 §3.4): `RemoteError('ERR_INVALID_POINT' | 'ERR_DECRYPT')`,
 *   secrets wiped, and every later call throws `LocalError('ERR_INVALID_STATE')`. One run = at
 *   most one online password guess for an attacker.
 * - Calling steps out of order → `LocalError('ERR_INVALID_STATE')`.
 *
 * Wiping is best effort: byte arrays are zeroed, bigint scalars are dropped (JS cannot zero them).
 */
import { scrypt, scryptAsync } from '@noble/hashes/scrypt.js';
import { concatBytes, copyOf, equalBytes, utf8, wipe } from '../bytes.js';
import { LocalError, RemoteError, assertArg, assertBytes } from '../errors.js';
import {
  P256_POINT_BYTES,
  P256_SCALAR_BYTES,
  SPAKE2PLUS_P256_M,
  SPAKE2PLUS_P256_N,
  baseMultiply,
  decodePoint,
  encodePoint,
  isIdentity,
  pointAdd,
  pointSubtract,
  randomScalar,
  reduceScalar,
  scalarFromBytes,
  scalarMultiply,
  scalarToBytes,
  type P256Point,
} from '../crypto/p256-group.js';
import type { CryptoProvider, RandomSource } from '../crypto/provider.js';
import { sampleUntilAccepted } from '../crypto/random.js';

/** The ciphersuite implemented here (RFC 9383 §4). */
export const SPAKE2PLUS_SUITE = 'SPAKE2+-P256-SHA256-HKDF-SHA256-HMAC-SHA256';

/** Byte length of shareP / shareV (SEC1 uncompressed P-256). */
export const SPAKE2PLUS_SHARE_LENGTH = P256_POINT_BYTES;
/** Byte length of confirmP / confirmV (HMAC-SHA256). */
export const SPAKE2PLUS_CONFIRM_LENGTH = 32;
/** Byte length of K_shared (RFC 9383 §3.4: Hash output length). */
export const SPAKE2PLUS_SHARED_KEY_LENGTH = 32;
/** Byte length of w0 and w1 (32-byte big-endian scalars mod n). */
export const SPAKE2PLUS_W_LENGTH = P256_SCALAR_BYTES;
/**
 * Byte length of each of w0s and w1s: ceil(log2(n)/8) + k/8 with k = 64 (RFC 9383 §3.2), so the
 * reduction mod n has bias ≤ 2^-64. The PBKDF output is twice this (80 bytes).
 */
export const SPAKE2PLUS_WS_LENGTH = P256_SCALAR_BYTES + 8;
/** Minimum scrypt salt length accepted by {@link deriveSpake2PlusSecrets} (use 16–32 random bytes). */
export const SPAKE2PLUS_MIN_SALT_LENGTH = 16;

/** scrypt cost parameters (RFC 7914 §2). */
export interface ScryptParams {
  /** CPU/memory cost, a power of two > 1. */
  readonly N: number;
  /** Block size. */
  readonly r: number;
  /** Parallelization. */
  readonly p: number;
}

/**
 * Recommended production scrypt parameters for the RFC 9383 §3.2 PBKDF: N = 2^15, r = 8, p = 1
 * (RFC 7914 §2 / RFC 9383 §3.2's scrypt example; ≈32 MiB, ~0.1–0.3 s on a phone). Registration
 * runs once per pairing on the phone, so raise N if the target hardware allows it.
 */
export const SPAKE2PLUS_SCRYPT_DEFAULTS: ScryptParams = Object.freeze({ N: 2 ** 15, r: 8, p: 1 });

/** The Prover's secrets, derived from the password (RFC 9383 §3.2). Wipe when done. */
export interface Spake2PlusSecrets {
  /** 32-byte big-endian scalar w0 = w0s mod n. */
  readonly w0: Uint8Array;
  /** 32-byte big-endian scalar w1 = w1s mod n. */
  readonly w1: Uint8Array;
}

/** What the Verifier (car) stores: the registration record (RFC 9383 §3.2). */
export interface Spake2PlusVerifierRecord {
  /** 32-byte big-endian scalar w0. */
  readonly w0: Uint8Array;
  /** 65-byte SEC1 uncompressed point L = w1·G. */
  readonly L: Uint8Array;
}

/** Options of {@link deriveSpake2PlusSecrets}: the password, its salt, the identities, the scrypt cost. */
export interface DeriveSpake2PlusSecretsOptions {
  /** The password, already normalized by the application (RFC 9383 §3.2 / RFC 8265). Non-empty. */
  readonly password: Uint8Array;
  /** scrypt salt: at least {@link SPAKE2PLUS_MIN_SALT_LENGTH} random bytes, stored with the record. */
  readonly salt: Uint8Array;
  /** Prover identity (may be empty when unknown, RFC 9383 §3.2). */
  readonly idProver: Uint8Array;
  /** Verifier identity (may be empty when unknown, RFC 9383 §3.2). */
  readonly idVerifier: Uint8Array;
  /** scrypt cost; production: {@link SPAKE2PLUS_SCRYPT_DEFAULTS}. */
  readonly scrypt: ScryptParams;
}

// ---------------------------------------------------------------------------------------------
// Encoding helpers
// ---------------------------------------------------------------------------------------------

/** `len(a) ‖ a ‖ len(b) ‖ b ‖ …` with 8-byte little-endian lengths (RFC 9383 §3.2, §3.3). */
function lengthPrefixed(...parts: Uint8Array[]): Uint8Array {
  const pieces: Uint8Array[] = [];
  for (const part of parts) {
    const len = new Uint8Array(8);
    new DataView(len.buffer).setBigUint64(0, BigInt(part.length), true);
    pieces.push(len, part);
  }
  return concatBytes(...pieces);
}

const INFO_CONFIRMATION_KEYS = /* @__PURE__ */ utf8('ConfirmationKeys');
const INFO_SHARED_KEY = /* @__PURE__ */ utf8('SharedKey');
const EMPTY = /* @__PURE__ */ new Uint8Array(0);
const M_BYTES = /* @__PURE__ */ encodePoint(SPAKE2PLUS_P256_M);
const N_BYTES = /* @__PURE__ */ encodePoint(SPAKE2PLUS_P256_N);

// ---------------------------------------------------------------------------------------------
// Registration (RFC 9383 §3.2)
// ---------------------------------------------------------------------------------------------

function checkDeriveOptions(opts: DeriveSpake2PlusSecretsOptions): Uint8Array {
  assertArg(typeof opts === 'object' && opts !== null, 'options: expected an object');
  assertBytes(opts.password, 'password');
  assertArg(opts.password.length > 0, 'password: must not be empty');
  assertBytes(opts.salt, 'salt');
  assertArg(opts.salt.length >= SPAKE2PLUS_MIN_SALT_LENGTH, `salt: at least ${SPAKE2PLUS_MIN_SALT_LENGTH} bytes`);
  assertBytes(opts.idProver, 'idProver');
  assertBytes(opts.idVerifier, 'idVerifier');
  const s = opts.scrypt;
  assertArg(typeof s === 'object' && s !== null, 'scrypt: expected { N, r, p }');
  assertArg(Number.isSafeInteger(s.N) && s.N > 1 && (s.N & (s.N - 1)) === 0, 'scrypt.N: a power of two > 1');
  assertArg(Number.isSafeInteger(s.r) && s.r >= 1, 'scrypt.r: a positive integer');
  assertArg(Number.isSafeInteger(s.p) && s.p >= 1, 'scrypt.p: a positive integer');
  // PBKDF input: len(pw) ‖ pw ‖ len(idProver) ‖ idProver ‖ len(idVerifier) ‖ idVerifier.
  return lengthPrefixed(opts.password, opts.idProver, opts.idVerifier);
}

function secretsFromWs(ws: Uint8Array): Spake2PlusSecrets {
  // w0s ‖ w1s, 40 bytes each; w0 = w0s mod n, w1 = w1s mod n.
  const w0 = reduceScalar(ws.subarray(0, SPAKE2PLUS_WS_LENGTH));
  const w1 = reduceScalar(ws.subarray(SPAKE2PLUS_WS_LENGTH, 2 * SPAKE2PLUS_WS_LENGTH));
  wipe(ws);
  // Zero has probability 2^-256; rejecting it keeps L = w1·G and w0·M, w0·N away from the identity.
  if (w0 === 0n || w1 === 0n) throw new LocalError('ERR_INVALID_ARGUMENT', 'password derivation produced a zero scalar');
  return { w0: scalarToBytes(w0), w1: scalarToBytes(w1) };
}

/**
 * RFC 9383 §3.2, with scrypt (RFC 7914) as the PBKDF:
 * `w0s ‖ w1s = scrypt(len(pw) ‖ pw ‖ len(idProver) ‖ idProver ‖ len(idVerifier) ‖ idVerifier, salt)`
 * (80 bytes), `w0 = w0s mod n`, `w1 = w1s mod n`. Lengths are 8-byte little-endian.
 * Synchronous (blocks for the whole scrypt run); see {@link deriveSpake2PlusSecretsAsync}.
 */
export function deriveSpake2PlusSecrets(opts: DeriveSpake2PlusSecretsOptions): Spake2PlusSecrets {
  const input = checkDeriveOptions(opts);
  try {
    const { N, r, p } = opts.scrypt;
    return secretsFromWs(scrypt(input, opts.salt, { N, r, p, dkLen: 2 * SPAKE2PLUS_WS_LENGTH }));
  } finally {
    wipe(input);
  }
}

/** {@link deriveSpake2PlusSecrets}, yielding to the event loop while scrypt runs. Same output. */
export async function deriveSpake2PlusSecretsAsync(opts: DeriveSpake2PlusSecretsOptions): Promise<Spake2PlusSecrets> {
  const input = checkDeriveOptions(opts);
  try {
    const { N, r, p } = opts.scrypt;
    return secretsFromWs(await scryptAsync(input, opts.salt, { N, r, p, dkLen: 2 * SPAKE2PLUS_WS_LENGTH }));
  } finally {
    wipe(input);
  }
}

/** The registration record the Verifier stores: `{ w0, L = w1·G }` (RFC 9383 §3.2). */
export function computeVerifierRecord(secrets: Spake2PlusSecrets): Spake2PlusVerifierRecord {
  scalarFromBytes(secrets.w0, 'w0'); // validate range only
  const w1 = scalarFromBytes(secrets.w1, 'w1');
  return { w0: copyOf(secrets.w0), L: encodePoint(baseMultiply(w1)) };
}

/**
 * Validate a registration record received from the Prover (e.g. over the pairing channel) before
 * the Verifier stores it. Peer data, so failures are remote: w0 not a 32-byte scalar in [1, n-1]
 * → `RemoteError('ERR_DECODE')`; L not a valid 65-byte point → `RemoteError('ERR_INVALID_POINT')`.
 * Returns copies.
 */
export function parseVerifierRecord(w0: Uint8Array, L: Uint8Array): Spake2PlusVerifierRecord {
  assertBytes(w0, 'w0');
  assertBytes(L, 'L');
  try {
    scalarFromBytes(w0, 'w0');
  } catch {
    throw new RemoteError('ERR_DECODE', 'w0: expected a 32-byte scalar in [1, n-1]');
  }
  decodePoint(L, 'L');
  return { w0: copyOf(w0), L: copyOf(L) };
}

// ---------------------------------------------------------------------------------------------
// Transcript and key schedule (RFC 9383 §3.3, §3.4)
// ---------------------------------------------------------------------------------------------

/** What the SPAKE2+ transcript TT binds (RFC 9383 §3.3): context, identities, both shares, Z, V, w0. */
export interface Spake2PlusTranscriptInput {
  readonly context: Uint8Array;
  readonly idProver: Uint8Array;
  readonly idVerifier: Uint8Array;
  /** 65-byte encodings. */
  readonly shareP: Uint8Array;
  readonly shareV: Uint8Array;
  readonly Z: Uint8Array;
  readonly V: Uint8Array;
  /** 32-byte w0. */
  readonly w0: Uint8Array;
}

/**
 * TT (RFC 9383 §3.3): `len(Context) ‖ Context ‖ len(idProver) ‖ idProver ‖ len(idVerifier) ‖
 * idVerifier ‖ len(M) ‖ M ‖ len(N) ‖ N ‖ len(shareP) ‖ shareP ‖ len(shareV) ‖ shareV ‖ len(Z) ‖ Z ‖
 * len(V) ‖ V ‖ len(w0) ‖ w0`, lengths 8-byte little-endian, M and N uncompressed (65 bytes).
 */
export function spake2PlusTranscript(t: Spake2PlusTranscriptInput): Uint8Array {
  assertBytes(t.context, 'context');
  assertBytes(t.idProver, 'idProver');
  assertBytes(t.idVerifier, 'idVerifier');
  assertBytes(t.shareP, 'shareP', P256_POINT_BYTES);
  assertBytes(t.shareV, 'shareV', P256_POINT_BYTES);
  assertBytes(t.Z, 'Z', P256_POINT_BYTES);
  assertBytes(t.V, 'V', P256_POINT_BYTES);
  assertBytes(t.w0, 'w0', P256_SCALAR_BYTES);
  return lengthPrefixed(t.context, t.idProver, t.idVerifier, M_BYTES, N_BYTES, t.shareP, t.shareV, t.Z, t.V, t.w0);
}

/** Every key of the RFC 9383 §3.4 schedule. Wipe when done. */
export interface Spake2PlusKeySchedule {
  /** K_main = Hash(TT). */
  readonly K_main: Uint8Array;
  /** K_confirmP ‖ K_confirmV = KDF(nil, K_main, "ConfirmationKeys"), 32 bytes each. */
  readonly K_confirmP: Uint8Array;
  readonly K_confirmV: Uint8Array;
  /** confirmP = MAC(K_confirmP, shareV): sent by the Prover. */
  readonly confirmP: Uint8Array;
  /** confirmV = MAC(K_confirmV, shareP): sent by the Verifier. */
  readonly confirmV: Uint8Array;
  /** K_shared = KDF(nil, K_main, "SharedKey"), 32 bytes. */
  readonly K_shared: Uint8Array;
}

/** The RFC 9383 §3.4 key schedule from TT (HKDF-SHA256 with empty salt, HMAC-SHA256). */
export function spake2PlusKeySchedule(crypto: CryptoProvider, TT: Uint8Array, shareP: Uint8Array, shareV: Uint8Array): Spake2PlusKeySchedule {
  assertBytes(TT, 'TT');
  assertBytes(shareP, 'shareP', P256_POINT_BYTES);
  assertBytes(shareV, 'shareV', P256_POINT_BYTES);
  const K_main = crypto.sha256(TT);
  const confirmationKeys = crypto.hkdfSha256(K_main, EMPTY, INFO_CONFIRMATION_KEYS, 64);
  // Real copies before the wipe, whatever array type the provider returned (a Buffer's slice is a view).
  const K_confirmP = copyOf(confirmationKeys.subarray(0, 32));
  const K_confirmV = copyOf(confirmationKeys.subarray(32, 64));
  wipe(confirmationKeys);
  const K_shared = crypto.hkdfSha256(K_main, EMPTY, INFO_SHARED_KEY, SPAKE2PLUS_SHARED_KEY_LENGTH);
  const confirmP = crypto.hmacSha256(K_confirmP, shareV);
  const confirmV = crypto.hmacSha256(K_confirmV, shareP);
  return { K_main, K_confirmP, K_confirmV, confirmP, confirmV, K_shared };
}

/**
 * Prover side of RFC 9383 §3.3: `Z = h·x·(shareV − w0·N)`, `V = h·w1·(shareV − w0·N)` (h = 1).
 * Throws `RemoteError('ERR_INVALID_POINT')` if Z or V is the identity.
 * @internal exported for the vector test.
 */
export function spake2PlusProverZV(x: bigint, w0: bigint, w1: bigint, shareV: P256Point): { Z: Uint8Array; V: Uint8Array } {
  const base = pointSubtract(shareV, scalarMultiply(SPAKE2PLUS_P256_N, w0));
  if (isIdentity(base)) throw new RemoteError('ERR_INVALID_POINT', 'shareV − w0·N is the identity');
  return finishZV(scalarMultiply(base, x), scalarMultiply(base, w1));
}

/**
 * Verifier side of RFC 9383 §3.3: `Z = h·y·(shareP − w0·M)`, `V = h·y·L` (h = 1).
 * Throws `RemoteError('ERR_INVALID_POINT')` if Z or V is the identity.
 * @internal exported for the vector test.
 */
export function spake2PlusVerifierZV(y: bigint, w0: bigint, L: P256Point, shareP: P256Point): { Z: Uint8Array; V: Uint8Array } {
  const base = pointSubtract(shareP, scalarMultiply(SPAKE2PLUS_P256_M, w0));
  if (isIdentity(base)) throw new RemoteError('ERR_INVALID_POINT', 'shareP − w0·M is the identity');
  return finishZV(scalarMultiply(base, y), scalarMultiply(L, y));
}

function finishZV(Z: P256Point, V: P256Point): { Z: Uint8Array; V: Uint8Array } {
  // RFC 9383 §3.3: abort if Z or V is the identity (cannot happen for valid inputs with h = 1
  // and scalars in [1, n-1], but checked anyway so the identity is never hashed).
  if (isIdentity(Z) || isIdentity(V)) throw new RemoteError('ERR_INVALID_POINT', 'Z or V is the identity');
  return { Z: encodePoint(Z), V: encodePoint(V) };
}

/** `k·G + w·P` for our own share; draws k again (negligibly rarely, bounded) if it hits the identity. */
function makeShare(fixed: bigint | undefined, random: RandomSource, w: bigint, P: P256Point): { k: bigint; share: Uint8Array } {
  const blind = scalarMultiply(P, w);
  return sampleUntilAccepted('SPAKE2+ share', () => {
    const k = fixed ?? randomScalar(random);
    const point = pointAdd(baseMultiply(k), blind);
    if (!isIdentity(point)) return { k, share: encodePoint(point) };
    if (fixed !== undefined) throw new LocalError('ERR_INVALID_ARGUMENT', 'fixed scalar yields the identity share');
    return undefined;
  });
}

interface CommonOptions {
  /** Application context bound into TT (RFC 9383 §3.3), e.g. protocol name and version. */
  readonly context: Uint8Array;
  /** Prover identity (phone); must equal the value used at registration. */
  readonly idProver: Uint8Array;
  /** Verifier identity (car); must equal the value used at registration. */
  readonly idVerifier: Uint8Array;
  /** Hash, HMAC and HKDF. */
  readonly crypto: CryptoProvider;
  /** Source of the ephemeral scalar. */
  readonly random: RandomSource;
}

function checkCommon(o: CommonOptions): { context: Uint8Array; idProver: Uint8Array; idVerifier: Uint8Array } {
  assertArg(typeof o === 'object' && o !== null, 'options: expected an object');
  assertBytes(o.context, 'context');
  assertBytes(o.idProver, 'idProver');
  assertBytes(o.idVerifier, 'idVerifier');
  assertArg(typeof o.crypto === 'object' && o.crypto !== null, 'crypto: expected a CryptoProvider');
  assertArg(typeof o.random === 'function', 'random: expected a RandomSource');
  return { context: copyOf(o.context), idProver: copyOf(o.idProver), idVerifier: copyOf(o.idVerifier) };
}

function decodeLocalPoint(bytes: Uint8Array, what: string): P256Point {
  assertBytes(bytes, what, P256_POINT_BYTES);
  try {
    return decodePoint(bytes, what);
  } catch {
    throw new LocalError('ERR_INVALID_ARGUMENT', `${what}: not a valid P-256 point`);
  }
}

// ---------------------------------------------------------------------------------------------
// Prover (phone)
// ---------------------------------------------------------------------------------------------

/** Options of the Prover (the phone): w0 and w1 from the password, and the common context. */
export interface Spake2PlusProverOptions extends CommonOptions {
  /** 32-byte w0 from {@link deriveSpake2PlusSecrets}. Copied. */
  readonly w0: Uint8Array;
  /** 32-byte w1 from {@link deriveSpake2PlusSecrets}. Copied. */
  readonly w1: Uint8Array;
  /** Fixed ephemeral scalar x (32 bytes, in [1, n-1]). **Test vectors only**: never in production. */
  readonly x?: Uint8Array;
}

/** What the Prover has once the Verifier's confirmation checked: its own confirmation to send, and the shared key. */
export interface Spake2PlusProverResult {
  /** confirmP = HMAC(K_confirmP, shareV), to send to the Verifier. */
  readonly confirmP: Uint8Array;
  /** K_shared (32 bytes). The Verifier has proven knowledge of the record; wipe when done. */
  readonly sharedKey: Uint8Array;
}

type ProverState = 'initial' | 'started' | 'done' | 'failed';

/** The Prover (phone) of RFC 9383 §3.3–3.4. One instance per run. */
export class Spake2PlusProver {
  #state: ProverState = 'initial';
  #w0: bigint;
  #w1: bigint;
  #w0Bytes: Uint8Array;
  #x: bigint | undefined;
  #fixedX: bigint | undefined;
  #shareP: Uint8Array | undefined;
  readonly #context: Uint8Array;
  readonly #idProver: Uint8Array;
  readonly #idVerifier: Uint8Array;
  readonly #crypto: CryptoProvider;
  readonly #random: RandomSource;

  constructor(opts: Spake2PlusProverOptions) {
    const common = checkCommon(opts);
    this.#context = common.context;
    this.#idProver = common.idProver;
    this.#idVerifier = common.idVerifier;
    this.#crypto = opts.crypto;
    this.#random = opts.random;
    this.#w0 = scalarFromBytes(opts.w0, 'w0');
    this.#w1 = scalarFromBytes(opts.w1, 'w1');
    this.#w0Bytes = copyOf(opts.w0);
    this.#fixedX = opts.x === undefined ? undefined : scalarFromBytes(opts.x, 'x');
  }

  /** Current step: `initial` → `started` → `done`, or `failed` after a rejected peer message. */
  get state(): ProverState {
    return this.#state;
  }

  /** Pick x and return shareP = x·G + w0·M (65 bytes), RFC 9383 §3.3. */
  start(): Uint8Array {
    if (this.#state !== 'initial') throw new LocalError('ERR_INVALID_STATE', `start() in state ${this.#state}`);
    const { k, share } = makeShare(this.#fixedX, this.#random, this.#w0, SPAKE2PLUS_P256_M);
    this.#fixedX = undefined;
    this.#x = k;
    this.#shareP = share;
    this.#state = 'started';
    return share.slice();
  }

  /**
   * Process the Verifier's `shareV` and `confirmV`; on success return confirmP and K_shared.
   * Invalid shareV encoding → `RemoteError('ERR_INVALID_POINT')`, state unchanged. Bad confirmV
   * (wrong password or tampering) → `RemoteError('ERR_DECRYPT')`, session aborted.
   */
  finish(shareV: Uint8Array, confirmV: Uint8Array): Spake2PlusProverResult {
    if (this.#state !== 'started') throw new LocalError('ERR_INVALID_STATE', `finish() in state ${this.#state}`);
    assertBytes(confirmV, 'confirmV');
    const Y = decodePoint(shareV, 'shareV'); // secret-independent check: state unchanged on failure
    const shareP = this.#shareP!;
    let keys: Spake2PlusKeySchedule | undefined;
    let zv: { Z: Uint8Array; V: Uint8Array } | undefined;
    let TT: Uint8Array | undefined;
    try {
      zv = spake2PlusProverZV(this.#x!, this.#w0, this.#w1, Y);
      TT = spake2PlusTranscript({
        context: this.#context,
        idProver: this.#idProver,
        idVerifier: this.#idVerifier,
        shareP,
        shareV,
        Z: zv.Z,
        V: zv.V,
        w0: this.#w0Bytes,
      });
      keys = spake2PlusKeySchedule(this.#crypto, TT, shareP, shareV);
      if (!equalBytes(keys.confirmV, confirmV)) {
        throw new RemoteError('ERR_DECRYPT', 'SPAKE2+ confirmV mismatch (wrong password or tampering)');
      }
      this.#clear('done');
      return { confirmP: copyOf(keys.confirmP), sharedKey: copyOf(keys.K_shared) };
    } catch (err) {
      this.#clear('failed');
      throw err;
    } finally {
      wipe(zv?.Z, zv?.V, TT, keys?.K_main, keys?.K_confirmP, keys?.K_confirmV, keys?.K_shared, keys?.confirmP);
    }
  }

  #clear(state: ProverState): void {
    this.#state = state;
    wipe(this.#w0Bytes);
    this.#w0 = 0n;
    this.#w1 = 0n;
    this.#x = undefined;
    this.#fixedX = undefined;
  }
}

// ---------------------------------------------------------------------------------------------
// Verifier (car)
// ---------------------------------------------------------------------------------------------

/** Options of the Verifier (the car): w0 and L from the registration record, and the common context. */
export interface Spake2PlusVerifierOptions extends CommonOptions {
  /** 32-byte w0 from the stored registration record. Copied. */
  readonly w0: Uint8Array;
  /** 65-byte L = w1·G from the stored registration record. */
  readonly L: Uint8Array;
  /** Fixed ephemeral scalar y (32 bytes, in [1, n-1]). **Test vectors only**: never in production. */
  readonly y?: Uint8Array;
}

/** The Verifier's answer to shareP: its share and its confirmation. */
export interface Spake2PlusVerifierResponse {
  /** shareV = y·G + w0·N (65 bytes). */
  readonly shareV: Uint8Array;
  /** confirmV = HMAC(K_confirmV, shareP). */
  readonly confirmV: Uint8Array;
}

/** What the Verifier has once the Prover's confirmation checked: the shared key. */
export interface Spake2PlusVerifierResult {
  /** K_shared (32 bytes). The Prover has proven knowledge of the password; wipe when done. */
  readonly sharedKey: Uint8Array;
}

type VerifierState = 'initial' | 'responded' | 'done' | 'failed';

/** The Verifier (car) of RFC 9383 §3.3–3.4. One instance per run. */
export class Spake2PlusVerifier {
  #state: VerifierState = 'initial';
  #w0: bigint;
  #w0Bytes: Uint8Array;
  #L: P256Point;
  #fixedY: bigint | undefined;
  #expectedConfirmP: Uint8Array | undefined;
  #sharedKey: Uint8Array | undefined;
  readonly #context: Uint8Array;
  readonly #idProver: Uint8Array;
  readonly #idVerifier: Uint8Array;
  readonly #crypto: CryptoProvider;
  readonly #random: RandomSource;

  constructor(opts: Spake2PlusVerifierOptions) {
    const common = checkCommon(opts);
    this.#context = common.context;
    this.#idProver = common.idProver;
    this.#idVerifier = common.idVerifier;
    this.#crypto = opts.crypto;
    this.#random = opts.random;
    this.#w0 = scalarFromBytes(opts.w0, 'w0');
    this.#w0Bytes = copyOf(opts.w0);
    this.#L = decodeLocalPoint(opts.L, 'L');
    this.#fixedY = opts.y === undefined ? undefined : scalarFromBytes(opts.y, 'y');
  }

  /** Current step: `initial` → `responded` → `done`, or `failed` after a rejected peer message. */
  get state(): VerifierState {
    return this.#state;
  }

  /**
   * Process the Prover's shareP; pick y; return shareV = y·G + w0·N and confirmV (RFC 9383 §3.3–3.4).
   * Invalid shareP encoding → `RemoteError('ERR_INVALID_POINT')`, state unchanged.
   */
  respond(shareP: Uint8Array): Spake2PlusVerifierResponse {
    if (this.#state !== 'initial') throw new LocalError('ERR_INVALID_STATE', `respond() in state ${this.#state}`);
    const X = decodePoint(shareP, 'shareP'); // secret-independent check: state unchanged on failure
    let keys: Spake2PlusKeySchedule | undefined;
    let zv: { Z: Uint8Array; V: Uint8Array } | undefined;
    let TT: Uint8Array | undefined;
    try {
      const { k: y, share: shareV } = makeShare(this.#fixedY, this.#random, this.#w0, SPAKE2PLUS_P256_N);
      this.#fixedY = undefined;
      zv = spake2PlusVerifierZV(y, this.#w0, this.#L, X);
      TT = spake2PlusTranscript({
        context: this.#context,
        idProver: this.#idProver,
        idVerifier: this.#idVerifier,
        shareP,
        shareV,
        Z: zv.Z,
        V: zv.V,
        w0: this.#w0Bytes,
      });
      keys = spake2PlusKeySchedule(this.#crypto, TT, shareP, shareV);
      this.#expectedConfirmP = copyOf(keys.confirmP);
      this.#sharedKey = copyOf(keys.K_shared);
      this.#dropSecrets();
      this.#state = 'responded';
      return { shareV, confirmV: copyOf(keys.confirmV) };
    } catch (err) {
      this.#clear('failed');
      throw err;
    } finally {
      wipe(zv?.Z, zv?.V, TT, keys?.K_main, keys?.K_confirmP, keys?.K_confirmV, keys?.K_shared, keys?.confirmP);
    }
  }

  /**
   * Check the Prover's confirmP (constant time). Success → K_shared. Mismatch (wrong password or
   * tampering) → `RemoteError('ERR_DECRYPT')`, session aborted, no key released.
   */
  finish(confirmP: Uint8Array): Spake2PlusVerifierResult {
    if (this.#state !== 'responded') throw new LocalError('ERR_INVALID_STATE', `finish() in state ${this.#state}`);
    assertBytes(confirmP, 'confirmP');
    if (!equalBytes(this.#expectedConfirmP!, confirmP)) {
      this.#clear('failed');
      throw new RemoteError('ERR_DECRYPT', 'SPAKE2+ confirmP mismatch (wrong password or tampering)');
    }
    const sharedKey = copyOf(this.#sharedKey!);
    this.#clear('done');
    return { sharedKey };
  }

  #dropSecrets(): void {
    wipe(this.#w0Bytes);
    this.#w0 = 0n;
    this.#fixedY = undefined;
  }

  #clear(state: VerifierState): void {
    this.#state = state;
    this.#dropSecrets();
    wipe(this.#expectedConfirmP, this.#sharedKey);
    this.#expectedConfirmP = undefined;
    this.#sharedKey = undefined;
  }
}
