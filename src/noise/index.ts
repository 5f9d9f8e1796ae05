export type { NoiseCipher, NoiseDH, NoiseHash, NoiseKey, NoiseSuite } from './functions.js';
export { CipherState } from './cipher-state.js';
export { SymmetricState, noiseHkdf } from './symmetric-state.js';
export { HandshakeState, type HandshakeOptions, type HandshakeResult } from './handshake-state.js';
export { getPattern, PATTERN_NAMES, type HandshakePattern, type Token } from './patterns.js';
export {
  aesGcmCipher,
  chaChaPolyCipher,
  p256Dh,
  parseProtocolName,
  providerSha256Hash,
  xChaChaPolyCipher,
  type NoiseFunctionTable,
  type NoiseProtocol,
} from './suites.js';
export { blake2bHash, blake2sHash, sha256Hash, sha512Hash, VECTOR_FUNCTIONS, x25519Dh, x448Dh } from './vector-functions.js';
