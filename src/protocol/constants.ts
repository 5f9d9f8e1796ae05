/**
 * Wire constants of the proxkey protocol, version 1. See docs/PROTOCOL.md §3 for the layouts.
 * Every value here is part of the wire format: never renumber.
 */

/** Protocol versions this implementation speaks. */
export const PROTOCOL_VERSIONS = [1] as const;
/** A protocol version this implementation speaks. */
export type ProtocolVersion = (typeof PROTOCOL_VERSIONS)[number];

/** First byte of every message on the link. */
export const MessageType = {
  /** car → phone: versions/suites offered + the car's fresh ephemeral key (Noise KX message 1). */
  Challenge: 0x01,
  /** phone → car: selection + Noise KX message 2, whose payload is the first command. */
  Handshake: 0x02,
  /** either way, after the handshake: one AEAD-protected body (Noise transport message). */
  Record: 0x03,
  /** either way, plaintext, unauthenticated: abort with a reason (a hint, never trusted). */
  Alert: 0x0f,
  /** Owner pairing (SPAKE2+), instead of a handshake: see pairing.ts. */
  PairStart: 0x20,
  PairParams: 0x21,
  PairShare: 0x22,
  PairResponse: 0x23,
  PairConfirm: 0x24,
  PairDone: 0x25,
} as const;

/** First byte of every plaintext body (inside the handshake payload or a record). */
export const BodyKind = {
  Command: 0x10,
  Result: 0x11,
  Close: 0x12,
} as const;

/** Cipher suites: all are Noise KX over P-256 and SHA-256; only the AEAD differs. */
export const SUITES = {
  1: 'Noise_KX_P256_AESGCM_SHA256',
  2: 'Noise_KX_P256_ChaChaPoly_SHA256',
} as const;
/** A cipher suite id (`SUITES`). */
export type SuiteId = keyof typeof SUITES;
/** Every suite id (1: AES-GCM, 2: ChaCha20-Poly1305). */
export const SUITE_IDS: readonly SuiteId[] = [1, 2];

/** Prologue label: `"proxkey"` then 0x00, then the challenge and handshake headers (§4.2). */
export const PROLOGUE_LABEL = 'proxkey\u0000';

/** Limits (bytes). A message larger than MAX_MESSAGE is rejected before any parsing. */
export const LIMITS = {
  maxMessage: 1024,
  maxArgs: 64,
  maxResultData: 255,
  maxExtensions: 512,
  publicKey: 65,
  tag: 16,
} as const;
