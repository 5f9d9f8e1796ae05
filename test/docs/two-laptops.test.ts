/** docs/two-laptops.md states the CLI's wait bounds as the CLI applies them. */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { PHONE_RESULT_TIMEOUT_MS } from '../../src/roles/phone-session.js';

const doc = readFileSync(new URL('../../docs/two-laptops.md', import.meta.url), 'utf8');

describe('docs/two-laptops.md', () => {
  it('says the RESULT wait is the larger of --timeout and the phone result bound, not --timeout', () => {
    const row = doc.split('\n').find((l) => l.startsWith('| a command hangs'));
    expect(row).toBeDefined();
    expect(row).toMatch(/`--timeout` \(default 10 s\)/);
    expect(row).toContain(`RESULT by the larger of \`--timeout\` and ${PHONE_RESULT_TIMEOUT_MS / 1000} s`);
  });
});
