export { BodyKind, LIMITS, MessageType, PROTOCOL_VERSIONS, SUITES, SUITE_IDS, type ProtocolVersion, type SuiteId } from './constants.js';
export {
  DENY_REASONS,
  DENY_REASON_TEXT,
  deniedError,
  REASONS,
  isDenyReason,
  reasonCode,
  reasonEndsSession,
  reasonFromCode,
  type DenyReason,
  type ReasonMeaning,
} from './reasons.js';
export {
  commandCode,
  commandArgs,
  commandFromWire,
  ADMIN_COMMANDS,
  IMPLICIT_PERMISSIONS,
  commandName,
  toCommand,
  CUSTOM_COMMAND_MAX,
  CUSTOM_COMMAND_MIN,
  STANDARD_COMMANDS,
  type Command,
  type CommandInput,
  type StandardCommand,
} from './commands.js';
export {
  decodeBody,
  decodeMessage,
  encodeBody,
  encodeMessage,
  maskHas,
  toMask,
  isSuiteId,
  UnknownCommandError,
  Extensions,
  CHALLENGE_HEADER_LENGTH,
  HANDSHAKE_HEADER_LENGTH,
  type AlertMessage,
  type Body,
  type ChallengeMessage,
  type CloseBody,
  type CommandBody,
  type HandshakeMessage,
  type RecordMessage,
  type ResultBody,
  type WireMessage,
} from './messages.js';
export { buildPrologue } from './prologue.js';
export { keyIdOf } from './key-id.js';
export * from './advertising-id.js';
export * from './private-address.js';
export { PAIRING_SCRYPT_BOUNDS, scryptWithinBounds } from './pairing.js';
