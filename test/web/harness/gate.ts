/**
 * Whether the real-browser tests can run here (what global-setup.ts found missing). Missing
 * something: they skip (the one line was printed by the global setup), except under CI=true, where
 * a describe with one failing test is registered instead.
 */
import { describe, inject, it } from 'vitest';

export function browserGate(what: string): { missing: string[]; chromiumPath: string } {
  const missing = inject('webMissing') ?? [];
  if (missing.length > 0 && process.env.CI === 'true') {
    describe(what, () => {
      it('has a browser (CI=true: a missing browser is a failure)', () => {
        throw new Error(`missing ${missing.join('; ')}`);
      });
    });
  }
  return { missing, chromiumPath: inject('chromiumPath') ?? '' };
}
