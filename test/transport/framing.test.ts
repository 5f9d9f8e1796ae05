import fc from 'fast-check';
import { describe, expect, it, vi } from 'vitest';
import { AbortedError, LinkClosedError, LocalError, RemoteError, TimeoutError } from '../../src/errors.js';
import { MAX_QUEUED_MESSAGES } from '../../src/transport/message-queue.js';
import {
  DEFAULT_MAX_MESSAGE_SIZE,
  FRAGMENT_END,
  FRAGMENT_RESERVED,
  FramedLink,
  Reassembler,
  decodeGattInfo,
  encodeGattInfo,
  fragmentMessage,
  valueSizeForMtu,
  type ReassemblyOutput,
} from '../../src/transport/framing.js';

const MAX = DEFAULT_MAX_MESSAGE_SIZE;
const arbMtu = fc.integer({ min: 23, max: 517 });
const arbMessage = (max = MAX) => fc.uint8Array({ minLength: 0, maxLength: max });

function messages(out: ReassemblyOutput[]): Uint8Array[] {
  return out.filter((x): x is Uint8Array => x instanceof Uint8Array);
}
function errors(out: ReassemblyOutput[]): RemoteError[] {
  return out.filter((x): x is RemoteError => x instanceof RemoteError);
}
function feed(r: Reassembler, fragments: Uint8Array[], now = 0): ReassemblyOutput[] {
  return fragments.flatMap((f) => r.push(f, now));
}

/**
 * An independent encoder written from the byte layout in docs/BLE.md, with arbitrary split
 * points (the sender may use any value size per fragment). Checks the reassembler against the
 * spec rather than against `fragmentMessage`.
 */
function encodeWithSplits(message: Uint8Array, cuts: number[]): Uint8Array[] {
  const points = [...new Set(cuts.filter((c) => c > 0 && c < message.length))].sort((a, b) => a - b);
  if (points.length === 0) return [Uint8Array.of(0xc0, ...message)];
  const bounds = [0, ...points, message.length];
  const out: Uint8Array[] = [];
  for (let i = 0; i + 1 < bounds.length; i++) {
    const chunk = message.subarray(bounds[i], bounds[i + 1]);
    const last = i + 2 === bounds.length;
    if (i === 0) out.push(Uint8Array.of(0x80, message.length >> 8, message.length & 0xff, ...chunk));
    else out.push(Uint8Array.of((last ? 0x40 : 0) | (i & 0x0f), ...chunk));
  }
  return out;
}

describe('valueSizeForMtu', () => {
  it('is MTU - 3, capped at the 512-byte ATT attribute maximum', () => {
    expect(valueSizeForMtu(23)).toBe(20);
    expect(valueSizeForMtu(185)).toBe(182);
    expect(valueSizeForMtu(515)).toBe(512);
    expect(valueSizeForMtu(517)).toBe(512);
  });
  it('rejects MTUs outside 23..517', () => {
    for (const bad of [0, 22, 518, 23.5, NaN]) expect(() => valueSizeForMtu(bad)).toThrow(LocalError);
  });
});

describe('fragmentMessage', () => {
  it('uses one value with a 1-byte header when the message fits', () => {
    expect(fragmentMessage(Uint8Array.of(1, 2, 3), 20)).toEqual([Uint8Array.of(0xc0, 1, 2, 3)]);
    expect(fragmentMessage(new Uint8Array(0), 20)).toEqual([Uint8Array.of(0xc0)]);
  });
  it('announces the total length in the first of several values', () => {
    const m = Uint8Array.from({ length: 40 }, (_, i) => i);
    const f = fragmentMessage(m, 20);
    expect(f.map((x) => x.length)).toEqual([20, 20, 5]); // 17 + 19 + 4 payload bytes
    expect([...f[0]!.subarray(0, 3)]).toEqual([0x80, 0, 40]);
    expect(f[1]![0]).toBe(0x01);
    expect(f[2]![0]).toBe(0x42);
  });
  it('refuses messages above the maximum and bad value sizes', () => {
    expect(() => fragmentMessage(new Uint8Array(MAX + 1), 100)).toThrow(LocalError);
    expect(() => fragmentMessage(new Uint8Array(10), 100, { maxMessageSize: 9 })).toThrow(LocalError);
    expect(() => fragmentMessage(new Uint8Array(10), 19)).toThrow(LocalError);
    expect(() => fragmentMessage(new Uint8Array(10), 513)).toThrow(LocalError);
  });
});

