/**
 * The traps of the native providers (nodeCrypto on OpenSSL, webCryptoProvider on crypto.subtle),
 * each shown to be real on the raw native API and handled by the provider so that all providers
 * agree with nobleCrypto: point encodings OpenSSL accepts but proxkey does not, native error
 * mapping, high-S randomized signatures, Buffer results, and the per-array key cache.
 */
import { createECDH, sign as nodeSign, createPrivateKey } from 'node:crypto';
import { p256 } from '@noble/curves/nist.js';
import { webcrypto } from 'node:crypto';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { concatBytes, fromHex, utf8 } from '../../src/bytes.js';
import { nobleCrypto } from '../../src/crypto/noble.js';
import { P256_PKCS8_PREFIX, p256SecretKeyToPkcs8 } from '../../src/crypto/pkcs8.js';
import { webCryptoProvider, type WebCryptoSubtle } from '../../src/crypto/webcrypto.js';
import { LocalError, ProxkeyError, RemoteError } from '../../src/errors.js';
import { nodeCrypto } from '../../src/node/node-crypto.js';
import { PROVIDERS } from './providers.js';
import { P256_N, thrown } from './wycheproof.js';

const secretA = fromHex('c9afa9d845ba75166b5c215767b1d6934e50c3db36e89b127b8a622b120f6721');
const secretB = fromHex('0f'.repeat(32));
const isHighS = (sig: Uint8Array) => BigInt(`0x${Buffer.from(sig.subarray(32)).toString('hex')}`) > P256_N / 2n;

async function expectRemote(fn: () => unknown, code: string): Promise<void> {
  const err = await thrown(fn);
  expect(err).toBeInstanceOf(RemoteError);
  expect((err as RemoteError).code).toBe(code);
}

describe('point encodings: every provider accepts exactly what nobleCrypto accepts', () => {
  it('OpenSSL alone takes a hybrid (06/07) point; every provider refuses it with ERR_INVALID_POINT', async () => {
    const { publicKey } = await nobleCrypto.p256KeyPairFromSecret(secretB);
    const yOdd = (publicKey[64]! & 1) === 1;
    const hybrid = concatBytes(Uint8Array.of(yOdd ? 0x07 : 0x06), publicKey.subarray(1));
    // The trap is real: raw OpenSSL computes a secret from the hybrid encoding.
    const raw = createECDH('prime256v1');
    raw.setPrivateKey(secretA);
    expect(raw.computeSecret(hybrid).length).toBe(32);
    for (const [, crypto] of PROVIDERS) await expectRemote(() => crypto.p256Ecdh(secretA, hybrid), 'ERR_INVALID_POINT');
  });

  it('a 33-byte compressed point gives the same secret as its 65-byte form on every provider', async () => {
    const { publicKey } = await nobleCrypto.p256KeyPairFromSecret(secretB);
    const compressed = p256.Point.fromBytes(publicKey).toBytes(true);
    const expected = await nobleCrypto.p256Ecdh(secretA, publicKey);
    for (const [, crypto] of PROVIDERS) {
      expect(await crypto.p256Ecdh(secretA, publicKey)).toEqual(expected);
      expect(await crypto.p256Ecdh(secretA, compressed)).toEqual(expected);
    }
  });

  it('off-curve points and native-only failures map to ERR_INVALID_POINT, never a foreign error', async () => {
    const { publicKey } = await nobleCrypto.p256KeyPairFromSecret(secretB);
    const off = publicKey.slice();
    off[64]! ^= 1;
    const raw = createECDH('prime256v1');
    raw.setPrivateKey(secretA);
    expect(() => raw.computeSecret(off)).toThrow(); // OpenSSL's own error type
    for (const [, crypto] of PROVIDERS) {
      await expectRemote(() => crypto.p256Ecdh(secretA, off), 'ERR_INVALID_POINT');
      await expectRemote(() => crypto.p256Ecdh(secretA, new Uint8Array(33)), 'ERR_INVALID_POINT');
      expect(await crypto.p256Verify(off, utf8('m'), new Uint8Array(64).fill(1))).toBe(false);
    }
  });
});

