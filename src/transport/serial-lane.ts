/**
 * A FIFO lane: work submitted runs one at a time, in order. The car runs every connection's
 * handshake crypto through one lane, so under a flood each handshake finishes as soon as its
 * turn comes instead of all of them interleaving and finishing late.
 */
export function createSerialLane(): <T>(work: () => Promise<T>) => Promise<T> {
  let tail: Promise<unknown> = Promise.resolve();
  return <T>(work: () => Promise<T>): Promise<T> => {
    const run = tail.then(work);
    tail = run.catch(() => undefined);
    return run;
  };
}
