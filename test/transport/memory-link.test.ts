import fc from 'fast-check';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { AbortedError, LinkClosedError, LocalError, TimeoutError } from '../../src/errors.js';
import { fragmentMessage, valueSizeForMtu } from '../../src/transport/framing.js';
import type { Link } from '../../src/transport/link.js';
import { createMemoryLinkPair } from '../../src/transport/memory-link.js';
import { MAX_QUEUED_MESSAGES } from '../../src/transport/message-queue.js';

/** Deterministic PRNG (mulberry32) for the injected `random`. */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Receive until the link closes; returns the messages and the close error. */
async function drain(link: Link): Promise<{ got: Uint8Array[]; error: unknown }> {
  const got: Uint8Array[] = [];
  for (;;) {
    try {
      got.push(await link.receive());
    } catch (error) {
      return { got, error };
    }
  }
}

const msg = (n: number, fill: number) => new Uint8Array(n).fill(fill);

afterEach(() => {
  vi.useRealTimers();
});

describe('memory link copies', () => {
  it('delivers the bytes a message had when sent, also for a Node Buffer the caller reuses at once', async () => {
    const [a, b] = createMemoryLinkPair();
    const reused = Buffer.from([5, 6, 7]);
    await a.send(reused);
    reused.fill(0);
    expect(await b.receive()).toEqual(new Uint8Array([5, 6, 7]));
  });
});

describe('memory link: defaults (backward compatible)', () => {
  it('delivers whole messages in order on the next microtask, both ways', async () => {
    const [a, b] = createMemoryLinkPair();
    await a.send(msg(3, 1));
    await a.send(msg(2000, 2)); // no MTU: no size limit from framing
    await b.send(msg(1, 3));
    expect(await b.receive()).toEqual(msg(3, 1));
    expect(await b.receive()).toEqual(msg(2000, 2));
    expect(await a.receive()).toEqual(msg(1, 3));
  });

  it('close reaches the peer; receives and sends then fail with LinkClosedError', async () => {
    const [a, b] = createMemoryLinkPair();
    a.close('bye');
    expect(await b.closed).toEqual({ by: 'remote', reason: 'bye' });
    expect(await a.closed).toEqual({ by: 'local', reason: 'bye' });
    await expect(b.receive()).rejects.toBeInstanceOf(LinkClosedError);
    await expect(a.send(msg(1, 1))).rejects.toBeInstanceOf(LinkClosedError);
  });

  it('messages sent before close are still received', async () => {
    const [a, b] = createMemoryLinkPair({ latencyMs: 5 });
    await a.send(msg(1, 1));
    await a.send(msg(1, 2));
    a.close();
    const { got, error } = await drain(b);
    expect(got).toEqual([msg(1, 1), msg(1, 2)]);
    expect(error).toBeInstanceOf(LinkClosedError);
  });

  it('latencyMs delays delivery (fake timers)', async () => {
    vi.useFakeTimers();
    const [a, b] = createMemoryLinkPair({ latencyMs: 40 });
    const p = b.receive();
    let done = false;
    void p.then(() => (done = true));
    await a.send(msg(1, 9));
    await vi.advanceTimersByTimeAsync(39);
    expect(done).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(await p).toEqual(msg(1, 9));
  });

  it('receive timeouts and aborted sends are typed', async () => {
    const [a, b] = createMemoryLinkPair();
    await expect(b.receive({ timeoutMs: 10 })).rejects.toBeInstanceOf(TimeoutError);
    const ac = new AbortController();
    ac.abort();
    await expect(a.send(msg(1, 1), { signal: ac.signal })).rejects.toBeInstanceOf(AbortedError);
  });

  it('validates its options', () => {
    expect(() => createMemoryLinkPair({ mtu: 22 })).toThrow(LocalError);
    expect(() => createMemoryLinkPair({ loss: 1.5 })).toThrow(LocalError);
    expect(() => createMemoryLinkPair({ latencyMs: -1 })).toThrow(LocalError);
    expect(() => createMemoryLinkPair({ disconnectAfter: { bytes: -1 } })).toThrow(LocalError);
  });
});

