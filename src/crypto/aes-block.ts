/**
 * One AES-128 block encryption, the `e` function of the Bluetooth Core Specification
 * (Vol 3, Part H, §2.2.1): key and block most-significant octet first. Only used for the
 * `ah` random-address hash (`protocol/private-address.ts`); not part of proxkey's suite.
 */
import { ecb } from '@noble/ciphers/aes.js';
import { assertBytes } from '../errors.js';

/** AES-128(key, block): 16-byte key, 16-byte block, 16-byte result. */
export function aes128Block(key: Uint8Array, block: Uint8Array): Uint8Array {
  assertBytes(key, 'key', 16);
  assertBytes(block, 'block', 16);
  return ecb(key, { disablePadding: true }).encrypt(block);
}
