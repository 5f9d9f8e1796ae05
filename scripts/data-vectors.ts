/**
 * Data vectors (test/vectors/framing.json, advertising.json): the BLE framing of real messages at
 * MTU 23, 185 and 517, one receiver case per rule of docs/BLE.md with the reassembler's outputs,
 * and what a car puts on air — advertising id per epoch, service data, advertisement and scan
 * response bytes, the resolvable private address, the info characteristic's value. Built with
 * the library's own pure functions (src/transport, src/protocol, src/adapters); replayed by
 * test/data-vectors.test.ts.
 */
import { toHex, utf8, fromHex } from '../src/bytes.js';
import { encodeCarAdvertisement } from '../src/adapters/bleno/advertising-encoding.js';
import { advertisingIdIn } from '../src/adapters/car-advertising.js';
import { COMPANY_ID_ADVERTISING_ID_LENGTH } from '../src/adapters/common.js';
import { advertisingEpoch, deriveAdvertisingId, encodeAdvertisingServiceData } from '../src/protocol/advertising-id.js';
import { deriveAddressIrk, resolvablePrivateAddress, resolvesPrivateAddress, formatAddress, ah } from '../src/protocol/private-address.js';
import { nobleCrypto } from '../src/crypto/noble.js';
import { fragmentMessage, valueSizeForMtu, DEFAULT_MAX_MESSAGE_SIZE } from '../src/transport/fragment-codec.js';
import { Reassembler } from '../src/transport/reassembler.js';
import { encodeGattInfo } from '../src/transport/gatt-info.js';
import { FRAMING_VERSION, PROXKEY_SERVICE_UUID } from '../src/transport/gatt-profile.js';
import { RemoteError } from '../src/errors.js';
import { scripted, type TranscriptMessage } from './transcript.js';

const MTUS = [23, 185, 517] as const;

/** One value fed to a receiver at `atMs`, and what the receiver produced (in order). */
export interface ReceiverStep {
  readonly value: string;
  readonly atMs: number;
  readonly outputs: readonly ({ readonly message: string } | { readonly error: string; readonly detail: string })[];
}

export interface ReceiverCase {
  readonly name: string;
  /** The receiver rule of docs/BLE.md this case breaks (or "ok"). */
  readonly rule: string;
  /** Its number in docs/BLE.md "Receiver rules" (0: the case breaks none). */
  readonly bleRule: number;
  readonly maxMessageSize: number;
  readonly partialTimeoutMs: number;
  readonly steps: readonly ReceiverStep[];
}

/** Run a case's values through a fresh receiver, recording its outputs. */
export function runReceiver(maxMessageSize: number, partialTimeoutMs: number, values: readonly { value: string; atMs: number }[]): ReceiverStep[] {
  const r = new Reassembler({ maxMessageSize, partialTimeoutMs });
  return values.map(({ value, atMs }) => ({
    value,
    atMs,
    outputs: r.push(fromHex(value), atMs).map((o) => (o instanceof RemoteError ? { error: o.code, detail: o.message } : { message: toHex(o) })),
  }));
}

function framedMessages(unlock: readonly TranscriptMessage[]): { name: string; hex: string }[] {
  return [
    { name: 'CHALLENGE (68 B)', hex: unlock[0]!.hex },
    { name: 'HANDSHAKE with unlock (169 B)', hex: unlock[1]!.hex },
    { name: 'RECORD with a RESULT (20 B)', hex: unlock[2]!.hex },
    { name: 'a 1024-byte message (the default maximum)', hex: toHex(Uint8Array.from({ length: DEFAULT_MAX_MESSAGE_SIZE }, (_, i) => i & 0xff)) },
  ];
}

