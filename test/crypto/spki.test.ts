/**
 * `p256PublicKeyFromSpki` / `p256PublicKeyToSpki`: round trips, interop with WebCrypto and
 * node:crypto, the Wycheproof ECDSA groups' DER keys, and hand-made malformed DER.
 * (The full Wycheproof SPKI ECDH file is replayed in wycheproof-ecdh.test.ts.)
 */
import { createPublicKey, webcrypto } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { concatBytes, toHex } from '../../src/bytes.js';
import { nobleCrypto } from '../../src/crypto/noble.js';
import { p256PublicKeyFromSpki, p256PublicKeyToSpki } from '../../src/crypto/spki.js';
import { LocalError, RemoteError, type ErrorCode } from '../../src/errors.js';
import { cases, hex, loadWycheproof, thrown, type EcdsaGroup } from './wycheproof.js';

/** Minimal DER TLV (short or long form as needed). */
function tlv(tag: number, ...content: Uint8Array[]): Uint8Array {
  const body = concatBytes(...content);
  const n = body.length;
  const len = n < 0x80 ? [n] : n < 0x100 ? [0x81, n] : [0x82, n >> 8, n & 0xff];
  return concatBytes(Uint8Array.of(tag, ...len), body);
}
/** TLV with a caller-chosen (possibly non-DER) length encoding. */
const rawTlv = (tag: number, len: number[], ...content: Uint8Array[]) => concatBytes(Uint8Array.of(tag, ...len), ...content);

const OID_EC = hex('2a8648ce3d0201');
const OID_P256 = hex('2a8648ce3d030107');
const oid = (b: Uint8Array) => tlv(0x06, b);
const seq = (...c: Uint8Array[]) => tlv(0x30, ...c);
const bits = (...c: Uint8Array[]) => tlv(0x03, Uint8Array.of(0), ...c);
const NULL = Uint8Array.of(0x05, 0x00);

// P-256 generator G: a valid key with known coordinates.
const GX = '6b17d1f2e12c4247f8bce6e563a440f277037d812deb33a0f4a13945d898c296';
const GY = '4fe342e2fe1a7f9b8ee7eb4a7c0f9e162bce33576b315ececbb6406837bf51f5';
const G65 = hex(`04${GX}${GY}`);
const G33 = hex(`03${GX}`); // GY is odd
const ALG = seq(oid(OID_EC), oid(OID_P256));
const GOOD = seq(ALG, bits(G65));