describe('framing round trip (property)', () => {
  it('any message up to the maximum, any MTU 23..517: values never exceed MTU-3, and it round-trips exactly', () => {
    fc.assert(
      fc.property(arbMessage(), arbMtu, (m, mtu) => {
        const vs = valueSizeForMtu(mtu);
        const frags = fragmentMessage(m, vs);
        for (const f of frags) expect(f.length).toBeLessThanOrEqual(Math.min(mtu - 3, 512));
        const r = new Reassembler();
        const out = feed(r, frags);
        expect(errors(out)).toEqual([]);
        expect(messages(out)).toEqual([m]);
        expect(r.pendingBytes).toBe(0);
      }),
      { numRuns: 500 },
    );
  });

  it('streams of messages, the MTU changing between messages, with gaps below the timeout', () => {
    fc.assert(
      fc.property(fc.array(fc.record({ m: arbMessage(), mtu: arbMtu, gap: fc.integer({ min: 0, max: 999 }) }), { minLength: 1, maxLength: 8 }), (items) => {
        const r = new Reassembler();
        let now = 0;
        const got: ReassemblyOutput[] = [];
        for (const { m, mtu, gap } of items) {
          for (const f of fragmentMessage(m, valueSizeForMtu(mtu))) {
            now += gap;
            got.push(...r.push(f, now));
          }
        }
        expect(errors(got)).toEqual([]);
        expect(messages(got)).toEqual(items.map((i) => i.m));
      }),
      { numRuns: 200 },
    );
  });

  it('any split of the message into fragments (spec-derived encoder) reassembles exactly', () => {
    fc.assert(
      fc.property(
        arbMessage().filter((m) => m.length > 0),
        fc.array(fc.integer({ min: 1, max: MAX }), { maxLength: 40 }),
        (m, cuts) => {
          const r = new Reassembler();
          const out = feed(r, encodeWithSplits(m, cuts));
          expect(errors(out)).toEqual([]);
          expect(messages(out)).toEqual([m]);
        },
      ),
      { numRuns: 500 },
    );
  });

  it('a custom maximum is honoured both ways', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 4000 }), arbMtu, (max, mtu) => {
        const m = new Uint8Array(max).fill(7);
        const r = new Reassembler({ maxMessageSize: max });
        expect(messages(feed(r, fragmentMessage(m, valueSizeForMtu(mtu), { maxMessageSize: max })))).toEqual([m]);
      }),
      { numRuns: 100 },
    );
  });
});

type Mutation =
  | { kind: 'drop'; i: number }
  | { kind: 'dropFirst' }
  | { kind: 'duplicate'; i: number }
  | { kind: 'swap'; i: number }
  | { kind: 'reserved'; i: number; bits: number }
  | { kind: 'shorten'; i: number }
  | { kind: 'lengthen' }
  | { kind: 'clearEnd' }
  | { kind: 'setEnd'; i: number }
  | { kind: 'total'; delta: number }
  | { kind: 'seq'; i: number; xor: number };

function mutate(frags: Uint8Array[], mu: Mutation): Uint8Array[] {
  const f = frags.map((x) => x.slice());
  const n = f.length; // >= 2
  const at = (i: number) => 1 + (i % (n - 1)); // a continuation index
  switch (mu.kind) {
    case 'drop':
      f.splice(at(mu.i), 1);
      return f;
    case 'dropFirst':
      return f.slice(1);
    case 'duplicate': {
      const i = at(mu.i);
      f.splice(i, 0, f[i]!.slice());
      return f;
    }
    case 'swap': {
      if (n < 3) return mutate(frags, { kind: 'dropFirst' });
      const i = 1 + (mu.i % (n - 2));
      [f[i], f[i + 1]] = [f[i + 1]!, f[i]!];
      return f;
    }
    case 'reserved': {
      const i = mu.i % n;
      f[i]![0] = f[i]![0]! | (mu.bits & FRAGMENT_RESERVED || 0x10);
      return f;
    }
    case 'shorten': {
      const i = at(mu.i);
      if (f[i]!.length < 3) return mutate(frags, { kind: 'dropFirst' });
      f[i] = f[i]!.subarray(0, f[i]!.length - 1);
      return f;
    }
    case 'lengthen':
      f[n - 1] = Uint8Array.of(...f[n - 1]!, 0xaa);
      return f;
    case 'clearEnd':
      f[n - 1]![0] = f[n - 1]![0]! & ~FRAGMENT_END;
      return f;
    case 'setEnd': {
      if (n < 3) return mutate(frags, { kind: 'clearEnd' });
      const i = 1 + (mu.i % (n - 2));
      f[i]![0] = f[i]![0]! | FRAGMENT_END;
      return f;
    }
    case 'total': {
      const total = ((f[0]![1]! << 8) | f[0]![2]!) + mu.delta;
      f[0]![1] = (total >> 8) & 0xff;
      f[0]![2] = total & 0xff;
      return f;
    }
    case 'seq': {
      const i = at(mu.i);
      f[i]![0] = f[i]![0]! ^ (mu.xor & 0x0f || 1);
      return f;
    }
  }
}

const arbMutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant('drop' as const), i: fc.nat() }),
  fc.constant({ kind: 'dropFirst' as const }),
  fc.record({ kind: fc.constant('duplicate' as const), i: fc.nat() }),
  fc.record({ kind: fc.constant('swap' as const), i: fc.nat() }),
  fc.record({ kind: fc.constant('reserved' as const), i: fc.nat(), bits: fc.nat({ max: 255 }) }),
  fc.record({ kind: fc.constant('shorten' as const), i: fc.nat() }),
  fc.constant({ kind: 'lengthen' as const }),
  fc.constant({ kind: 'clearEnd' as const }),
  fc.record({ kind: fc.constant('setEnd' as const), i: fc.nat() }),
  fc.record({ kind: fc.constant('total' as const), delta: fc.integer({ min: -5, max: 5 }).filter((d) => d !== 0) }),
  fc.record({ kind: fc.constant('seq' as const), i: fc.nat(), xor: fc.nat({ max: 15 }) }),
);

describe('malformed and hostile input (property)', () => {
  it('any corruption of a multi-fragment message is rejected with ERR_DECODE, and the next message still works', () => {
    fc.assert(
      fc.property(arbMtu, fc.integer({ min: 1, max: 600 }), arbMutation, arbMessage(), (mtu, extra, mu, next) => {
        const vs = valueSizeForMtu(mtu);
        const len = Math.min(MAX, vs + extra); // always at least two fragments
        const m = Uint8Array.from({ length: len }, (_, i) => (i * 31 + 7) & 0xff);
        const frags = mutate(fragmentMessage(m, vs), mu);
        const r = new Reassembler();
        const out = [...feed(r, frags), ...feed(r, fragmentMessage(next, vs))];
        const errs = errors(out);
        expect(errs.length).toBeGreaterThan(0);
        for (const e of errs) expect(e.code).toBe('ERR_DECODE');
        // never a wrong message: at most the original (e.g. when only a repeated last fragment
        // is rejected), then the next message intact
        const got = messages(out);
        expect(got.at(-1)).toEqual(next);
        for (const x of got.slice(0, -1)) expect(x).toEqual(m);
        expect(got.length).toBeLessThanOrEqual(2);
        expect(r.pendingBytes).toBe(0);
      }),
      { numRuns: 1000 },
    );
  });

  it('random garbage values never throw, never exceed the maximum, and the next message still works', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 40 }), { maxLength: 30 }), arbMessage(), arbMtu, (garbage, next, mtu) => {
        const r = new Reassembler({ maxMessageSize: 300 });
        const out = feed(r, garbage);
        for (const m of messages(out)) expect(m.length).toBeLessThanOrEqual(300);
        const msg = next.subarray(0, 300);
        const after = feed(r, fragmentMessage(msg, valueSizeForMtu(mtu), { maxMessageSize: 300 }));
        expect(messages(after)).toEqual([msg]);
      }),
      { numRuns: 500 },
    );
  });

  it('an oversize announcement is rejected before anything is buffered; its continuations are ignored', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 2000 }), arbMtu, (max, mtu) => {
        const vs = valueSizeForMtu(mtu);
        const big = new Uint8Array(max + 1 + vs).fill(1); // > max, several fragments
        const frags = fragmentMessage(big, vs, { maxMessageSize: 0xffff });
        const r = new Reassembler({ maxMessageSize: max });
        const first = r.push(frags[0]!, 0);
        expect(errors(first).map((e) => e.code)).toEqual(['ERR_DECODE']);
        expect(errors(first)[0]!.message).toMatch(/exceeds the maximum/);
        expect(r.pendingBytes).toBe(0);
        expect(feed(r, frags.slice(1))).toEqual([]); // discarded silently, nothing buffered
        const ok = Uint8Array.of(42);
        expect(messages(feed(r, fragmentMessage(ok, vs)))).toEqual([ok]);
      }),
      { numRuns: 200 },
    );
  });

  it('rejects a single-value message above the maximum', () => {
    const r = new Reassembler({ maxMessageSize: 10 });
    const out = r.push(Uint8Array.of(0xc0, ...new Uint8Array(11)), 0);
    expect(errors(out)).toHaveLength(1);
    expect(messages(r.push(Uint8Array.of(0xc0, 5), 0))).toEqual([Uint8Array.of(5)]);
  });

  it('names each malformation', () => {
    const cases: [Uint8Array[], RegExp][] = [
      [[new Uint8Array(0)], /empty fragment/],
      [[Uint8Array.of(0xd0, 1)], /reserved header bits/],
      [[Uint8Array.of(0x01, 1, 2)], /continuation fragment without a first fragment/],
      [[Uint8Array.of(0x41, 1, 2)], /continuation fragment without a first fragment/],
      [[Uint8Array.of(0x81, 0, 30, 1)], /first fragment with sequence 1/],
      [[Uint8Array.of(0x80, 0)], /shorter than its header/],
      [[Uint8Array.of(0x80, 0, 2, 1, 2)], /fits in the first fragment/],
      [[Uint8Array.of(0x80, 0, 4, 1, 2), Uint8Array.of(0x41, 3, 4, 5)], /too many bytes/],
      [[Uint8Array.of(0x80, 0, 4, 1, 2), Uint8Array.of(0x41, 3)], /end bit at 3\/4/],
      [[Uint8Array.of(0x80, 0, 4, 1, 2), Uint8Array.of(0x01, 3, 4)], /without the end bit/],
      [[Uint8Array.of(0x80, 0, 4, 1, 2), Uint8Array.of(0x02, 3)], /sequence 2, expected 1/],
      [[Uint8Array.of(0x80, 0, 4, 1, 2), Uint8Array.of(0x01)], /empty continuation/],
      [[Uint8Array.of(0x80, 0, 4, 1, 2), Uint8Array.of(0xc0, 9)], /new message started before/],
    ];
    for (const [frags, re] of cases) {
      const r = new Reassembler();
      const errs = errors(feed(r, frags));
      expect(errs.length, String(re)).toBeGreaterThan(0);
      expect(errs[0]!.message).toMatch(re);
      expect(errs[0]).toBeInstanceOf(RemoteError);
    }
  });

  it('sequence numbers wrap mod 16 in long messages', () => {
    const m = Uint8Array.from({ length: 1000 }, (_, i) => i & 0xff);
    const frags = fragmentMessage(m, 20); // 53 values
    expect(frags.length).toBeGreaterThan(32);
    expect(frags[16]![0]! & 0x0f).toBe(0);
    expect(messages(feed(new Reassembler(), frags))).toEqual([m]);
  });
});