function receiverCases(challengeHex: string, handshake: string, valid: string): ReceiverCase[] {
  const f = fragmentMessage(fromHex(handshake), valueSizeForMtu(23)).map(toHex); // 9 values: S, 1..7, E|8
  const ok = { value: valid, atMs: 5 }; // after every violation, the next S fragment is received cleanly
  const at = (values: string[], t = 0) => values.map((value) => ({ value, atMs: t }));
  const setLast = (hex: string, b: string) => `${hex}${b}`;
  const header = (hex: string, h: number) => `${h.toString(16).padStart(2, '0')}${hex.slice(2)}`;
  // the 68-byte CHALLENGE as 5 bytes, then 63 one-byte continuations: the index wraps past 15 four times
  const challenge = fromHex(challengeHex);
  const uneven = [
    `800044${toHex(challenge.subarray(0, 5))}`,
    ...Array.from(challenge.subarray(5), (b, i) => toHex(Uint8Array.of(((i + 1) & 0x0f) | (i === challenge.length - 6 ? 0x40 : 0), b))),
  ];
  // [name, rule, the numbered receiver rule of docs/BLE.md (0: none broken), values, max]
  const cases: [string, string, number, { value: string; atMs: number }[], number?][] = [
    ['a whole message in 9 values at MTU 23', 'ok', 0, at(f)],
    ['an uneven split: 5 bytes, then 1-byte continuations (the index wraps past 15)', 'ok', 0, at(uneven)],
    ['an empty value', 'empty value', 1, [...at(['']), ok]],
    ['reserved header bits set (0xD0)', 'reserved bits', 1, [...at(['d001']), ok]],
    ['a new S before the previous message completed', 'missing E', 2, at([f[0]!, valid])],
    ['a single-value message above the maximum (16 here)', 'message above the maximum', 3, [...at([`c0${'00'.repeat(17)}`]), ok], 16],
    ['a single-value first fragment with index 1', 'wrong index', 3, [...at(['c101']), ok]],
    ['a first fragment shorter than its header', 'wrong length', 4, [...at(['8000']), ok]],
    ['a first fragment (E=0) with index 1', 'wrong index', 4, [...at([`81${f[0]!.slice(2)}`]), ok]],
    ['an announced total above the maximum (1025), refused before buffering', 'message above the maximum', 4, [...at([`800401${'00'.repeat(17)}`]), ok]],
    ['an announced total that fits in the first value, without E', 'missing E', 4, [...at(['800002aabb']), ok]],
    ['a continuation without a start', 'continuation without a start', 5, [...at([f[1]!]), ok]],
    ['a lost fragment (index 2 after 0); its later continuations are dropped silently', 'wrong index', 6, [...at([f[0]!, f[2]!, f[3]!, f[8]!]), ok]],
    ['a repeated fragment', 'wrong index', 6, [...at([f[0]!, f[1]!, f[1]!]), ok]],
    ['an empty continuation', 'empty value', 6, [...at([f[0]!, '01']), ok]],
    ['one byte beyond the announced total', 'bytes beyond the total', 6, [...at([...f.slice(0, 8), setLast(f[8]!, '00')]), ok]],
    ['the E bit on a middle fragment', 'early E', 6, [...at([f[0]!, header(f[1]!, 0x41)]), ok]],
    ['the last fragment without the E bit', 'missing E', 6, [...at([...f.slice(0, 8), header(f[8]!, 0x08)]), ok]],
    ['a continuation 999 ms after the previous fragment (still in time)', 'ok', 0, [...at(f.slice(0, 4), 0), ...at(f.slice(4), 999)]],
    [
      'a partial message idle for 1000 ms; its late continuations are ignored',
      'partial message idle for 1000 ms or more',
      7,
      [...at(f.slice(0, 4), 0), ...at(f.slice(4), 1000), { value: valid, atMs: 1005 }],
    ],
  ];
  return cases.map(([name, rule, bleRule, values, max = DEFAULT_MAX_MESSAGE_SIZE]) => ({
    name,
    rule,
    bleRule,
    maxMessageSize: max,
    partialTimeoutMs: 1000,
    steps: runReceiver(max, 1000, values),
  }));
}

