/**
 * `proxkey decode <hex | @file> [--keys FILE]`: a framing fragment or a protocol message as
 * readable fields, through the library's own codecs (framing, messages, pairing). With the
 * session's split keys, RECORDs are decrypted and their bodies decoded too.
 */
import { readFileSync } from 'node:fs';
import { fromHex, toHex } from '../bytes.js';
import { CipherState } from '../noise/cipher-state.js';
import { aesGcmCipher, chaChaPolyCipher } from '../noise/suites.js';
import { LIMITS, MessageType } from '../protocol/constants.js';
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
const PUBLIC_KEY = LIMITS.publicKey;

const hexOf = (v: unknown): unknown => (v instanceof Uint8Array ? toHex(v) : v);
const readable = (o: object): Fields => Object.fromEntries(Object.entries(o).map(([k, v]) => [k, hexOf(v)]));

function typeName(type: number): string {
  return Object.entries(MessageType).find(([, v]) => v === type)?.[0] ?? `0x${type.toString(16)}`;
}

/** Decode one message (or fragment: first byte with the start/end flags that no message type has). */
export async function decodeBytes(bytes: Uint8Array, keys?: SessionKeys): Promise<Fields> {
  const type = bytes[0] ?? 0;
  if (isPairingType(type)) return { message: typeName(type), ...readable(decodePairing(bytes)) };
  if (type & (FRAGMENT_START | FRAGMENT_END) && !(type & FRAGMENT_RESERVED)) return decodeFragment(bytes);
  const m = decodeMessage(bytes);
  const fields: Fields = { message: typeName(m.type), ...readable(m), ...explained(m) };
  if (m.type !== MessageType.Record || !keys) return fields;
  for (const [direction, key] of [
    ['phone→car', keys.phoneToCar],
    ['car→phone', keys.carToPhone],
  ] as const) {
    const body = await tryDecrypt(keys.suite, fromHex(key), keys.nonce ?? 0, m.ciphertext);
    if (body) return { ...fields, direction, body: readable(decodeBody(body)) };
  }
  return { ...fields, body: `not decryptable with these keys at nonce ${keys.nonce ?? 0}` };
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

async function tryDecrypt(suite: 1 | 2, key: Uint8Array, nonce: number, ciphertext: Uint8Array): Promise<Uint8Array | undefined> {
  const state = new CipherState(suite === 1 ? aesGcmCipher(nodeCrypto) : chaChaPolyCipher(nodeCrypto), key);
  state.setNonce(nonce);
  return state.decryptWithAd(Uint8Array.of(MessageType.Record), ciphertext).catch(() => undefined);
}

function decodeFragment(bytes: Uint8Array): Fields {
  const h = bytes[0]!;
  return { fragment: { start: (h & FRAGMENT_START) !== 0, end: (h & FRAGMENT_END) !== 0, seq: h & FRAGMENT_SEQ_MASK }, payload: toHex(bytes.subarray(1)) };
}

/** `hex` or `@file` (hex text) → bytes. */
export function inputBytes(arg: string): Uint8Array {
  const text = arg.startsWith('@') ? readFileSync(arg.slice(1), 'utf8') : arg;
  return fromHex(text.replace(/\s+/g, ''));
}
