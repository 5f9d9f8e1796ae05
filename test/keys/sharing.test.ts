/**
 * Owner pairing, friend sharing, revocation and the audit log, end to end over the in-memory link
 * through the public service API (VehicleService, PhoneWallet).
 */
import { FAST_SCRYPT } from '../helpers/scrypt.js';
import { describe, expect, it } from 'vitest';
import {
  createMemoryLinkPair,
  decodeKeyList,
  deterministicRandom,
  issueGrant,
  MemoryPhoneStore,
  MemoryVehicleStore,
  openPhoneSession,
  openShare,
  nobleCrypto as crypto,
  PhoneWallet,
  sealShare,
  softwareKey,
  VehicleService,
  type Command,
} from '../../src/index.js';

async function world(seed = 'w') {
  let t = 1_767_225_600_000;
  const now = () => t;
  const advance = (ms: number) => (t += ms);
  const executed: { kind: string; keyId: string }[] = [];
  const car = await VehicleService.open({
    store: new MemoryVehicleStore(),
    random: deterministicRandom(`${seed}-car`),
    now,
    name: 'Test car',
    actuator: (c: Command, key) => {
      executed.push({ kind: c.kind, keyId: key.id });
    },
  });
  const phone = (name: string) => PhoneWallet.open({ store: new MemoryPhoneStore(), random: deterministicRandom(`${seed}-${name}`), now, label: name });
  const connect = () => {
    const [p, c] = createMemoryLinkPair();
    const served = car.serve(c);
    return { link: p, served };
  };
  return { car, phone, connect, executed, advance, now };
}

async function pairOwner(w: Awaited<ReturnType<typeof world>>) {
  const owner = await w.phone('owner');
  const { code } = await w.car.openPairing({ scrypt: FAST_SCRYPT });
  const { link, served } = w.connect();
  const rec = await owner.pair(link, code);
  await served;
  return { owner, rec };
}

describe('owner pairing', () => {
  it('pairs with the code, persists both sides, then unlocks', async () => {
    const w = await world();
    const { owner, rec } = await pairOwner(w);
    expect(rec).toMatchObject({ role: 'owner', name: 'Test car', keyId: owner.keyId, carId: w.car.carId });
    expect(w.car.registry.state.keys).toHaveLength(1);
    expect(w.car.pairingStatus).toBe('paired');
    const { link } = w.connect();
    expect((await owner.command(link, 'unlock')).status).toBe('ok');
    expect(w.executed).toEqual([{ kind: 'unlock', keyId: owner.keyId }]);
  });

  it('a wrong code fails with ERR_PAIRING_FAILED, enrolls nothing, and 3 failures end pairing mode', async () => {
    const w = await world();
    const { code } = await w.car.openPairing({ scrypt: FAST_SCRYPT });
    const wrong = code === '00000000' ? '00000001' : '00000000';
    for (let i = 0; i < 3; i++) {
      const p = await w.phone(`mallory${i}`);
      const { link, served } = w.connect();
      await expect(p.pair(link, wrong)).rejects.toMatchObject({ code: 'ERR_PAIRING_FAILED' });
      await served;
    }
    expect(w.car.pairingStatus).toBe('exhausted');
    const p = await w.phone('late');
    const { link } = w.connect();
    await expect(p.pair(link, code)).rejects.toMatchObject({ code: 'ERR_PAIRING_FAILED', message: /not in pairing mode/ });
    expect(w.car.registry.state.keys).toHaveLength(0);
    const audit = await w.car.audit();
    expect(audit.filter((a) => a.event === 'pairing' && a.result === 'failed').length).toBeGreaterThanOrEqual(3);
  });

  it('pairing mode times out and the code is single-use', async () => {
    const w = await world();
    const { code } = await w.car.openPairing({ scrypt: FAST_SCRYPT, ttlMs: 1_000 });
    w.advance(1_001);
    const p = await w.phone('slow');
    let { link } = w.connect();
    await expect(p.pair(link, code)).rejects.toMatchObject({ code: 'ERR_PAIRING_FAILED' });
    const { code: code2 } = await w.car.openPairing({ scrypt: FAST_SCRYPT });
    ({ link } = w.connect());
    await p.pair(link, code2);
    const again = await w.phone('again');
    ({ link } = w.connect());
    await expect(again.pair(link, code2)).rejects.toMatchObject({ code: 'ERR_PAIRING_FAILED' });
  });

  it('refuses pairing when the car never entered pairing mode', async () => {
    const w = await world();
    const p = await w.phone('eager');
    const { link } = w.connect();
    await expect(p.pair(link, '12345678')).rejects.toMatchObject({ code: 'ERR_PAIRING_FAILED' });
  });
});

