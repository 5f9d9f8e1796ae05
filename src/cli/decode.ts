/**
 * `proxkey decode <hex | @file> [--keys FILE]`: a framing fragment or a protocol message as
 * readable fields, through the library's own codecs (framing, messages, pairing); a capture file
 * holds one message per line. With the session's split keys, RECORDs are decrypted in order and
 * their bodies decoded too.
 */
import { readFileSync } from 'node:fs';
import { fromHex, toHex } from '../bytes.js';
import { LocalError, messageOf } from '../errors.js';
import { CipherState } from '../noise/cipher-state.js';
import { aesGcmCipher, chaChaPolyCipher } from '../noise/suites.js';
import { LIMITS, MessageType, SUITES } from '../protocol/constants.js';
import { decodeBody, decodeMessage, maskHas, type WireMessage } from '../protocol/messages.js';
import { decodePairing, isPairingType } from '../protocol/pairing.js';
import { nodeCrypto } from '../node/node-crypto.js';
import { FRAGMENT_END, FRAGMENT_RESERVED, FRAGMENT_SEQ_MASK, FRAGMENT_START } from '../transport/framing.js';

/** The session keys file: hex keys of each direction, the suite, and the next nonce of each (default 0). */
export interface SessionKeys {
  readonly suite: 1 | 2;
  readonly phoneToCar: string;
  readonly carToPhone: string;
  /** The record's nonce in its direction (0: the first record each way). */
  readonly nonce?: number;
}

type Fields = Record<string, unknown>;

const KEYS_USAGE =
  '--keys: expected {"suite": 1|2, "phoneToCar": 64 hex, "carToPhone": 64 hex, "nonce"?: n ≥ 0}, or a transcript\'s intermediates ({"protocolName", "split": {"vehicleToPhone", "phoneToVehicle"}}), or a whole transcript file';
const isKey = (v: unknown): v is string => typeof v === 'string' && /^[0-9a-fA-F]{64}$/.test(v);
const field = (o: unknown, name: string): unknown =>
  typeof o === 'object' && o !== null && Object.hasOwn(o, name) ? (o as Record<string, unknown>)[name] : undefined;

/** The split keys of a transcript's `intermediates` (test/vectors/README.md), as a keys file; undefined if `json` is not one. */
function fromIntermediates(json: unknown): SessionKeys | undefined {
  const i = field(json, 'intermediates') ?? json;
  const split = field(i, 'split');
  const suite = Object.entries(SUITES).find(([, name]) => name === field(i, 'protocolName'))?.[0];
  const [phoneToCar, carToPhone] = [field(split, 'phoneToVehicle'), field(split, 'vehicleToPhone')];
  if (split === undefined) return undefined;
  if (suite === undefined || !isKey(phoneToCar) || !isKey(carToPhone)) throw new LocalError('ERR_INVALID_ARGUMENT', KEYS_USAGE);
  return { suite: Number(suite) as 1 | 2, phoneToCar, carToPhone };
}

/**
 * Check a parsed keys file: suite 1 or 2, two 32-byte hex keys, an optional non-negative nonce —
 * or a transcript (or its `intermediates`), whose protocol name gives the suite and whose split
 * keys the two directions (nonce 0: the transcript's first record each way).
 */
export function sessionKeys(json: unknown): SessionKeys {
  const fromTranscript = fromIntermediates(json);
  if (fromTranscript) return fromTranscript;
  const k = (json ?? {}) as Partial<Record<keyof SessionKeys, unknown>>;
  if (
    (k.suite !== 1 && k.suite !== 2) ||
    !isKey(k.phoneToCar) ||
    !isKey(k.carToPhone) ||
    (k.nonce !== undefined && !Number.isSafeInteger(k.nonce)) ||
    Number(k.nonce ?? 0) < 0
  )
    throw new LocalError('ERR_INVALID_ARGUMENT', KEYS_USAGE);
  return k as SessionKeys;
}
const PUBLIC_KEY = LIMITS.publicKey;

const hexOf = (v: unknown): unknown => (v instanceof Uint8Array ? toHex(v) : v);
const readable = (o: object): Fields => Object.fromEntries(Object.entries(o).map(([k, v]) => [k, hexOf(v)]));

function typeName(type: number): string {
  return Object.entries(MessageType).find(([, v]) => v === type)?.[0] ?? `0x${type.toString(16)}`;
}

