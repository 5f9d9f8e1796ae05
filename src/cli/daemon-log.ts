/**
 * What the car daemon prints (to the journal under systemd): one line per decision, pairing event
 * and revocation, or one JSON object per line with `--json`. Built from the events VehicleService
 * already emits (`onEvent`) and the audit entries it appends (observed at the store).
 */
import type { AuditEntry } from '../keys/state.js';
import type { PairingModeStatus } from '../keys/pairing-mode.js';
import { FileVehicleStore } from '../node/file-stores.js';
import { commandName } from '../protocol/commands.js';
import type { VehicleEvent } from '../transport/vehicle-event.js';
import type { Ui } from './ui.js';

/** A file store that also reports each audit entry as it is appended. */
export class ObservedVehicleStore extends FileVehicleStore {
  constructor(
    dir: string,
    private readonly onAudit: (entry: AuditEntry) => void,
  ) {
    super(dir);
  }

  override async appendAudit(entry: AuditEntry): Promise<void> {
    await super.appendAudit(entry);
    try {
      this.onAudit(entry);
    } catch {
      /* a log line must never fail a durable write */
    }
  }
}

/** A line for a session event (decisions, shared keys enrolled, rejected input). */
export function logSessionEvent(ui: Ui, e: VehicleEvent, keyId: string | undefined): void {
  if (e.type === 'decision') {
    const command = e.command ? commandName(e.command) : null;
    ui.result(
      { event: 'decision', keyId: e.keyId, command, result: e.result, rttMs: Math.round(e.rttMs) },
      `  ${e.keyId} ${command ?? '?'} → ${e.result} (rtt ${Math.round(e.rttMs)} ms)`,
    );
  } else if (e.type === 'enrolled') ui.result({ event: 'enrolled', keyId: e.key.id }, `  enrolled shared key ${e.key.id} (grant from ${e.key.issuerKeyId})`);
  else if (e.type === 'error') ui.info(`  rejected input from ${keyId ?? 'a phone'}: ${e.error.message}`);
}

/** A line for the audit entries a person looks for in the journal: pairing results and revocations. */
export function logAuditEntry(ui: Ui, e: AuditEntry): void {
  if (e.event === 'pairing' && e.result === 'ok')
    ui.result({ event: 'paired', keyId: e.keyId, label: e.detail ?? '' }, `  paired a new owner phone: key ${e.keyId}${e.detail ? ` ("${e.detail}")` : ''}`);
  else if (e.event === 'pairing') ui.result({ event: 'pairing-failed', detail: e.detail ?? '' }, `  pairing attempt failed: ${e.detail ?? 'wrong code'}`);
  else if (e.event === 'revoke') ui.result({ event: 'revoked', keyId: e.keyId, detail: e.detail ?? '' }, `  revoked key ${e.keyId || '?'} (${e.detail ?? ''})`);
}

/** Why pairing mode ended, in words; undefined while it is open (or when a new one replaced it). */
export function pairingEndText(status: PairingModeStatus | 'closed', ttlSeconds: number): string | undefined {
  switch (status) {
    case 'paired':
      return 'pairing mode closed: a phone paired';
    case 'exhausted':
      return 'pairing mode closed: too many wrong codes (open it again to retry)';
    case 'expired':
      return `pairing mode expired: nobody paired within ${ttlSeconds} s`;
    case 'active':
    case 'claimed':
    case 'cancelled':
    case 'closed':
      return undefined;
  }
}

/** `car status` words for the pairing state. */
export function pairingStateText(status: string): string {
  switch (status) {
    case 'active':
      return 'pairing mode open';
    case 'paired':
      return 'pairing mode closed (a phone paired)';
    case 'exhausted':
      return 'pairing mode closed (too many wrong codes)';
    case 'expired':
      return 'pairing mode expired';
    case 'claimed':
      return 'pairing mode closed (a phone is completing pairing)';
    default:
      return 'not in pairing mode';
  }
}
