/** The byte-stream binding: u16 length ‖ message, any chunking, bounded buffering. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { StreamLink, type Link } from '../../src/index.js';
import { MAX_QUEUED_MESSAGES } from '../../src/transport/message-queue.js';
import { connectSocketLink, listenSocketLinks } from '../../src/node/index.js';

function pair(): { a: StreamLink; b: StreamLink; wire: Uint8Array[]; ended: string[] } {
  const wire: Uint8Array[] = [];
  const ended: string[] = [];
  const a = new StreamLink({ write: (bytes) => void wire.push(bytes), end: (r) => ended.push(`a:${r}`) });
  const b = new StreamLink({ write: () => undefined, end: (r) => ended.push(`b:${r}`) });
  return { a, b, wire, ended };
}

describe('StreamLink', () => {
  it('keeps its own copy of what it received, also from a Node Buffer the stream reuses for its next chunk', async () => {
    const { b } = pair();
    const chunk = Buffer.from([0, 2, 7, 8, 0, 3, 9]); // one message, and the start of the next
    b.deliver(chunk);
    chunk.fill(0xee); // a stream's pooled chunk buffer, refilled
    b.deliver(Uint8Array.of(10, 11));
    expect(await b.receive({ timeoutMs: 100 })).toEqual(Uint8Array.of(7, 8));
    expect(await b.receive({ timeoutMs: 100 })).toEqual(Uint8Array.of(9, 10, 11));
  });

  it(`more than ${MAX_QUEUED_MESSAGES} unread messages in one chunk end the stream (the peer is dropped), once`, async () => {
    const { b, ended } = pair();
    const frames = new Uint8Array((MAX_QUEUED_MESSAGES + 2) * 3);
    for (let i = 0; i < MAX_QUEUED_MESSAGES + 2; i++) frames.set([0, 1, i], i * 3);
    b.deliver(frames);
    expect(b.isClosed).toBe(true);
    expect(ended).toEqual([`b:more than ${MAX_QUEUED_MESSAGES} messages arrived unread`]);
    b.close();
    expect(ended).toHaveLength(1);
    expect(await b.receive()).toEqual(Uint8Array.of(0)); // what came first is still read
  });

  it('frames each message as u16 BE length ‖ bytes', async () => {
    const { a, wire } = pair();
    await a.send(Uint8Array.of(1, 2, 3));
    expect([...wire[0]!]).toEqual([0, 3, 1, 2, 3]);
  });

  it('reassembles any chunking of any sequence of messages', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.uint8Array({ minLength: 1, maxLength: 1024 }), { minLength: 1, maxLength: 8 }),
        fc.integer({ min: 1, max: 50 }),
        async (messages, chunk) => {
          const { a, b, wire } = pair();
          for (const m of messages) await a.send(m);
          const all = Uint8Array.from(wire.flatMap((w) => [...w]));
          for (let i = 0; i < all.length; i += chunk) b.deliver(all.subarray(i, i + chunk));
          for (const m of messages) expect(await b.receive({ timeoutMs: 100 })).toEqual(m);
        },
      ),
      { numRuns: 50 },
    );
  });

  it.each([
    ['a zero length', [0, 0]],
    ['a length above 1024', [0x04, 0x01]],
  ])('closes on %s without buffering', async (_what, header) => {
    const { b, ended } = pair();
    b.deliver(Uint8Array.from(header));
    expect(b.isClosed).toBe(true);
    expect(ended).toEqual([expect.stringMatching(/^b:stream framing/)]);
    await expect(b.receive()).rejects.toMatchObject({ code: 'ERR_LINK_CLOSED' });
    expect((await b.closed).by).toBe('transport');
  });

  it('refuses to send an empty or oversized message', async () => {
    const { a } = pair();
    await expect(a.send(new Uint8Array(0))).rejects.toMatchObject({ code: 'ERR_LINK_CLOSED' });
    await expect(a.send(new Uint8Array(1025))).rejects.toMatchObject({ code: 'ERR_LINK_CLOSED' });
  });

  it('runs over a real unix socket, and a closed peer closes the link', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'proxkey-stream-'));
    const path = join(dir, 's.sock');
    const accepted: Link[] = [];
    const server = await listenSocketLinks(path, (l) => accepted.push(l));
    try {
      const client = await connectSocketLink(path);
      await client.send(Uint8Array.of(9, 8, 7));
      await new Promise((r) => setTimeout(r, 20));
      expect(await accepted[0]!.receive({ timeoutMs: 1_000 })).toEqual(Uint8Array.of(9, 8, 7));
      client.close();
      expect((await accepted[0]!.closed).by).toBe('remote');
    } finally {
      server.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
