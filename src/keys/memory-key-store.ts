/**
 * An in-memory key directory for the vehicle role: enroll, revoke, list. Good for tests, the demo
 * and simulations; durable stores implement the same `KeyDirectory`.
 */
import { equalBytes } from '../bytes.js';
import { nobleCrypto } from '../crypto/noble.js';
import { assertP256PublicKey, p256Uncompressed } from '../crypto/p256.js';
import type { CryptoProvider } from '../crypto/provider.js';
import { assertArg, LocalError } from '../errors.js';
import { keyIdOf } from '../protocol/key-id.js';
import type { KeyDirectory, KeyRecord } from '../roles/types.js';

export interface EnrollOptions {
  readonly role?: KeyRecord['role'];
  /** Default: `['*']` for owners, `['unlock', 'lock']` for shared keys. */
  readonly permissions?: readonly string[];
  readonly notBefore?: number;
  readonly notAfter?: number;
  readonly label?: string;
}

export class MemoryKeyStore implements KeyDirectory {
  readonly #keys = new Map<string, KeyRecord>();
  constructor(private readonly crypto: CryptoProvider = nobleCrypto) {}

  /** Enroll (or re-enroll, replacing the record) a phone key. Returns the record. */
  async enroll(publicKey: Uint8Array, options: EnrollOptions = {}): Promise<KeyRecord> {
    assertP256PublicKey(publicKey, 'phone public key');
    const pub = p256Uncompressed(publicKey);
    const role = options.role ?? 'owner';
    assertArg(role === 'owner' || role === 'shared', 'role: owner or shared');
    const record: KeyRecord = Object.freeze({
      id: keyIdOf(this.crypto, pub),
      publicKey: pub,
      role,
      permissions: Object.freeze([...(options.permissions ?? (role === 'owner' ? ['*'] : ['unlock', 'lock']))]),
      ...(options.notBefore !== undefined && { notBefore: options.notBefore }),
      ...(options.notAfter !== undefined && { notAfter: options.notAfter }),
      ...(options.label !== undefined && { label: options.label }),
    });
    this.#keys.set(record.id, record);
    return record;
  }

  /** Mark a key revoked (kept, so it can never be silently re-enrolled by an old grant). */
  async revoke(id: string): Promise<KeyRecord> {
    const rec = this.#keys.get(id);
    if (!rec) throw new LocalError('ERR_INVALID_ARGUMENT', `no key with id ${id}`);
    const revoked = Object.freeze({ ...rec, revoked: true });
    this.#keys.set(id, revoked);
    return revoked;
  }

  async get(id: string): Promise<KeyRecord | undefined> {
    return this.#keys.get(id);
  }

  async list(): Promise<KeyRecord[]> {
    return [...this.#keys.values()];
  }

  async findKey(publicKey: Uint8Array): Promise<KeyRecord | undefined> {
    const rec = this.#keys.get(keyIdOf(this.crypto, publicKey));
    return rec && equalBytes(rec.publicKey, publicKey) ? rec : undefined;
  }
}
