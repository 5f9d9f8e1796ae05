/**
 * Noise HandshakeState (spec §5.3), a direct translation: Initialize, WriteMessage, ReadMessage,
 * with PSK support (§9). Ephemeral secrets are wiped at Split. A failed ReadMessage or
 * WriteMessage leaves this object unusable (Noise handshake errors are fatal): callers build a
 * fresh one per attempt.
 */
import { concatBytes, copyOf } from '../bytes.js';
import { LocalError, RemoteError, assertBytes } from '../errors.js';
import type { CipherState } from './cipher-state.js';
import type { NoiseKey, NoiseSuite } from './functions.js';
import type { HandshakePattern, Token } from './patterns.js';
import { SymmetricState } from './symmetric-state.js';

export interface HandshakeOptions extends NoiseSuite {
  /** Full protocol name, e.g. `Noise_KX_P256_AESGCM_SHA256`: hashed into `h` first. */
  readonly protocolName: string;
  readonly pattern: HandshakePattern;
  readonly initiator: boolean;
  readonly prologue?: Uint8Array | undefined;
  /** Local static key (any custody). */
  readonly s?: NoiseKey | undefined;
  /** Local ephemeral key: normally generated; preset only for test vectors and deferred starts. */
  readonly e?: NoiseKey | undefined;
  /** Remote static public key known in advance (pre-message). */
  readonly rs?: Uint8Array | undefined;
  /** Remote ephemeral public key known in advance (fallback patterns only). */
  readonly re?: Uint8Array | undefined;
  /** Pre-shared keys (32 bytes each), consumed in order by `psk` tokens. */
  readonly psks?: readonly Uint8Array[] | undefined;
  /** Randomness for ephemeral generation. */
  readonly random: (n: number) => Uint8Array;
}

export interface HandshakeResult {
  /** Initiator→responder and responder→initiator cipher states. */
  readonly send: CipherState;
  readonly receive: CipherState;
  readonly handshakeHash: Uint8Array;
  /** The remote static public key, if the pattern conveyed or pre-shared one. */
  readonly remoteStatic: Uint8Array | undefined;
}

export class HandshakeState {
  readonly #options: HandshakeOptions;
  readonly #ss: SymmetricState;
  readonly #psks: Uint8Array[];
  readonly #hasPsk: boolean;
  #e: NoiseKey | undefined;
  #rs: Uint8Array | undefined;
  #re: Uint8Array | undefined;
  #index = 0;
  #failed = false;
  #result: HandshakeResult | undefined;

