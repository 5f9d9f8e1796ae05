/**
 * HandshakeState after a failed WriteMessage: like a failed ReadMessage, it is unusable (a retry
 * would hash `e` a second time and the peers' transcripts would differ) and its ephemeral is wiped.
 */
import { describe, expect, it } from 'vitest';
import { nobleCrypto } from '../../src/crypto/noble.js';
import { deterministicRandom } from '../../src/crypto/random.js';
import { LocalError } from '../../src/errors.js';
import { HandshakeState, parseProtocolName, type NoiseKey } from '../../src/noise/index.js';
import { thrown } from '../crypto/wycheproof.js';

const proto = parseProtocolName('Noise_NN_P256_AESGCM_SHA256', nobleCrypto);
const handshake = (initiator: boolean, e?: NoiseKey) =>
  new HandshakeState({ ...proto, protocolName: proto.name, initiator, e, random: deterministicRandom(initiator ? 'i' : 'r') });

function expectLocal(err: unknown, code: string): void {
  expect(err).toBeInstanceOf(LocalError);
  expect((err as LocalError).code).toBe(code);
}

describe('HandshakeState.writeMessage failures', () => {
  it('a payload that is not bytes is LocalError ERR_INVALID_ARGUMENT, and the handshake is then failed (no retry hashing e twice)', async () => {
    const initiator = handshake(true);
    expectLocal(await thrown(() => initiator.writeMessage(undefined as unknown as Uint8Array)), 'ERR_INVALID_ARGUMENT');
    expectLocal(await thrown(() => initiator.writeMessage(new Uint8Array(0))), 'ERR_INVALID_STATE');
  });

  it('a failure inside a token (a DH that throws) marks the handshake failed and wipes the ephemeral', async () => {
    const first = await handshake(true).writeMessage(new Uint8Array(0));
    const real = await proto.dh.generateKeyPair(deterministicRandom('e'));
    let wiped = 0;
    const failing: NoiseKey = { publicKey: real.publicKey, dh: () => Promise.reject(new Error('keystore gone')), wipe: () => void wiped++ };
    const broken = handshake(false, failing);
    await broken.readMessage(first);
    expect(((await thrown(() => broken.writeMessage(new Uint8Array(0)))) as Error).message).toBe('keystore gone');
    expect(wiped).toBe(1);
    expectLocal(await thrown(() => broken.writeMessage(new Uint8Array(0))), 'ERR_INVALID_STATE');
  });
});
