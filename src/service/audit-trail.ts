/**
 * The car's audit trail: entries appended to the store in order, off the unlock's critical path
 * (no fsync between command and result), flushed before a connection's `serve` resolves.
 * Entries caused by peers without a valid key are rate-limited (`AuditLimiter`); a failed append
 * is kept and rethrown by the next `flush`.
 */
import { ProxkeyError } from '../errors.js';
import { AuditLimiter, type AuditLimiterOptions } from '../keys/audit-limiter.js';
import type { AuditEntry } from '../keys/state.js';
import type { VehicleStore } from '../keys/store.js';
import { commandName } from '../protocol/commands.js';
import type { VehicleEvent } from '../transport/vehicle-event.js';

export class AuditTrail {
  readonly #store: VehicleStore;
  readonly #now: () => number;
  readonly #limiter: AuditLimiter;
  #tail: Promise<void> = Promise.resolve();
  #error: unknown;

  constructor(store: VehicleStore, now: () => number, limits?: AuditLimiterOptions) {
    this.#store = store;
    this.#now = now;
    this.#limiter = new AuditLimiter(limits);
  }

  /**
   * Queue an entry; `unauthenticated` ones (caused by a peer that holds no valid key: by default
   * failed pairings) are rate-limited.
   */
  log(entry: AuditEntry, unauthenticated = entry.event === 'pairing' && entry.result !== 'ok'): void {
    for (const e of this.#limiter.admit(entry, this.#now(), unauthenticated))
      this.#tail = this.#tail
        .then(() => this.#store.appendAudit(e))
        .catch((err: unknown) => {
          this.#error ??= err;
        });
  }

  /** A session's decision or enrollment; `trusted`: the session's key was valid (never rate-limited). */
  record(e: VehicleEvent, trusted: boolean): void {
    if (e.type === 'decision')
      this.log(
        {
          at: e.at,
          event: 'command',
          keyId: e.keyId,
          ...(e.command && { command: commandName(e.command) }),
          result: e.result,
          rttMs: Math.round(e.rttMs * 10) / 10,
          intent: e.intent,
          ...(e.proximity && { proximity: e.proximity.zone }),
          ...(e.ranging && { ranging: e.ranging.ok }),
        },
        !trusted,
      );
    else if (e.type === 'enrolled')
      this.log({ at: this.#now(), event: 'enroll', keyId: e.key.id, result: 'ok', detail: `grant ${e.key.grantId} from ${e.key.issuerKeyId}` });
  }

  /**
   * Wait until every entry so far is durable; rethrows the first append failure. `final` (at
   * shutdown, and when the log is read) also writes the pending count of suppressed entries.
   */
  async flush(options: { readonly final?: boolean } = {}): Promise<void> {
    if (options.final) {
      const summary = this.#limiter.takeSummary(this.#now());
      if (summary) this.log(summary);
    }
    await this.#tail;
    if (this.#error) {
      const e = this.#error;
      this.#error = undefined;
      throw e instanceof Error ? e : new ProxkeyError('ERR_INTERNAL', `audit append failed: ${String(e)}`);
    }
  }
}

/** The time of the newest audit entry (part of the clock floor); 0 when there is none or it cannot be read. */
export async function lastAuditTime(store: VehicleStore): Promise<number> {
  try {
    const entries = await store.readAudit();
    return entries.reduce((t, e) => Math.max(t, e.at), 0);
  } catch {
    return 0;
  }
}
