/**
 * The Noise intermediates of a recorded handshake — the three DH outputs, `ck`, `h` and `k` after
 * each token, the split keys — observed through a recording CryptoProvider (test/helpers/recording-crypto.ts), so nothing in
 * src/noise changes for the vectors: every Noise operation of proxkey's suites reaches the
 * provider (`p256Ecdh` for DH, `hkdfSha256(ikm, salt = ck)` for MixKey and Split, `sha256(h ‖ data)`
 * for MixHash, `aeadSeal`/`aeadOpen` for EncryptAndHash/DecryptAndHash). The calls are matched to
 * the tokens of the pattern in order (docs/PROTOCOL.md §4.3): a MixHash is the next SHA-256 whose
 * input starts with the current `h`, a MixKey the next HKDF whose salt is the current `ck`.
 */
import { equalBytes, toHex, utf8 } from '../src/bytes.js';
import { getPattern } from '../src/noise/patterns.js';
import type { CryptoCall } from '../test/helpers/recording-crypto.js';

export { recordingCrypto, type CryptoCall } from '../test/helpers/recording-crypto.js';

/** The state after one token (hex; `k` null while the CipherState has no key). */
export interface TokenState {
  /** 0: before the first message (protocol name, prologue, pre-messages); 1, 2: the handshake messages. */
  readonly message: number;
  readonly sender: 'vehicle' | 'phone' | null;
  /** A Noise token, or `protocol-name`, `prologue`, `payload`. */
  readonly token: string;
  /** The DH output mixed by an `ee`/`es`/`se` token. */
  readonly dh?: string;
  /** What EncryptAndHash encrypted (the phone's static key, the command body), when a key was set. */
  readonly plaintext?: string;
  readonly ck: string;
  readonly h: string;
  readonly k: string | null;
}

export interface NoiseIntermediates {
  readonly protocolName: string;
  readonly prologue: string;
  /** DH outputs by Noise token (the first letter is the initiator's key: the vehicle's). */
  readonly dh: { readonly ee: string; readonly se: string; readonly es: string };
  readonly tokens: readonly TokenState[];
  /** Split(): the first key encrypts vehicle → phone (the initiator's), the second phone → vehicle. */
  readonly split: { readonly vehicleToPhone: string; readonly phoneToVehicle: string };
  /** The same two keys per role: what each side encrypts (`send`) and decrypts (`receive`) records with. */
  readonly sessionKeys: {
    readonly vehicle: { readonly send: string; readonly receive: string };
    readonly phone: { readonly send: string; readonly receive: string };
  };
  /** The final `h`: the public session id. */
  readonly handshakeHash: string;
}

