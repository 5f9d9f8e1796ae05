/** Shared test fixture: a car and phones with deterministic keys over the in-memory link. */
import {
  createMemoryLinkPair,
  defaultPolicy,
  deterministicRandom,
  generateP256KeyPair,
  MemoryKeyRegistry,
  nobleCrypto,
  openPhoneSession,
  serveVehicleSession,
  softwareKey,
  type Command,
  type CommandInput,
  type KeyCustody,
  type Link,
  type Policy,
  type ServeSummary,
  type VehicleEvent,
  type CommandOptions,
} from '../../src/index.js';

export const crypto = nobleCrypto;

export async function makeIdentity(seed: string): Promise<KeyCustody> {
  const kp = await generateP256KeyPair(crypto, deterministicRandom(seed));
  return softwareKey(crypto, kp.secretKey);
}

export interface Car {
  identity: KeyCustody;
  keys: MemoryKeyRegistry;
  executed: { command: Command; keyId: string }[];
  events: VehicleEvent[];
  policy: Policy;
  serve(link: Link, extra?: Partial<Parameters<typeof serveVehicleSession>[1]>): Promise<ServeSummary>;
}

/** The relay bound is kept generous here: these tests run real crypto on a shared, loaded machine. */
export async function makeCar(seed = 'car', policy: Policy = defaultPolicy({ maxRttMs: 5_000 })): Promise<Car> {
  const identity = await makeIdentity(seed);
  const keys = new MemoryKeyRegistry(crypto);
  const car: Car = {
    identity,
    keys,
    executed: [],
    events: [],
    policy,
    serve: (link, extra = {}) =>
      serveVehicleSession(link, {
        crypto,
        random: deterministicRandom(`${seed}-rng-${Math.random()}`),
        now: () => performance.now(),
        identity,
        keys,
        policy: car.policy,
        actuator: (command, key) => {
          car.executed.push({ command, keyId: key.id });
        },
        onEvent: (e) => car.events.push(e),
        ...extra,
      }),
  };
  return car;
}

export function phoneOptions(identity: KeyCustody, vehicleKey: Uint8Array) {
  return { crypto, random: deterministicRandom(`phone-${Math.random()}`), now: () => performance.now(), identity, vehicleKey, timeoutMs: 2_000 };
}

/** Connect a phone to a car over a fresh in-memory link and run `command` in the handshake. */
export async function connect(car: Car, phone: KeyCustody, command: CommandInput, opts: CommandOptions = {}) {
  const [phoneLink, carLink] = createMemoryLinkPair();
  const served = car.serve(carLink);
  const opened = openPhoneSession(phoneLink, phoneOptions(phone, car.identity.publicKey), command, opts);
  return { opened, served, phoneLink, carLink };
}
