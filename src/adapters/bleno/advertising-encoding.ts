/** The AD structures a proxkey car advertises (legacy advertising, docs/BLE.md). Pure, no bleno. */
import { assertArg } from '../../errors.js';
import { encodeAdvertisingServiceData } from '../../protocol/advertising-id.js';
import { PROXKEY_SERVICE_UUID } from '../../transport/gatt-profile.js';
import { COMPANY_ID_ADVERTISING_ID_LENGTH, uuidToLittleEndian } from '../common.js';

const AD_FLAGS = 0x01;
const AD_UUID128_COMPLETE = 0x07;
const AD_LOCAL_NAME = 0x09;
const AD_SERVICE_DATA_128 = 0x21;
const AD_MANUFACTURER_DATA = 0xff;
/** Legacy advertising: at most 31 bytes of AD structures per packet. */
export const MAX_LEGACY_AD_LENGTH = 31;

function ad(type: number, data: Uint8Array): number[] {
  return [data.length + 1, type, ...data];
}

/**
 * The AD structures a proxkey car puts on air (docs/BLE.md, docs/PRIVACY.md):
 *
 * ```
 * advertisement   02 01 06                                flags: LE General Discoverable, no BR/EDR
 *                 11 07 <service UUID, 16 B LE>           complete list of 128-bit service UUIDs
 *                [09 ff <company, 2 B LE> <id, 6 B>]      with companyId: manufacturer data
 * scan response  [1a 21 <service UUID, 16 B LE> 01 <id>]  service data: format 1 ‖ id (8 B: 27 B)
 *                [len 09 <name>]                          only if localName is set
 * ```
 *
 * Throws `ERR_INVALID_ARGUMENT` when a packet would exceed 31 bytes.
 */
export function encodeCarAdvertisement(o: {
  readonly serviceUuid?: string;
  readonly id?: Uint8Array;
  readonly companyId?: number;
  readonly localName?: string;
}): { readonly advertisement: Uint8Array; readonly scanResponse: Uint8Array } {
  const serviceUuid = o.serviceUuid ?? PROXKEY_SERVICE_UUID;
  const le = uuidToLittleEndian(serviceUuid);
  assertArg(le.length === 16, `serviceUuid: expected a 128-bit UUID, got ${serviceUuid}`);
  const advertisement = [...ad(AD_FLAGS, Uint8Array.of(0x06)), ...ad(AD_UUID128_COMPLETE, le)];
  const scanResponse: number[] = [];
  if (o.id) {
    if (o.companyId !== undefined) {
      assertArg(Number.isInteger(o.companyId) && o.companyId >= 0 && o.companyId <= 0xffff, 'companyId: expected a u16');
      advertisement.push(...ad(AD_MANUFACTURER_DATA, Uint8Array.of(o.companyId & 0xff, o.companyId >> 8, ...o.id)));
    } else {
      scanResponse.push(...ad(AD_SERVICE_DATA_128, Uint8Array.of(...le, ...encodeAdvertisingServiceData(o.id))));
    }
  }
  if (o.localName) scanResponse.push(...ad(AD_LOCAL_NAME, new TextEncoder().encode(o.localName)));
  assertArg(
    advertisement.length <= MAX_LEGACY_AD_LENGTH,
    `advertisement: ${advertisement.length} bytes, over the ${MAX_LEGACY_AD_LENGTH}-byte limit (with companyId the id must be at most ${COMPANY_ID_ADVERTISING_ID_LENGTH} bytes)`,
  );
  assertArg(
    scanResponse.length <= MAX_LEGACY_AD_LENGTH,
    `scan response: ${scanResponse.length} bytes, over the ${MAX_LEGACY_AD_LENGTH}-byte limit${o.localName && o.id ? ' (the advertising id leaves room for a 2-byte localName at most: drop the name)' : ' (localName: at most 29 bytes)'}`,
  );
  return { advertisement: Uint8Array.from(advertisement), scanResponse: Uint8Array.from(scanResponse) };
}