describe('ECDSA: randomized, high-S signatures from any provider verify on every provider', () => {
  it('native signatures are randomized and high-S about half the time; all providers accept all of them', async () => {
    const message = utf8('sample');
    const { publicKey } = await nobleCrypto.p256KeyPairFromSecret(secretA);
    const signatures: Uint8Array[] = [];
    for (const [, crypto] of PROVIDERS) {
      const { secretKey } = await crypto.p256KeyPairFromSecret(secretA);
      for (let i = 0; i < 24; i++) signatures.push(await crypto.p256Sign(secretKey, message));
    }
    // 72 signatures, each high-S with probability 1/2: none (or all) high-S has probability 2^-71.
    const high = signatures.filter(isHighS);
    expect(high.length).toBeGreaterThan(0);
    expect(high.length).toBeLessThan(signatures.length);
    expect(new Set(signatures.map((s) => Buffer.from(s).toString('hex'))).size).toBe(signatures.length);
    for (const [name, crypto] of PROVIDERS) for (const sig of signatures) expect(await crypto.p256Verify(publicKey, message, sig), name).toBe(true);
    // Why nobleCrypto verifies with lowS: false: noble's default (lowS: true) refuses these.
    expect(p256.verify(high[0]!, message, publicKey, { prehash: true, format: 'compact' })).toBe(false);
  });

  it('OpenSSL signs in DER unless told ieee-p1363; nodeCrypto always gives 64 bytes', async () => {
    const key = createPrivateKey({ key: Buffer.from(p256SecretKeyToPkcs8(secretA)), format: 'der', type: 'pkcs8' });
    expect(nodeSign('sha256', Buffer.from('m'), key)[0]).toBe(0x30); // DER SEQUENCE by default
    expect((await nodeCrypto.p256Sign(secretA, utf8('m'))).length).toBe(64);
  });
});

describe('raw private keys as PKCS#8', () => {
  it('the fixed prefix is the DER OpenSSL itself produces for a P-256 key without its public point', () => {
    const der = p256SecretKeyToPkcs8(secretA);
    expect(der.length).toBe(67);
    expect(der.subarray(0, P256_PKCS8_PREFIX.length)).toEqual(P256_PKCS8_PREFIX);
    const key = createPrivateKey({ key: Buffer.from(der), format: 'der', type: 'pkcs8' });
    expect(key.asymmetricKeyDetails?.namedCurve).toBe('prime256v1');
    expect(key.export({ format: 'jwk' }).d).toBe(Buffer.from(secretA).toString('base64url'));
  });

  it('refuses an out-of-range scalar before any import', async () => {
    const err = await thrown(() => p256SecretKeyToPkcs8(new Uint8Array(32)));
    expect(err).toBeInstanceOf(LocalError);
  });
});

describe('HKDF-SHA256 at the edges RFC 5869 allows and OpenSSL does not', () => {
  it.each(PROVIDERS)('%s agrees with nobleCrypto on empty salts, infos over 1024 bytes and every block boundary', (_name, crypto) => {
    const ikm = utf8('input keying material');
    for (const salt of [new Uint8Array(0), new Uint8Array(32), utf8('salt'), new Uint8Array(100).fill(7)])
      for (const info of [new Uint8Array(0), utf8('info'), new Uint8Array(1025).fill(1), new Uint8Array(4000).fill(2)])
        for (const length of [0, 1, 31, 32, 33, 64, 96, 255 * 32])
          expect(crypto.hkdfSha256(ikm, salt, info, length), `salt ${salt.length}, info ${info.length}, length ${length}`).toEqual(
            nobleCrypto.hkdfSha256(ikm, salt, info, length),
          );
  });
});