describe('sharing and revocation', () => {
  it('a friend gets unlock/lock but not start; revocation takes effect at once, also on an open session', async () => {
    const w = await world();
    const { owner } = await pairOwner(w);
    const friend = await w.phone('friend');
    const { share, grantId } = await owner.share(friend.keyRequest('Alice'), { permissions: ['unlock', 'lock'] });
    await friend.acceptShare(share);

    let { link } = w.connect();
    const { result, connection } = await friend.open(link, 'unlock');
    expect(result.status).toBe('ok');
    expect(w.car.registry.state.keys.find((k) => k.id === friend.keyId)).toMatchObject({ role: 'shared', grantId, label: 'Alice' });
    expect((await connection.send('start', { intent: true })).status).toBe('not-permitted');

    // The owner revokes the friend while the friend's session is open.
    ({ link } = w.connect());
    const revoke = await owner.command(link, { kind: 'revoke', target: friend.keyId });
    expect(revoke.status).toBe('ok');
    await expect(connection.send('lock')).rejects.toBeDefined();
    expect(connection.isOpen).toBe(false);

    ({ link } = w.connect());
    expect((await friend.command(link, 'unlock')).status).toBe('revoked');
    expect(w.executed.filter((e) => e.keyId === friend.keyId).map((e) => e.kind)).toEqual(['unlock']);

    ({ link } = w.connect());
    const list = await owner.command(link, 'list-keys');
    expect(decodeKeyList(list.data).entries).toEqual([
      { id: owner.keyId, role: 'owner', revoked: false, permissions: ['*'] },
      { id: friend.keyId, role: 'shared', revoked: true, permissions: ['unlock', 'lock'] },
    ]);
  });

  it('a revoked grant can never enroll, even before first use', async () => {
    const w = await world();
    const { owner } = await pairOwner(w);
    const friend = await w.phone('friend');
    const { share, grantId } = await owner.share(friend.keyRequest());
    await friend.acceptShare(share);
    let { link } = w.connect();
    expect((await owner.command(link, { kind: 'revoke', target: grantId })).status).toBe('ok');
    ({ link } = w.connect());
    expect((await friend.command(link, 'unlock')).status).toBe('revoked');
    expect(w.executed).toEqual([]);
  });

  it('a shared key cannot share, revoke or list', async () => {
    const w = await world();
    const { owner } = await pairOwner(w);
    const friend = await w.phone('friend');
    await friend.acceptShare((await owner.share(friend.keyRequest())).share);
    let { link } = w.connect();
    expect((await friend.command(link, { kind: 'revoke', target: owner.keyId })).status).toBe('not-permitted');
    ({ link } = w.connect());
    expect((await friend.command(link, 'list-keys')).status).toBe('not-permitted');
    await expect(friend.share((await w.phone('third')).keyRequest())).rejects.toMatchObject({ code: 'ERR_INVALID_STATE' });
  });

  it('refuses to revoke the last owner', async () => {
    const w = await world();
    const { owner } = await pairOwner(w);
    const { link } = w.connect();
    expect((await owner.command(link, { kind: 'revoke', target: owner.keyId })).status).toBe('not-permitted');
  });

  it('honours the grant window', async () => {
    const w = await world();
    const { owner } = await pairOwner(w);
    const friend = await w.phone('friend');
    const { share } = await owner.share(friend.keyRequest(), { notBefore: w.now() + 60_000, notAfter: w.now() + 120_000 });
    await friend.acceptShare(share);
    let { link } = w.connect();
    expect((await friend.command(link, 'unlock')).status).toBe('not-yet-valid');
    w.advance(90_000);
    ({ link } = w.connect());
    expect((await friend.command(link, 'unlock')).status).toBe('ok');
    w.advance(60_000);
    ({ link } = w.connect());
    expect((await friend.command(link, 'unlock')).status).toBe('expired');
  });
});