describe('partial-message timeout (caller clock)', () => {
  it('drops a stalled partial message and the next message works', () => {
    fc.assert(
      fc.property(arbMtu, fc.integer({ min: 1, max: 5000 }), fc.integer({ min: 0, max: 10_000 }), (mtu, timeout, gap) => {
        const vs = valueSizeForMtu(mtu);
        const m = new Uint8Array(vs + 10).fill(3);
        const frags = fragmentMessage(m, vs);
        const r = new Reassembler({ partialTimeoutMs: timeout });
        expect(r.deadline).toBeUndefined();
        expect(r.push(frags[0]!, 100)).toEqual([]);
        expect(r.deadline).toBe(100 + timeout);
        const out = feed(r, frags.slice(1), 100 + gap);
        if (gap < timeout) {
          expect(messages(out)).toEqual([m]);
        } else {
          expect(errors(out).map((e) => e.message.match(/timed out/) !== null)).toEqual([true]);
          expect(messages(out)).toEqual([]);
        }
        const next = Uint8Array.of(9, 9);
        expect(messages(feed(r, fragmentMessage(next, vs), 100 + gap))).toEqual([next]);
      }),
      { numRuns: 300 },
    );
  });

  it('measures from the last fragment, so a slow but steady sender is not cut off', () => {
    const m = new Uint8Array(200).fill(1);
    const frags = fragmentMessage(m, 20);
    const r = new Reassembler({ partialTimeoutMs: 100 });
    const out = frags.flatMap((f, i) => r.push(f, i * 90));
    expect(messages(out)).toEqual([m]);
  });

  it('expire(now) lets a timer drop the partial message without a new fragment', () => {
    const r = new Reassembler({ partialTimeoutMs: 50 });
    r.push(Uint8Array.of(0x80, 0, 30, 1, 2), 0);
    expect(r.expire(49)).toBeUndefined();
    const err = r.expire(50);
    expect(err).toBeInstanceOf(RemoteError);
    expect(err?.code).toBe('ERR_DECODE');
    expect(r.pendingBytes).toBe(0);
    expect(r.expire(1000)).toBeUndefined();
    // a late continuation of the dropped message is ignored, the next message works
    expect(r.push(Uint8Array.of(0x01, 3), 60)).toEqual([]);
    expect(messages(r.push(Uint8Array.of(0xc0, 7), 61))).toEqual([Uint8Array.of(7)]);
  });
});

