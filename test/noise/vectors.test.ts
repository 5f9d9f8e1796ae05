/**
 * Replays the standard Noise vectors: every cacophony vector (25519/448 × AESGCM/ChaChaPoly ×
 * SHA256/SHA512/BLAKE2s/BLAKE2b, all patterns incl. PSK and deferred) and every snow P-256 vector,
 * on every CryptoProvider.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { fromHex, toHex } from '../../src/bytes.js';
import type { CryptoProvider } from '../../src/crypto/provider.js';
import { HandshakeState, parseProtocolName, VECTOR_FUNCTIONS, type CipherState } from '../../src/noise/index.js';
import { PROVIDERS } from '../crypto/providers.js';

interface Vector {
  protocol_name: string;
  init_prologue: string;
  init_psks?: string[];
  init_static?: string;
  init_ephemeral: string;
  init_remote_static?: string;
  resp_prologue: string;
  resp_psks?: string[];
  resp_static?: string;
  resp_ephemeral?: string;
  resp_remote_static?: string;
  handshake_hash?: string;
  messages: { payload: string; ciphertext: string }[];
}

const load = (f: string): Vector[] => JSON.parse(readFileSync(new URL(`../vectors/noise/${f}`, import.meta.url), 'utf8')).vectors;

const noRandom = () => {
  throw new Error('vectors fix every ephemeral');
};

async function side(crypto: CryptoProvider, v: Vector, initiator: boolean): Promise<HandshakeState> {
  const p = parseProtocolName(v.protocol_name, crypto, VECTOR_FUNCTIONS);
  const pre = initiator ? 'init' : 'resp';
  const hex = (k: keyof Vector) => (typeof v[k] === 'string' ? fromHex(v[k]) : undefined);
  const s = hex(`${pre}_static` as keyof Vector);
  const e = hex(`${pre}_ephemeral` as keyof Vector);
  return new HandshakeState({
    protocolName: p.name,
    pattern: p.pattern,
    dh: p.dh,
    cipher: p.cipher,
    hash: p.hash,
    initiator,
    prologue: hex(`${pre}_prologue` as keyof Vector),
    s: s && (await p.dh.keyFromSecret(s)),
    e: e && (await p.dh.keyFromSecret(e)),
    rs: hex(`${pre}_remote_static` as keyof Vector),
    psks: ((initiator ? v.init_psks : v.resp_psks) ?? []).map(fromHex),
    random: noRandom,
  });
}

async function replay(crypto: CryptoProvider, v: Vector): Promise<void> {
  const init = await side(crypto, v, true);
  const resp = await side(crypto, v, false);
  const oneWay = parseProtocolName(v.protocol_name, crypto, VECTOR_FUNCTIONS).pattern.oneWay;
  let transport: { i: [CipherState, CipherState]; r: [CipherState, CipherState] } | undefined;
  for (const [i, m] of v.messages.entries()) {
    const fromInit = oneWay || i % 2 === 0;
    const payload = fromHex(m.payload);
    let ct: Uint8Array;
    let pt: Uint8Array;
    if (!transport) {
      const [w, r] = fromInit ? [init, resp] : [resp, init];
      ct = await w.writeMessage(payload);
      expect(toHex(ct), `${v.protocol_name} msg ${i}`).toBe(m.ciphertext);
      pt = await r.readMessage(ct);
      if (init.complete && resp.complete) {
        expect(toHex(init.handshakeHash)).toBe(toHex(resp.handshakeHash));
        if (v.handshake_hash) expect(toHex(init.result.handshakeHash)).toBe(v.handshake_hash);
        transport = {
          i: [init.result.send, init.result.receive],
          r: [resp.result.send, resp.result.receive],
        };
      }
    } else {
      const [send, recv] = fromInit ? [transport.i[0], transport.r[1]] : [transport.r[0], transport.i[1]];
      ct = await send.encryptWithAd(new Uint8Array(0), payload);
      expect(toHex(ct), `${v.protocol_name} transport ${i}`).toBe(m.ciphertext);
      pt = await recv.decryptWithAd(new Uint8Array(0), ct);
    }
    expect(toHex(pt)).toBe(m.payload);
  }
}

const suites: [string, Vector[]][] = [
  ['cacophony', load('cacophony.json')],
  ['snow-p256', load('snow-p256.json')],
];

/**
 * Which vectors exercise a provider: its P256 (every snow vector) and its AEADs and SHA-256
 * (AESGCM / ChaChaPoly / XChaChaPoly, SHA256). Every cacophony vector uses AESGCM or ChaChaPoly;
 * the nobleCrypto run replays them all. The native providers replay those with the 25519 DH —
 * the same cipher and hash inputs, all patterns, PSKs and hashes — and skip the X448 duplicates,
 * whose time goes into @noble's X448 (crypto/extra.ts), the same for every provider.
 */
const throughProvider = (provider: string) => (v: Vector) => provider === 'noble' || !v.protocol_name.includes('_448_');

describe.each(PROVIDERS)('provider %s', (provider, crypto) => {
  for (const [file, all] of suites) {
    const vectors = all.filter(throughProvider(provider));
    describe(`Noise vectors: ${file} (${vectors.length})`, () => {
      it.each(vectors.map((v) => [v.protocol_name, v] as const))('%s', async (_name, v) => {
        await replay(crypto, v);
      });
    });
  }
});
