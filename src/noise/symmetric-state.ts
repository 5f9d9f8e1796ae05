/** Noise SymmetricState (spec §5.2): chaining key `ck`, handshake hash `h`, and a CipherState. */
import { concatBytes, utf8 } from '../bytes.js';
import { CipherState } from './cipher-state.js';
import type { NoiseCipher, NoiseHash } from './functions.js';

const EMPTY = new Uint8Array(0);

/** HKDF as defined by Noise (spec §4.3), returning 2 or 3 outputs of HASHLEN bytes. */
export function noiseHkdf(hash: NoiseHash, chainingKey: Uint8Array, ikm: Uint8Array, outputs: 2 | 3): Uint8Array[] {
  if (hash.hkdf) return hash.hkdf(chainingKey, ikm, outputs);
  const tempKey = hash.hmac(chainingKey, ikm);
  const out1 = hash.hmac(tempKey, Uint8Array.of(1));
  const out2 = hash.hmac(tempKey, concatBytes(out1, Uint8Array.of(2)));
  const res = [out1, out2];
  if (outputs === 3) res.push(hash.hmac(tempKey, concatBytes(out2, Uint8Array.of(3))));
  tempKey.fill(0);
  return res;
}

/** UTF-8 of the protocol names seen (a handful; bounded all the same), read-only. */
const encodedNames = new Map<string, Uint8Array>();
function encodedName(protocolName: string): Uint8Array {
  let name = encodedNames.get(protocolName);
  if (!name) {
    name = utf8(protocolName);
    if (encodedNames.size < 64) encodedNames.set(protocolName, name);
  }
  return name;
}

export class SymmetricState {
  readonly cipherState: CipherState;
  #ck: Uint8Array;
  #h: Uint8Array;

  constructor(
    private readonly hash: NoiseHash,
    private readonly cipher: NoiseCipher,
    protocolName: string,
  ) {
    const name = encodedName(protocolName);
    if (name.length <= hash.hashLength) {
      this.#h = new Uint8Array(hash.hashLength);
      this.#h.set(name);
    } else {
      this.#h = hash.hash(name);
    }
    this.#ck = this.#h.slice();
    this.cipherState = new CipherState(cipher);
  }

  mixKey(ikm: Uint8Array): void {
    const [ck, tempK] = noiseHkdf(this.hash, this.#ck, ikm, 2) as [Uint8Array, Uint8Array];
    this.#ck.fill(0);
    this.#ck = ck;
    this.cipherState.initializeKey(tempK.subarray(0, 32));
    tempK.fill(0);
  }

  mixHash(data: Uint8Array): void {
    this.#h = this.hash.hash(concatBytes(this.#h, data));
  }

  mixKeyAndHash(ikm: Uint8Array): void {
    const [ck, tempH, tempK] = noiseHkdf(this.hash, this.#ck, ikm, 3) as [Uint8Array, Uint8Array, Uint8Array];
    this.#ck.fill(0);
    this.#ck = ck;
    this.mixHash(tempH);
    this.cipherState.initializeKey(tempK.subarray(0, 32));
    tempK.fill(0);
  }

  /** The handshake hash `h` (a copy): a unique, secret-free session identifier for channel binding. */
  getHandshakeHash(): Uint8Array {
    return this.#h.slice();
  }

  async encryptAndHash(plaintext: Uint8Array): Promise<Uint8Array> {
    const ct = await this.cipherState.encryptWithAd(this.#h, plaintext);
    this.mixHash(ct);
    return ct;
  }

  async decryptAndHash(ciphertext: Uint8Array): Promise<Uint8Array> {
    const pt = await this.cipherState.decryptWithAd(this.#h, ciphertext);
    this.mixHash(ciphertext);
    return pt;
  }

  /** Split (spec §5.2): two CipherStates, initiator→responder first. Wipes `ck`. */
  split(): [CipherState, CipherState] {
    const [k1, k2] = noiseHkdf(this.hash, this.#ck, EMPTY, 2) as [Uint8Array, Uint8Array];
    const c1 = new CipherState(this.cipher, k1.subarray(0, 32));
    const c2 = new CipherState(this.cipher, k2.subarray(0, 32));
    k1.fill(0);
    k2.fill(0);
    this.#ck.fill(0);
    this.cipherState.clear();
    return [c1, c2];
  }
}
