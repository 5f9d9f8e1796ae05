/**
 * A raw 32-byte P-256 secret scalar wrapped as DER PKCS#8 `PrivateKeyInfo` (RFC 5208 / RFC 5915),
 * the only form in which node:crypto and WebCrypto import a raw EC private key (apart from JWK,
 * which also needs the public coordinates):
 *
 * ```
 * SEQUENCE { INTEGER 0,
 *   SEQUENCE { OID id-ecPublicKey, OID prime256v1 },
 *   OCTET STRING { ECPrivateKey ::= SEQUENCE { INTEGER 1, OCTET STRING (32 B) d } } }
 * ```
 *
 * The optional `parameters` and `publicKey` fields of ECPrivateKey are omitted; importers
 * recompute the public point. With a fixed-length scalar the encoding is a fixed prefix.
 */
import { concatBytes } from '../bytes.js';
import { assertP256SecretKey } from './p256.js';

/** Everything before the 32-byte scalar in the DER PKCS#8 encoding of a P-256 private key. */
export const P256_PKCS8_PREFIX: Uint8Array = Uint8Array.of(
  0x30,
  0x41, // SEQUENCE, 65 bytes
  0x02,
  0x01,
  0x00, // INTEGER 0 (version)
  0x30,
  0x13, // SEQUENCE, 19 bytes (AlgorithmIdentifier)
  0x06,
  0x07,
  0x2a,
  0x86,
  0x48,
  0xce,
  0x3d,
  0x02,
  0x01, // OID 1.2.840.10045.2.1 id-ecPublicKey
  0x06,
  0x08,
  0x2a,
  0x86,
  0x48,
  0xce,
  0x3d,
  0x03,
  0x01,
  0x07, // OID 1.2.840.10045.3.1.7 prime256v1
  0x04,
  0x27, // OCTET STRING, 39 bytes
  0x30,
  0x25, // SEQUENCE, 37 bytes (ECPrivateKey)
  0x02,
  0x01,
  0x01, // INTEGER 1 (ecPrivkeyVer1)
  0x04,
  0x20, // OCTET STRING, 32 bytes: the scalar
);

/** DER PKCS#8 (67 bytes) of a validated 32-byte P-256 secret scalar. The result holds the secret: wipe it. */
export function p256SecretKeyToPkcs8(secretKey: Uint8Array): Uint8Array {
  assertP256SecretKey(secretKey);
  return concatBytes(P256_PKCS8_PREFIX, secretKey);
}