function framing(unlock: readonly TranscriptMessage[]) {
  const messages = framedMessages(unlock);
  const fragmentations = messages.flatMap((m) =>
    MTUS.map((mtu) => {
      const valueSize = valueSizeForMtu(mtu);
      return { message: m.name, messageHex: m.hex, mtu, valueSize, fragments: fragmentMessage(fromHex(m.hex), valueSize).map(toHex) };
    }),
  );
  const valid = toHex(fragmentMessage(Uint8Array.of(0x0f, 0x0b), 20)[0]!); // an ALERT in one value: c0 0f 0b
  return {
    description:
      'GATT framing (docs/BLE.md): fragmentations of real messages at MTU 23, 185 and 517 (value size min(MTU − 3, 512)), and one receiver case per rule, each value with what a receiver outputs (a message, or an ERR_DECODE; `detail` is proxkey’s text, informative).',
    fragmentations,
    receiverCases: receiverCases(messages[0]!.hex, messages[1]!.hex, valid),
  };
}

function advertising() {
  const crypto = nobleCrypto;
  const secret = crypto.sha256(utf8('proxkey vectors advertising secret'));
  const times = [1_767_225_600_000, 1_767_226_499_999, 1_767_226_500_000];
  const ids = times.map((unixMs) => {
    const epoch = advertisingEpoch(unixMs);
    const id = deriveAdvertisingId(crypto, secret, epoch);
    const { advertisement, scanResponse } = encodeCarAdvertisement({ id });
    const withCompany = encodeCarAdvertisement({ id: deriveAdvertisingId(crypto, secret, epoch, COMPANY_ID_ADVERTISING_ID_LENGTH), companyId: 0xffff });
    return {
      unixMs,
      rotationSeconds: 900,
      epoch,
      id: toHex(id),
      serviceData: toHex(encodeAdvertisingServiceData(id)),
      advertisement: toHex(advertisement),
      scanResponse: toHex(scanResponse),
      companyId: {
        companyId: 0xffff,
        id: toHex(deriveAdvertisingId(crypto, secret, epoch, COMPANY_ID_ADVERTISING_ID_LENGTH)),
        advertisement: toHex(withCompany.advertisement),
        scanResponse: toHex(withCompany.scanResponse),
      },
    };
  });
  const irk = deriveAddressIrk(crypto, secret);
  // the first draw's 22 random bits are all 0 (refused), the second all 1 (refused), the third is used
  const draws = ['400000', '7fffff', '5a1234'];
  const address = resolvablePrivateAddress(irk, scripted(draws.join('')));
  const otherIrk = deriveAddressIrk(crypto, crypto.sha256(utf8('another car')));
  if (!resolvesPrivateAddress(irk, address) || resolvesPrivateAddress(otherIrk, address)) throw new Error('advertising vectors: address does not resolve');
  if (advertisingIdIn({ serviceData: [{ uuid: PROXKEY_SERVICE_UUID, data: fromHex(ids[0]!.serviceData) }] }) === undefined)
    throw new Error('advertising vectors: id not found');
  return {
    description:
      'What a car puts on air (docs/PRIVACY.md, docs/BLE.md): the rotating advertising id per epoch, its service data, the advertisement and scan response bytes (service data, or manufacturer data with a company id), the resolvable private address, and the info characteristic’s value.',
    advertisingSecret: toHex(secret),
    ids,
    privateAddress: {
      irk: toHex(irk),
      prandDraws: draws,
      prand: toHex(address.subarray(0, 3)),
      hash: toHex(ah(irk, address.subarray(0, 3))),
      address: toHex(address),
      formatted: formatAddress(address),
      otherIrk: toHex(otherIrk),
    },
    info: {
      framingVersion: FRAMING_VERSION,
      maxMessageSize: DEFAULT_MAX_MESSAGE_SIZE,
      protocolVersions: [1],
      value: toHex(encodeGattInfo({ framingVersion: FRAMING_VERSION, maxMessageSize: DEFAULT_MAX_MESSAGE_SIZE, protocolVersions: [1] })),
    },
  };
}

/** name → vector; `unlock`: the messages of protocol-unlock-lock-start.json, framed as examples. */
export function buildDataVectors(unlock: readonly TranscriptMessage[]): Record<string, unknown> {
  return { framing: framing(unlock), advertising: advertising() };
}
