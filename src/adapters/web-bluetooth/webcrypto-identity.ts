/**
 * The browser phone's long-term key: non-extractable WebCrypto P-256 keys kept in IndexedDB. Page
 * script can use them (ECDH, ECDSA) but never read them (`extractable === false`); they survive
 * reloads. WebCrypto keys are single-algorithm, so the identity is two key pairs: an ECDH pair (the
 * phone's public key in the protocol) and an ECDSA pair whose public key the car records as the
 * phone's signing key at pairing (it verifies the grants this phone issues as an owner).
 */
import { webCryptoKey, type KeyCustody } from '../../crypto/custody.js';
import { LocalError, StoreError } from '../../errors.js';
import type { PhoneDatabase } from './indexeddb.js';

const RECORD = 'identity';

/** The browser phone's identity (`webCryptoIdentity`): the custody for the wallet and the public keys. */
export interface WebCryptoIdentity {
  /** Custody for `PhoneWallet.open({ identity })`. */
  readonly custody: KeyCustody;
  /** The ECDSA public key (65 bytes) for `PhoneWallet.open({ signingKey })`. */
  readonly signingKey: Uint8Array;
  /** The stored private keys, for inspection (`extractable` is false). */
  readonly ecdhKey: CryptoKey;
  readonly signKey: CryptoKey;
}

interface StoredIdentity {
  readonly ecdh: CryptoKeyPair;
  readonly sign: CryptoKeyPair;
}

function isKeyPair(v: unknown): v is CryptoKeyPair {
  return typeof v === 'object' && v !== null && 'privateKey' in v && 'publicKey' in v && v.privateKey instanceof CryptoKey && v.publicKey instanceof CryptoKey;
}

function asStored(v: unknown): StoredIdentity | undefined {
  if (v === undefined) return undefined;
  if (typeof v === 'object' && v !== null && 'ecdh' in v && 'sign' in v && isKeyPair(v.ecdh) && isKeyPair(v.sign)) return { ecdh: v.ecdh, sign: v.sign };
  throw new StoreError('ERR_STORE_CORRUPT', 'IndexedDB phone identity: not a pair of WebCrypto key pairs');
}

async function generate(subtle: SubtleCrypto): Promise<StoredIdentity> {
  const ecdh = await subtle.generateKey({ name: 'ECDH', namedCurve: 'P-256' }, false, ['deriveBits']);
  const sign = await subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, false, ['sign', 'verify']);
  return { ecdh, sign };
}

/**
 * Load the phone's WebCrypto identity from `database`, creating and storing it on first use
 * (two tabs racing keep the first one stored). `StoreError` if what is stored is not a key pair.
 */
export async function webCryptoIdentity(database: PhoneDatabase): Promise<WebCryptoIdentity> {
  const subtle = globalThis.crypto?.subtle as SubtleCrypto | undefined;
  if (!subtle) throw new LocalError('ERR_INVALID_STATE', 'WebCrypto is not available (the page must be served over HTTPS or from localhost)');
  let stored = asStored(await database.get('keys', RECORD));
  if (!stored) {
    const fresh = await generate(subtle);
    stored = (await database.add('keys', RECORD, fresh)) ? fresh : asStored(await database.get('keys', RECORD));
    if (!stored) throw new StoreError('ERR_STORE_CORRUPT', 'IndexedDB phone identity vanished while it was created');
  }
  const custody = await webCryptoKey({ ecdhKey: stored.ecdh.privateKey, publicKey: stored.ecdh.publicKey, signKey: stored.sign.privateKey });
  const signingKey = new Uint8Array(await subtle.exportKey('raw', stored.sign.publicKey));
  return { custody, signingKey, ecdhKey: stored.ecdh.privateKey, signKey: stored.sign.privateKey };
}
