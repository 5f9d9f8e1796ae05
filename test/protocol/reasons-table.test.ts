/** The reason table in the code and the one in docs/PROTOCOL.md §3.3 say the same thing. */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { REASONS, reasonFromCode, type DenyReason } from '../../src/index.js';

const doc = readFileSync(new URL('../../docs/PROTOCOL.md', import.meta.url), 'utf8');
const rows = [...doc.matchAll(/^\| (0x[0-9A-F]{2}) \| `([a-z-]+)` \| [^|]+ \| (yes[^|]*|no) \| (now|later|user|never) \| (yes|no) \|$/gm)].map((m) => ({
  code: Number(m[1]),
  reason: m[2] as DenyReason,
  ends: m[3]!.startsWith('yes'),
  retry: m[4],
  settles: m[5] === 'yes',
}));

describe('reason table', () => {
  it('PROTOCOL.md §3.3 lists every reason with the code, session end, retry and grant settling of REASONS', () => {
    expect(rows.map((r) => r.reason).sort()).toEqual(Object.keys(REASONS).sort());
    for (const r of rows) {
      const m = REASONS[r.reason];
      expect({ code: m.code, ends: m.endsSession, retry: m.retry, settles: m.settlesGrant }).toEqual({
        code: r.code,
        ends: r.ends,
        retry: r.retry,
        settles: r.settles,
      });
    }
  });

  it('codes are unique and every reason has a text', () => {
    for (const [name, m] of Object.entries(REASONS)) {
      expect(reasonFromCode(m.code)).toBe(name);
      expect(m.text.length).toBeGreaterThan(5);
    }
  });
});
