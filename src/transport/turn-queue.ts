/**
 * Turns taken in order, one at a time: each holder waits for the turns before its own, then
 * releases its own — whether it used it or gave up — so those behind it are never blocked by a
 * holder that left. The car's one-action-at-a-time lock and a link's one-message-at-a-time send
 * both queue this way.
 */
export class TurnQueue {
  #tail: Promise<void> = Promise.resolve();

  /**
   * Take the next turn. `previous` resolves once every earlier turn has been released; call
   * `release` exactly once, when done or when giving up (at once is fine even before `previous`).
   */
  take(): { readonly previous: Promise<void>; readonly release: () => void } {
    let release!: () => void;
    const mine = new Promise<void>((resolve) => (release = resolve));
    const previous = this.#tail;
    this.#tail = previous.then(() => mine);
    return { previous, release };
  }
}
