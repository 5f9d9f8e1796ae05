/**
 * The car's BLE device address, rotated together with its advertising identifier so that no
 * static identifier is on air (docs/PRIVACY.md). It is a *resolvable private address* (Bluetooth
 * Core Specification v5.4, Vol 6, Part B, §1.3.2.2), as GAP requires of a private device in
 * connectable mode:
 *
 *   address (48 bits, most significant first) = prand (24 bits; top two bits 0b01) ‖ hash (24 bits)
 *   hash = ah(IRK, prand) = e(IRK, 0^104 ‖ prand) mod 2^24                  (Vol 3, Part H, §2.2.2)
 *   IRK  = HMAC-SHA256(advSecret, "proxkey irk v1")[0 .. 16)
 *
 * Deriving the IRK from the advertising secret means enrolled phones can resolve the address (a
 * scanner that only sees addresses can still filter); anyone else sees an unrelated random
 * address at each rotation. The 22 random bits of prand are fresh at each rotation.
 *
 * Pure: the caller passes the crypto provider and the random source.
 */
import { aes128Block } from '../crypto/aes-block.js';
import type { CryptoProvider, RandomSource } from '../crypto/provider.js';
import { sampleUntilAccepted } from '../crypto/random.js';
import { utf8 } from '../bytes.js';
import { assertArg, assertBytes } from '../errors.js';

/** Domain-separation label of the IRK derivation (ASCII). */
export const PRIVATE_ADDRESS_IRK_LABEL = 'proxkey irk v1';
/** Bluetooth device address length. */
export const BD_ADDR_LENGTH = 6;

const IRK_LABEL = /* @__PURE__ */ utf8(PRIVATE_ADDRESS_IRK_LABEL);

/** The identity resolving key (16 bytes) a car's private addresses are made with. */
export function deriveAddressIrk(crypto: CryptoProvider, advertisingSecret: Uint8Array): Uint8Array {
  assertBytes(advertisingSecret, 'advertisingSecret');
  assertArg(advertisingSecret.length >= 16, 'advertisingSecret: expected at least 16 bytes');
  return crypto.hmacSha256(advertisingSecret, IRK_LABEL).slice(0, 16);
}

/** The random address hash function `ah` (Vol 3, Part H, §2.2.2): 3-byte prand → 3-byte hash. */
export function ah(irk: Uint8Array, prand: Uint8Array): Uint8Array {
  assertBytes(prand, 'prand', 3);
  const block = new Uint8Array(16);
  block.set(prand, 13);
  return aes128Block(irk, block).slice(13);
}

/** A fresh resolvable private address for `irk` (6 bytes, most significant first). */
export function resolvablePrivateAddress(irk: Uint8Array, random: RandomSource): Uint8Array {
  assertBytes(irk, 'irk', 16);
  return sampleUntilAccepted('resolvable private address', () => {
    const prand = random(3);
    prand[0] = (prand[0]! & 0x3f) | 0x40;
    // the 22 random bits shall be neither all 0 nor all 1 (§1.3.2.2)
    const bits = ((prand[0] & 0x3f) << 16) | (prand[1]! << 8) | prand[2]!;
    if (bits === 0 || bits === 0x3fffff) return undefined;
    const address = new Uint8Array(BD_ADDR_LENGTH);
    address.set(prand, 0);
    address.set(ah(irk, prand), 3);
    return address;
  });
}

/** Whether `address` (6 bytes, most significant first) is a resolvable private address made with `irk`. */
export function resolvesPrivateAddress(irk: Uint8Array, address: Uint8Array): boolean {
  assertBytes(irk, 'irk', 16);
  if (!(address instanceof Uint8Array) || address.length !== BD_ADDR_LENGTH || (address[0]! & 0xc0) !== 0x40) return false;
  const hash = ah(irk, address.subarray(0, 3));
  return hash[0] === address[3] && hash[1] === address[4] && hash[2] === address[5];
}

/** "aa:bb:cc:dd:ee:ff" for a 6-byte address (most significant first), as stacks print it. */
export function formatAddress(address: Uint8Array): string {
  assertBytes(address, 'address', BD_ADDR_LENGTH);
  return Array.from(address, (b) => b.toString(16).padStart(2, '0')).join(':');
}

/** The 6 bytes (most significant first) of "aa:bb:cc:dd:ee:ff" (or without separators). */
export function parseAddress(text: string): Uint8Array {
  assertArg(typeof text === 'string', 'address: expected a string');
  const hex = text.replace(/[:-]/g, '').toLowerCase();
  assertArg(/^[0-9a-f]{12}$/.test(hex), `address: expected 6 hex bytes, got "${text}"`);
  return Uint8Array.from({ length: BD_ADDR_LENGTH }, (_, i) => parseInt(hex.slice(2 * i, 2 * i + 2), 16));
}
