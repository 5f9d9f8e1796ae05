/** The proxkey GATT profile, shared by every BLE adapter (documented in docs/BLE.md). */

/** The proxkey primary service (128-bit UUID, advertised). */
export const PROXKEY_SERVICE_UUID = '9bfa0001-a120-4033-a9cc-7dfe62944c0d';
/** Phone → car: write (with response by default; without response allowed). One fragment per value. */
export const PROXKEY_WRITE_CHAR_UUID = '9bfa0002-a120-4033-a9cc-7dfe62944c0d';
/** Car → phone: notify. One fragment per value. */
export const PROXKEY_NOTIFY_CHAR_UUID = '9bfa0003-a120-4033-a9cc-7dfe62944c0d';
/** Read-only: framing version, maximum message size, supported protocol versions. */
export const PROXKEY_INFO_CHAR_UUID = '9bfa0004-a120-4033-a9cc-7dfe62944c0d';
/** The framing version this code speaks (first byte of the info value). */
export const FRAMING_VERSION = 1;
