/**
 * CipherState (public API) under misuse: overlapping calls on one state must never share a
 * nonce (same AES-GCM keystream) nor accept one record twice; a refused or failed call changes
 * nothing.
 */
import { describe, expect, it } from 'vitest';
import { utf8 } from '../../src/bytes.js';
import { LocalError, RemoteError } from '../../src/errors.js';
import { aesGcmCipher, CipherState, type NoiseCipher } from '../../src/noise/index.js';
import { PROVIDERS } from '../crypto/providers.js';
import { thrown } from '../crypto/wycheproof.js';

const AD = Uint8Array.of(7);
const key = () => new Uint8Array(32).fill(9);

function expectBusy(err: unknown): void {
  expect(err).toBeInstanceOf(LocalError);
  expect((err as LocalError).code).toBe('ERR_INVALID_STATE');
}

describe.each(PROVIDERS)('CipherState on %s', (_name, crypto) => {
  it('refuses an encryptWithAd while another is pending: no nonce is used twice', async () => {
    const send = new CipherState(aesGcmCipher(crypto), key());
    const first = send.encryptWithAd(AD, utf8('unlock door 1111'));
    expectBusy(await thrown(() => send.encryptWithAd(AD, utf8('open trunk  2222'))));
    const a = await first;
    expect(send.nonce).toBe(1);
    const b = await send.encryptWithAd(AD, utf8('open trunk  2222'));
    expect(send.nonce).toBe(2);
    const receive = new CipherState(aesGcmCipher(crypto), key());
    expect(await receive.decryptWithAd(AD, a)).toEqual(utf8('unlock door 1111'));
    expect(await receive.decryptWithAd(AD, b)).toEqual(utf8('open trunk  2222'));
  });

  it('refuses a decryptWithAd of the same record while the first is pending: a replay is never accepted', async () => {
    const record = await new CipherState(aesGcmCipher(crypto), key()).encryptWithAd(AD, utf8('unlock'));
    const receive = new CipherState(aesGcmCipher(crypto), key());
    const first = receive.decryptWithAd(AD, record);
    expectBusy(await thrown(() => receive.decryptWithAd(AD, record)));
    expect(await first).toEqual(utf8('unlock'));
    expect(receive.nonce).toBe(1);
    expect(await thrown(() => receive.decryptWithAd(AD, record))).toBeInstanceOf(RemoteError);
    expect(receive.nonce).toBe(1);
  });

  it('a failed decrypt does not advance the nonce and frees the state; rekey and setNonce wait too', async () => {
    const send = new CipherState(aesGcmCipher(crypto), key());
    const record = await send.encryptWithAd(AD, utf8('m0'));
    const receive = new CipherState(aesGcmCipher(crypto), key());
    const bad = record.slice();
    bad[0]! ^= 1;
    expect(await thrown(() => receive.decryptWithAd(AD, bad))).toBeInstanceOf(RemoteError);
    expect(receive.nonce).toBe(0);
    expect(await receive.decryptWithAd(AD, record)).toEqual(utf8('m0'));
    const rekeying = send.rekey();
    const refused = [thrown(() => send.setNonce(5)), thrown(() => send.encryptWithAd(AD, utf8('m1')))];
    await rekeying;
    for (const err of await Promise.all(refused)) expectBusy(err);
    await receive.rekey();
    expect(await receive.decryptWithAd(AD, await send.encryptWithAd(AD, utf8('m1')))).toEqual(utf8('m1'));
  });
});

describe('CipherState', () => {
  it('clear() during a pending encrypt wins: the late result does not advance the cleared state', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const cipher = aesGcmCipher(PROVIDERS[0]![1]);
    const slow: NoiseCipher = { ...cipher, encrypt: async (...args) => (await gate, cipher.encrypt(...args)) };
    const state = new CipherState(slow, key());
    const pending = state.encryptWithAd(AD, utf8('x'));
    state.clear();
    state.initializeKey(key());
    release();
    await pending;
    expect(state.nonce).toBe(0);
  });

  it('rekey wipes the AEAD output that carried the new key', async () => {
    const cipher = aesGcmCipher(PROVIDERS[0]![1]);
    const outputs: Uint8Array[] = [];
    const spy: NoiseCipher = {
      ...cipher,
      encrypt: async (...args) => {
        const out = await cipher.encrypt(...args);
        outputs.push(out);
        return out;
      },
    };
    const state = new CipherState(spy, key());
    await state.rekey();
    expect(outputs).toHaveLength(1);
    expect(outputs[0]).toEqual(new Uint8Array(48));
  });
});
