/**
 * Host-side LE privacy for bleno (Bluetooth Core v5.4, Vol 3, Part C, §10.7): the car advertises
 * from a resolvable private address that changes with its advertising id, so the address is not
 * a static identifier either. bleno has no API for it: both families' Linux HCI bindings hard-code
 * the public address in LE Set Advertising Parameters. This module sends the two HCI commands
 * itself on the bindings' socket, while advertising is disabled, and waits for each Command
 * Complete:
 *
 *   LE Set Advertising Parameters (0x2006): ADV_IND, Own_Address_Type = 0x01 (random)
 *   LE Set Random Address         (0x2005): the new address, little-endian
 *
 * The controller then keeps the random address for advertising until the next change; connections
 * already open keep theirs. On a stack without a raw HCI socket (macOS bindings, where the OS
 * already rotates the address, or a test double) `rawHci` returns undefined; likewise on a bleno
 * release whose private layout was not checked (`private-fields.ts`).
 */
import { LinkClosedError, LocalError } from '../../errors.js';
import { withDeadline } from '../../transport/deadline.js';
import type { CryptoProvider, RandomSource } from '../../crypto/provider.js';
import { deriveAddressIrk, formatAddress, resolvablePrivateAddress } from '../../protocol/private-address.js';
import { withRadioDeadline, type Emitter } from '../common.js';
import { blenoHciLayer } from './private-fields.js';

const HCI_COMMAND_PKT = 0x01;
const HCI_EVENT_PKT = 0x04;
const EVT_CMD_COMPLETE = 0x0e;
const EVT_CMD_STATUS = 0x0f;
export const LE_SET_RANDOM_ADDRESS = 0x2005;
export const LE_SET_ADVERTISING_PARAMETERS = 0x2006;

/** A raw HCI command channel: resolves on Command Complete with status 0. */
export interface RawHci {
  command(opcode: number, params: Uint8Array, timeoutMs: number): Promise<Uint8Array>;
}

interface HciSocketLike extends Emitter {
  write(data: Uint8Array): void;
}

function isHciSocket(socket: unknown): socket is HciSocketLike {
  if (typeof socket !== 'object' || socket === null) return false;
  const s = socket as Partial<HciSocketLike>;
  return typeof s.write === 'function' && typeof s.on === 'function';
}

/** The bindings' HCI socket, when this bleno runs on Linux HCI bindings; otherwise undefined. */
export function rawHci(bleno: unknown): RawHci | undefined {
  const socket = blenoHciLayer(bleno)?._socket;
  if (!isHciSocket(socket)) return undefined;
  let queue: Promise<unknown> = Promise.resolve();
  const once = (opcode: number, params: Uint8Array, timeoutMs: number): Promise<Uint8Array> => {
    let onData!: (data: Uint8Array) => void;
    const work = new Promise<Uint8Array>((resolve, reject) => {
      const finish = (status: number, rest: Uint8Array) =>
        status === 0
          ? resolve(rest)
          : reject(new LinkClosedError(`HCI command 0x${opcode.toString(16)} failed with status 0x${status.toString(16).padStart(2, '0')}`));
      onData = (data) => {
        if (data[0] !== HCI_EVENT_PKT || data.length < 7) return;
        // Command Complete: 04 0e len ncmd opcode(2) status …   Command Status: 04 0f len status ncmd opcode(2)
        if (data[1] === EVT_CMD_COMPLETE && (data[4]! | (data[5]! << 8)) === opcode) finish(data[6]!, data.slice(7));
        else if (data[1] === EVT_CMD_STATUS && (data[5]! | (data[6]! << 8)) === opcode && data[3] !== 0) finish(data[3]!, new Uint8Array(0));
      };
      socket.on('data', onData);
      socket.write(Buffer.from([HCI_COMMAND_PKT, opcode & 0xff, opcode >> 8, params.length, ...params]));
    });
    const cleanup = () => socket.removeListener('data', onData);
    return withDeadline(`HCI command 0x${opcode.toString(16)}`, work, { timeoutMs }).finally(cleanup);
  };
  return {
    command(opcode, params, timeoutMs) {
      if (params.length > 255) return Promise.reject(new LocalError('ERR_INVALID_ARGUMENT', 'HCI command parameters: at most 255 bytes'));
      const run = () => once(opcode, params, timeoutMs);
      const p = queue.then(run, run);
      queue = p.catch(() => {});
      return p;
    },
  };
}

/**
 * Advertise connectable and undirected (ADV_IND) from the random address, every `intervalMs`
 * (bleno's own default is 100 ms, or `BLENO_ADVERTISING_INTERVAL`). Advertising must be off.
 */
export function useRandomAddressForAdvertising(hci: RawHci, intervalMs: number, timeoutMs: number): Promise<unknown> {
  const units = Math.max(0x20, Math.min(0x4000, Math.floor(intervalMs * 1.6)));
  const p = new Uint8Array(15);
  p[0] = units & 0xff;
  p[1] = units >> 8; // min interval
  p[2] = units & 0xff;
  p[3] = units >> 8; // max interval
  p[4] = 0x00; // ADV_IND
  p[5] = 0x01; // own address type: random
  // p[6..12]: peer address type and address (unused for ADV_IND)
  p[13] = 0x07; // all three advertising channels
  p[14] = 0x00; // no filter policy
  return hci.command(LE_SET_ADVERTISING_PARAMETERS, p, timeoutMs);
}

/** Set the controller's random address (6 bytes, most significant first). Advertising must be off. */
export function setRandomAddress(hci: RawHci, address: Uint8Array, timeoutMs: number): Promise<unknown> {
  return hci.command(LE_SET_RANDOM_ADDRESS, address.slice().reverse(), timeoutMs);
}

/** A car's resolvable private addresses, derived from its advertising secret (docs/PRIVACY.md). */
export interface PrivateAddresses {
  /** Advertise from a fresh resolvable private address (advertising must be off); resolves it as "aa:bb:…". */
  next(bound: { readonly timeoutMs: number; readonly signal?: AbortSignal | undefined }): Promise<string>;
  /** Derive later addresses from a new advertising secret. */
  rekey(secret: Uint8Array): void;
}

export interface PrivateAddressOptions {
  readonly crypto: CryptoProvider;
  readonly secret: Uint8Array;
  readonly random: RandomSource;
  /** Advertising interval in ms (bleno's default 100, or `BLENO_ADVERTISING_INTERVAL`). */
  readonly intervalMs: number;
}

/** Private addresses sent over `hci`: the identity resolving key follows the advertising secret. */
export function privateAddresses(hci: RawHci, { crypto, secret, random, intervalMs }: PrivateAddressOptions): PrivateAddresses {
  let irk = deriveAddressIrk(crypto, secret);
  return {
    async next(bound) {
      // again each time: after an adapter reset bleno re-initialises it with the public address
      await withRadioDeadline('advertise from a random address', useRandomAddressForAdvertising(hci, intervalMs, bound.timeoutMs), bound);
      const address = resolvablePrivateAddress(irk, random);
      await withRadioDeadline('set random address', setRandomAddress(hci, address, bound.timeoutMs), { timeoutMs: bound.timeoutMs });
      return formatAddress(address);
    },
    rekey(next) {
      irk = deriveAddressIrk(crypto, next);
    },
  };
}
