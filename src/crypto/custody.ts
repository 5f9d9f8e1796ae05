/**
 * Key custody: where a long-term P-256 private key lives. The protocol only ever asks custody
 * for P-256 ECDH and P-256 ECDSA — the one pair every hardware keystore (Secure Enclave,
 * StrongBox, HUKS) supports non-exportably — so a raw key, a non-extractable WebCrypto
 * `CryptoKey` or an external signer can all stand behind it.
 */
import { assertBytes, LocalError } from '../errors.js';
import { assertP256PublicKey } from './p256.js';
import type { CryptoProvider } from './provider.js';

/** A long-term P-256 key held somewhere (software, WebCrypto, a secure element): its public key and the operations the protocol needs, never the scalar. */
export interface KeyCustody {
  /** The 65-byte uncompressed P-256 public key. */
  readonly publicKey: Uint8Array;
  /** ECDH with a (validated) peer public key: the 32-byte X coordinate. */
  ecdh(peerPublicKey: Uint8Array): Promise<Uint8Array>;
  /** ECDSA P-256 / SHA-256 over `message`, 64-byte P1363 `r ‖ s`. */
  sign(message: Uint8Array): Promise<Uint8Array>;
}

/** Custody for a raw 32-byte secret key held in memory (software key). */
export async function softwareKey(crypto: CryptoProvider, secretKey: Uint8Array): Promise<KeyCustody> {
  assertBytes(secretKey, 'secret key', 32);
  const { secretKey: sk, publicKey } = await crypto.p256KeyPairFromSecret(secretKey);
  return Object.freeze({
    publicKey,
    ecdh: (peer: Uint8Array) => crypto.p256Ecdh(sk, peer),
    sign: (message: Uint8Array) => crypto.p256Sign(sk, message),
  });
}

/** The subset of WebCrypto's SubtleCrypto this module uses (bytes on an `ArrayBuffer`, as WebCrypto requires). */
export interface SubtleLike {
  exportKey(format: 'raw', key: CryptoKey): Promise<ArrayBuffer>;
  importKey(
    format: 'raw',
    keyData: Uint8Array<ArrayBuffer>,
    algorithm: { name: string; namedCurve: string },
    extractable: boolean,
    usages: KeyUsage[],
  ): Promise<CryptoKey>;
  deriveBits(algorithm: { name: 'ECDH'; public: CryptoKey }, baseKey: CryptoKey, length: number): Promise<ArrayBuffer>;
  sign(algorithm: { name: 'ECDSA'; hash: 'SHA-256' }, key: CryptoKey, data: Uint8Array<ArrayBuffer>): Promise<ArrayBuffer>;
}

/**
 * Custody for WebCrypto keys, typically **non-extractable** (generated with `extractable: false`).
 * `ecdhKey` is a P-256 ECDH private key; `signKey` an ECDSA private key for the same public key
 * (WebCrypto keys are single-algorithm; pass both from one import or two generated pairs bound by
 * your app). `publicKey` is the public `CryptoKey` of `ecdhKey`.
 */
export async function webCryptoKey(options: { ecdhKey: CryptoKey; publicKey: CryptoKey; signKey?: CryptoKey; subtle?: SubtleLike }): Promise<KeyCustody> {
  const subtle: SubtleLike | undefined = options.subtle ?? globalThis.crypto?.subtle;
  if (!subtle) throw new LocalError('ERR_INVALID_ARGUMENT', 'webCryptoKey: no WebCrypto subtle available');
  const publicKey = new Uint8Array(await subtle.exportKey('raw', options.publicKey));
  assertP256PublicKey(publicKey, 'WebCrypto public key');
  return Object.freeze({
    publicKey,
    async ecdh(peer: Uint8Array) {
      assertP256PublicKey(peer, 'peer public key');
      const peerKey = await subtle.importKey('raw', peer.slice(), { name: 'ECDH', namedCurve: 'P-256' }, true, []);
      return new Uint8Array(await subtle.deriveBits({ name: 'ECDH', public: peerKey }, options.ecdhKey, 256));
    },
    async sign(message: Uint8Array) {
      if (!options.signKey) throw new LocalError('ERR_INVALID_STATE', 'webCryptoKey: no signing key configured');
      return new Uint8Array(await subtle.sign({ name: 'ECDSA', hash: 'SHA-256' }, options.signKey, message.slice()));
    },
  });
}
