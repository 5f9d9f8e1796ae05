/** A non-extractable WebCrypto key can stand behind the phone's identity. */
import { webcrypto } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createMemoryLinkPair, nobleCrypto, openPhoneSession, webCryptoKey } from '../../src/index.js';
import { makeCar, phoneOptions } from '../helpers/fixture.js';

describe('key custody', () => {
  it('unlocks with a non-extractable WebCrypto ECDH key (only ECDH is used by the handshake)', async () => {
    const subtle = webcrypto.subtle;
    const pair = await subtle.generateKey({ name: 'ECDH', namedCurve: 'P-256' }, false, ['deriveBits']);
    expect(pair.privateKey.extractable).toBe(false);
    const identity = await webCryptoKey({ ecdhKey: pair.privateKey, publicKey: pair.publicKey, subtle: subtle });
    const car = await makeCar('car-webcrypto');
    await car.keys.enroll(identity.publicKey);
    const [phoneLink, carLink] = createMemoryLinkPair();
    void car.serve(carLink);
    const { result, connection } = await openPhoneSession(phoneLink, phoneOptions(identity, car.identity.publicKey), 'unlock');
    expect(result.status).toBe('ok');
    await connection.close();
  });

  it('WebCrypto ECDH agrees with the noble provider, and signatures verify', async () => {
    const subtle = webcrypto.subtle;
    const ecdh = await subtle.generateKey({ name: 'ECDH', namedCurve: 'P-256' }, false, ['deriveBits']);
    const ecdsa = await subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, false, ['sign']);
    const custody = await webCryptoKey({ ecdhKey: ecdh.privateKey, publicKey: ecdh.publicKey, signKey: ecdsa.privateKey, subtle: subtle });
    const peer = await nobleCrypto.p256KeyPairFromSecret(new Uint8Array(32).fill(7));
    expect(await custody.ecdh(peer.publicKey)).toEqual(await nobleCrypto.p256Ecdh(peer.secretKey, custody.publicKey));
    const msg = Uint8Array.of(1, 2, 3);
    const sig = await custody.sign(msg);
    const signPub = new Uint8Array(await subtle.exportKey('raw', ecdsa.publicKey));
    expect(await nobleCrypto.p256Verify(signPub, msg, sig)).toBe(true);
    await expect(custody.ecdh(new Uint8Array(65))).rejects.toMatchObject({ code: 'ERR_INVALID_POINT' });
  });
});