describe('grant forgery is denied', () => {
  async function forged(mutate: (o: Parameters<typeof issueGrant>[0]) => Parameters<typeof issueGrant>[0], opts: { issuerIsFriend?: boolean } = {}) {
    const w = await world('forge');
    const { owner, rec } = await pairOwner(w);
    const friend = await w.phone('friend');
    const stranger = await softwareKey(crypto, new Uint8Array(32).fill(9));
    let issuer = owner.identity;
    let issuerKeyId = rec.keyId;
    if (opts.issuerIsFriend) {
      // The friend, once a shared key, tries to issue a grant to a third phone.
      await friend.acceptShare((await owner.share(friend.keyRequest())).share);
      const { link } = w.connect();
      await friend.command(link, 'unlock');
      issuer = friend.identity;
      issuerKeyId = friend.keyId;
    }
    const target = opts.issuerIsFriend ? await w.phone('third') : friend;
    const base = {
      crypto,
      random: deterministicRandom('grant'),
      issuer,
      issuerKeyId,
      vehicleKey: rec.vehicleKey,
      subject: target.identity.publicKey,
      permissions: ['unlock', 'lock'] as string[],
      label: 'x',
    };
    const grant = await issueGrant(mutate(base));
    const share = await sealShare(crypto, deterministicRandom('s'), { vehicleKey: rec.vehicleKey, advertisingSecret: new Uint8Array(32), carName: 'c', grant });
    void stranger;
    await target.acceptShare(share);
    const { link } = w.connect();
    const r = await target.command(link, 'unlock');
    return { status: r.status, executed: w.executed.length };
  }

  it.each([
    [
      'a bad signature (signed by a stranger)',
      (o: any) => ({ ...o, issuer: { ...o.issuer, sign: async (m: Uint8Array) => (await softwareKey(crypto, new Uint8Array(32).fill(5))).sign(m) } }),
      'invalid-grant',
    ],
    ['another car', (o: any) => ({ ...o, vehicleKey: o.subject as Uint8Array }), 'invalid-grant'],
    ['an unknown issuer', (o: any) => ({ ...o, issuerKeyId: '0011223344556677' }), 'invalid-grant'],
    ['an expired window', (o: any) => ({ ...o, notBefore: 1, notAfter: 2 }), 'expired'],
  ] as const)('grant with %s → %s', async (_what, mutate, reason) => {
    expect(await forged(mutate as never)).toEqual({ status: reason, executed: 0 });
  });

  it('a grant escalating beyond its issuer (an owner limited to unlock/lock grants start) → not-permitted', async () => {
    const w = await world('escalate');
    const { owner, rec } = await pairOwner(w);
    // A second, restricted owner (e.g. a fleet manager who may only open and close).
    const manager = await w.phone('manager');
    const mrec = await w.car.registry.enroll(manager.identity.publicKey, { role: 'owner', permissions: ['unlock', 'lock'] });
    const friend = await w.phone('friend');
    const grant = await issueGrant({
      crypto,
      random: deterministicRandom('esc'),
      issuer: manager.identity,
      issuerKeyId: mrec.id,
      vehicleKey: rec.vehicleKey,
      subject: friend.identity.publicKey,
      permissions: ['unlock', 'start'],
    });
    await friend.acceptShare(
      await sealShare(crypto, deterministicRandom('s'), { vehicleKey: rec.vehicleKey, advertisingSecret: new Uint8Array(32), carName: 'c', grant }),
    );
    const { link } = w.connect();
    expect((await friend.command(link, 'unlock')).status).toBe('not-permitted');
    expect(w.car.registry.state.keys.map((k) => k.id)).not.toContain(friend.keyId);
    void owner;
  });

  it('a grant from an owner revoked since → revoked, nothing enrolled', async () => {
    const w = await world('revoked-issuer');
    const { owner } = await pairOwner(w);
    // A second owner issues a grant, then is revoked by the first owner.
    const second = await w.phone('second');
    const { code } = await w.car.openPairing({ scrypt: FAST_SCRYPT });
    let { link } = w.connect();
    await second.pair(link, code);
    const friend = await w.phone('friend');
    const { share } = await second.share(friend.keyRequest());
    await friend.acceptShare(share);
    ({ link } = w.connect());
    expect((await owner.command(link, { kind: 'revoke', target: second.keyId })).status).toBe('ok');
    ({ link } = w.connect());
    expect((await friend.command(link, 'unlock')).status).toBe('revoked');
    expect(w.car.registry.state.keys.map((k) => k.id)).not.toContain(friend.keyId);
    expect(w.executed).toEqual([]);
  });

  it('a grant from a non-owner (a shared key) → not-permitted', async () => {
    const r = await forged((o) => o, { issuerIsFriend: true });
    expect(r.status).toBe('not-permitted');
  });

  it('a grant presented by a phone other than its subject → invalid-grant (and the share is unreadable to it)', async () => {
    const w = await world('steal');
    const { owner, rec } = await pairOwner(w);
    const friend = await w.phone('friend');
    const thief = await w.phone('thief');
    const { share } = await owner.share(friend.keyRequest());
    await expect(thief.acceptShare(share)).rejects.toMatchObject({ code: 'ERR_DECRYPT' });
    // Even holding the grant bytes (leaked from the friend's phone), the thief's handshake proves a different key.
    const { grant } = await openShare(crypto, friend.identity, share);
    const { link } = w.connect();
    const { result } = await openPhoneSession(
      link,
      { crypto, random: deterministicRandom('t'), now: w.now, identity: thief.identity, vehicleKey: rec.vehicleKey },
      'unlock',
      { grant: grant.bytes },
    );
    expect(result.status).toBe('invalid-grant');
    expect(w.executed).toEqual([]);
  });
});
