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
export function controlHandler(car: VehicleService, openPairing: (by: string) => Promise<OpenedPairing>) {
  return async (req: ControlRequest): Promise<Record<string, unknown>> => {
    switch (req.op) {
      case 'pair':
        return openPairing('`proxkey car pair`');
      case 'keys':
        return { all: keySummary(await car.registry.list()) };
      case 'revoke': {
        const revoked = await car.revoke(req.target, 'local', { ...(req.cascade && { cascade: true }) });
        // Answered once its audit line is on disk too, as from the files. The revocation itself is
        // durable already: an audit write that fails does not make it a failure.
        const audit = await car.flushAudit().then(
          () => undefined,
          (e: unknown) => `the revocation is saved, but its audit entry could not be written (${messageOf(e)})`,
        );
        return { ...revoked, ...(audit && { warning: audit }) };
      }
      case 'audit':
        return { entries: await car.audit() };
      case 'status':
        return { name: car.name, carId: car.carId, pairing: car.pairingStatus, keys: (await car.registry.list()).length };
    }
  };
}
