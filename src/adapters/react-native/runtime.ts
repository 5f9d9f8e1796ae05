/**
 * What the proxkey core needs from a React Native runtime that Hermes may lack, checked before
 * any radio work so a missing polyfill is a clear error — not a failed handshake or a pairing
 * reported as "wrong pairing code" (docs/phone-react-native.md §1).
 */
import { LocalError } from '../../errors.js';

const NEEDS: readonly { readonly what: string; readonly present: () => boolean; readonly install: string }[] = [
  {
    what: 'crypto.getRandomValues',
    present: () => typeof globalThis.crypto?.getRandomValues === 'function',
    install: "`npm install react-native-get-random-values` and `import 'react-native-get-random-values'` first in index.js",
  },
  {
    what: "TextDecoder('utf-8', { fatal: true })",
    present: () => {
      try {
        return new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(Uint8Array.of(0x6f, 0x6b)) === 'ok';
      } catch {
        return false;
      }
    },
    install: "React Native < 0.85: `npm install text-encoding` and `globalThis.TextDecoder ??= require('text-encoding').TextDecoder`",
  },
];

/** The runtime features proxkey needs and this runtime lacks (empty: all there). */
export function missingRuntimeFeatures(): string[] {
  return NEEDS.filter((n) => !n.present()).map((n) => n.what);
}

/** Throw `LocalError('ERR_INVALID_STATE')` naming each missing feature and what to install. */
export function assertRuntime(): void {
  const missing = NEEDS.filter((n) => !n.present());
  if (missing.length === 0) return;
  throw new LocalError('ERR_INVALID_STATE', `this JavaScript runtime lacks ${missing.map((n) => `${n.what} (${n.install})`).join('; ')}`);
}
