/**
 * The car × phone provider matrix: every CryptoProvider as the car (VehicleService) against every
 * CryptoProvider as the phone (PhoneWallet), over the in-memory link, in both suites. Each pair
 * pairs an owner (SPAKE2+ on @noble plus the providers' ECDH/AEAD/HKDF), unlocks under the suite
 * the car is limited to (checked on the wire), and shares a key: the owner's provider signs the
 * grant, the car's provider verifies it — randomized, high-S-or-not signatures across providers.
 */
import { FAST_SCRYPT } from '../helpers/scrypt.js';
import { describe, expect, it } from 'vitest';
import { deterministicRandom, MemoryPhoneStore, MemoryVehicleStore, PhoneWallet, VehicleService, type CryptoProvider, type SuiteId } from '../../src/index.js';
import { PROVIDERS } from '../crypto/providers.js';
import { recordingLinkPair, wireSummary } from '../helpers/recording-link.js';

const SUITES: readonly SuiteId[] = [1, 2];
/** Offset of the suite id in the phone's handshake message: type, version, suite (PROTOCOL.md §4). */
const HANDSHAKE_SUITE_OFFSET = 2;

async function carWith(crypto: CryptoProvider, suite: SuiteId) {
  const executed: string[] = [];
  const car = await VehicleService.open({
    store: new MemoryVehicleStore(),
    crypto,
    random: deterministicRandom(`matrix-car-${crypto.name}-${suite}`),
    session: { suites: [suite] },
    actuator: (command, key) => {
      executed.push(`${command.kind}:${key.id}`);
    },
  });
  return { car, executed };
}

const walletWith = (crypto: CryptoProvider, name: string) =>
  PhoneWallet.open({ store: new MemoryPhoneStore(), crypto, random: deterministicRandom(`matrix-${name}-${crypto.name}`), label: name });

const cases = PROVIDERS.flatMap(([carName, carCrypto]) =>
  PROVIDERS.flatMap(([phoneName, phoneCrypto]) => SUITES.map((suite) => [carName, phoneName, suite, carCrypto, phoneCrypto] as const)),
);

describe('car × phone provider matrix over the in-memory link', () => {
  it.each(cases)('car %s × phone %s, suite %i: pair, unlock, share', async (_c, _p, suite, carCrypto, phoneCrypto) => {
    const { car, executed } = await carWith(carCrypto, suite);
    const owner = await walletWith(phoneCrypto, 'owner');
    const { code } = await car.openPairing({ scrypt: FAST_SCRYPT });
    const pairing = recordingLinkPair();
    const served = car.serve(pairing.vehicle);
    await owner.pair(pairing.phone, code);
    await served;

    const unlock = recordingLinkPair();
    const session = car.serve(unlock.vehicle);
    const result = await owner.command(unlock.phone, 'unlock');
    await session;
    expect(result.status).toBe('ok');
    expect(executed).toEqual([`unlock:${owner.keyId}`]);
    const handshake = unlock.wire.find((m) => m.from === 'phone')!;
    expect(handshake.bytes[HANDSHAKE_SUITE_OFFSET]).toBe(suite);
    expect(wireSummary(unlock.wire).roundTrips).toBe(1);

    // The friend runs on the car's provider; its grant is signed by the owner's provider, verified by the car's.
    const friend = await walletWith(carCrypto, 'friend');
    await friend.acceptShare((await owner.share(friend.keyRequest('friend'))).share);
    const shared = recordingLinkPair();
    const friendSession = car.serve(shared.vehicle);
    expect((await friend.command(shared.phone, 'lock')).status).toBe('ok');
    await friendSession;
    expect(executed).toEqual([`unlock:${owner.keyId}`, `lock:${friend.keyId}`]);
  });
});