class CallCursor {
  #at = 0;
  constructor(private readonly calls: readonly CryptoCall[]) {}
  next<T extends CryptoCall>(what: string, match: (c: CryptoCall) => c is T): T {
    while (this.#at < this.calls.length) {
      const c = this.calls[this.#at++]!;
      if (match(c)) return c;
    }
    throw new Error(`noise intermediates: no ${what} left in the recorded calls`);
  }
}

/**
 * Match the recorded calls of one role's handshake (KX, vehicle = initiator) to its tokens.
 * @throws when a call the pattern needs is missing (the recording does not follow the pattern)
 */
export function noiseIntermediates(calls: readonly CryptoCall[], protocolName: string, prologue: Uint8Array): NoiseIntermediates {
  const pattern = getPattern('KX');
  const cursor = new CallCursor(calls);
  const name = utf8(protocolName);
  let h: Uint8Array = new Uint8Array(32);
  h.set(name); // names of proxkey's suites are ≤ 32 bytes: padded, not hashed
  let ck = h.slice();
  let k: Uint8Array | null = null;
  const tokens: TokenState[] = [];
  const dh: Record<string, string> = {};
  const push = (message: number, sender: TokenState['sender'], token: string, extra: { dh?: string; plaintext?: string } = {}) =>
    tokens.push({ message, sender, token, ...extra, ck: toHex(ck), h: toHex(h), k: k && toHex(k) });
  const mixHash = () => {
    h = cursor.next(
      'MixHash',
      (c): c is Extract<CryptoCall, { method: 'sha256' }> => c.method === 'sha256' && c.input.length >= 32 && equalBytes(c.input.subarray(0, 32), h),
    ).output;
  };
  const mixKey = (ikmLength: number) => {
    const c = cursor.next(
      'MixKey',
      (x): x is Extract<CryptoCall, { method: 'hkdfSha256' }> => x.method === 'hkdfSha256' && x.ikm.length === ikmLength && equalBytes(x.salt, ck),
    );
    ck = c.output.slice(0, 32);
    k = c.output.slice(32, 64);
  };
  const encryptAndHash = (): string | undefined => {
    const key = k;
    const c =
      key &&
      cursor.next(
        'EncryptAndHash',
        (x): x is Extract<CryptoCall, { method: 'aeadSeal' | 'aeadOpen' }> =>
          (x.method === 'aeadSeal' || x.method === 'aeadOpen') && equalBytes(x.key, key) && equalBytes(x.ad, h),
      );
    mixHash();
    return c ? toHex(c.plaintext) : undefined;
  };
  push(0, null, 'protocol-name');
  mixHash();
  push(0, null, 'prologue');
  for (const t of pattern.preInitiator) {
    mixHash();
    push(0, 'vehicle', t);
  }
  pattern.messages.forEach((message, i) => {
    const sender = i % 2 === 0 ? 'vehicle' : 'phone';
    for (const t of [...message, 'payload']) {
      if (t === 'e') mixHash();
      if (t === 'ee' || t === 'es' || t === 'se') {
        const out = cursor.next('DH', (c): c is Extract<CryptoCall, { method: 'p256Ecdh' }> => c.method === 'p256Ecdh').output;
        dh[t] = toHex(out);
        mixKey(out.length);
        push(i + 1, sender, t, { dh: dh[t] });
        continue;
      }
      const plaintext = t === 's' || t === 'payload' ? encryptAndHash() : undefined;
      push(i + 1, sender, t, plaintext === undefined ? {} : { plaintext });
    }
  });
  const split = cursor.next(
    'Split',
    (c): c is Extract<CryptoCall, { method: 'hkdfSha256' }> => c.method === 'hkdfSha256' && c.ikm.length === 0 && equalBytes(c.salt, ck),
  ).output;
  const [v2p, p2v] = [toHex(split.slice(0, 32)), toHex(split.slice(32, 64))];
  return {
    protocolName,
    prologue: toHex(prologue),
    dh: { ee: dh.ee!, se: dh.se!, es: dh.es! },
    tokens,
    split: { vehicleToPhone: v2p, phoneToVehicle: p2v },
    sessionKeys: { vehicle: { send: v2p, receive: p2v }, phone: { send: p2v, receive: v2p } },
    handshakeHash: toHex(h),
  };
}

/** Every leaf of `expected` that `observed` does not have with the same value, as `a.b[2].c` paths. */
export function differingLeaves(expected: unknown, observed: unknown, path = ''): string[] {
  if (typeof expected !== 'object' || expected === null) return expected === observed ? [] : [path];
  if (typeof observed !== 'object' || observed === null) return leaves(expected, path);
  const keys = new Set([...Object.keys(expected), ...Object.keys(observed)]);
  const at = (o: object, key: string): unknown => (Object.hasOwn(o, key) ? (o as Record<string, unknown>)[key] : undefined);
  return [...keys].flatMap((key) =>
    differingLeaves(at(expected, key), at(observed, key), Array.isArray(expected) ? `${path}[${key}]` : path ? `${path}.${key}` : key),
  );
}

/** Paths of every leaf of `value`. */
export function leaves(value: unknown, path = ''): string[] {
  if (typeof value !== 'object' || value === null) return [path];
  return Object.entries(value).flatMap(([key, v]) => leaves(v, Array.isArray(value) ? `${path}[${key}]` : path ? `${path}.${key}` : key));
}