describe.each(PROVIDERS)('%s: results and the key cache', (_name, crypto) => {
  it('returns plain Uint8Arrays of the documented lengths (no Buffers, no pool views)', async () => {
    const a = await crypto.p256KeyPairFromSecret(secretA);
    const b = await crypto.p256KeyPairFromSecret(secretB);
    const outputs = [
      a.secretKey,
      a.publicKey,
      await crypto.p256Ecdh(a.secretKey, b.publicKey),
      await crypto.p256Sign(a.secretKey, utf8('m')),
      crypto.sha256(utf8('m')),
      crypto.hmacSha256(utf8('k'), utf8('m')),
      crypto.hkdfSha256(utf8('k'), utf8('s'), utf8('i'), 42),
      await crypto.aeadSeal('aes-256-gcm', new Uint8Array(32), new Uint8Array(12), utf8('m'), new Uint8Array(0)),
      await crypto.aeadSeal('chacha20-poly1305', new Uint8Array(32), new Uint8Array(12), utf8('m'), new Uint8Array(0)),
    ];
    for (const o of outputs) {
      expect(Object.getPrototypeOf(o)).toBe(Uint8Array.prototype);
      // Not a view into Node's 8 KiB Buffer pool (someone else's bytes around ours).
      expect(o.buffer.byteLength).toBeLessThanOrEqual(o.length + 1);
    }
    expect(outputs.map((o) => o.length)).toEqual([32, 65, 32, 64, 32, 32, 42, 17, 17]);
  });

  it('owns its copy of the secret, and never answers from the cache for a wiped or rewritten array', async () => {
    const input = secretA.slice();
    const kp = await crypto.p256KeyPairFromSecret(input);
    input.fill(0);
    const peer = (await nobleCrypto.p256KeyPairFromSecret(secretB)).publicKey;
    expect(await crypto.p256Ecdh(kp.secretKey, peer)).toEqual(await nobleCrypto.p256Ecdh(secretA, peer));
    kp.secretKey.set(secretB);
    const fromB = await crypto.p256Ecdh(kp.secretKey, peer);
    expect(fromB).toEqual(await nobleCrypto.p256Ecdh(secretB, peer));
    expect(await nobleCrypto.p256Verify(peer, utf8('m'), await crypto.p256Sign(kp.secretKey, utf8('m')))).toBe(true);
    kp.secretKey.fill(0);
    expect(await thrown(() => crypto.p256Ecdh(kp.secretKey, peer))).toBeInstanceOf(LocalError);
    expect(await thrown(() => crypto.p256Sign(kp.secretKey, utf8('m')))).toBeInstanceOf(LocalError);
  });

  it('owns a real copy of a secret given as a Node Buffer (whose slice is a view), as a plain Uint8Array', async () => {
    const input = Buffer.from(secretA);
    const kp = await crypto.p256KeyPairFromSecret(input);
    input.fill(0); // the caller wipes its input, as documented
    expect(Object.getPrototypeOf(kp.secretKey)).toBe(Uint8Array.prototype);
    expect(kp.secretKey).toEqual(secretA);
    const peer = (await nobleCrypto.p256KeyPairFromSecret(secretB)).publicKey;
    expect(await crypto.p256Ecdh(kp.secretKey, peer)).toEqual(await nobleCrypto.p256Ecdh(secretA, peer));
  });

  it('reads every input before it returns: zeroing the inputs while the call is pending changes nothing', async () => {
    const zeroAll = (...arrays: Uint8Array[]) => arrays.forEach((a) => a.fill(0));
    const key = new Uint8Array(32).fill(1);
    const nonce = new Uint8Array(12).fill(2);
    for (const alg of ['aes-256-gcm', 'chacha20-poly1305'] as const) {
      const expected = await nobleCrypto.aeadSeal(alg, key, nonce, utf8('secret payload!!'), utf8('ad'));
      const [k, n, pt, ad] = [key.slice(), nonce.slice(), utf8('secret payload!!'), utf8('ad')];
      const sealing = crypto.aeadSeal(alg, k, n, pt, ad);
      zeroAll(k, n, pt, ad);
      expect(await sealing, `${alg} seal`).toEqual(expected);
      const [k2, n2, ct, ad2] = [key.slice(), nonce.slice(), expected.slice(), utf8('ad')];
      const opening = crypto.aeadOpen(alg, k2, n2, ct, ad2);
      zeroAll(k2, n2, ct, ad2);
      expect(await opening, `${alg} open`).toEqual(utf8('secret payload!!'));
    }
    const signer = await nobleCrypto.p256KeyPairFromSecret(secretA);
    const peer = await nobleCrypto.p256KeyPairFromSecret(secretB);
    const signature = await nobleCrypto.p256Sign(secretA, utf8('m'));
    const [pub, msg, sig] = [signer.publicKey.slice(), utf8('m'), signature.slice()];
    const verifying = crypto.p256Verify(pub, msg, sig);
    zeroAll(pub, msg, sig);
    expect(await verifying).toBe(true);
    for (const encoding of [peer.publicKey, p256.Point.fromBytes(peer.publicKey).toBytes(true)]) {
      const [own, theirs] = [(await crypto.p256KeyPairFromSecret(secretA)).secretKey, encoding.slice()];
      const deriving = crypto.p256Ecdh(own, theirs);
      theirs.fill(0);
      expect(await deriving, `ECDH with a ${encoding.length}-byte key`).toEqual(await nobleCrypto.p256Ecdh(secretA, peer.publicKey));
    }
    const { secretKey } = await crypto.p256KeyPairFromSecret(secretA);
    const message = utf8('sign me');
    const signing = crypto.p256Sign(secretKey, message);
    message.fill(0);
    expect(await nobleCrypto.p256Verify(signer.publicKey, utf8('sign me'), await signing)).toBe(true);
    const input = secretA.slice();
    const deriving = crypto.p256KeyPairFromSecret(input);
    input.fill(0);
    expect((await deriving).publicKey).toEqual(signer.publicKey);
  });

  it('maps every AEAD failure to ERR_DECRYPT (tampered tag, body, associated data)', async () => {
    for (const alg of ['aes-256-gcm', 'chacha20-poly1305', 'xchacha20-poly1305'] as const) {
      const key = new Uint8Array(32).fill(7);
      const nonce = new Uint8Array(alg === 'xchacha20-poly1305' ? 24 : 12);
      const sealed = await crypto.aeadSeal(alg, key, nonce, utf8('unlock'), utf8('ad'));
      expect(await crypto.aeadOpen(alg, key, nonce, sealed, utf8('ad'))).toEqual(utf8('unlock'));
      expect(sealed).toEqual(await nobleCrypto.aeadSeal(alg, key, nonce, utf8('unlock'), utf8('ad')));
      for (const i of [0, sealed.length - 1]) {
        const bad = sealed.slice();
        bad[i]! ^= 1;
        await expectRemote(() => crypto.aeadOpen(alg, key, nonce, bad, utf8('ad')), 'ERR_DECRYPT');
      }
      await expectRemote(() => crypto.aeadOpen(alg, key, nonce, sealed, utf8('ae')), 'ERR_DECRYPT');
    }
  });
});

