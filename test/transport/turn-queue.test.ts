/** Turns in order: each waits for those before it; a holder that gives up early never blocks those behind. */
import { describe, expect, it } from 'vitest';
import { TurnQueue } from '../../src/transport/turn-queue.js';

describe('TurnQueue', () => {
  it('runs turns one at a time, in the order they were taken', async () => {
    const turns = new TurnQueue();
    const log: string[] = [];
    const run = async (name: string, ms: number) => {
      const { previous, release } = turns.take();
      await previous;
      log.push(`${name}+`);
      await new Promise((r) => setTimeout(r, ms));
      log.push(`${name}-`);
      release();
    };
    await Promise.all([run('a', 20), run('b', 0), run('c', 5)]);
    expect(log).toEqual(['a+', 'a-', 'b+', 'b-', 'c+', 'c-']);
  });

  it('a turn released before its own turn came (a holder that gave up) lets the next one through once the earlier ones end', async () => {
    const turns = new TurnQueue();
    const first = turns.take();
    const quitter = turns.take();
    quitter.release(); // gave up at once
    const last = turns.take();
    let lastRan = false;
    void last.previous.then(() => (lastRan = true));
    await new Promise((r) => setTimeout(r, 10));
    expect(lastRan).toBe(false); // still behind the first
    first.release();
    await last.previous;
    expect(lastRan).toBe(true);
  });
});
