/**
 * The phone's key behind `hardwareKeyCustody`, over a test double of the app's native keystore
 * module (Secure Enclave / Android Keystore answer with base64 over the bridge, DER signatures):
 * a full pairing and unlock over the fake ble-plx radio, what each transaction asks of the
 * keystore, and every way a faulty module is caught.
 */
import { p256 } from '@noble/curves/nist.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { describe, expect, it } from 'vitest';
import { base64ToBytes, bytesToBase64, carFilter, connectToCar, hardwareKeyCustody, type HardwareP256Module } from '../../src/adapters/react-native/index.js';
import { LocalError, MemoryPhoneStore, PhoneWallet, ProxkeyError, RemoteError, TimeoutError } from '../../src/index.js';
import { bench } from './helpers.js';

interface Keystore extends HardwareP256Module {
  readonly calls: { create: number; ecdh: number; sign: number };
}

/** A keystore double: keys live in this closure only (never exported), answers as the platforms do. */
function keystore(fault: Partial<Record<'publicKey' | 'ecdh' | 'sign' | 'hang' | 'throw', boolean>> = {}): Keystore {
  const keys = new Map<string, Uint8Array>();
  const calls = { create: 0, ecdh: 0, sign: 0 };
  const secret = (alias: string) => {
    let sk = keys.get(alias);
    if (!sk) keys.set(alias, (sk = p256.utils.randomSecretKey()));
    return sk;
  };
  const answer = (value: Uint8Array) =>
    fault.hang
      ? new Promise<string>(() => {})
      : fault.throw
        ? Promise.reject(new Error('KeyPermanentlyInvalidatedException'))
        : Promise.resolve(bytesToBase64(value));
  return {
    calls,
    getOrCreateKey(alias) {
      calls.create++;
      const pub = p256.getPublicKey(secret(alias), false);
      return Promise.resolve(bytesToBase64(fault.publicKey ? pub.slice(0, 33) : pub));
    },
    ecdh(alias, peer) {
      calls.ecdh++;
      const x = p256.getSharedSecret(secret(alias), base64ToBytes(peer, 'peer'), true).subarray(1);
      return answer(fault.ecdh ? x.subarray(1) : x);
    },
    sign(alias, message) {
      calls.sign++;
      const msg = base64ToBytes(message, 'message');
      const der = p256.sign(fault.sign ? sha256(msg) : msg, secret(alias), { prehash: true, format: 'der' });
      return answer(der);
    },
  };
}

describe('hardware key custody (Secure Enclave / Android Keystore double)', () => {
  it('pairs and unlocks over the fake radio; counts what each transaction asks of the keystore', async () => {
    const b = await bench();
    const ks = keystore();
    const identity = await hardwareKeyCustody({ module: ks, alias: 'proxkey.phone' });
    const wallet = await PhoneWallet.open({ store: new MemoryPhoneStore(), identity });
    expect(wallet.keyId).toBe(
      (await PhoneWallet.open({ store: new MemoryPhoneStore(), identity: await hardwareKeyCustody({ module: ks, alias: 'proxkey.phone' }) })).keyId,
    );

    const { code } = await b.vehicle.openPairing();
    const pairLink = await connectToCar({ manager: b.manager });
    await wallet.pair(pairLink, code);
    await pairLink.disconnected;
    const afterPair = { ...ks.calls };

    const link = await connectToCar({ manager: b.manager, filter: carFilter(wallet.car())! });
    expect((await wallet.command(link, 'unlock')).status).toBe('ok');
    await link.disconnected;
    const perUnlock = { ecdh: ks.calls.ecdh - afterPair.ecdh, sign: ks.calls.sign - afterPair.sign };
    expect(b.executed).toEqual(['unlock']);
    // one transaction = a few hardware operations: this is the budget docs/phone-react-native.md quotes
    expect(perUnlock).toEqual({ ecdh: 1, sign: 0 });
    expect([afterPair.ecdh, afterPair.sign]).toEqual([0, 0]); // pairing proves the code (SPAKE2+), not the key
    const friend = await PhoneWallet.open({ store: new MemoryPhoneStore() });
    await wallet.share(friend.keyRequest());
    expect(ks.calls.sign - afterPair.sign).toBe(1); // a share is one signature (the grant)
  });

  it('a faulty keystore is caught, typed, before the protocol sees its answer', async () => {
    const peer = p256.getPublicKey(p256.utils.randomSecretKey(), false);
    await expect(hardwareKeyCustody({ module: keystore({ publicKey: true }), alias: 'k' })).rejects.toBeInstanceOf(ProxkeyError);

    const short = await hardwareKeyCustody({ module: keystore({ ecdh: true }), alias: 'k' });
    await expect(short.ecdh(peer)).rejects.toThrow(/ECDH returned 31 bytes/);

    const wrong = await hardwareKeyCustody({ module: keystore({ sign: true }), alias: 'k' });
    await expect(wrong.sign(new Uint8Array(10))).rejects.toThrow(/does not verify/);

    const hung = await hardwareKeyCustody({ module: keystore({ hang: true }), alias: 'k', timeoutMs: 50 });
    await expect(hung.sign(new Uint8Array(10))).rejects.toBeInstanceOf(TimeoutError);

    const broken = await hardwareKeyCustody({ module: keystore({ throw: true }), alias: 'k' });
    await expect(broken.ecdh(peer)).rejects.toSatisfy((e) => e instanceof LocalError && /KeyPermanentlyInvalidated/.test(e.message));

    const ks = keystore();
    const good = await hardwareKeyCustody({ module: ks, alias: 'k' });
    const offCurve = peer.slice();
    offCurve[64] = offCurve[64]! ^ 1;
    await expect(good.ecdh(offCurve)).rejects.toBeInstanceOf(RemoteError);
    expect(ks.calls.ecdh).toBe(0); // the keystore never saw the invalid point
    await expect(hardwareKeyCustody({ module: ks, alias: '' })).rejects.toBeInstanceOf(LocalError);
  });
});
