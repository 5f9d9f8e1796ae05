/** A car (VehicleService) and phones (PhoneWallet) on in-memory links, with a settable clock. */
import {
  createMemoryLinkPair,
  deterministicRandom,
  MemoryPhoneStore,
  MemoryVehicleStore,
  PhoneWallet,
  VehicleService,
  type Actuator,
  type VehicleServiceOptions,
  type VehicleState,
  type VehicleStore,
} from '../../src/index.js';
import { FAST_SCRYPT } from '../helpers/scrypt.js';

export { FAST_SCRYPT };
export const T0 = 1_767_225_600_000; // 2026-01-01

export interface World {
  car: VehicleService;
  store: VehicleStore;
  clock: { t: number; mono: number };
  executed: string[];
  phone(name: string): Promise<PhoneWallet>;
  connect(): { link: ReturnType<typeof createMemoryLinkPair>[0]; served: ReturnType<VehicleService['serve']> };
  reopen(extra?: Partial<VehicleServiceOptions>): Promise<void>;
}

export async function world(options: { seed?: string; actuator?: Actuator; store?: VehicleStore; car?: Partial<VehicleServiceOptions> } = {}): Promise<World> {
  const seed = options.seed ?? 'hardening';
  const clock = { t: T0, mono: 0 };
  const executed: string[] = [];
  const store = options.store ?? new MemoryVehicleStore();
  const actuator: Actuator =
    options.actuator ??
    ((c) => {
      executed.push(c.kind);
    });
  const base = {
    store,
    random: deterministicRandom(`${seed}-car`),
    now: () => clock.t,
    monotonic: () => clock.mono,
    name: 'Test car',
    actuator,
    ...options.car,
  };
  const w: World = {
    car: await VehicleService.open(base),
    store,
    clock,
    executed,
    phone: (name) => PhoneWallet.open({ store: new MemoryPhoneStore(), random: deterministicRandom(`${seed}-${name}`), now: () => clock.t, label: name }),
    connect: () => {
      const [p, c] = createMemoryLinkPair();
      return { link: p, served: w.car.serve(c) };
    },
    reopen: async (extra = {}) => {
      w.car = await VehicleService.open({ ...base, ...extra });
    },
  };
  return w;
}

export async function pairOwner(w: World, name = 'owner'): Promise<PhoneWallet> {
  const owner = await w.phone(name);
  const { code } = await w.car.openPairing({ scrypt: FAST_SCRYPT });
  const { link, served } = w.connect();
  await owner.pair(link, code);
  await served;
  return owner;
}

/** A friend holding a share from `owner` (not yet redeemed). */
export async function shareTo(w: World, owner: PhoneWallet, name: string, grant: { notBefore?: number; notAfter?: number; permissions?: string[] } = {}) {
  const friend = await w.phone(name);
  const { share, grantId } = await owner.share(friend.keyRequest(name), { permissions: grant.permissions ?? ['unlock', 'lock', 'start'], ...grant });
  await friend.acceptShare(share);
  return { friend, grantId };
}

/** A memory store whose saves fail (with `code`, e.g. ENOSPC, EACCES) while `fail` is set. */
export class FailingSaveStore extends MemoryVehicleStore {
  fail = false;
  constructor(readonly code = 'ENOSPC') {
    super();
  }
  override async save(s: VehicleState): Promise<void> {
    if (this.fail) throw Object.assign(new Error(`${this.code}: simulated disk failure`), { code: this.code });
    return super.save(s);
  }
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
