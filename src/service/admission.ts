/**
 * Bounding the connections a car holds for peers that have not (yet) proved a valid key: at most
 * `maxUnauthenticated` at once; beyond it a new connection evicts one — the oldest that has been
 * connected longer than the grace period (a phone answers well within it), else the oldest. An
 * authenticated connection is never evicted.
 */

/** Default cap on concurrently unauthenticated connections. */
export const MAX_UNAUTHENTICATED_CONNECTIONS = 128;
/** Connections younger than this are evicted only when no older unauthenticated one exists. */
export const UNAUTHENTICATED_GRACE_MS = 1_000;

export interface AdmittedConnection {
  /** Aborted when the connection is evicted or the caller's signal aborts. */
  readonly control: AbortController;
  readonly since: number;
  /** Set once the peer holds a valid key (never evicted from then on). */
  trusted: boolean;
}

export class ConnectionAdmission {
  readonly #connections: AdmittedConnection[] = [];

  constructor(
    private readonly cap = MAX_UNAUTHENTICATED_CONNECTIONS,
    private readonly graceMs = UNAUTHENTICATED_GRACE_MS,
    private readonly clock: () => number = () => performance.now(),
  ) {}

  /** Register a connection (evicting beyond the cap); `release` when it ends (releasing again does nothing). */
  admit(signal: AbortSignal | undefined): { connection: AdmittedConnection; release: () => void } {
    const now = this.clock();
    const connection: AdmittedConnection = { control: new AbortController(), since: now, trusted: false };
    if (signal?.aborted) connection.control.abort(signal.reason);
    const onAbort = () => connection.control.abort(signal?.reason);
    signal?.addEventListener('abort', onAbort, { once: true });
    const release = () => {
      signal?.removeEventListener('abort', onAbort);
      const i = this.#connections.indexOf(connection);
      if (i >= 0) this.#connections.splice(i, 1); // a second release must not remove another connection
    };
    this.#connections.push(connection);
    this.#evictBeyondCap(now);
    return { connection, release };
  }

  #evictBeyondCap(now: number): void {
    const waiting = this.#connections.filter((c) => !c.trusted && !c.control.signal.aborted);
    const excess = waiting.length - this.cap;
    if (excess <= 0) return;
    const stale = waiting.filter((c) => now - c.since > this.graceMs);
    const young = waiting.filter((c) => now - c.since <= this.graceMs);
    for (const old of [...stale, ...young].slice(0, excess)) old.control.abort('evicted');
  }
}