describe('memory link: MTU (framed fragments)', () => {
  it('round-trips any message at any MTU', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 23, max: 517 }), fc.array(fc.uint8Array({ maxLength: 1024 }), { minLength: 1, maxLength: 4 }), async (mtu, ms) => {
        const [a, b] = createMemoryLinkPair({ mtu });
        for (const m of ms) await a.send(m);
        for (const m of ms) expect(await b.receive({ timeoutMs: 1000 })).toEqual(m);
        a.close();
      }),
      { numRuns: 100 },
    );
  });

  it('enforces the maximum message size on send', async () => {
    const [a] = createMemoryLinkPair({ mtu: 23, maxMessageSize: 100 });
    await expect(a.send(msg(101, 0))).rejects.toBeInstanceOf(LocalError);
    await a.send(msg(100, 0));
  });

  it('counts bytes on the wire: fragments with their headers', async () => {
    // 100 bytes at MTU 23: values of 20,20,20,20,20,8 = 108 bytes on the wire
    const wire = fragmentMessage(msg(100, 1), valueSizeForMtu(23)).reduce((n, f) => n + f.length, 0);
    expect(wire).toBe(108);
    {
      const [a, b] = createMemoryLinkPair({ mtu: 23, disconnectAfter: { bytes: 108 } });
      await a.send(msg(100, 1));
      expect(await b.receive({ timeoutMs: 100 })).toEqual(msg(100, 1));
      await a.send(msg(1, 2)); // the 109th byte breaks the link
      expect(await b.closed).toMatchObject({ by: 'transport' });
      expect(await a.closed).toMatchObject({ by: 'transport', reason: expect.stringMatching(/after 108 bytes/) });
    }
    {
      const [a, b] = createMemoryLinkPair({ mtu: 23, disconnectAfter: { bytes: 107 } });
      await a.send(msg(100, 1)); // the last fragment does not fit: the message never arrives
      const { got, error } = await drain(b);
      expect(got).toEqual([]);
      expect(error).toBeInstanceOf(LinkClosedError);
    }
  });
});

describe('memory link: latency and jitter never reorder', () => {
  it('any latency/jitter/seed, with and without MTU: order preserved, no message early', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: 50 }),
        fc.integer({ min: 0, max: 200 }),
        fc.integer(),
        fc.option(fc.integer({ min: 23, max: 517 }), { nil: undefined }),
        fc.array(fc.integer({ min: 0, max: 30 }), { minLength: 1, maxLength: 20 }),
        async (latencyMs, jitterMs, seed, mtu, gaps) => {
          vi.useFakeTimers();
          try {
            const [a, b] = createMemoryLinkPair({ latencyMs, jitterMs, mtu, random: seeded(seed) });
            const arrivals: { i: number; at: number }[] = [];
            const sentAt: number[] = [];
            const reader = (async () => {
              for (let k = 0; k < gaps.length; k++) {
                const m = await b.receive();
                arrivals.push({ i: m[0]!, at: Date.now() });
              }
            })();
            for (let i = 0; i < gaps.length; i++) {
              await vi.advanceTimersByTimeAsync(gaps[i]!);
              sentAt.push(Date.now());
              await a.send(Uint8Array.of(i, ...msg(i * 13, i)));
            }
            await vi.advanceTimersByTimeAsync(latencyMs + jitterMs + 10);
            await reader;
            expect(arrivals.map((x) => x.i)).toEqual(gaps.map((_, i) => i));
            for (const { i, at } of arrivals) {
              expect(at - sentAt[i]!).toBeGreaterThanOrEqual(latencyMs);
            }
          } finally {
            vi.useRealTimers();
          }
        },
      ),
      { numRuns: 60 },
    );
  });
});

