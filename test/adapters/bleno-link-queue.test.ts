/** The car peripheral's queue of subscribed phones: accept() order, closed links skipped, bounds, stop. */
import { describe, expect, it } from 'vitest';
import { LinkQueue } from '../../src/adapters/bleno/link-queue.js';
import type { PhoneLink } from '../../src/adapters/bleno/types.js';
import { LinkClosedError, TimeoutError } from '../../src/errors.js';

const phone = (name: string, closed = false) => ({ address: name, isClosed: closed }) as unknown as PhoneLink;

describe('LinkQueue', () => {
  it('hands links to waiting accepts first come first served, queues the rest, and skips links closed meanwhile', async () => {
    const q = new LinkQueue(undefined);
    const first = q.accept();
    const second = q.accept();
    q.offer(phone('a'));
    q.offer(phone('b'));
    q.offer(phone('gone', true));
    q.offer(phone('c'));
    expect([(await first).address, (await second).address]).toEqual(['a', 'b']);
    expect((await q.accept()).address).toBe('c');
  });

  it('an accept that timed out is not handed the next link', async () => {
    const q = new LinkQueue(undefined);
    await expect(q.accept({ timeoutMs: 5 })).rejects.toBeInstanceOf(TimeoutError);
    q.offer(phone('a'));
    expect((await q.accept({ timeoutMs: 100 })).address).toBe('a');
  });

  it('stopping fails waiting and later accepts; with onLink every link goes there', async () => {
    const q = new LinkQueue(undefined);
    const waiting = q.accept();
    q.close();
    q.rejectWaiters();
    await expect(waiting).rejects.toBeInstanceOf(LinkClosedError);
    await expect(q.accept()).rejects.toBeInstanceOf(LinkClosedError);
    const seen: string[] = [];
    const direct = new LinkQueue((l) => seen.push(l.address!));
    direct.offer(phone('x'));
    expect(seen).toEqual(['x']);
  });
});