describe('p256PublicKeyToSpki / p256PublicKeyFromSpki', () => {
  it('encodes the unique DER form and round-trips', () => {
    const der = p256PublicKeyToSpki(G65);
    expect(toHex(der)).toBe(`3059301306072a8648ce3d020106082a8648ce3d03010703420004${GX}${GY}`);
    expect(der).toEqual(GOOD);
    expect(p256PublicKeyFromSpki(der)).toEqual(G65);
  });

  it('accepts a compressed point inside and returns it uncompressed', () => {
    const der = seq(ALG, bits(G33));
    expect(der.length).toBe(59);
    expect(p256PublicKeyFromSpki(der)).toEqual(G65);
  });

  it('decodes the DER key of every Wycheproof ECDSA group to its uncompressed point', () => {
    const f = loadWycheproof<EcdsaGroup>('ecdsa_secp256r1_sha256_p1363_test.json');
    let n = 0;
    for (const g of f.testGroups) {
      const der = hex(g.publicKeyDer);
      expect(toHex(p256PublicKeyFromSpki(der))).toBe(g.publicKey.uncompressed);
      expect(toHex(p256PublicKeyToSpki(hex(g.publicKey.uncompressed)))).toBe(g.publicKeyDer);
      n++;
    }
    expect(n).toBe(f.testGroups.length);
    expect(n).toBeGreaterThan(100);
    expect([...cases(f)].length).toBe(f.numberOfTests);
  });

  it('interoperates with WebCrypto and node:crypto SPKI exports', async () => {
    const { publicKey } = await webcrypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, ['sign', 'verify']);
    const spki = new Uint8Array(await webcrypto.subtle.exportKey('spki', publicKey));
    const raw = new Uint8Array(await webcrypto.subtle.exportKey('raw', publicKey));
    expect(p256PublicKeyFromSpki(spki)).toEqual(raw);
    expect(p256PublicKeyToSpki(raw)).toEqual(spki);
    // Our encoding imports back into WebCrypto and node:crypto.
    const { publicKey: ours } = await nobleCrypto.p256KeyPairFromSecret(hex('11'.repeat(32)));
    const imported = await webcrypto.subtle.importKey('spki', p256PublicKeyToSpki(ours), { name: 'ECDH', namedCurve: 'P-256' }, true, []);
    expect(new Uint8Array(await webcrypto.subtle.exportKey('raw', imported))).toEqual(ours);
    const node = createPublicKey({ key: Buffer.from(p256PublicKeyToSpki(ours)), format: 'der', type: 'spki' });
    expect(node.asymmetricKeyDetails?.namedCurve).toBe('prime256v1');
  });

  const flipLast = (b: Uint8Array) => {
    const c = b.slice();
    c[c.length - 1]! ^= 1;
    return c;
  };
  const malformed: [name: string, der: Uint8Array, code: ErrorCode, message: string][] = [
    ['empty input', new Uint8Array(0), 'ERR_DECODE', 'outer SEQUENCE: missing'],
    ['lonely SEQUENCE tag', Uint8Array.of(0x30), 'ERR_DECODE', 'truncated length'],
    ['trailing byte', concatBytes(GOOD, Uint8Array.of(0)), 'ERR_DECODE', 'trailing bytes after the outer SEQUENCE'],
    ['truncated by one byte', GOOD.subarray(0, GOOD.length - 1), 'ERR_DECODE', 'exceeds the enclosing data'],
    ['outer length in long form (81 59)', rawTlv(0x30, [0x81, 0x59], ALG, bits(G65)), 'ERR_DECODE', 'non-minimal length (long form'],
    ['outer length with a leading zero (82 00 59)', rawTlv(0x30, [0x82, 0x00, 0x59], ALG, bits(G65)), 'ERR_DECODE', 'non-minimal length (leading zero)'],
    ['outer indefinite length', concatBytes(rawTlv(0x30, [0x80], ALG, bits(G65)), Uint8Array.of(0, 0)), 'ERR_DECODE', 'indefinite length'],
    ['outer length too large', rawTlv(0x30, [0x5a], ALG, bits(G65)), 'ERR_DECODE', 'exceeds the enclosing data'],
    ['4-byte length', rawTlv(0x30, [0x84, 0, 0, 0, 0x59], ALG, bits(G65)), 'ERR_DECODE', 'length field too long'],
    ['BIT STRING length in long form', seq(ALG, rawTlv(0x03, [0x81, 0x42], Uint8Array.of(0), G65)), 'ERR_DECODE', 'subjectPublicKey: non-minimal length'],
    ['OCTET STRING instead of BIT STRING', seq(ALG, tlv(0x04, Uint8Array.of(0), G65)), 'ERR_DECODE', 'subjectPublicKey: expected tag 0x3'],
    ['unused bits = 1', seq(ALG, tlv(0x03, Uint8Array.of(1), G65)), 'ERR_DECODE', 'unused bits must be 0'],
    ['empty BIT STRING', seq(ALG, tlv(0x03)), 'ERR_DECODE', 'empty BIT STRING'],
    ['missing BIT STRING', seq(ALG), 'ERR_DECODE', 'subjectPublicKey: missing'],
    ['extra element after BIT STRING', seq(ALG, bits(G65), NULL), 'ERR_DECODE', 'trailing bytes after subjectPublicKey'],
    ['rsaEncryption algorithm', seq(seq(oid(hex('2a864886f70d010101')), NULL), bits(G65)), 'ERR_DECODE', 'not id-ecPublicKey'],
    [
      'id-ecPublicKey OID with a non-minimal arc (80 prefix)',
      seq(seq(oid(hex('2a808648ce3d0201')), oid(OID_P256)), bits(G65)),
      'ERR_DECODE',
      'not id-ecPublicKey',
    ],
    ['secp384r1 curve', seq(seq(oid(OID_EC), oid(hex('2b81040022'))), bits(G65)), 'ERR_DECODE', 'curve is not P-256'],
    ['secp256k1 curve', seq(seq(oid(OID_EC), oid(hex('2b8104000a'))), bits(G65)), 'ERR_DECODE', 'curve is not P-256'],
    ['missing curve parameters', seq(seq(oid(OID_EC)), bits(G65)), 'ERR_DECODE', 'namedCurve: missing'],
    ['implicitlyCA (NULL) parameters', seq(seq(oid(OID_EC), NULL), bits(G65)), 'ERR_DECODE', 'implicit curve parameters'],
    [
      'explicit (specifiedCurve) parameters',
      seq(seq(oid(OID_EC), seq(tlv(0x02, Uint8Array.of(1)), seq(oid(hex('2a8648ce3d0101'))))), bits(G65)),
      'ERR_DECODE',
      'explicit curve parameters',
    ],
    ['NULL after the curve OID', seq(seq(oid(OID_EC), oid(OID_P256), NULL), bits(G65)), 'ERR_DECODE', 'trailing bytes in AlgorithmIdentifier'],
    ['AlgorithmIdentifier as SET', seq(tlv(0x31, oid(OID_EC), oid(OID_P256)), bits(G65)), 'ERR_DECODE', 'AlgorithmIdentifier: expected tag 0x30'],
    ['point off the curve', seq(ALG, bits(flipLast(G65))), 'ERR_INVALID_POINT', 'invalid P-256 public key'],
    ['identity point (00)', seq(ALG, bits(Uint8Array.of(0))), 'ERR_INVALID_POINT', 'invalid P-256 public key'],
    ['empty point', seq(ALG, bits()), 'ERR_INVALID_POINT', 'invalid P-256 public key'],
    ['point with a 0x05 prefix', seq(ALG, bits(Uint8Array.of(5), G65.subarray(1))), 'ERR_INVALID_POINT', 'invalid P-256 public key'],
    ['uncompressed point missing a byte', seq(ALG, bits(G65.subarray(0, 64))), 'ERR_INVALID_POINT', 'invalid P-256 public key'],
    ['uncompressed point with an extra byte', seq(ALG, bits(G65, Uint8Array.of(0))), 'ERR_INVALID_POINT', 'invalid P-256 public key'],
    ['hybrid (06/07) encoding', seq(ALG, bits(Uint8Array.of(7), G65.subarray(1))), 'ERR_INVALID_POINT', 'invalid P-256 public key'],
    ['compressed x = 2^256 - 1 (≥ p)', seq(ALG, bits(Uint8Array.of(2), new Uint8Array(32).fill(0xff))), 'ERR_INVALID_POINT', 'invalid P-256 public key'],
  ];

  it.each(malformed)('rejects %s', (_name, der, code, message) => {
    let err: unknown;
    try {
      p256PublicKeyFromSpki(der);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(RemoteError);
    expect((err as RemoteError).code).toBe(code);
    expect((err as RemoteError).message).toContain(message);
  });

  it('rejects non-bytes input and bad keys to encode with LocalError', async () => {
    const loose = p256PublicKeyFromSpki as (x: unknown) => Uint8Array;
    for (const bad of [undefined, 'MFkw', Array.from(GOOD)]) {
      const e = await thrown(() => loose(bad));
      expect(e).toBeInstanceOf(LocalError);
      expect((e as LocalError).code).toBe('ERR_INVALID_ARGUMENT');
    }
    expect(() => p256PublicKeyToSpki(G33)).toThrow(new LocalError('ERR_INVALID_ARGUMENT', 'P-256 public key: expected 65 bytes, got 33'));
    const off = flipLast(G65);
    const e = await thrown(() => p256PublicKeyToSpki(off));
    expect(e).toBeInstanceOf(LocalError);
    expect((e as LocalError).message).toBe('P-256 public key: not a valid uncompressed point');
  });
});
