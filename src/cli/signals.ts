/**
 * SIGTERM and SIGINT (Ctrl-C) stop the car the same clean way. The BLE stacks install their own
 * SIGINT handler that calls `process.exit(1)` when it is the last listener (both bleno families
 * do): this handler moves itself to the end of the list each time it runs, so theirs never is.
 * A second signal while stopping exits at once (130).
 */

export interface StopSignal {
  /** Resolves with the signal's name at the first SIGTERM/SIGINT. */
  readonly stopped: Promise<NodeJS.Signals>;
  /** Remove the handlers (after the daemon stopped). */
  dispose(): void;
}

const SIGNALS: readonly NodeJS.Signals[] = ['SIGTERM', 'SIGINT'];

export function stopSignal(onSecond: () => void = () => process.exit(130)): StopSignal {
  let resolveStopped!: (s: NodeJS.Signals) => void;
  const stopped = new Promise<NodeJS.Signals>((r) => (resolveStopped = r));
  let count = 0;
  const handler = (signal: NodeJS.Signals) => {
    // stay the last listener, so that a stack's "exit if I am last" handler does nothing
    for (const s of SIGNALS) {
      process.removeListener(s, handler);
      process.on(s, handler);
    }
    if (++count === 1) resolveStopped(signal);
    else onSecond();
  };
  for (const s of SIGNALS) process.on(s, handler);
  return {
    stopped,
    dispose: () => {
      for (const s of SIGNALS) process.removeListener(s, handler);
    },
  };
}
