/**
 * The handshake lane: work submitted runs one at a time, **newest first**. The car runs every
 * connection's handshake crypto through one lane, so under a flood each handshake finishes as
 * soon as its turn comes instead of all of them interleaving and finishing late; and because the
 * newest waiting handshake goes next (adaptive LIFO), a phone that has just answered its
 * challenge is served right away instead of behind every handshake a flood queued earlier.
 * Handshakes the flood keeps waiting run out their own time bound (the phone's, and the car's
 * `handshakeTimeoutMs`). At most `maxWaiting` wait; beyond that the oldest waiting is refused.
 */
import { AbortedError, LinkClosedError } from '../errors.js';

/** Runs `work` in turn; a job whose `signal` aborted while it waited is dropped (never run). */
export type Lane = <T>(work: () => Promise<T>, signal?: AbortSignal) => Promise<T>;

export function createSerialLane(options: { readonly maxWaiting?: number } = {}): Lane {
  const maxWaiting = options.maxWaiting ?? 256;
  const waiting: { go: () => void; refuse: (e: Error) => void }[] = [];
  let busy = false;
  /** Resolves when it is this caller's turn. Awaited by the caller itself, so its work runs in
   * the caller's own async context (hooks that rely on it see their own connection). */
  const turn = () =>
    new Promise<void>((go, refuse) => {
      if (!busy) {
        busy = true;
        return go();
      }
      waiting.push({ go, refuse });
      if (waiting.length > maxWaiting) waiting.shift()?.refuse(new LinkClosedError('the car is overloaded: handshake dropped'));
    });
  const next = () => {
    const job = waiting.pop();
    if (job) job.go();
    else busy = false;
  };
  return async <T>(work: () => Promise<T>, signal?: AbortSignal): Promise<T> => {
    await turn();
    try {
      if (signal?.aborted) throw new AbortedError('handshake', signal.reason);
      return await work();
    } finally {
      next();
    }
  };
}