/** The session's two receive directions: each decrypts in order, its nonce advancing only on success. */
class SessionDecryptor {
  readonly #directions: readonly (readonly [string, CipherState])[];
  constructor(keys: SessionKeys) {
    const cipher = keys.suite === 1 ? aesGcmCipher(nodeCrypto) : chaChaPolyCipher(nodeCrypto);
    this.#directions = (
      [
        ['phone→car', keys.phoneToCar],
        ['car→phone', keys.carToPhone],
      ] as const
    ).map(([direction, key]) => {
      const state = new CipherState(cipher, fromHex(key));
      state.setNonce(keys.nonce ?? 0);
      return [direction, state] as const;
    });
  }

  /** The record's direction, nonce and body; or why it could not be opened. */
  async open(ciphertext: Uint8Array): Promise<Fields> {
    for (const [direction, state] of this.#directions) {
      const nonce = state.nonce;
      const plain = await state.decryptWithAd(Uint8Array.of(MessageType.Record), ciphertext).catch(() => undefined);
      if (!plain) continue;
      try {
        return { direction, nonce, body: readable(decodeBody(plain)) };
      } catch (e) {
        return { direction, nonce, body: `undecodable: ${messageOf(e)}`, plaintext: toHex(plain) };
      }
    }
    return { body: `not decryptable with these keys at nonces ${this.#directions.map(([d, s]) => `${d} ${s.nonce}`).join(', ')}` };
  }
}

/** Decode one message (or fragment: first byte with the start/end flags that no message type has). */
async function decodeOne(bytes: Uint8Array, session: SessionDecryptor | undefined): Promise<Fields> {
  const type = bytes[0] ?? 0;
  if (isPairingType(type)) return { message: typeName(type), ...readable(decodePairing(bytes)) };
  if (type & (FRAGMENT_START | FRAGMENT_END) && !(type & FRAGMENT_RESERVED)) return decodeFragment(bytes);
  const m = decodeMessage(bytes);
  const fields: Fields = { message: typeName(m.type), ...readable(m), ...explained(m) };
  return m.type === MessageType.Record && session ? { ...fields, ...(await session.open(m.ciphertext)) } : fields;
}

/**
 * Decode messages in capture order; with `keys` the RECORDs of each direction are decrypted in
 * turn (nonces from `keys.nonce`, default 0). A message that does not decode gives `{ error }`.
 */
export async function decodeMessages(messages: readonly Uint8Array[], keys?: SessionKeys): Promise<Fields[]> {
  const session = keys && new SessionDecryptor(keys);
  const out: Fields[] = [];
  for (const bytes of messages) out.push(await decodeOne(bytes, session).catch((e: unknown) => ({ hex: toHex(bytes), error: messageOf(e) })));
  return out;
}

/** Bitmasks as the ids they offer; Noise message 2 as its three parts (e, encrypted s, encrypted payload). */
function explained(m: WireMessage): Fields {
  const ids = (mask: number) => [1, 2, 3, 4, 5, 6, 7, 8].filter((id) => maskHas(mask, id));
  if (m.type === MessageType.Challenge) return { versionsOffered: ids(m.versions), suitesOffered: ids(m.suites) };
  if (m.type !== MessageType.Handshake) return {};
  const staticEnd = PUBLIC_KEY + PUBLIC_KEY + LIMITS.tag;
  return {
    noiseParts: {
      e: toHex(m.noise.subarray(0, PUBLIC_KEY)),
      encryptedStatic: toHex(m.noise.subarray(PUBLIC_KEY, staticEnd)),
      encryptedPayload: toHex(m.noise.subarray(staticEnd)),
    },
  };
}

function decodeFragment(bytes: Uint8Array): Fields {
  const h = bytes[0]!;
  return { fragment: { start: (h & FRAGMENT_START) !== 0, end: (h & FRAGMENT_END) !== 0, seq: h & FRAGMENT_SEQ_MASK }, payload: toHex(bytes.subarray(1)) };
}

/** `hex`, or `@file`: a capture of one message per line (hex, whitespace inside a line ignored, `#` comments). */
export function inputMessages(arg: string): Uint8Array[] {
  const text = arg.startsWith('@') ? readFileSync(arg.slice(1), 'utf8') : arg;
  return text
    .split('\n')
    .map((line) => line.replace(/#.*$/, '').replace(/\s+/g, ''))
    .filter((line) => line.length > 0)
    .map((line) => fromHex(line));
}
