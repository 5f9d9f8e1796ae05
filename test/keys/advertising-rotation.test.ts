/**
 * A revocation rotates the car's advertising secret (docs/PRIVACY.md): the revoked phone can no
 * longer recognise the car's advertisements, the remaining phones fetch the new secret with the
 * `advertising-secret` command (no permission needed, but a valid key), and the change is durable
 * in the same write as the revocation. Through the public service API over the in-memory link.
 */
import { FAST_SCRYPT } from '../helpers/scrypt.js';
import { describe, expect, it } from 'vitest';
import {
  advertisingEpoch,
  createMemoryLinkPair,
  deriveAdvertisingId,
  deterministicRandom,
  MemoryPhoneStore,
  MemoryVehicleStore,
  nobleCrypto as crypto,
  PhoneWallet,
  toHex,
  VehicleService,
  type VehicleState,
} from '../../src/index.js';

/** A memory store that counts durable writes. */
class CountingStore extends MemoryVehicleStore {
  saves = 0;
  override async save(state: VehicleState) {
    this.saves++;
    return super.save(state);
  }
}

async function world() {
  const now = () => 1_767_225_600_000;
  const store = new CountingStore();
  const car = await VehicleService.open({ store, random: deterministicRandom('rot-car'), now, name: 'Car', actuator: () => undefined });
  const connect = () => {
    const [p, c] = createMemoryLinkPair();
    return { link: p, served: car.serve(c) };
  };
  const phone = (name: string) => PhoneWallet.open({ store: new MemoryPhoneStore(), random: deterministicRandom(`rot-${name}`), now, label: name });
  const owner = await phone('owner');
  const { code } = await car.openPairing({ scrypt: FAST_SCRYPT });
  let c = connect();
  await owner.pair(c.link, code);
  await c.served;
  const friends = [];
  for (const name of ['friend', 'other']) {
    const f = await phone(name);
    await f.acceptShare((await owner.share(f.keyRequest(), { permissions: ['unlock'] })).share);
    c = connect();
    expect((await f.command(c.link, 'unlock')).status).toBe('ok'); // enrolls it
    await c.served;
    friends.push(f);
  }
  return { car, store, connect, owner, friend: friends[0]!, other: friends[1]!, now };
}

const hex = (b: Uint8Array | undefined) => (b ? toHex(b) : undefined);

describe('advertising secret rotation at revocation', () => {
  it('the owner revokes a friend: new secret, durable in the same write, the owner stores it in the same session', async () => {
    const w = await world();
    const before = w.car.advertisingSecret.slice();
    expect(hex(w.owner.car().advertisingSecret)).toBe(hex(before));
    const seen: string[] = [];
    w.car.onAdvertisingSecretChange((s) => seen.push(toHex(s)));
    const saves = w.store.saves;
    const c = w.connect();
    expect((await w.owner.command(c.link, { kind: 'revoke', target: w.friend.keyId })).status).toBe('ok');
    await c.served;
    const after = w.car.advertisingSecret;
    expect(hex(after)).not.toBe(hex(before));
    expect(w.store.saves - saves).toBe(1); // revocation and new secret: one atomic write
    expect(hex((await w.store.load())!.advertisingSecret)).toBe(hex(after));
    expect(seen).toEqual([toHex(after)]);
    expect(hex(w.owner.car().advertisingSecret)).toBe(hex(after)); // fetched after its own revoke

    // the car's id now resolves with the new secret only
    const epoch = advertisingEpoch(Date.now());
    expect(toHex(deriveAdvertisingId(crypto, before, epoch))).not.toBe(toHex(deriveAdvertisingId(crypto, after, epoch)));
  });

  it('a remaining phone fetches the new secret (no permission needed); the revoked one is refused and keeps the old', async () => {
    const w = await world();
    const old = hex(w.car.advertisingSecret);
    await w.car.revoke(w.friend.keyId); // a local revocation rotates too
    const fresh = hex(w.car.advertisingSecret);
    expect(fresh).not.toBe(old);

    let c = w.connect();
    // 'other' holds only the unlock permission; refreshAdvertising is what a phone does after
    // finding its car without resolving its id
    expect((await w.other.command(c.link, 'unlock', { refreshAdvertising: true })).status).toBe('ok');
    await c.served;
    expect(hex(w.other.car().advertisingSecret)).toBe(fresh);

    c = w.connect();
    const { result, connection } = await w.friend.open(c.link, 'advertising-secret');
    expect(result.status).toBe('revoked');
    expect(result.data).toHaveLength(0);
    expect(await w.friend.refreshAdvertisingSecret(connection)).toBe(false);
    await connection.close();
    await c.served;
    expect(hex(w.friend.car().advertisingSecret)).toBe(old);
  });

  it('the command returns the secret only inside an authenticated session, and an expired key is refused', async () => {
    const w = await world();
    let c = w.connect();
    const r = await w.owner.command(c.link, 'advertising-secret');
    await c.served;
    expect(r.status).toBe('ok');
    expect(hex(r.data)).toBe(hex(w.car.advertisingSecret));
    // an expired friend: not-permitted checks come after the window
    const expiring = await PhoneWallet.open({ store: new MemoryPhoneStore(), random: deterministicRandom('rot-exp'), now: w.now, label: 'x' });
    await expiring.acceptShare((await w.owner.share(expiring.keyRequest(), { notAfter: w.now() - 1 })).share);
    c = w.connect();
    expect((await expiring.command(c.link, 'advertising-secret')).status).toBe('expired');
    await c.served;
  });

  it('rotates only when the revocation changes something: an unused grant does, a repeat does not', async () => {
    const w = await world();
    const seen: string[] = [];
    w.car.onAdvertisingSecretChange((x) => seen.push(toHex(x)));
    // a share the friend never used still carries the secret: revoking its grant rotates
    const late = await PhoneWallet.open({ store: new MemoryPhoneStore(), random: deterministicRandom('rot-late'), now: w.now, label: 'late' });
    const { grantId } = await w.owner.share(late.keyRequest());
    const s0 = hex(w.car.advertisingSecret);
    await w.car.revoke(grantId);
    const s1 = hex(w.car.advertisingSecret);
    expect(s1).not.toBe(s0);
    await w.car.revoke(w.friend.keyId);
    const s2 = hex(w.car.advertisingSecret);
    expect(s2).not.toBe(s1);
    const saves = w.store.saves;
    await w.car.revoke(w.friend.keyId); // again: nothing changes
    await w.car.revoke(grantId);
    expect(hex(w.car.advertisingSecret)).toBe(s2);
    expect(seen).toEqual([s1, s2]);
    expect(w.store.saves - saves).toBe(2); // still durable writes, same content
  });
});
