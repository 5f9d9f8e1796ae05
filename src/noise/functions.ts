/**
 * The three function families a Noise protocol is parameterised by (Noise spec §4):
 * DH, cipher and hash. Implementations live in `suites.ts`.
 */

/** A local DH key: its public key and a DH operation. The secret may live elsewhere (custody). */
export interface NoiseKey {
  readonly publicKey: Uint8Array;
  /** DH(this, remotePublic); the remote key is validated by the implementation. */
  dh(remotePublic: Uint8Array): Promise<Uint8Array>;
  /** Wipe secret material if this object holds any (ephemeral keys). */
  wipe?(): void;
}

export interface NoiseDH {
  /** Name in protocol names: `P256`, `25519`, `448`. */
  readonly name: string;
  /** Length of an encoded public key on the wire (65 for P-256 uncompressed). */
  readonly publicKeyLength: number;
  /** Length of a DH output (DHLEN). */
  readonly dhLength: number;
  generateKeyPair(random: (n: number) => Uint8Array): Promise<NoiseKey>;
  /** Build a key from raw secret bytes (test vectors, stored keys). */
  keyFromSecret(secret: Uint8Array): Promise<NoiseKey>;
  /** Throws `RemoteError('ERR_INVALID_POINT')` if `publicKey` is unacceptable; called on every received key. */
  validatePublicKey(publicKey: Uint8Array): void;
}

export interface NoiseCipher {
  /** `AESGCM`, `ChaChaPoly`, `XChaChaPoly`. Nonce -1 stands for 2^64-1 (REKEY only). */
  readonly name: string;
  encrypt(key: Uint8Array, nonce: number, ad: Uint8Array, plaintext: Uint8Array): Promise<Uint8Array>;
  /** Throws `RemoteError('ERR_DECRYPT')` on authentication failure. */
  decrypt(key: Uint8Array, nonce: number, ad: Uint8Array, ciphertext: Uint8Array): Promise<Uint8Array>;
}

export interface NoiseHash {
  /** `SHA256`, `SHA512`, `BLAKE2s`, `BLAKE2b`. */
  readonly name: string;
  readonly hashLength: number;
  hash(data: Uint8Array): Uint8Array;
  hmac(key: Uint8Array, data: Uint8Array): Uint8Array;
  /**
   * Optional one-call Noise HKDF (spec §4.3): `outputs` × HASHLEN bytes of RFC 5869 HKDF with
   * salt = chaining key and empty info, which is exactly Noise's HKDF. A provider's native HKDF
   * saves the three separate HMAC calls.
   */
  hkdf?(chainingKey: Uint8Array, ikm: Uint8Array, outputs: 2 | 3): Uint8Array[];
}

export interface NoiseSuite {
  readonly dh: NoiseDH;
  readonly cipher: NoiseCipher;
  readonly hash: NoiseHash;
}
