/**
 * The specification's notation (PROTOCOL.md Conventions) is used throughout, and its tables of
 * constants say what the code says: pairing message types (§12.1), scrypt bounds (§12.3, MCU.md),
 * permission names (§7).
 */
import { describe, expect, it } from 'vitest';
import { commandName, MessageType, PAIRING_SCRYPT_BOUNDS, scryptWithinBounds, type Command } from '../../src/index.js';
import { range, section, SPEC_DOCS, specDoc, tableRows } from './spec-text.js';

describe('one range notation: a..b, both ends included', () => {
  it.each(SPEC_DOCS)('%s uses no other range notation', (name) => {
    const doc = specDoc(name);
    const offending = [
      /[0-9A-F`]–[0-9`]/g, // en-dash ranges: 0–64, 0x80–0xFF, `0x20`–`0x25`
      /\[[^\]\n]*\.\.[^\]\n]*\)/g, // half-open [0..8) or [0 .. N)
      /\[[0-9]+, *[0-9n][^\]\n]*\]/g, // intervals [1, n-1]
      /[0-9] \.\. [0-9N]/g, // spaced 0 .. 16
      /[0-9] s … [0-9]/g, // 1 s … 60 s
    ].flatMap((re) => [...doc.matchAll(re)].map((m) => m[0]));
    expect(offending).toEqual([]);
  });

  it('PROTOCOL.md defines it once, in its Conventions', () => {
    const doc = specDoc('PROTOCOL.md');
    expect(doc.match(/the only range notation/g)).toHaveLength(1);
    expect(doc).toContain('`SHA-256(k)[0..7]` is the first 8 bytes');
  });
});

describe('PROTOCOL.md §12 against the code', () => {
  const doc = specDoc('PROTOCOL.md');

  it('§12.1: every pairing message type in hex', () => {
    const rows = tableRows(section(doc, '### 12.1'), 'type');
    const named: Record<string, number> = {
      PAIR_START: MessageType.PairStart,
      PAIR_PARAMS: MessageType.PairParams,
      PAIR_SHARE: MessageType.PairShare,
      PAIR_RESPONSE: MessageType.PairResponse,
      PAIR_CONFIRM: MessageType.PairConfirm,
      PAIR_DONE: MessageType.PairDone,
    };
    expect(rows.map(([type, name]) => [name, Number(type)])).toEqual(Object.entries(named));
  });

  it('§12.3 and MCU.md give the bounds of PAIRING_SCRYPT_BOUNDS', () => {
    const b = PAIRING_SCRYPT_BOUNDS;
    for (const text of [section(doc, '### 12.3'), section(specDoc('MCU.md'), '## 2.')]) {
      const m = /log2N (\S+), r (\S+), p (\S+), salt (\S+) (?:B|bytes)/.exec(text.replace(/\s+/g, ' '))!;
      expect(m, text.slice(0, 80)).not.toBeNull();
      expect([range(m[1]!), range(m[2]!), range(m[3]!), range(m[4]!)]).toEqual([b.log2N, b.r, b.p, b.salt]);
    }
    expect(section(doc, '### 12.3')).toContain('128·r·2^log2N ≤ 64 MiB');
    expect(b.maxMemoryBytes).toBe(64 * 2 ** 20);
    expect(b.maxWork).toBe(4 * 2 ** 15 * 8 * 1);
  });

  it('MCU.md §2: every scrypt profile is accepted, with the memory and work it states', () => {
    const rows = tableRows(section(specDoc('MCU.md'), '## 2.'), 'profile');
    expect(rows.length).toBeGreaterThanOrEqual(3);
    for (const [, params, memory, blocks, work] of rows) {
      const [log2N, r, p] = params!.split(',').map(Number) as [number, number, number];
      expect(scryptWithinBounds(log2N, r, p), params).toBe(true);
      const bytes = 128 * r * 2 ** log2N;
      const [amount, unit] = memory!.split(' ');
      expect(Number(amount) * (unit === 'MiB' ? 2 ** 20 : 2 ** 10)).toBe(bytes);
      expect(memory).toContain(`+ ${128 * r * (p + 2) >= 1024 ? `${(128 * r * (p + 2)) / 1024} KiB` : `${128 * r * (p + 2)} B`}`);
      expect(Number(blocks!.replace(/ /g, ''))).toBe(4 * 2 ** log2N * r * p);
      const ratio = (2 ** log2N * r * p) / (2 ** 15 * 8);
      expect(work).toBe(ratio >= 1 ? String(ratio) : `1/${1 / ratio}`);
    }
    // the floor of the bounds is the MCU profile, and it fits in tens of KiB
    const [lo] = PAIRING_SCRYPT_BOUNDS.log2N;
    expect(rows[0]![1]).toBe(`${lo}, 1, 1`);
    expect(128 * 2 ** lo).toBeLessThanOrEqual(64 * 1024);
    expect(scryptWithinBounds(lo - 1, 1, 1)).toBe(false);
  });
});

describe('PROTOCOL.md §7: permission names', () => {
  it('are the command names the policy checks; custom codes in decimal', () => {
    const rows = tableRows(section(specDoc('PROTOCOL.md'), '## 7.'), 'command');
    const names = rows.map(([, name]) => name).join(' ');
    const commands: Command[] = [
      ...(['unlock', 'lock', 'start', 'trunk'] as const).map((kind) => ({ kind })),
      { kind: 'list-keys' },
      { kind: 'revoke', target: '00'.repeat(8) },
    ];
    for (const c of commands) expect(names).toContain(`\`${commandName(c)}\``);
    expect(names).toContain(`\`${commandName({ kind: 'custom', code: 0x81 })}\``);
    expect(commandName({ kind: 'custom', code: 0x81 })).toBe('custom:129');
  });
});
