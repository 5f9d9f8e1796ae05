/**
 * A provider or hash function may return Node Buffers, whose `slice` is a view of the same
 * memory: Noise must copy what it keeps before it wipes its temporaries, or one side's keys
 * silently become zeros. Each exchange here runs one side on functions that return Buffers and the
 * other on plain arrays.
 */
import { createHash, createHmac, hkdfSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  defaultPolicy,
  generateP256KeyPair,
  MemoryKeyRegistry,
  nobleCrypto,
  PhoneSession,
  softwareKey,
  systemRandom,
  type CryptoProvider,
} from '../../src/index.js';
import { CipherState } from '../../src/noise/cipher-state.js';
import { HandshakeState } from '../../src/noise/handshake-state.js';
import { getPattern } from '../../src/noise/patterns.js';
import { aesGcmCipher, p256Dh, providerSha256Hash } from '../../src/noise/suites.js';
import type { NoiseHash } from '../../src/noise/functions.js';
import { utf8 } from '../../src/bytes.js';
import { TestCar } from '../helpers/test-car.js';

const sha256 = (d: Uint8Array) => createHash('sha256').update(d).digest();
const hmac = (k: Uint8Array, d: Uint8Array) => createHmac('sha256', k).update(d).digest();

describe('Noise keeps real copies of key material a provider returns as Buffers', () => {
  it('a provider whose HKDF returns a Buffer: the car still derives the phone’s keys (an unlock succeeds)', async () => {
    const buffers: CryptoProvider = {
      ...nobleCrypto,
      name: 'buffers',
      sha256,
      hmacSha256: hmac,
      hkdfSha256: (ikm, salt, info, length) => Buffer.from(hkdfSync('sha256', ikm, salt, info, length)),
    };
    const car = await softwareKey(buffers, (await generateP256KeyPair(buffers, systemRandom)).secretKey);
    const phone = await softwareKey(nobleCrypto, (await generateP256KeyPair(nobleCrypto, systemRandom)).secretKey);
    const keys = new MemoryKeyRegistry(buffers);
    await keys.enroll(phone.publicKey);
    const now = () => 0;
    const v = new TestCar({ crypto: buffers, random: systemRandom, now, identity: car, keys, policy: defaultPolicy() });
    const p = new PhoneSession({ crypto: nobleCrypto, random: systemRandom, now, identity: phone, vehicleKey: car.publicKey });
    p.begin('unlock');
    const [challenge] = (await v.start()).send;
    const [handshake] = (await p.receive(challenge!)).send;
    expect((await v.receive(handshake!)).events.map((e) => e.type)).toContain('execute');
    const [result] = (await v.complete({ ok: true })).send;
    expect((await p.receive(result!)).events).toContainEqual(expect.objectContaining({ type: 'result', status: 'ok' }));
  });

  it('a hash without a one-call HKDF whose HMAC returns Buffers: both sides’ cipher keys agree', async () => {
    const bufferHash: NoiseHash = { name: 'SHA256', hashLength: 32, hash: sha256, hmac };
    const side = (initiator: boolean, hash: NoiseHash) =>
      new HandshakeState({
        protocolName: 'Noise_NN_P256_AESGCM_SHA256',
        pattern: getPattern('NN'),
        dh: p256Dh(nobleCrypto),
        cipher: aesGcmCipher(nobleCrypto),
        hash,
        initiator,
        random: systemRandom,
      });
    const init = side(true, bufferHash);
    const resp = side(false, providerSha256Hash(nobleCrypto));
    await resp.readMessage(await init.writeMessage(utf8('hello')));
    expect(await init.readMessage(await resp.writeMessage(utf8('world')))).toEqual(utf8('world'));
    const sealed = await init.result.send.encryptWithAd(new Uint8Array(0), utf8('transport'));
    expect(await resp.result.receive.decryptWithAd(new Uint8Array(0), sealed)).toEqual(utf8('transport'));
  });

  it('a cipher whose seal returns a Buffer: rekey keeps the new key (not the zeros it wipes its output with)', async () => {
    const plain = new CipherState(aesGcmCipher(nobleCrypto), new Uint8Array(32).fill(5));
    const base = aesGcmCipher(nobleCrypto);
    const buffered = new CipherState({ ...base, encrypt: async (...a) => Buffer.from(await base.encrypt(...a)) }, new Uint8Array(32).fill(5));
    await plain.rekey();
    await buffered.rekey();
    const ad = new Uint8Array(0);
    const msg = utf8('after rekey');
    expect(Uint8Array.from(await buffered.encryptWithAd(ad, msg))).toEqual(await plain.encryptWithAd(ad, msg));
  });
});