  constructor(options: HandshakeOptions) {
    this.#options = options;
    const { pattern, initiator } = options;
    this.#ss = new SymmetricState(options.hash, options.cipher, options.protocolName);
    this.#ss.mixHash(options.prologue ?? new Uint8Array(0));
    this.#e = options.e;
    this.#rs = options.rs && copyOf(options.rs);
    this.#re = options.re && copyOf(options.re);
    this.#psks = options.psks ? [...options.psks] : [];
    this.#hasPsk = pattern.messages.some((m) => m.includes('psk'));
    if (this.#rs) options.dh.validatePublicKey(this.#rs);
    // Pre-messages: initiator's keys first, then the responder's (§7.1).
    for (const t of pattern.preInitiator) this.#mixPre(initiator ? this.#localPre(t) : this.#remotePre(t), t);
    for (const t of pattern.preResponder) this.#mixPre(initiator ? this.#remotePre(t) : this.#localPre(t), t);
  }

  /** True once the last handshake message has been written or read. */
  get complete(): boolean {
    return this.#result !== undefined;
  }

  /** True when it is this side's turn to write. */
  get isMyTurn(): boolean {
    return !this.complete && (this.#index % 2 === 0) === this.#options.initiator;
  }

  get handshakeHash(): Uint8Array {
    return this.#ss.getHandshakeHash();
  }

  /** The remote static key, once known. */
  get remoteStatic(): Uint8Array | undefined {
    return this.#rs?.slice();
  }

  /** The split result; available once `complete`. */
  get result(): HandshakeResult {
    if (!this.#result) throw new LocalError('ERR_INVALID_STATE', 'handshake not complete');
    return this.#result;
  }

  /** A failure (a bad payload included) leaves this object unusable, as in `readMessage`. */
  async writeMessage(payload: Uint8Array): Promise<Uint8Array> {
    this.#checkTurn(true);
    try {
      assertBytes(payload, 'handshake payload');
      const parts: Uint8Array[] = [];
      for (const token of this.#options.pattern.messages[this.#index]!) {
        if (token === 'e') {
          if (!this.#e) this.#e = await this.#options.dh.generateKeyPair(this.#options.random);
          parts.push(this.#e.publicKey);
          this.#ss.mixHash(this.#e.publicKey);
          if (this.#hasPsk) this.#ss.mixKey(this.#e.publicKey);
        } else if (token === 's') {
          parts.push(await this.#ss.encryptAndHash(this.#requireS().publicKey));
        } else {
          await this.#mixToken(token);
        }
      }
      parts.push(await this.#ss.encryptAndHash(payload));
      this.#advance();
      return concatBytes(...parts);
    } catch (e) {
      this.#fail();
      throw e;
    }
  }

  async readMessage(message: Uint8Array): Promise<Uint8Array> {
    this.#checkTurn(false);
    try {
      const { dh } = this.#options;
      let off = 0;
      for (const token of this.#options.pattern.messages[this.#index]!) {
        if (token === 'e') {
          if (this.#re) throw new LocalError('ERR_INVALID_STATE', 're already set');
          const re = copyOf(takeBytes(message, off, dh.publicKeyLength));
          off += dh.publicKeyLength;
          dh.validatePublicKey(re);
          this.#re = re;
          this.#ss.mixHash(re);
          if (this.#hasPsk) this.#ss.mixKey(re);
        } else if (token === 's') {
          if (this.#rs) throw new LocalError('ERR_INVALID_STATE', 'rs already set');
          const length = dh.publicKeyLength + (this.#ss.cipherState.hasKey() ? 16 : 0);
          const rs = await this.#ss.decryptAndHash(takeBytes(message, off, length));
          off += length;
          dh.validatePublicKey(rs);
          this.#rs = rs;
        } else {
          await this.#mixToken(token);
        }
      }
      const payload = await this.#ss.decryptAndHash(message.subarray(off));
      this.#advance();
      return payload;
    } catch (e) {
      this.#fail();
      throw e;
    }
  }

  /** Wipe ephemeral secrets without completing (abort). */
  destroy(): void {
    this.#fail();
  }

  #fail(): void {
    this.#failed = true;
    this.#wipe();
  }

  async #mixToken(token: Exclude<Token, 'e' | 's'>): Promise<void> {
    if (token === 'psk') {
      const psk = this.#psks.shift();
      if (!psk || psk.length !== 32) throw new LocalError('ERR_INVALID_ARGUMENT', 'missing or invalid 32-byte psk');
      this.#ss.mixKeyAndHash(psk);
      return;
    }
    const init = this.#options.initiator;
    // Token letters name (initiator key, responder key); pick ours and theirs accordingly.
    const [iKey, rKey] = [token[0], token[1]];
    const mine = init ? iKey : rKey;
    const theirs = init ? rKey : iKey;
    const local = mine === 'e' ? this.#requireE() : this.#requireS();
    const remote = this.#require(theirs === 'e' ? this.#re : this.#rs, `remote ${theirs}`);
    const shared = await local.dh(remote);
    this.#ss.mixKey(shared);
    shared.fill(0);
  }

  #mixPre(publicKey: Uint8Array, token: string): void {
    this.#ss.mixHash(publicKey);
    if (token === 'e' && this.#hasPsk) this.#ss.mixKey(publicKey);
  }

  #advance(): void {
    this.#index++;
    if (this.#index === this.#options.pattern.messages.length) {
      const [c1, c2] = this.#ss.split();
      const init = this.#options.initiator;
      this.#result = {
        send: init ? c1 : c2,
        receive: init ? c2 : c1,
        handshakeHash: this.#ss.getHandshakeHash(),
        remoteStatic: this.#rs?.slice(),
      };
      this.#wipe();
    }
  }

  #wipe(): void {
    this.#e?.wipe?.();
  }

  #checkTurn(writing: boolean): void {
    if (this.#failed) throw new LocalError('ERR_INVALID_STATE', 'handshake failed earlier; start a new one');
    if (this.complete) throw new LocalError('ERR_INVALID_STATE', 'handshake already complete');
    if (this.isMyTurn !== writing) throw new LocalError('ERR_INVALID_STATE', writing ? 'not our turn to write' : 'not our turn to read');
  }

  /** A pre-message key of ours / the peer's (§7.1). */
  #localPre(token: string): Uint8Array {
    return (token === 's' ? this.#requireS() : this.#requireE()).publicKey;
  }
  #remotePre(token: string): Uint8Array {
    return this.#require(token === 's' ? this.#rs : this.#re, `remote ${token}`);
  }

  #requireS(): NoiseKey {
    return this.#require(this.#options.s, 'local static key');
  }
  #requireE(): NoiseKey {
    return this.#require(this.#e, 'local ephemeral key');
  }
  #require<T>(v: T | undefined, what: string): T {
    if (v === undefined) throw new LocalError('ERR_INVALID_STATE', `${what} required by the pattern is missing`);
    return v;
  }
}

/** `n` bytes of a handshake message from `offset`; a short message is `ERR_DECODE`. */
function takeBytes(message: Uint8Array, offset: number, n: number): Uint8Array {
  if (message.length - offset < n) throw new RemoteError('ERR_DECODE', 'handshake message truncated');
  return message.subarray(offset, offset + n);
}
