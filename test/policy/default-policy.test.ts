import { describe, expect, it } from 'vitest';
import { defaultPolicy, type KeyRecord, type PolicyContext } from '../../src/index.js';

const key: KeyRecord = { id: '00', publicKey: new Uint8Array(65), role: 'shared', permissions: ['unlock', 'lock', 'start', 'custom:130'] };
const ctx = (over: Partial<PolicyContext> = {}): PolicyContext => ({
  key,
  command: { kind: 'unlock' },
  commandName: 'unlock',
  intent: false,
  rttMs: 20,
  sessionAgeMs: 0,
  now: 1_000,
  proximity: undefined,
  ranging: undefined,
  ...over,
});

describe('defaultPolicy', () => {
  const p = defaultPolicy();
  it('allows a permitted command inside the window with a fast round trip', () => {
    expect(p(ctx())).toEqual({ allow: true });
  });
  it.each([
    ['revoked', { key: { ...key, revoked: true } }],
    ['not-yet-valid', { key: { ...key, notBefore: 2_000 } }],
    ['expired', { key: { ...key, notAfter: 999 } }],
    ['not-permitted', { command: { kind: 'trunk' }, commandName: 'trunk' }],
    ['relay-suspected', { rttMs: 301 }],
    ['intent-required', { command: { kind: 'start' }, commandName: 'start' }],
  ] as const)('denies %s', (reason, over) => {
    expect(p(ctx(over as Partial<PolicyContext>))).toEqual({ allow: false, reason });
  });
  it('reports the first failing check (revoked beats everything)', () => {
    expect(p(ctx({ key: { ...key, revoked: true, notAfter: 0 }, rttMs: 10_000 }))).toEqual({ allow: false, reason: 'revoked' });
  });
  it('accepts the window edges (inclusive)', () => {
    expect(p(ctx({ key: { ...key, notBefore: 1_000, notAfter: 1_000 } }))).toEqual({ allow: true });
  });
  it('treats * as every permission, custom commands by name', () => {
    const owner = { ...key, permissions: ['*'] };
    expect(p(ctx({ key: owner, command: { kind: 'trunk' }, commandName: 'trunk' }))).toEqual({ allow: true });
    expect(p(ctx({ command: { kind: 'custom', code: 130 }, commandName: 'custom:130' }))).toEqual({ allow: true });
    expect(p(ctx({ command: { kind: 'custom', code: 131 }, commandName: 'custom:131' }))).toEqual({ allow: false, reason: 'not-permitted' });
  });
  it('start with intent passes', () => {
    expect(p(ctx({ command: { kind: 'start' }, commandName: 'start', intent: true }))).toEqual({ allow: true });
  });
  it('honours configured proximity and ranging requirements', () => {
    const strict = defaultPolicy({ requireProximity: { unlock: ['near'] }, requireRanging: ['unlock'], maxRttMs: Infinity });
    expect(strict(ctx({ rttMs: 5_000 }))).toEqual({ allow: false, reason: 'out-of-range' });
    expect(strict(ctx({ proximity: { zone: 'far' } }))).toEqual({ allow: false, reason: 'out-of-range' });
    expect(strict(ctx({ proximity: { zone: 'near' } }))).toEqual({ allow: false, reason: 'ranging-failed' });
    expect(strict(ctx({ proximity: { zone: 'near' }, ranging: { ok: true, distanceM: 1 } }))).toEqual({ allow: true });
  });
});
