/**
 * test/vectors/negatives.json: one bad input per class a role must refuse (docs/PROTOCOL.md §3,
 * §6), each fed to the vehicle or the phone role after a prefix of the published transcript
 * protocol-unlock-lock-start.json, with what the role must send back, its error code and its
 * state afterwards. Record-layer failures give an `error` event, an ALERT on the car and no state
 * change; bodies that authenticate but do not decode get an authenticated RESULT and the session
 * stays open. The pairing ALERTs are in flow-pairing-refusals.json.
 */
import { concatBytes, fromHex, toHex } from '../src/bytes.js';
import { CipherState } from '../src/noise/cipher-state.js';
import { aesGcmCipher } from '../src/noise/suites.js';
import { nobleCrypto, type CryptoProvider } from '../src/index.js';
import { decodeMessages, sessionKeys } from '../src/cli/decode.js';
import { playPhone, playVehicle, recordTranscript, type TranscriptDefinition, type TranscriptVector } from './transcript.js';

export interface NegativeCase {
  readonly name: string;
  /** The input class (what is wrong with it). */
  readonly class: string;
  /** The role under test. */
  readonly role: 'vehicle' | 'phone';
  /** The role has been fed the base transcript through this message index (-1: none), doing its actions. */
  readonly after: number;
  /** A different car ephemeral secret (a second connection): the base messages the car sends differ. */
  readonly vehicleEphemeralSecret?: string;
  /** The bad message (hex). */
  readonly input: string;
  readonly expect: {
    /** What the role sends in answer (hex): an ALERT, an authenticated RESULT, or nothing. */
    readonly sends: readonly string[];
    /** The code of the `error` event, or null (an authenticated answer is not an error). */
    readonly error: string | null;
    /** The role's state afterwards. */
    readonly state: string;
    /** The status inside an authenticated RESULT the car answered with (decrypted with the base transcript's keys). */
    readonly status?: string;
  };
}

type CaseInput = Omit<NegativeCase, 'expect'>;

const flipLast = (hex: string) => `${hex.slice(0, -2)}${(parseInt(hex.slice(-2), 16) ^ 1).toString(16).padStart(2, '0')}`;
const setByte = (hex: string, index: number, value: number) => `${hex.slice(0, 2 * index)}${value.toString(16).padStart(2, '0')}${hex.slice(2 * index + 2)}`;

/** A RECORD carrying `body` (hex), sealed with the transcript's key of `from`'s direction at `nonce`. */
async function sealedRecord(base: TranscriptVector, from: 'phone' | 'vehicle', body: string, nonce: number, crypto: CryptoProvider): Promise<string> {
  const { split } = base.intermediates;
  const state = new CipherState(aesGcmCipher(crypto), fromHex(from === 'phone' ? split.phoneToVehicle : split.vehicleToPhone));
  state.setNonce(nonce);
  return toHex(concatBytes(Uint8Array.of(0x03), await state.encryptWithAd(Uint8Array.of(0x03), fromHex(body))));
}