describe('GATT info value', () => {
  it('round-trips and tolerates appended bytes', () => {
    const info = { framingVersion: 1, maxMessageSize: 1024, protocolVersions: [1, 0x0102] };
    const enc = encodeGattInfo(info);
    expect([...enc]).toEqual([1, 4, 0, 2, 0, 1, 1, 2]);
    expect(decodeGattInfo(enc)).toEqual(info);
    expect(decodeGattInfo(Uint8Array.of(...enc, 0xff))).toEqual(info);
  });
  it('rejects truncated values', () => {
    expect(() => decodeGattInfo(Uint8Array.of(1, 4, 0))).toThrow(RemoteError);
    expect(() => decodeGattInfo(Uint8Array.of(1, 4, 0, 2, 0, 1))).toThrow(RemoteError);
    expect(() => decodeGattInfo(Uint8Array.of(1, 0, 0, 0))).toThrow(RemoteError);
  });
});

// ---------------------------------------------------------------------------------------------
// FramedLink

function framedPair(opts: { mtuA?: number; mtuB?: number; closeOnFramingError?: boolean } = {}) {
  const log: { from: 'a' | 'b'; frag: Uint8Array }[] = [];
  const closes: string[] = [];
  let b!: FramedLink;
  const a: FramedLink = new FramedLink({
    valueSize: valueSizeForMtu(opts.mtuA ?? 23),
    writeFragment: async (frag) => {
      log.push({ from: 'a', frag });
      queueMicrotask(() => b.deliver(frag));
    },
    onClose: (i) => {
      closes.push(`a:${i.by}`);
      b.terminate('remote', i.reason);
    },
    closeOnFramingError: opts.closeOnFramingError,
  });
  b = new FramedLink({
    valueSize: () => valueSizeForMtu(opts.mtuB ?? 23),
    writeFragment: async (frag) => {
      log.push({ from: 'b', frag });
      queueMicrotask(() => a.deliver(frag));
    },
    onClose: (i) => {
      closes.push(`b:${i.by}`);
      a.terminate('remote', i.reason);
    },
    closeOnFramingError: opts.closeOnFramingError,
  });
  return { a, b, log, closes };
}

