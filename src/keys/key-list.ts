/**
 * The `list-keys` result (at most 255 bytes): `u8 total ‖ u8 page ‖ entries`, 23 entries a page,
 * each `key id 8 ‖ flags u8 (bit 0 owner, bit 1 revoked) ‖ permissions u16` (the grant bits of
 * unlock/lock/start/trunk; 0xFFFF = all, i.e. `*`).
 */
import { concatBytes, fromHex, toHex } from '../bytes.js';
import { ByteReader } from '../protocol/reader.js';
import type { KeyRecord } from './key-record.js';

/** Entries per `list-keys` page (so that a page fits the 255-byte result data). */
export const KEYS_PER_PAGE = 23;
const BITS: Record<string, number> = { unlock: 1, lock: 2, start: 4, trunk: 8 };

/** One enrolled key in a `list-keys` result (no key material). */
export interface KeyListEntry {
  readonly id: string;
  readonly role: 'owner' | 'shared';
  readonly revoked: boolean;
  /** Standard permissions, or `['*']`. */
  readonly permissions: readonly string[];
}

/** A decoded `list-keys` page: how many keys in all, which page, its entries. */
export interface KeyList {
  readonly total: number;
  readonly page: number;
  readonly entries: readonly KeyListEntry[];
}

/** Page `page` of `keys` as `list-keys` result data. */
export function encodeKeyList(keys: readonly KeyRecord[], page = 0): Uint8Array {
  const slice = keys.slice(page * KEYS_PER_PAGE, (page + 1) * KEYS_PER_PAGE);
  const entries = slice.map((k) => {
    const perms = k.permissions.includes('*') ? 0xffff : k.permissions.reduce((m, p) => m | (BITS[p] ?? 0), 0);
    const flags = (k.role === 'owner' ? 1 : 0) | (k.revoked ? 2 : 0);
    return concatBytes(fromHex(k.id), Uint8Array.of(flags, perms >> 8, perms & 0xff));
  });
  return concatBytes(Uint8Array.of(Math.min(keys.length, 255), page), ...entries);
}

/**
 * A `list-keys` result read back.
 * @throws {RemoteError} `ERR_DECODE` when malformed.
 */
export function decodeKeyList(data: Uint8Array): KeyList {
  const r = new ByteReader(data, 'key list');
  const total = r.u8();
  const page = r.u8();
  const entries: KeyListEntry[] = [];
  while (r.remaining > 0) {
    const id = toHex(r.take(8));
    const flags = r.u8();
    const bits = r.u16();
    const permissions = bits === 0xffff ? ['*'] : Object.keys(BITS).filter((p) => bits & BITS[p]!);
    entries.push({ id, role: flags & 1 ? 'owner' : 'shared', revoked: (flags & 2) !== 0, permissions });
  }
  return { total, page, entries };
}
