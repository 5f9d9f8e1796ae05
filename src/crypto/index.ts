export type { AeadAlgorithm, Clock, CryptoProvider, P256KeyPair, RandomSource } from './provider.js';
export { AEAD_TAG_LENGTH, P256_PUBLIC_KEY_LENGTH, P256_SECRET_KEY_LENGTH, P256_SIGNATURE_LENGTH } from './provider.js';
export { nobleCrypto } from './noble.js';
export { assertP256PublicKey, isP256PublicKey, p256Uncompressed } from './p256.js';
export { deterministicRandom, systemRandom } from './random.js';
export { generateP256KeyPair } from './keygen.js';
export { p256PublicKeyFromSpki, p256PublicKeyToSpki } from './spki.js';
export { softwareKey, webCryptoKey, type KeyCustody, type SubtleLike } from './custody.js';
export { webCryptoProvider, type WebCryptoSubtle } from './webcrypto.js';
