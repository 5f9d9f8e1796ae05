/**
 * The byte budget of a transaction (docs/PROTOCOL.md §3): a full unlock is one CHALLENGE (68 B),
 * one HANDSHAKE carrying the command (169 B) and one RESULT (20 B): 257 B, within 300 B — a few
 * BLE packets at the default ATT MTU.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type { SuiteId } from '../../src/index.js';
import { makeWorld, transact, type World } from '../helpers/adversary.js';

describe('byte budget', () => {
  let w: World;
  beforeAll(async () => {
    w = await makeWorld({ carSeed: 'budget-car', phoneSeed: 'budget-phone' });
  });

  it.each([1, 2] as SuiteId[])('a full unlock (suite %i): challenge 68 B, handshake 169 B, result 20 B, total ≤ 300 B', async (suite) => {
    const tx = await transact(w, `budget-${suite}`, ['unlock'], { phone: { suites: [suite] } });
    expect(tx.results).toEqual(['ok']);
    expect(tx.sizes).toEqual([68, 169, 20]);
    const total = tx.sizes.reduce((a, b) => a + b, 0);
    expect(total).toBe(257);
    expect(total).toBeLessThanOrEqual(300);
  });

  it('every standard command costs the same; a follow-up command is 21 B and its result 20 B', async () => {
    for (const cmd of ['lock', 'start', 'trunk'] as const) {
      const tx = await transact(w, `budget-${cmd}`, [cmd, 'unlock'], { intent: { intent: true } });
      expect(tx.results).toEqual(['ok', 'ok']);
      expect(tx.sizes).toEqual([68, 169, 20, 21, 20]);
    }
  });

  it('a denial costs one more record: RESULT 20 B then CLOSE 19 B', async () => {
    const stranger = await makeWorld({ carSeed: 'budget-car', phoneSeed: 'budget-stranger', enrolled: false });
    const tx = await transact(stranger, 'budget-denied', ['unlock']);
    expect(tx.results).toEqual(['unknown-key']);
    expect(tx.sizes).toEqual([68, 169, 20, 19]);
  });
});
