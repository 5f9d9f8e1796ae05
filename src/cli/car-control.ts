/** What the running car daemon answers on its control socket (`proxkey car pair|keys|revoke|audit|status`). */
import { messageOf } from '../errors.js';
import type { KeyRecord } from '../keys/key-record.js';
import type { VehicleService } from '../service/vehicle-service.js';
import type { OpenedPairing } from './car-pairing-mode.js';
import type { ControlRequest } from './control.js';

/** The keys as the CLI shows them (no key material). */
export const keySummary = (keys: readonly KeyRecord[]) =>
  keys.map((k) => ({ id: k.id, role: k.role, label: k.label ?? '', permissions: k.permissions, revoked: !!k.revoked }));

/** The control socket's handler: one answer per request, errors thrown (the socket sends their code). */
/**
 * A local revocation (`proxkey car revoke`, on the socket or the files), answered once its audit
 * line is on disk too (`final`: this process exits next). The revocation itself is durable
 * already: an audit write that fails adds a warning, it does not make the revoke a failure.
 */
export async function revokeLocally(car: VehicleService, target: string, cascade: boolean, final = false): Promise<Record<string, unknown>> {
  const revoked = await car.revoke(target, 'local', { ...(cascade && { cascade: true }) });
  const warning = await car.flushAudit({ final }).then(
    () => undefined,
    (e: unknown) => `the revocation is saved, but its audit entry could not be written (${messageOf(e)})`,
  );
  return { ...revoked, ...(warning && { warning }) };
}

export function controlHandler(car: VehicleService, openPairing: (by: string) => Promise<OpenedPairing>) {
  return async (req: ControlRequest): Promise<Record<string, unknown>> => {
    switch (req.op) {
      case 'pair':
        return openPairing('`proxkey car pair`');
      case 'keys':
        return { all: keySummary(await car.registry.list()) };
      case 'revoke':
        return revokeLocally(car, req.target, req.cascade === true);
      case 'audit':
        return { entries: await car.audit() };
      case 'status':
        return { name: car.name, carId: car.carId, pairing: car.pairingStatus, keys: (await car.registry.list()).length };
    }
  };
}
