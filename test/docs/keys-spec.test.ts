/**
 * PROTOCOL.md §11.1 and PRIVACY.md, checked from the text: the grant signature (P1363 r ‖ s over
 * "proxkey grant v1" ‖ body, high-S accepted, which key verifies), the share's sealing redone from
 * its formulas, base64url without padding and the key-request example, the private-address test
 * vector and byte order, and the random draws of §2.2 outside a session.
 */
import { gcm } from '@noble/ciphers/aes.js';
import { p256 } from '@noble/curves/nist.js';
import { hkdf } from '@noble/hashes/hkdf.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { describe, expect, it } from 'vitest';
import {
  concatBytes,
  decodeGrant,
  deriveAddressIrk,
  formatAddress,
  fromHex,
  issueGrant,
  KeyRegistry,
  keyRequestFromString,
  keyRequestToString,
  MemoryVehicleStore,
  nobleCrypto,
  resolvablePrivateAddress,
  sealShare,
  softwareKey,
  systemRandom,
  toHex,
  verifyGrantSignature,
  VehicleService,
  type RandomSource,
} from '../../src/index.js';
import { section, specDoc, tableRows } from './spec-text.js';

const crypto = nobleCrypto;
const doc = specDoc('PROTOCOL.md');
const n = p256.Point.Fn.ORDER;
const ascii = (s: string) => new TextEncoder().encode(s);
const draws = tableRows(section(doc, '### 2.2'), 'role');
const drawOf = (role: string, when: string) => draws.find(([r, w]) => r === role && w!.startsWith(when))![2];

function recording(): { random: RandomSource; asked: number[] } {
  const asked: number[] = [];
  return { asked, random: (size) => (asked.push(size), systemRandom(size)) };
}

async function world() {
  const car = await softwareKey(crypto, new Uint8Array(32).fill(0x11));
  const owner = await softwareKey(crypto, new Uint8Array(32).fill(0x33));
  const friend = await softwareKey(crypto, new Uint8Array(32).fill(0x44));
  const registry = new KeyRegistry({ crypto, vehicleKey: car.publicKey });
  const ownerRecord = await registry.enroll(owner.publicKey, { role: 'owner' });
  const grantFor = (random: RandomSource = systemRandom) =>
    issueGrant({ crypto, random, issuer: owner, issuerKeyId: ownerRecord.id, vehicleKey: car.publicKey, subject: friend.publicKey, permissions: ['unlock'] });
  return { car, owner, friend, registry, grantFor };
}

/** The same grant with s replaced by n − s (the other valid signature: high-S if it was low-S). */
function flipS(bytes: Uint8Array): Uint8Array {
  const out = bytes.slice();
  const s = BigInt(`0x${toHex(out.subarray(-32))}`);
  out.set(fromHex((n - s).toString(16).padStart(64, '0')), out.length - 32);
  return out;
}

describe('§11.1 grant signatures', () => {
  it('P1363 r ‖ s by the owner’s static key over "proxkey grant v1" ‖ body; both s and n − s verify and redeem', async () => {
    const w = await world();
    const grant = await w.grantFor();
    const message = concatBytes(ascii('proxkey grant v1'), grant.body);
    expect(ascii('proxkey grant v1').length).toBe(16);
    expect(p256.verify(grant.signature, message, w.owner.publicKey, { prehash: true, lowS: false, format: 'compact' })).toBe(true);
    const other = decodeGrant(flipS(grant.bytes));
    const high = BigInt(`0x${toHex((BigInt(`0x${toHex(grant.signature.subarray(32))}`) > n / 2n ? grant : other).signature.subarray(32))}`);
    expect(high > n / 2n).toBe(true); // one of the two is high-S
    expect(await verifyGrantSignature(crypto, grant, w.owner.publicKey)).toBe(true);
    expect(await verifyGrantSignature(crypto, other, w.owner.publicKey)).toBe(true);
    const record = await w.registry.redeemGrant(other.bytes, w.friend.publicKey, Date.now());
    expect(record).toMatchObject({ role: 'shared', permissions: ['unlock'] });
  });

  it('an owner enrolled with a separate signing key is verified with that key only', async () => {
    const w = await world();
    const signer = await softwareKey(crypto, new Uint8Array(32).fill(0x55));
    const registry = new KeyRegistry({ crypto, vehicleKey: w.car.publicKey });
    const rec = await registry.enroll(w.owner.publicKey, { role: 'owner', signingKey: signer.publicKey });
    const by = (issuer: typeof signer) =>
      issueGrant({ crypto, random: systemRandom, issuer, issuerKeyId: rec.id, vehicleKey: w.car.publicKey, subject: w.friend.publicKey, permissions: ['unlock'] });
    expect(await registry.redeemGrant((await by(w.owner)).bytes, w.friend.publicKey, Date.now())).toBe('invalid-grant');
    expect(await registry.redeemGrant((await by(signer)).bytes, w.friend.publicKey, Date.now())).toMatchObject({ role: 'shared' });
  });
});

