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
  /** An encrypt, decrypt or rekey is pending (its nonce is not advanced yet). */
  #busy = false;
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
    this.#checkIdle();
    this.#n = n;
  }

  /**
   * One record at a time: a call made while another encrypt, decrypt or rekey on this state is
   * still pending is refused (`LocalError('ERR_INVALID_STATE')`), as the nonce is only advanced
   * when the pending one settles (two overlapping calls would share it).
   */
  async encryptWithAd(ad: Uint8Array, plaintext: Uint8Array): Promise<Uint8Array> {
    if (!this.#k) return copyOf(plaintext);
    return this.#withNonce((k, n) => this.cipher.encrypt(k, n, ad, plaintext));
  }

  /** On failure the nonce is NOT advanced (spec §5.1), so state is unchanged. Overlapping calls: see `encryptWithAd`. */
  async decryptWithAd(ad: Uint8Array, ciphertext: Uint8Array): Promise<Uint8Array> {
    if (!this.#k) return copyOf(ciphertext);
    return this.#withNonce((k, n) => this.cipher.decrypt(k, n, ad, ciphertext));
  }

  /** REKEY(k) (spec §4.2 default): k = ENCRYPT(k, 2^64-1, empty, zeros32)[0:32]. */
  async rekey(): Promise<void> {
    if (!this.#k) throw new LocalError('ERR_INVALID_STATE', 'rekey without a key');
    const k = this.#enter();
    try {
      // The maximum nonce 2^64-1 cannot be a JS number: encode it through a dedicated call.
      const sealed = await this.cipher.encrypt(k, -1, EMPTY, new Uint8Array(32));
      const next = copyOf(sealed.subarray(0, 32)); // a real copy: a Buffer's slice would be wiped with it
      sealed.fill(0); // it holds the new key
      if (this.#k === k) {
        k.fill(0);
        this.#k = next;
      } else {
        next.fill(0); // cleared or re-keyed meanwhile: keep what was set
      }
    } finally {
      this.#busy = false;
    }
  }

  /** Forget the key (wipes it). */
  clear(): void {
    this.initializeKey(undefined);
  }

  /** Runs one AEAD call on the current key and nonce; the nonce advances only if it succeeds and the key was not replaced meanwhile. */
  async #withNonce(op: (k: Uint8Array, n: number) => Promise<Uint8Array>): Promise<Uint8Array> {
    if (this.#n >= MAX_NONCE) throw new LocalError('ERR_INVALID_STATE', 'nonce exhausted: start a new session');
    const k = this.#enter();
    try {
      const out = await op(k, this.#n);
      if (this.#k === k) this.#n++;
      return out;
    } finally {
      this.#busy = false;
    }
  }

  /** Marks the state busy and returns its key; refuses while another operation is pending. */
  #enter(): Uint8Array {
    this.#checkIdle();
    this.#busy = true;
    return this.#k!;
  }

  #checkIdle(): void {
    if (this.#busy) throw new LocalError('ERR_INVALID_STATE', 'CipherState busy: await the pending encrypt, decrypt or rekey first');
  }
}
