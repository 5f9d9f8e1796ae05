/**
 * Whether a real-stack test file can run here: what global-setup.ts found missing, restricted to
 * the packages this file needs. Missing something: its tests skip (the one line explaining why
 * was printed by the global setup) — except under CI=true, where a describe with one failing test
 * is registered instead (a missing tool is a failure there).
 */
import { describe, inject, it } from 'vitest';
import { BLE_PACKAGES } from './global-setup.js';

/** What is missing for `what` (empty: run). `packages`: the BLE packages the file uses. */
export function realStackGate(what: string, packages: readonly string[]): string[] {
  const missing = (inject('bleMissing') ?? []).filter((m) => !(BLE_PACKAGES as readonly string[]).includes(m) || packages.includes(m));
  if (missing.length > 0 && process.env.CI === 'true') {
    describe(what, () => {
      it('has the tools (CI=true: a missing tool is a failure)', () => {
        throw new Error(`missing ${missing.join('; ')}`);
      });
    });
  }
  return missing;
}
