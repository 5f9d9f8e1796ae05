/**
 * Keeps what an unauthenticated peer can write to the car's audit log bounded.
 *
 * The caller says which entries are unauthenticated: caused by a peer that holds no valid key
 * (a stranger's handshake, a revoked or expired key, a grant that does not redeem, a failed
 * pairing, a pairing attempt while pairing is closed). Those pass at most `burst` per
 * `windowMs`; the rest are counted, and the first entry after the window closes (or `takeSummary`) is
 * preceded by one `suppressed` summary (how many, of what). Every other entry always passes.
 * Pure: time is passed in.
 */
import type { AuditEntry } from './state.js';

export interface AuditLimiterOptions {
  /** Unauthenticated entries written per window. Default 10. */
  readonly burst?: number;
  /** Window length (ms). Default 60 000. */
  readonly windowMs?: number;
}

export const AUDIT_PROBE_BURST = 10;
export const AUDIT_PROBE_WINDOW_MS = 60_000;

export class AuditLimiter {
  readonly #burst: number;
  readonly #windowMs: number;
  #windowStart = -Infinity;
  #written = 0;
  #suppressed = new Map<string, number>();

  constructor(options: AuditLimiterOptions = {}) {
    this.#burst = options.burst ?? AUDIT_PROBE_BURST;
    this.#windowMs = options.windowMs ?? AUDIT_PROBE_WINDOW_MS;
  }

  /** The entries to write for `entry` at `now`: possibly a summary first, possibly none. */
  admit(entry: AuditEntry, now: number, unauthenticated: boolean): AuditEntry[] {
    if (!unauthenticated) return [entry];
    const out: AuditEntry[] = [];
    if (now - this.#windowStart >= this.#windowMs) {
      const summary = this.takeSummary(now);
      if (summary) out.push(summary);
      this.#windowStart = now;
      this.#written = 0;
    }
    if (this.#written < this.#burst) {
      this.#written++;
      out.push(entry);
    } else {
      const kind = `${entry.event}:${entry.result}`;
      this.#suppressed.set(kind, (this.#suppressed.get(kind) ?? 0) + 1);
    }
    return out;
  }

  /** The pending summary of suppressed entries (and forget them), if any. */
  takeSummary(now: number): AuditEntry | undefined {
    if (this.#suppressed.size === 0) return undefined;
    let total = 0;
    const parts: string[] = [];
    for (const [kind, n] of this.#suppressed) {
      total += n;
      parts.push(`${n} ${kind}`);
    }
    this.#suppressed = new Map();
    return { at: now, event: 'suppressed', keyId: '', result: String(total), detail: `unauthenticated entries not logged: ${parts.join(', ')}` };
  }
}
