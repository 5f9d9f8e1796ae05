/**
 * `--self`: proxkey's own roles served over the byte-stream binding on a unix socket in a temp
 * directory, exactly as a foreign implementation would be (docs/CONFORMANCE.md "Setup contract").
 */
import { mkdtempSync, rmSync } from 'node:fs';
import type { Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MemoryVehicleStore } from '../keys/store.js';
import { nodeCrypto } from '../node/node-crypto.js';
import { listenSocketLinks } from '../node/socket-link.js';
import { defaultPolicy } from '../policy/default-policy.js';
import { VehicleService } from '../service/vehicle-service.js';
import { servePhoneUnderTest } from './conformance-phone-under-test.js';
import { freshPhone } from './conformance-wallets.js';

export interface SelfTarget {
  /** `unix:<path>` of the served role. */
  readonly connect: string;
  /** The car's pairing code (role car). */
  readonly code?: string;
  readonly close: () => Promise<void>;
}

function socketDir(): { path: string; remove: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'proxkey-conformance-'));
  return { path: join(dir, 'peer.sock'), remove: () => rmSync(dir, { recursive: true, force: true }) };
}

const closeServer = (server: Server) => new Promise<void>((resolve) => server.close(() => resolve()));

/** proxkey's car in pairing mode, with the default policy and a no-op actuator. */
export async function serveSelfCar(options: { readonly maxCommands: number }): Promise<SelfTarget> {
  const car = await VehicleService.open({
    store: new MemoryVehicleStore(),
    crypto: nodeCrypto,
    name: 'proxkey conformance car',
    // no radio here: the relay bound measures radio round trips
    policy: defaultPolicy({ maxRttMs: Infinity }),
    actuator: () => undefined,
    session: { maxCommands: options.maxCommands },
  });
  const { code } = await car.openPairing();
  const dir = socketDir();
  const server = await listenSocketLinks(dir.path, (link) => void car.serve(link));
  return {
    connect: `unix:${dir.path}`,
    code,
    close: async () => {
      await closeServer(server);
      dir.remove();
    },
  };
}

/** proxkey's phone obeying the runner's directives. */
export async function serveSelfPhone(options: { readonly timeoutMs: number }): Promise<SelfTarget> {
  const phone = await freshPhone('proxkey conformance phone');
  const dir = socketDir();
  const server = await listenSocketLinks(dir.path, (link) => void servePhoneUnderTest(phone, link, options));
  return {
    connect: `unix:${dir.path}`,
    close: async () => {
      await closeServer(server);
      dir.remove();
    },
  };
}