describe('FramedLink', () => {
  it('sends the bytes a message had when send() was called, also for a Node Buffer the caller reuses at once', async () => {
    const { a, b } = framedPair({ mtuA: 23, mtuB: 23 });
    const first = a.send(new Uint8Array(300).fill(1)); // many fragments: the next message waits its turn
    const reused = Buffer.from([1, 2, 3, 4]);
    const second = a.send(reused);
    reused.fill(0); // e.g. a pooled buffer, refilled before the queue reaches this message
    await Promise.all([first, second]);
    expect((await b.receive()).length).toBe(300);
    expect(await b.receive()).toEqual(new Uint8Array([1, 2, 3, 4]));
  });

  it('carries whole messages both ways as MTU-sized fragments', async () => {
    const { a, b, log } = framedPair({ mtuA: 23, mtuB: 185 });
    const m1 = Uint8Array.from({ length: 500 }, (_, i) => i & 0xff);
    const m2 = Uint8Array.from({ length: 300 }, (_, i) => (i * 3) & 0xff);
    await a.send(m1);
    await b.send(m2);
    expect(await b.receive({ timeoutMs: 1000 })).toEqual(m1);
    expect(await a.receive({ timeoutMs: 1000 })).toEqual(m2);
    expect(log.filter((l) => l.from === 'a').every((l) => l.frag.length <= 20)).toBe(true);
    expect(log.filter((l) => l.from === 'b').every((l) => l.frag.length <= 182)).toBe(true);
    expect(log.filter((l) => l.from === 'b')).toHaveLength(2);
  });

  it('never interleaves the fragments of concurrent sends', async () => {
    const { a, b } = framedPair();
    const ms = [0, 1, 2, 3, 4].map((k) => new Uint8Array(60 + k).fill(k));
    await Promise.all(ms.map((m) => a.send(m)));
    for (const m of ms) expect(await b.receive({ timeoutMs: 1000 })).toEqual(m);
  });

  it('refuses a message above the maximum with LocalError, without closing', async () => {
    const { a } = framedPair();
    await expect(a.send(new Uint8Array(DEFAULT_MAX_MESSAGE_SIZE + 1))).rejects.toBeInstanceOf(LocalError);
    expect(a.isClosed).toBe(false);
  });

  it('a write that never completes yields TimeoutError within the bound and closes the link', async () => {
    const closed: string[] = [];
    const link = new FramedLink({
      valueSize: 20,
      writeFragment: () => new Promise(() => {}),
      writeTimeoutMs: 50,
      onClose: (i) => closed.push(i.by),
    });
    const t = Date.now();
    await expect(link.send(new Uint8Array(5))).rejects.toBeInstanceOf(TimeoutError);
    expect(Date.now() - t).toBeLessThan(1000);
    expect(link.isClosed).toBe(true);
    expect(closed).toEqual(['transport']);
    await expect(link.send(new Uint8Array(5))).rejects.toBeInstanceOf(LinkClosedError);
    await expect(link.receive()).rejects.toBeInstanceOf(LinkClosedError);
  });

  it('a write that never settles ends as soon as the link closes (the peer left), with LinkClosedError, not after the write timeout', async () => {
    const link = new FramedLink({ valueSize: 20, writeFragment: () => new Promise(() => {}), writeTimeoutMs: 5_000 });
    const sending = link.send(new Uint8Array(5)).catch((e: unknown) => e);
    setTimeout(() => link.terminate('remote', 'car disconnected'), 20);
    const t = Date.now();
    expect(await sending).toMatchObject({ name: 'LinkClosedError', message: 'link closed (remote): car disconnected' });
    expect(Date.now() - t).toBeLessThan(1_000);
  });

  it('messages that arrived before the peer closed are still read, then the close; a local close drops them', async () => {
    const whole = (n: number) => fragmentMessage(Uint8Array.of(n, n), 20)[0]!;
    const link = new FramedLink({ valueSize: 20, writeFragment: async () => {} });
    link.deliver(whole(1));
    link.deliver(whole(2));
    link.terminate('remote', 'car hung up');
    expect(Array.from(await link.receive())).toEqual([1, 1]);
    expect(Array.from(await link.receive())).toEqual([2, 2]);
    await expect(link.receive()).rejects.toMatchObject({ message: 'link closed (remote): car hung up' });
    const local = new FramedLink({ valueSize: 20, writeFragment: async () => {} });
    local.deliver(whole(3));
    local.close();
    await expect(local.receive()).rejects.toBeInstanceOf(LinkClosedError);
  });

  it(`a peer that sends more than ${MAX_QUEUED_MESSAGES} messages nobody reads closes the link (transport) instead of buffering them`, async () => {
    const closed: string[] = [];
    const link = new FramedLink({ valueSize: 20, writeFragment: async () => {}, onClose: (i) => closed.push(`${i.by}: ${i.reason}`) });
    for (let i = 0; i < MAX_QUEUED_MESSAGES; i++) link.deliver(fragmentMessage(Uint8Array.of(i), 20)[0]!);
    expect(link.isClosed).toBe(false);
    link.deliver(fragmentMessage(Uint8Array.of(99), 20)[0]!);
    await link.closed;
    expect(closed).toEqual([`transport: more than ${MAX_QUEUED_MESSAGES} messages arrived unread`]);
    for (let i = 0; i < MAX_QUEUED_MESSAGES; i++) expect(Array.from(await link.receive())).toEqual([i]); // what came before is kept
    await expect(link.receive()).rejects.toBeInstanceOf(LinkClosedError);
  });

  it('a failing write closes the link with LinkClosedError', async () => {
    const link = new FramedLink({
      valueSize: 20,
      writeFragment: async () => {
        throw new Error('ATT error 0x0e');
      },
    });
    await expect(link.send(new Uint8Array(5))).rejects.toThrow(/ATT error 0x0e/);
    expect(link.closeInfo?.by).toBe('transport');
  });

  it('abort before the first fragment rejects without closing; abort mid-message closes', async () => {
    let release!: () => void;
    const writes: Uint8Array[] = [];
    const link = new FramedLink({
      valueSize: 20,
      writeFragment: (f) => {
        writes.push(f);
        return new Promise<void>((r) => (release = r));
      },
    });
    const ac = new AbortController();
    ac.abort();
    await expect(link.send(new Uint8Array(5), { signal: ac.signal })).rejects.toBeInstanceOf(AbortedError);
    expect(link.isClosed).toBe(false);
    expect(writes).toHaveLength(0);
    const ac2 = new AbortController();
    const p = link.send(new Uint8Array(100), { signal: ac2.signal });
    await vi.waitFor(() => expect(writes).toHaveLength(1));
    ac2.abort();
    await expect(p).rejects.toBeInstanceOf(AbortedError);
    expect(link.isClosed).toBe(true);
    release();
  });

  it('a framing error closes the link by default (the peer sees it closed)', async () => {
    const { a, b, closes } = framedPair();
    b.deliver(Uint8Array.of(0x05, 1, 2));
    expect(b.closeInfo?.by).toBe('transport');
    expect(b.closeInfo?.reason).toMatch(/continuation fragment without a first fragment/);
    expect((await a.closed).by).toBe('remote');
    expect(closes).toEqual(['b:transport', 'a:remote']);
  });

  it('with closeOnFramingError: false it reports and recovers', async () => {
    const seen: RemoteError[] = [];
    const link = new FramedLink({ valueSize: 20, writeFragment: async () => {}, closeOnFramingError: false, onFramingError: (e) => seen.push(e) });
    link.deliver(Uint8Array.of(0x05, 1, 2));
    link.deliver(Uint8Array.of(0xc0, 42));
    expect(await link.receive({ timeoutMs: 100 })).toEqual(Uint8Array.of(42));
    expect(seen.map((e) => e.code)).toEqual(['ERR_DECODE']);
    expect(link.isClosed).toBe(false);
  });

  it('drops a stalled partial message on its own timer (injected clock + fake timers)', async () => {
    vi.useFakeTimers();
    try {
      const seen: RemoteError[] = [];
      const link = new FramedLink({
        valueSize: 20,
        writeFragment: async () => {},
        partialTimeoutMs: 1000,
        closeOnFramingError: false,
        onFramingError: (e) => seen.push(e),
      });
      link.deliver(Uint8Array.of(0x80, 0, 30, 1, 2));
      await vi.advanceTimersByTimeAsync(999);
      expect(seen).toHaveLength(0);
      await vi.advanceTimersByTimeAsync(1);
      expect(seen.map((e) => e.message)).toEqual([expect.stringMatching(/timed out after 1000 ms/)]);
      link.deliver(Uint8Array.of(0xc0, 1));
      expect(await link.receive()).toEqual(Uint8Array.of(1));
      link.close();
    } finally {
      vi.useRealTimers();
    }
  });

  it('terminate() rejects waiting receivers with LinkClosedError', async () => {
    const { a } = framedPair();
    const p = a.receive();
    a.terminate('transport', 'supervision timeout');
    await expect(p).rejects.toThrow(/supervision timeout/);
    expect(a.closeInfo).toEqual({ by: 'transport', reason: 'supervision timeout' });
  });
});
