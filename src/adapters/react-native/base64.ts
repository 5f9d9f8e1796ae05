/**
 * The one place where `proxkey/react-native` converts bytes to and from the base64 strings
 * react-native-ble-plx carries every value in (characteristic values, service data,
 * manufacturer data). Built on the core's strict base64url codec: no `Buffer` (React Native has
 * none), no `atob`/`btoa` (not everywhere).
 */
import { fromBase64Url, toBase64Url } from '../../bytes.js';
import { RemoteError } from '../../errors.js';

/** Standard base64 (RFC 4648 §4) with padding, as the native module expects it. */
export function bytesToBase64(bytes: Uint8Array): string {
  const url = toBase64Url(bytes).replace(/-/g, '+').replace(/_/g, '/');
  return url + '='.repeat((4 - (url.length % 4)) % 4);
}

/**
 * Bytes of a base64 value from the native module. Line breaks (some Android encoders wrap) and
 * padding are tolerated; anything else malformed is a `RemoteError('ERR_DECODE')` naming `what`.
 */
export function base64ToBytes(value: string, what: string): Uint8Array {
  const compact = value.replace(/[\r\n]/g, '');
  const body = compact.replace(/={1,2}$/, '');
  if (/[-_]/.test(body) || (compact.length !== body.length && compact.length % 4 !== 0)) {
    throw new RemoteError('ERR_DECODE', `${what}: invalid base64`);
  }
  try {
    return fromBase64Url(body.replace(/\+/g, '-').replace(/\//g, '_'));
  } catch {
    throw new RemoteError('ERR_DECODE', `${what}: invalid base64`);
  }
}