describe('§11.1 portable strings', () => {
  it('the key-request example decodes to the key of secret 33…33, labelled friend, and re-encodes byte for byte', async () => {
    const example = /`(pkreq1\.[A-Za-z0-9_-]+)`/.exec(section(doc, '### 11.1'))![1]!;
    const key = await softwareKey(crypto, new Uint8Array(32).fill(0x33));
    expect(keyRequestFromString(example)).toEqual({ publicKey: key.publicKey, label: 'friend' });
    expect(keyRequestToString({ publicKey: key.publicKey, label: 'friend' })).toBe(example);
  });

  it('base64url without padding: padded or foreign characters are refused', async () => {
    const key = await softwareKey(crypto, new Uint8Array(32).fill(0x33));
    const s = keyRequestToString({ publicKey: key.publicKey, label: 'ab' }); // 70 bytes: 94 characters, not a multiple of 4
    expect(s.includes('=')).toBe(false);
    expect(() => keyRequestFromString(`${s}==`)).toThrow(/base64url/);
    expect(() => keyRequestFromString(s.replace(/-|_/, '+'))).toThrow();
    expect(keyRequestFromString(`  ${s}\n`).label).toBe('ab'); // surrounding whitespace is ignored
  });

  it('a share opens with the formulas of §11.1: HKDF(salt = e ‖ friend, IKM = ECDH, "proxkey share v1"), AES-256-GCM(nonce 0, AD = e)', async () => {
    const w = await world();
    const grant = await w.grantFor();
    const rec = { random: recording() };
    const share = await sealShare(crypto, rec.random.random, { vehicleKey: w.car.publicKey, advertisingSecret: new Uint8Array(32).fill(0xad), carName: 'My car', grant });
    expect(rec.random.asked.join()).toBe(drawOf("owner's phone", 'sealing the share'));
    const bytes = Uint8Array.from(Buffer.from(share.slice('pkshare1.'.length), 'base64url'));
    const e = bytes.subarray(0, 65);
    const shared = await w.friend.ecdh(e);
    const k = hkdf(sha256, shared, concatBytes(e, w.friend.publicKey), ascii('proxkey share v1'), 32);
    const payload = gcm(k, new Uint8Array(12), e).decrypt(bytes.subarray(65));
    expect(toHex(payload)).toBe(toHex(concatBytes(Uint8Array.of(1), w.car.publicKey, new Uint8Array(32).fill(0xad), Uint8Array.of(6), ascii('My car'), grant.bytes)));
  });
});

describe('§2.2 draws outside a session', () => {
  it('a grant draws 16 bytes (its id); a car’s first start 32 then 32; every revocation 32, used only if it changed something', async () => {
    const w = await world();
    const g = recording();
    const grant = await w.grantFor(g.random);
    expect(g.asked.join()).toBe(drawOf("owner's phone", 'issuing a grant'));
    expect(grant.grantId).toHaveLength(32);

    const c = recording();
    const car = await VehicleService.open({ store: new MemoryVehicleStore(), random: c.random, actuator: () => undefined });
    expect(c.asked.join(', then ')).toBe(drawOf('car', 'first start'));
    const friend = await car.registry.enroll(w.friend.publicKey, { role: 'shared' });
    await car.registry.enroll(w.owner.publicKey, { role: 'owner' });
    c.asked.length = 0;
    const secretBefore = car.registry.state.advertisingSecret?.slice();
    await car.revoke(friend.id);
    expect(c.asked.join()).toBe(drawOf('car', 'every revocation'));
    expect(car.registry.state.advertisingSecret).not.toEqual(secretBefore); // it changed something: the draw is the new secret
    // One that changes nothing draws too (before its write), and the secret stays.
    for (const nothing of [friend.id, 'ffffffffffffffff']) {
      c.asked.length = 0;
      const secret = car.registry.state.advertisingSecret?.slice();
      await car.revoke(nothing).catch(() => undefined);
      expect(c.asked.join()).toBe(drawOf('car', 'every revocation'));
      expect(car.registry.state.advertisingSecret).toEqual(secret);
    }
  });
});

describe('PRIVACY.md private addresses', () => {
  const privacy = specDoc('PRIVACY.md');
  it('the test vector: IRK, prand, address, HCI byte order', () => {
    const m = /`IRK = ([0-9a-f]{32})`; drawn `([0-9a-f ]+)` ⇒ `prand = ([0-9a-f ]+)` ⇒\s+address `([0-9a-f:]+)`/.exec(privacy)!;
    expect(m).not.toBeNull();
    const secret = Uint8Array.from({ length: 32 }, (_, i) => i);
    const irk = deriveAddressIrk(crypto, secret);
    expect(toHex(irk)).toBe(m[1]);
    const address = resolvablePrivateAddress(irk, () => fromHex(m[2]!.replace(/ /g, '')));
    expect(toHex(address.subarray(0, 3))).toBe(m[3]!.replace(/ /g, ''));
    expect(formatAddress(address)).toBe(m[4]);
    const hci = /sends these 6 bytes reversed \(`([0-9a-f ]+)`\)/.exec(privacy)![1]!;
    expect(hci.replace(/ /g, '')).toBe(toHex(address.slice().reverse()));
  });

  it('one 3-byte draw per address, again while the 22 random bits are all 0 or all 1', () => {
    expect(drawOf('car (BLE)', 'each private-address rotation')).toBe('3');
    const pool = [fromHex('ffffff'), fromHex('c00000'), fromHex('123456')]; // all 1, all 0 (after the type bits), fine
    const address = resolvablePrivateAddress(new Uint8Array(16), () => pool.shift()!);
    expect([pool.length, toHex(address.subarray(0, 3))]).toEqual([0, '523456']);
  });
});