async function cases(base: TranscriptVector, crypto: CryptoProvider): Promise<CaseInput[]> {
  const m = base.messages.map((x) => x.hex);
  const [challenge, handshake, result, lock] = [m[0]!, m[1]!, m[2]!, m[3]!];
  const offCurve = `04${'00'.repeat(63)}01`; // (0, 1) is not on P-256
  const v = (name: string, cls: string, after: number, input: string, extra: Partial<CaseInput> = {}): CaseInput => ({
    name,
    class: cls,
    role: 'vehicle',
    after,
    input,
    ...extra,
  });
  const p = (name: string, cls: string, after: number, input: string): CaseInput => ({ name, class: cls, role: 'phone', after, input });
  const body = (hex: string) => sealedRecord(base, 'phone', hex, 0, crypto);
  return [
    v('empty message', 'wrong length', 0, ''),
    v('unknown message type 0x07', 'unknown message type', 0, `07${handshake.slice(2)}`),
    v('message over 1024 bytes', 'wrong length', 0, `${handshake.slice(0, 6)}${'00'.repeat(1022)}`),
    v('HANDSHAKE truncated below its minimum', 'wrong length', 0, handshake.slice(0, 2 * 100)),
    v('HANDSHAKE with e_ph off the curve', 'bad point', 0, `${handshake.slice(0, 6)}${offCurve}${handshake.slice(6 + 130)}`),
    v('HANDSHAKE with a compressed-prefix e_ph', 'bad point', 0, setByte(handshake, 3, 0x02)),
    v('HANDSHAKE selecting version 2 (not offered)', 'unsupported version', 0, setByte(handshake, 1, 2)),
    v('HANDSHAKE selecting suite 3 (unknown)', 'unsupported suite', 0, setByte(handshake, 2, 3)),
    v('HANDSHAKE with its last tag byte flipped', 'bad tag', 0, flipLast(handshake)),
    v('HANDSHAKE whose suite byte was changed in transit (downgrade)', 'bad tag (prologue mismatch)', 0, setByte(handshake, 2, 2)),
    v('the recorded HANDSHAKE on another connection (another car ephemeral)', 'replayed handshake', 0, handshake, { vehicleEphemeralSecret: '55'.repeat(32) }),
    v('a RECORD before the handshake', 'unexpected message', 0, lock),
    v('a CHALLENGE sent to the car', 'unexpected message', 0, challenge),
    v('ALERT with a trailing byte', 'wrong length', 0, '0f0b00'),
    v('the lock RECORD twice', 'replayed counter', 4, lock),
    v('a RECORD with its last tag byte flipped', 'bad tag', 2, flipLast(lock)),
    v('a RECORD shorter than a tag', 'wrong length', 2, `03${'00'.repeat(16)}`),
    v('a second HANDSHAKE on an established session', 'unexpected message', 2, handshake),
    v('COMMAND with reserved code 0x05', 'authenticated body: reserved command code', 2, await body('10050000')),
    v('unlock with one byte of args', 'authenticated body: invalid args', 2, await body('1001000100')),
    v('COMMAND with an unknown extension 0x02', 'authenticated body: unknown extension', 2, await body('10010000020000')),
    v('COMMAND with reserved flag bit 0x02', 'authenticated body: reserved flag bits', 2, await body('10010200')),
    v('a body of unknown kind 0x13', 'authenticated body: unknown kind', 2, await body('1300')),
    v('a RESULT body sent by the phone', 'authenticated body: wrong direction', 2, await body('110000')),
    v('COMMAND with 65 bytes of args', 'authenticated body: wrong length', 2, await body(`10810041${'00'.repeat(65)}`)),
    v('COMMAND with extensions out of order', 'authenticated body: wrong encoding', 2, await body('100100000100000100')),
    p('CHALLENGE offering only suite 3', 'unsupported suite', -1, setByte(challenge, 2, 0x04)),
    p('CHALLENGE offering only version 2', 'unsupported version', -1, setByte(challenge, 1, 0x02)),
    p('CHALLENGE with an empty version offer', 'wrong encoding', -1, setByte(challenge, 1, 0)),
    p('CHALLENGE with e_car off the curve', 'bad point', -1, `${challenge.slice(0, 6)}${offCurve}`),
    p('CHALLENGE one byte short', 'wrong length', -1, challenge.slice(0, -2)),
    p('a RESULT with its last tag byte flipped', 'bad tag', 1, flipLast(result)),
    p('the unlock RESULT twice', 'replayed counter', 3, result),
    p('ALERT with an unknown reason 0xFF', 'unknown reason (read as malformed)', 1, '0fff'),
    p(
      'an authenticated RESULT whose body does not decode (unknown kind 0x13)',
      'authenticated body: unknown kind',
      3,
      await sealedRecord(base, 'vehicle', '1300', 1, crypto),
    ),
  ];
}

/** Feed one case to its role and report what it did. */
export async function runNegative(base: TranscriptVector, c: CaseInput, crypto: CryptoProvider = nobleCrypto): Promise<NegativeCase['expect']> {
  const options = { until: c.after, ...(c.vehicleEphemeralSecret && { vehicleEphemeralSecret: c.vehicleEphemeralSecret }) };
  const { session } = c.role === 'vehicle' ? await playVehicle(base, crypto, options) : await playPhone(base, crypto, options);
  const o = await session.receive(fromHex(c.input));
  const error = o.events.find((e) => e.type === 'error');
  const sends = o.send.map(toHex);
  const expect = { sends, error: error?.type === 'error' ? ((error.error as { code?: string }).code ?? error.error.name) : null, state: session.state };
  if (c.role !== 'vehicle' || !sends[0]?.startsWith('03')) return expect;
  // the car's records before this one, in the base transcript's prefix, fix the RESULT's nonce
  const nonce = base.messages.slice(0, c.after + 1).filter((m) => m.from === 'vehicle' && m.hex.startsWith('03')).length;
  const [decoded] = await decodeMessages([fromHex(sends[0])], { ...sessionKeys(base), nonce });
  return { ...expect, status: String((decoded?.body as { status?: string } | undefined)?.status) };
}

export interface NegativeVectors {
  readonly description: string;
  /** The transcript whose prefix every case starts from. */
  readonly base: string;
  readonly cases: readonly NegativeCase[];
}

export async function buildNegatives(d: TranscriptDefinition, crypto: CryptoProvider = nobleCrypto): Promise<NegativeVectors> {
  const base = await recordTranscript(d, crypto);
  const out: NegativeCase[] = [];
  for (const c of await cases(base, crypto)) out.push({ ...c, expect: await runNegative(base, c, crypto) });
  return {
    description:
      'One bad input per class, fed to one role after a prefix of the base transcript. Record-layer failures: an error event, an ALERT from the car (none from the phone), state unchanged. Authenticated bodies that do not decode: an authenticated RESULT, session open.',
    base: `protocol-${d.name}.json`,
    cases: out,
  };
}
