/**
 * The car's administrative commands from owners (`list-keys`, `revoke`, `advertising-secret`,
 * docs/PROTOCOL.md §11.3): answered with their real outcome once durable. No actuator bound: a
 * slow disk delays the answer, it never turns a committed revoke into a failure.
 */
import { LocalError } from '../errors.js';
import { encodeKeyList } from '../keys/key-list.js';
import { RevokerNotActiveError, type LocalRevokeOptions } from '../keys/key-registry.js';
import type { KeyRecord } from '../keys/key-record.js';
import type { Command } from '../protocol/commands.js';
import type { ExecutionOutcome } from '../roles/vehicle-requests.js';

/** What the admin commands act on (the car). */
export interface AdminTarget {
  listKeys(): Promise<readonly KeyRecord[]>;
  advertisingSecret(): Uint8Array;
  revoke(target: string, by: string, options: LocalRevokeOptions): Promise<unknown>;
  /** An unexpected failure (not the caller's mistake). */
  reportError(e: unknown): void;
}

/** Run one admin command for `key` (already authorized by the policy). */
export async function runAdminCommand(car: AdminTarget, command: Command, key: KeyRecord): Promise<ExecutionOutcome> {
  switch (command.kind) {
    case 'list-keys':
      return { ok: true, data: encodeKeyList(await car.listKeys(), command.page ?? 0) };
    case 'advertising-secret':
      return { ok: true, data: car.advertisingSecret().slice() };
    case 'revoke':
      try {
        await car.revoke(command.target, key.id, { ...(command.cascade && { cascade: true }), revoker: key.id });
        return { ok: true };
      } catch (e) {
        if (e instanceof RevokerNotActiveError) return { ok: false, reason: 'revoked' };
        if (e instanceof LocalError) return { ok: false, reason: e.code === 'ERR_INVALID_ARGUMENT' ? 'unknown-key' : 'not-permitted' };
        car.reportError(e);
        return { ok: false, reason: 'internal-error' };
      }
    default:
      return { ok: false, reason: 'unsupported' };
  }
}
