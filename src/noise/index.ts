export type { NoiseCipher, NoiseDH, NoiseHash, NoiseKey, NoiseSuite } from './functions.js';
export { CipherState } from './cipher-state.js';
export { SymmetricState, noiseHkdf } from './symmetric-state.js';
export { HandshakeState, type HandshakeOptions, type HandshakeResult } from './handshake-state.js';
export { getPattern, PATTERN_NAMES, type HandshakePattern, type Token } from './patterns.js';
export {
  aesGcmCipher,
  blake2bHash,
  blake2sHash,
  chaChaPolyCipher,
  p256Dh,
  parseProtocolName,
  sha256Hash,
  sha512Hash,
  x25519Dh,
  x448Dh,
  xChaChaPolyCipher,
  type NoiseProtocol,
} from './suites.js';
