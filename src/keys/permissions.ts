/**
 * Permissions carried in grants: the four standard commands as bits, custom command codes as a
 * list. Administrative permissions (`revoke`, `list-keys`, sharing) are never grantable: only
 * owners have them.
 */
import { LocalError, RemoteError } from '../errors.js';
import { CUSTOM_COMMAND_MAX, CUSTOM_COMMAND_MIN } from '../protocol/commands.js';

const BITS = { unlock: 0x01, lock: 0x02, start: 0x04, trunk: 0x08 } as const;
const KNOWN_BITS = 0x0f;

/** Permissions a grant can carry: standard command names and `custom:<code>`. */
export function isGrantablePermission(p: string): boolean {
  if (Object.hasOwn(BITS, p)) return true;
  const m = /^custom:(\d+)$/.exec(p);
  return !!m && Number(m[1]) >= CUSTOM_COMMAND_MIN && Number(m[1]) <= CUSTOM_COMMAND_MAX;
}

/** Encode to `u16 bits ‖ u8 count ‖ codes…` (codes ascending). */
export function encodePermissions(perms: readonly string[]): Uint8Array {
  let bits = 0;
  const codes = new Set<number>();
  for (const p of perms) {
    if (!isGrantablePermission(p)) throw new LocalError('ERR_INVALID_ARGUMENT', `not a grantable permission: ${p}`);
    if (Object.hasOwn(BITS, p)) bits |= BITS[p as keyof typeof BITS];
    else codes.add(Number(p.slice(7)));
  }
  const sorted = [...codes].sort((a, b) => a - b);
  return Uint8Array.of(bits >> 8, bits & 0xff, sorted.length, ...sorted);
}

/** Decode from a reader position; returns the permission names. */
export function decodePermissions(bits: number, codes: readonly number[]): string[] {
  if (bits & ~KNOWN_BITS) throw new RemoteError('ERR_DECODE', 'grant: unknown permission bits');
  const out = (Object.keys(BITS) as (keyof typeof BITS)[]).filter((k) => bits & BITS[k]) as string[];
  let last = -1;
  for (const c of codes) {
    if (c < CUSTOM_COMMAND_MIN || c <= last) throw new RemoteError('ERR_DECODE', 'grant: custom codes must be ascending 0x80..0xff');
    last = c;
    out.push(`custom:${c}`);
  }
  return out;
}

/** True when every permission in `wanted` is covered by `held` (`*` covers all). */
export function permissionsCover(held: readonly string[], wanted: readonly string[]): boolean {
  return held.includes('*') || wanted.every((p) => held.includes(p));
}
