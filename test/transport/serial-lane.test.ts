/** The handshake lane: one at a time, newest waiting first, bounded. */
import { describe, expect, it } from 'vitest';
import { createSerialLane } from '../../src/transport/serial-lane.js';

const tick = () => new Promise((r) => setTimeout(r, 5));

describe('handshake lane', () => {
  it('runs one job at a time and the newest waiting one next', async () => {
    const lane = createSerialLane();
    const order: string[] = [];
    let running = 0;
    let max = 0;
    const job = (name: string) =>
      lane(async () => {
        running++;
        max = Math.max(max, running);
        order.push(name);
        await tick();
        running--;
        return name;
      });
    const all = [job('first'), job('a'), job('b'), job('newest')];
    expect(await Promise.all(all)).toEqual(['first', 'a', 'b', 'newest']);
    expect(order).toEqual(['first', 'newest', 'b', 'a']);
    expect(max).toBe(1);
  });

  it('a failing job does not stop the lane', async () => {
    const lane = createSerialLane();
    const bad = lane(() => Promise.reject(new Error('boom')));
    const good = lane(async () => 'ok');
    await expect(bad).rejects.toThrow('boom');
    await expect(good).resolves.toBe('ok');
  });

  it('refuses the oldest waiting job beyond maxWaiting', async () => {
    const lane = createSerialLane({ maxWaiting: 2 });
    const running = lane(tick);
    const oldest = lane(async () => 'oldest');
    const mid = lane(async () => 'mid');
    const newest = lane(async () => 'newest');
    await expect(oldest).rejects.toMatchObject({ code: 'ERR_LINK_CLOSED' });
    await running;
    expect(await Promise.all([mid, newest])).toEqual(['mid', 'newest']);
  });
});
