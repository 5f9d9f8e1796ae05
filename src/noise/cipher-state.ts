/** Noise CipherState (spec §5.1): a key `k` (or none) and a 64-bit nonce `n`. */
import { copyOf } from '../bytes.js';
import { LocalError } from '../errors.js';
import type { NoiseCipher } from './functions.js';

/** 2^53 - 1 caps the nonce well before the spec's 2^64 - 1 (reserved); no session gets near it. */
const MAX_NONCE = Number.MAX_SAFE_INTEGER;
const EMPTY = new Uint8Array(0);

export class CipherState {
  #k: Uint8Array | undefined;
  #n = 0;
  constructor(
    private readonly cipher: NoiseCipher,
    key?: Uint8Array,
  ) {
    if (key) this.initializeKey(key);
  }

  initializeKey(key: Uint8Array | undefined): void {
    this.#k?.fill(0);
    this.#k = key ? copyOf(key) : undefined;
    this.#n = 0;
  }

  hasKey(): boolean {
    return this.#k !== undefined;
  }

  /** The nonce the next encrypt/decrypt will use. */
  get nonce(): number {
    return this.#n;
  }

  /** Set the nonce (spec §5.1 SetNonce); used for out-of-band counters, not by proxkey. */
  setNonce(n: number): void {
    if (!Number.isSafeInteger(n) || n < 0) throw new LocalError('ERR_INVALID_ARGUMENT', 'nonce out of range');
    this.#n = n;
  }

  async encryptWithAd(ad: Uint8Array, plaintext: Uint8Array): Promise<Uint8Array> {
    if (!this.#k) return copyOf(plaintext);
    this.#checkNonce();
    const out = await this.cipher.encrypt(this.#k, this.#n, ad, plaintext);
    this.#n++;
    return out;
  }

  /** On failure the nonce is NOT advanced (spec §5.1), so state is unchanged. */
  async decryptWithAd(ad: Uint8Array, ciphertext: Uint8Array): Promise<Uint8Array> {
    if (!this.#k) return copyOf(ciphertext);
    this.#checkNonce();
    const out = await this.cipher.decrypt(this.#k, this.#n, ad, ciphertext);
    this.#n++;
    return out;
  }

  /** REKEY(k) (spec §4.2 default): k = ENCRYPT(k, 2^64-1, empty, zeros32)[0:32]. */
  async rekey(): Promise<void> {
    if (!this.#k) throw new LocalError('ERR_INVALID_STATE', 'rekey without a key');
    // The maximum nonce 2^64-1 cannot be a JS number: encode it through a dedicated call.
    const next = (await this.cipher.encrypt(this.#k, -1, EMPTY, new Uint8Array(32))).slice(0, 32);
    this.#k.fill(0);
    this.#k = next;
  }

  /** Forget the key (wipes it). */
  clear(): void {
    this.initializeKey(undefined);
  }

  #checkNonce(): void {
    if (this.#n >= MAX_NONCE) throw new LocalError('ERR_INVALID_STATE', 'nonce exhausted: start a new session');
  }
}
