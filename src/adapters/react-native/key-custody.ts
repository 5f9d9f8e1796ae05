/**
 * The phone's long-term key in the phone's hardware (iOS Secure Enclave, Android Keystore /
 * StrongBox) behind proxkey's `KeyCustody`: the protocol only ever asks custody for P-256 ECDH
 * and P-256 ECDSA, the one pair both keystores do without exporting the key.
 *
 * No maintained React Native module exposes both operations on one hardware key today
 * (docs/phone-react-native.md §Key custody surveys them), so this is the interface a small native
 * module of the app's (≈ 100 lines of Swift over `SecKeyCopyKeyExchangeResult` /
 * `SecKeyCreateSignature`, of Kotlin over `KeyAgreement("ECDH", "AndroidKeyStore")` /
 * `Signature("SHA256withECDSA")`) implements, and the adapter that turns it into a checked
 * `KeyCustody`: every answer of the native side is validated, every call bounded.
 */
import { p256 } from '@noble/curves/nist.js';
import { assertP256PublicKey } from '../../crypto/p256.js';
import type { KeyCustody } from '../../crypto/custody.js';
import { nobleCrypto } from '../../crypto/noble.js';
import type { CryptoProvider } from '../../crypto/provider.js';
import { LocalError, ProxkeyError, assertArg, messageOf } from '../../errors.js';
import { withDeadline } from '../../transport/deadline.js';
import { base64ToBytes, bytesToBase64 } from './base64.js';

/**
 * What the app's native module exposes over the bridge (base64 strings, the bridge's currency).
 * One non-exportable P-256 key per `alias`, usable for both key agreement and signing.
 */
export interface HardwareP256Module {
  /**
   * The 65-byte uncompressed public key of the key under `alias`, creating the key first when
   * there is none (iOS: `kSecAttrTokenIDSecureEnclave`; Android: `KeyGenParameterSpec` with
   * `PURPOSE_AGREE_KEY | PURPOSE_SIGN`, API 31+, `setIsStrongBoxBacked` where available).
   */
  getOrCreateKey(alias: string): Promise<string>;
  /** ECDH with the peer's 65-byte uncompressed public key: the 32-byte X coordinate of the shared point. */
  ecdh(alias: string, peerPublicKey: string): Promise<string>;
  /** ECDSA P-256 over SHA-256(message) (the module hashes): X9.62 DER, as both platforms return it, or 64-byte `r ‖ s`. */
  sign(alias: string, message: string): Promise<string>;
}

/** Options of {@link hardwareKeyCustody}: the native module and the key's name in the platform keystore. */
export interface HardwareKeyCustodyOptions {
  readonly module: HardwareP256Module;
  /** The key's name in the keystore (e.g. `proxkey.phone`). */
  readonly alias: string;
  /** Bound on each native call (default 10 000 ms: a keystore may ask for the user's presence). */
  readonly timeoutMs?: number;
  /** Verifies each signature before it leaves (default `nobleCrypto`): a faulty module fails here, closed. */
  readonly crypto?: CryptoProvider;
}

/** A 64-byte `r ‖ s` from what a keystore returned (DER or already compact); `LocalError` otherwise. */
export function p1363Signature(bytes: Uint8Array): Uint8Array {
  if (bytes.length === 64) return bytes;
  try {
    return p256.Signature.fromBytes(bytes, 'der').toBytes('compact');
  } catch (err) {
    throw new LocalError('ERR_INVALID_STATE', `hardware key: the keystore returned a malformed signature (${messageOf(err)})`);
  }
}

/**
 * `KeyCustody` over the app's native keystore module. Creates the key on first use. The peer's
 * point is validated before the keystore sees it; the keystore's answers (public key, shared
 * secret length, signature) are validated before the protocol sees them.
 */
export async function hardwareKeyCustody(options: HardwareKeyCustodyOptions): Promise<KeyCustody> {
  const { module, alias, crypto = nobleCrypto } = options;
  const timeoutMs = options.timeoutMs ?? 10_000;
  assertArg(typeof alias === 'string' && alias.length > 0, 'alias: expected a non-empty string');
  const call = async (what: string, work: () => Promise<string>): Promise<Uint8Array> => {
    let pending: Promise<string>;
    try {
      pending = Promise.resolve(work());
    } catch (err) {
      pending = Promise.reject(err);
    }
    try {
      return base64ToBytes(await withDeadline(`hardware key ${what}`, pending, { timeoutMs }), `hardware key ${what}`);
    } catch (err) {
      pending.catch(() => {});
      if (err instanceof ProxkeyError) throw err;
      throw new LocalError('ERR_INVALID_STATE', `hardware key ${what} failed: ${messageOf(err)}`);
    }
  };
  const publicKey = await call('creation', () => module.getOrCreateKey(alias));
  assertP256PublicKey(publicKey, 'hardware public key');
  return Object.freeze({
    publicKey,
    async ecdh(peer: Uint8Array) {
      assertP256PublicKey(peer, 'peer public key');
      const shared = await call('ECDH', () => module.ecdh(alias, bytesToBase64(peer)));
      if (shared.length !== 32) throw new LocalError('ERR_INVALID_STATE', `hardware key: ECDH returned ${shared.length} bytes, expected 32`);
      return shared;
    },
    async sign(message: Uint8Array) {
      const signature = p1363Signature(await call('signature', () => module.sign(alias, bytesToBase64(message))));
      if (!(await crypto.p256Verify(publicKey, message, signature))) {
        throw new LocalError('ERR_INVALID_STATE', 'hardware key: the keystore returned a signature that does not verify');
      }
      return signature;
    },
  });
}