describe('memory link: loss = link-layer retransmission, or a supervision-timeout disconnect', () => {
  it('each failed attempt delays the packet (and those behind it) by one retransmit interval', async () => {
    vi.useFakeTimers();
    // attempts: lost, lost, ok  -> +2 x 10 ms
    const draws = [0.1, 0.1, 0.9, 0.9];
    const [a, b] = createMemoryLinkPair({ loss: 0.5, retransmitDelayMs: 10, latencyMs: 5, random: () => draws.shift() ?? 0.9 });
    const t0 = Date.now();
    const at: number[] = [];
    const reader = (async () => {
      for (let i = 0; i < 2; i++) {
        await b.receive();
        at.push(Date.now() - t0);
      }
    })();
    await a.send(msg(1, 1));
    await a.send(msg(1, 2)); // not lost itself, but queued behind the first
    await vi.advanceTimersByTimeAsync(100);
    await reader;
    expect(at).toEqual([25, 25]);
  });

  it('supervisionTimeoutMs: 0 turns any loss into a disconnect', async () => {
    const [a, b] = createMemoryLinkPair({ loss: 1, supervisionTimeoutMs: 0 });
    await a.send(msg(5, 5));
    const { got, error } = await drain(b);
    expect(got).toEqual([]);
    expect(error).toBeInstanceOf(LinkClosedError);
    expect(await a.closed).toMatchObject({ by: 'transport', reason: expect.stringMatching(/supervision timeout/) });
  });

  it('with 30% loss at MTU 23 everything arrives, later, in order (seeded)', async () => {
    const [a, b] = createMemoryLinkPair({ mtu: 23, loss: 0.3, retransmitDelayMs: 1, supervisionTimeoutMs: 1000, random: seeded(42) });
    const ms = [1, 2, 3].map((k) => msg(200 * k, k));
    for (const m of ms) await a.send(m);
    for (const m of ms) expect(await b.receive({ timeoutMs: 5000 })).toEqual(m);
  });

  it('a lossy link breaks once one packet retransmits past the supervision timeout', async () => {
    const [a, b] = createMemoryLinkPair({ loss: 0.9, retransmitDelayMs: 1, supervisionTimeoutMs: 3, random: seeded(7) });
    for (let i = 0; i < 50 && !a.isClosed; i++) await a.send(msg(1, i)).catch(() => {});
    expect((await b.closed).by).toBe('transport');
  });
});

describe('memory link: disconnect at any point', () => {
  it('after n messages (both directions counted, in send order)', async () => {
    for (const mtu of [undefined, 23]) {
      const [a, b] = createMemoryLinkPair({ mtu, disconnectAfter: { messages: 2 } });
      await a.send(msg(50, 1));
      expect(await b.receive()).toEqual(msg(50, 1));
      await b.send(msg(50, 2));
      expect(await a.receive()).toEqual(msg(50, 2));
      await a.send(msg(50, 3));
      await expect(b.receive()).rejects.toBeInstanceOf(LinkClosedError);
      expect((await a.closed).by).toBe('transport');
      expect((await b.closed).reason).toMatch(/after 2 messages/);
    }
  });

  it('at any byte: exactly the messages whose every fragment fits arrive, then both sides close', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 23, max: 100 }),
        fc.array(fc.integer({ min: 0, max: 300 }), { minLength: 1, maxLength: 5 }),
        fc.nat(),
        async (mtu, sizes, cutSeed) => {
          const vs = valueSizeForMtu(mtu);
          const ms = sizes.map((n, i) => msg(n, i + 1));
          const wire = ms.map((m) => fragmentMessage(m, vs).reduce((n, f) => n + f.length, 0));
          const total = wire.reduce((x, y) => x + y, 0);
          const cut = cutSeed % (total + 1);
          const [a, b] = createMemoryLinkPair({ mtu, disconnectAfter: { bytes: cut } });
          const reading = drain(b);
          for (const m of ms) await a.send(m).catch(() => {});
          let used = 0;
          const expected = ms.filter((_, i) => (used += wire[i]!) <= cut);
          if (cut === total) {
            a.close();
          }
          const { got, error } = await reading;
          expect(got).toEqual(expected);
          expect(error).toBeInstanceOf(LinkClosedError);
          if (cut < total) expect((await a.closed).by).toBe('transport');
        },
      ),
      { numRuns: 150 },
    );
  });

  it('a break rejects a waiting receive on both sides', async () => {
    const [a, b] = createMemoryLinkPair({ disconnectAfter: { bytes: 0 } });
    const pa = a.receive();
    const pb = b.receive();
    await a.send(msg(1, 1));
    await expect(pa).rejects.toBeInstanceOf(LinkClosedError);
    await expect(pb).rejects.toBeInstanceOf(LinkClosedError);
  });
});

describe('a memory link whose peer floods it', () => {
  it(`more than ${MAX_QUEUED_MESSAGES} unread messages close the link on both sides`, async () => {
    const [a, b] = createMemoryLinkPair();
    for (let i = 0; i <= MAX_QUEUED_MESSAGES; i++) await a.send(Uint8Array.of(i));
    expect((await b.closed).by).toBe('transport');
    expect((await a.closed).by).toBe('remote');
  });
});