describe('webCryptoProvider(subtle)', () => {
  afterEach(() => vi.unstubAllGlobals());

  it('uses the subtle it is given, and refuses to start without one', async () => {
    const given = webCryptoProvider(webcrypto.subtle);
    const peer = (await nobleCrypto.p256KeyPairFromSecret(secretB)).publicKey;
    expect(await given.p256Ecdh(secretA, peer)).toEqual(await nobleCrypto.p256Ecdh(secretA, peer));
    vi.stubGlobal('crypto', undefined);
    const err = await thrown(() => webCryptoProvider());
    expect(err).toBeInstanceOf(LocalError);
    expect((err as LocalError).code).toBe('ERR_INVALID_ARGUMENT');
  });

  /** Node's subtle, with some methods failing once (a transient platform fault) until `failures` runs out. */
  function flakySubtle(failures: Record<string, number>): WebCryptoSubtle {
    const real = webcrypto.subtle as unknown as Record<string, (...args: unknown[]) => Promise<unknown>>;
    return new Proxy(real, {
      get(target, method: string) {
        const f = target[method]!.bind(target);
        return (...args: unknown[]) => {
          const kind = method === 'importKey' ? `importKey:${String(args[0])}` : method;
          if ((failures[kind] ?? 0) > 0) {
            failures[kind]!--;
            return Promise.reject(new DOMException('transient', 'OperationError'));
          }
          return f(...args);
        };
      },
    }) as unknown as WebCryptoSubtle;
  }

  async function expectInternal(fn: () => unknown): Promise<void> {
    const err = await thrown(fn);
    expect(err).toBeInstanceOf(ProxkeyError);
    expect((err as ProxkeyError).code).toBe('ERR_INTERNAL');
  }

  it('does not cache a failed secret-key import: the next call imports again (and the failure is ERR_INTERNAL, not a DOMException)', async () => {
    const failures: Record<string, number> = {};
    const crypto = webCryptoProvider(flakySubtle(failures));
    const peer = (await nobleCrypto.p256KeyPairFromSecret(secretB)).publicKey;
    const { publicKey } = await nobleCrypto.p256KeyPairFromSecret(secretA);
    const secret = secretA.slice();
    failures['importKey:pkcs8'] = 1;
    await expectInternal(() => crypto.p256Sign(secret, utf8('m')));
    expect(await nobleCrypto.p256Verify(publicKey, utf8('m'), await crypto.p256Sign(secret, utf8('m')))).toBe(true);
    failures['importKey:pkcs8'] = 1;
    await expectInternal(() => crypto.p256Ecdh(secret, peer));
    expect(await crypto.p256Ecdh(secret, peer)).toEqual(await nobleCrypto.p256Ecdh(secretA, peer));
    failures['importKey:pkcs8'] = 1;
    await expectInternal(() => crypto.p256KeyPairFromSecret(secretA));
    const kp = await crypto.p256KeyPairFromSecret(secretA);
    expect(await crypto.p256Ecdh(kp.secretKey, peer)).toEqual(await nobleCrypto.p256Ecdh(secretA, peer));
  });

  it('maps native sign, export, AES import and encrypt failures to ERR_INTERNAL', async () => {
    const crypto = webCryptoProvider(flakySubtle({ sign: 1, exportKey: 1, 'importKey:raw': 2, encrypt: 1 }));
    await expectInternal(() => crypto.p256Sign(secretA, utf8('m')));
    await expectInternal(() => crypto.p256KeyPairFromSecret(secretA));
    const [key, nonce, none] = [new Uint8Array(32), new Uint8Array(12), new Uint8Array(0)];
    await expectInternal(() => crypto.aeadSeal('aes-256-gcm', key, nonce, utf8('m'), none));
    const sealed = await nobleCrypto.aeadSeal('aes-256-gcm', key, nonce, utf8('m'), none);
    await expectInternal(() => crypto.aeadOpen('aes-256-gcm', key, nonce, sealed, none));
    await expectInternal(() => crypto.aeadSeal('aes-256-gcm', key, nonce, utf8('m'), none));
    expect(await crypto.aeadOpen('aes-256-gcm', key, nonce, await crypto.aeadSeal('aes-256-gcm', key, nonce, utf8('m'), none), none)).toEqual(utf8('m'));
  });

  it('maps a native failure after validation to ERR_INVALID_POINT / ERR_DECRYPT / false', async () => {
    const real: WebCryptoSubtle = webcrypto.subtle;
    const failing: WebCryptoSubtle = {
      importKey: (format, data, algorithm, extractable, usages) =>
        format === 'raw' && algorithm !== 'AES-GCM'
          ? Promise.reject(new DOMException('nope', 'DataError'))
          : real.importKey(format, data, algorithm, extractable, usages),
      // eslint-disable-next-line @typescript-eslint/no-unnecessary-type-assertion -- bind() loses the overloads
      exportKey: real.exportKey.bind(real) as WebCryptoSubtle['exportKey'],
      deriveBits: real.deriveBits.bind(real),
      sign: real.sign.bind(real),
      verify: real.verify.bind(real),
      encrypt: real.encrypt.bind(real),
      decrypt: () => Promise.reject(new DOMException('tag', 'OperationError')),
    };
    const crypto = webCryptoProvider(failing);
    const { publicKey } = await nobleCrypto.p256KeyPairFromSecret(secretB);
    await expectRemote(() => crypto.p256Ecdh(secretA, publicKey), 'ERR_INVALID_POINT');
    expect(await crypto.p256Verify(publicKey, utf8('m'), await nobleCrypto.p256Sign(secretB, utf8('m')))).toBe(false);
    const sealed = await crypto.aeadSeal('aes-256-gcm', new Uint8Array(32), new Uint8Array(12), utf8('m'), new Uint8Array(0));
    await expectRemote(() => crypto.aeadOpen('aes-256-gcm', new Uint8Array(32), new Uint8Array(12), sealed, new Uint8Array(0)), 'ERR_DECRYPT');
  });
});
