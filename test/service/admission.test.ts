/** The car's bound on unauthenticated connections: eviction order, and a release that can be called twice. */
import { describe, expect, it } from 'vitest';
import { ConnectionAdmission } from '../../src/service/admission.js';

describe('ConnectionAdmission', () => {
  it('evicts beyond the cap the oldest connection past the grace period, never a trusted one', () => {
    let t = 0;
    const admission = new ConnectionAdmission(2, 1_000, () => t);
    const a = admission.admit(undefined);
    a.connection.trusted = true;
    t = 10;
    const b = admission.admit(undefined);
    t = 2_000;
    const c = admission.admit(undefined);
    const d = admission.admit(undefined);
    expect([a, b, c, d].map((x) => x.connection.control.signal.aborted)).toEqual([false, true, false, false]);
  });

  it('a second release of one connection leaves the others counted', () => {
    let t = 0;
    const admission = new ConnectionAdmission(2, 1_000, () => t);
    const a = admission.admit(undefined);
    const b = admission.admit(undefined);
    a.release();
    a.release(); // e.g. a close path and a finally both release
    t = 5_000;
    const c = admission.admit(undefined);
    const d = admission.admit(undefined); // b, c, d: one beyond the cap — b, the oldest, must go
    expect(b.connection.control.signal.aborted).toBe(true);
    expect([c, d].map((x) => x.connection.control.signal.aborted)).toEqual([false, false]);
  });

  it('aborts the connection when the caller’s signal aborts', () => {
    const admission = new ConnectionAdmission();
    const caller = new AbortController();
    const { connection } = admission.admit(caller.signal);
    caller.abort('gone');
    expect(connection.control.signal.reason).toBe('gone');
  });
});
