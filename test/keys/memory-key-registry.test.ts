/**
 * `MemoryKeyRegistry` (a `KeyRegistry` on a fresh in-memory store) and its old name `MemoryKeyStore`,
 * kept as a deprecated alias so that code written against it still runs unchanged.
 */
import { describe, expect, it } from 'vitest';
import { KeyRegistry, MemoryKeyRegistry, MemoryKeyStore, generateP256KeyPair, nobleCrypto, systemRandom } from '../../src/index.js';

describe('MemoryKeyRegistry', () => {
  it('is a KeyRegistry that enrolls, lists and revokes keys in memory', async () => {
    const registry = new MemoryKeyRegistry(nobleCrypto);
    expect(registry).toBeInstanceOf(KeyRegistry);
    const phone = await generateP256KeyPair(nobleCrypto, systemRandom);
    const record = await registry.enroll(phone.publicKey, { role: 'owner', label: 'phone' });
    expect((await registry.list()).map((k) => k.id)).toEqual([record.id]);
    expect(await registry.get(record.id)).toMatchObject({ role: 'owner', label: 'phone' });
  });

  it('keeps its old name MemoryKeyStore working (same class, same behaviour)', async () => {
    expect(MemoryKeyStore).toBe(MemoryKeyRegistry);
    const old: MemoryKeyStore = new MemoryKeyStore();
    expect(old).toBeInstanceOf(MemoryKeyRegistry);
    const phone = await generateP256KeyPair(nobleCrypto, systemRandom);
    const record = await old.enroll(phone.publicKey);
    expect(await old.get(record.id)).toEqual(record);
  });
});
