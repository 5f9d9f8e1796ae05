/**
 * Phone commands: pair, unlock/lock/start/trunk, status, request-key, share, accept, keys,
 * revoke. State lives in the phone's directory (file store); the car is reached over BLE (noble)
 * or, with `--sim`, a simulated car in this process (its state in `<state>/sim-car`).
 */
import { UsageError } from './arguments.js';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { carFilter, connectToCar, loadNoble } from '../adapters/noble/index.js';
import { LocalError, type ProxkeyError } from '../errors.js';
import { decodeKeyList, KEYS_PER_PAGE, type KeyList } from '../keys/key-list.js';
import { parsePairingPayload } from '../keys/pairing-mode.js';
import type { CarRecord } from '../keys/state.js';
import { logActuator } from '../node/actuators.js';
import { nodeCrypto } from '../node/node-crypto.js';
import { defaultPolicy } from '../policy/default-policy.js';
import { FilePhoneStore, FileVehicleStore } from '../node/file-stores.js';
import type { CommandInput } from '../protocol/commands.js';
import { PHONE_RESULT_TIMEOUT_MS } from '../roles/phone-session.js';
import { PhoneWallet } from '../service/phone-wallet.js';
import { VehicleService } from '../service/vehicle-service.js';
import { createMemoryLinkPair } from '../transport/memory-link.js';
import type { Link } from '../transport/link.js';
import type { CommandResult } from '../transport/phone-driver.js';
import { REASON_TEXT, type Ui } from './ui.js';

export interface PhoneArgs {
  readonly state: string;
  readonly car?: string;
  readonly intent?: boolean;
  readonly sim?: boolean;
  readonly hci?: number;
  readonly uart?: string;
  readonly timeoutMs: number;
  readonly label?: string;
}

/** How this invocation reaches a car. */
/** After this long without seeing its car's id, a phone tries any proxkey car (ms). */
const FALLBACK_AFTER_MS = 4_000;

interface Reach {
  /** `refreshAdvertising`: the car was found without resolving its id: fetch its new secret. */
  connect(ui: Ui): Promise<Link & { readonly refreshAdvertising?: boolean }>;
  /** Sim only: the in-process car. */
  readonly car?: VehicleService;
  close(): Promise<void>;
}

/**
 * How this invocation reaches a car: `target` is the car to talk to (its advertisement must
 * resolve to it); without one (pairing: the phone does not know the car's secret yet) the first
 * proxkey car advertising is used.
 */
/** PROXKEY_SIM_CAR lets several phone identities (state dirs) share one simulated car. */
const simDir = (a: PhoneArgs) => process.env.PROXKEY_SIM_CAR ?? join(a.state, 'sim-car');

const openSimCar = (dir: string) =>
  // No radio in a simulation: the relay bound (which measures real radio round trips) is off.
  VehicleService.open({
    store: new FileVehicleStore(dir),
    crypto: nodeCrypto,
    name: 'Simulated car',
    policy: defaultPolicy({ maxRttMs: Infinity }),
    actuator: logActuator(() => undefined),
  });

/** The simulated car's id, if this phone has one (without creating it). */
async function simCarId(a: PhoneArgs): Promise<string | undefined> {
  const dir = simDir(a);
  if (!existsSync(dir) || (await new FileVehicleStore(dir).load()) === undefined) return undefined;
  return (await openSimCar(dir)).carId;
}

/**
 * The car this command is for: `--car`, else the only one that fits — with `--sim` the simulated
 * car, over Bluetooth the real ones — else one line saying exactly what to type.
 */
async function chooseCar(w: PhoneWallet, a: PhoneArgs, command: string): Promise<CarRecord> {
  if (a.car || w.cars().length <= 1) return w.car(a.car);
  const sim = await simCarId(a);
  const fits = w.cars().filter((c) => (a.sim ? c.carId === sim : c.carId !== sim));
  if (fits.length === 1) return fits[0]!;
  const list = (fits.length ? fits : w.cars()).map((c) => `"${c.name}" (${c.carId.slice(0, 8)})`).join(', ');
  const example = (fits[0] ?? w.cars()[0])?.carId.slice(0, 8) ?? '<id>';
  throw new LocalError(
    'ERR_INVALID_ARGUMENT',
    `this phone knows several cars: ${list}; say which with --car <name or id>, e.g. proxkey ${command} --car ${example}`,
  );
}

async function reach(a: PhoneArgs, target?: CarRecord): Promise<Reach> {
  if (a.sim) {
    const car = await openSimCar(simDir(a));
    const served = new Set<Promise<unknown>>();
    return {
      car,
      async connect() {
        const [phoneLink, carLink] = createMemoryLinkPair({ latencyMs: 5 });
        served.add(car.serve(carLink));
        return phoneLink;
      },
      async close() {
        await Promise.allSettled([...served]);
      },
    };
  }
  if (a.uart && !existsSync(a.uart))
    throw new LocalError('ERR_INVALID_ARGUMENT', `no serial device ${a.uart}: check the path given to --uart (\`proxkey doctor --uart ${a.uart}\` checks it)`);
  const noble = await loadNoble(a.uart ? { uart: { port: a.uart } } : a.hci !== undefined ? { deviceId: a.hci } : {});
  return {
    async connect(ui) {
      const filter = target && carFilter(target);
      const done = ui.progress(
        target
          ? `looking for "${target.name}" (after ${Math.round(FALLBACK_AFTER_MS / 1000)} s: any proxkey car, in case it changed its id after a revocation)`
          : 'looking for a proxkey car in pairing mode',
      );
      try {
        // Not seeing its id for a while (the car changed its advertising secret at a revocation),
        // take any proxkey car: the handshake pins the car's key; then fetch the new secret.
        const link = await connectToCar({
          noble,
          ...(filter && { filter, fallbackAfterMs: Math.min(FALLBACK_AFTER_MS, a.timeoutMs / 2) }),
          scanTimeoutMs: a.timeoutMs,
          stepTimeoutMs: Math.min(a.timeoutMs, 5_000),
        });
        // also when the phone holds no usable secret yet (an old record, or a share without one)
        return Object.assign(link, { refreshAdvertising: !!target && (!filter || !filter(link.peripheral)) });
      } finally {
        done();
      }
    },
    async close() {
      try {
        (noble as { stop?: () => void }).stop?.();
      } catch {
        /* closing the radio must never hide the command's own result or error */
      }
    },
  };
}

/** The phone's wallet; with `ui`, a save that failed after the car answered is told as a hint. */
const wallet = (a: PhoneArgs, ui?: Ui) =>
  PhoneWallet.open({
    store: new FilePhoneStore(join(a.state, 'phone.json')),
    crypto: nodeCrypto,
    label: a.label ?? 'phone',
    ...(ui && {
      onError: (e: ProxkeyError) => ui.hint(`could not save this phone's state (${e.message}): the key's grant is kept and presented again next time`),
    }),
  });

/**
 * `ms`: what the user waited (scan, connect, command); `elapsedMs`: the protocol's part (from the
 * phone's first message to the car's answer).
 */
function showResult(ui: Ui, r: CommandResult, ms: number): number {
  const ok = r.status === 'ok';
  ui.result(
    { command: r.command.kind, status: r.status, ok, ms: Math.round(ms), elapsedMs: Math.round(r.elapsedMs) },
    ok
      ? `✓ ${r.command.kind}: ok (${Math.round(ms)} ms, of which ${Math.round(r.elapsedMs)} ms the command itself)`
      : `✗ ${r.command.kind}: denied — ${r.status}: ${REASON_TEXT[r.status] ?? ''}`,
  );
  return ok ? 0 : 1;
}

/** The pairing code from a code or a QR payload; undefined with --sim and nothing given. */
function pairingCode(a: PhoneArgs, codeOrPayload: string | undefined): string | undefined {
  if (!codeOrPayload) {
    if (a.sim) return undefined;
    throw new UsageError('pair needs the 8-digit code the car shows: proxkey pair <code>');
  }
  const code = codeOrPayload.startsWith('proxkey://') ? parsePairingPayload(codeOrPayload).code : codeOrPayload;
  if (!/^\d{8}$/.test(code)) throw new UsageError(`"${code}" is not a pairing code: it has 8 digits (the car shows it, e.g. proxkey pair 48213907)`);
  return code;
}

export async function phonePair(a: PhoneArgs, codeOrPayload: string | undefined, ui: Ui): Promise<number> {
  let code = pairingCode(a, codeOrPayload); // before touching the radio
  const w = await wallet(a);
  const r = await reach(a);
  try {
    if (!code) {
      code = (await r.car!.openPairing({ scrypt: { log2N: 12, r: 8, p: 1 } })).code;
      ui.info(`simulated car shows pairing code ${code}`);
    }
    // Any proxkey car: the phone learns the car's advertising secret only by pairing. A car not in
    // pairing mode refuses and one showing another code fails the SPAKE2+ exchange, so the worst
    // case with several cars around is a retry, never pairing with the wrong car (docs/PRIVACY.md).
    const t0 = performance.now();
    const link = await r.connect(ui);
    const done = ui.progress('pairing (SPAKE2+)');
    try {
      const car = await w.pair(link, code, { timeoutMs: a.timeoutMs });
      done();
      ui.result(
        { paired: true, car: car.name, carId: car.carId, role: car.role, keyId: car.keyId, ms: Math.round(performance.now() - t0) },
        `✓ paired with "${car.name}" (${car.carId.slice(0, 8)}) as ${car.role}; this phone's key is ${car.keyId}`,
      );
      return 0;
    } finally {
      done();
    }
  } finally {
    await r.close();
  }
}

export async function phoneCommand(a: PhoneArgs, command: CommandInput, ui: Ui): Promise<{ code: number; result?: CommandResult }> {
  const w = await wallet(a, ui);
  const name = typeof command === 'string' ? command : command.kind;
  const target = await chooseCar(w, a, name); // fail early on an unknown car, before touching the radio
  const r = await reach(a, target);
  try {
    const t0 = performance.now();
    const link = await r.connect(ui);
    const result = await w.command(link, command, {
      car: target.carId,
      intent: !!a.intent,
      timeoutMs: a.timeoutMs,
      // --timeout bounds the radio; a RESULT may take as long as the car's own worst case
      resultTimeoutMs: Math.max(a.timeoutMs, PHONE_RESULT_TIMEOUT_MS),
      ...(link.refreshAdvertising && { refreshAdvertising: true }),
    });
    const listing = command === 'list-keys' || (typeof command === 'object' && command.kind === 'list-keys');
    if (listing && result.ok) return { code: 0, result }; // the caller prints the list
    return { code: showResult(ui, result, performance.now() - t0), result };
  } finally {
    await r.close();
  }
}

/** Every page of the car's key list (a page holds 23; `total` saturates at 255), one command each. */
async function allKeys(a: PhoneArgs, ui: Ui): Promise<{ code: number; list?: KeyList }> {
  const first = await phoneCommand(a, 'list-keys', ui);
  if (first.code !== 0 || !first.result) return { code: first.code };
  let last = decodeKeyList(first.result.data);
  const entries = [...last.entries];
  for (let page = 1; page <= 255 && last.entries.length === KEYS_PER_PAGE && (entries.length < last.total || last.total === 255); page++) {
    const next = await phoneCommand(a, { kind: 'list-keys', page }, ui);
    if (next.code !== 0 || !next.result) return { code: next.code };
    last = decodeKeyList(next.result.data);
    // a car that does not page (another page than asked, keys seen already): stop, not repeat
    if (last.page !== page || last.entries.some((e) => entries.some((k) => k.id === e.id))) break;
    entries.push(...last.entries);
  }
  return { code: 0, list: { total: Math.max(last.total, entries.length), page: 0, entries } };
}

export async function phoneKeys(a: PhoneArgs, ui: Ui): Promise<number> {
  const { code, list } = await allKeys(a, ui);
  if (code !== 0 || !list) return code;
  const mine = (await wallet(a)).keyId;
  const perms = (p: readonly string[]) => (p.includes('*') ? 'all (*)' : p.join(','));
  ui.result(
    { total: list.total, keys: list.entries },
    [
      `${'KEY ID'.padEnd(16)}  ${'ROLE'.padEnd(6)}  PERMISSIONS`,
      ...list.entries.map(
        (k) => `${k.id}  ${k.role.padEnd(6)}  ${perms(k.permissions).padEnd(16)}${k.revoked ? ' revoked' : ''}${k.id === mine ? ' ← this phone' : ''}`,
      ),
      '(all (*): every command, sharing and revoking — an owner key)',
    ].join('\n'),
  );
  return 0;
}

export async function phoneStatus(a: PhoneArgs, ui: Ui): Promise<number> {
  const w = await wallet(a);
  const cars = w.cars().map((c) => ({ name: c.name, carId: c.carId, role: c.role, keyId: c.keyId, pendingGrant: !!c.grant }));
  ui.result(
    { keyId: w.keyId, state: a.state, cars },
    `this phone: key ${w.keyId} (state in ${a.state})\n` +
      (cars.length
        ? cars.map((c) => `  ${c.name} (${c.carId.slice(0, 8)})  ${c.role}${c.pendingGrant ? ' (grant not used yet)' : ''}`).join('\n')
        : '  no cars yet: `proxkey pair <code>` or `proxkey accept <share>`'),
  );
  return 0;
}

export async function phoneRequestKey(a: PhoneArgs, ui: Ui): Promise<number> {
  const w = await wallet(a);
  const request = w.keyRequest(a.label);
  ui.result({ request }, request);
  ui.hint("send this to the car's owner; they run: proxkey share <request>");
  return 0;
}

export async function phoneShare(a: PhoneArgs, request: string | undefined, opts: { permissions?: string; days?: number }, ui: Ui): Promise<number> {
  if (!request) throw new UsageError("share needs the friend's key request: proxkey share <pkreq1…>");
  const w = await wallet(a);
  const permissions = (opts.permissions ?? 'unlock,lock')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const notAfter = opts.days !== undefined ? Date.now() + opts.days * 86_400_000 : undefined;
  const car = await chooseCar(w, a, 'share');
  const { share, grantId } = await w.share(request, { car: car.carId, permissions, ...(notAfter !== undefined && { notAfter }) });
  ui.result({ share, grantId, permissions, notAfter: notAfter ?? null }, share);
  ui.hint(
    `grant ${grantId}: ${permissions.join(', ')}${notAfter !== undefined ? ` until ${new Date(notAfter).toISOString()}` : ''}; the friend runs: proxkey accept <share>`,
  );
  return 0;
}

export async function phoneAccept(a: PhoneArgs, share: string | undefined, ui: Ui): Promise<number> {
  if (!share) throw new UsageError('accept needs the share string: proxkey accept <pkshare1…>');
  const w = await wallet(a);
  const car = await w.acceptShare(share);
  ui.result(
    { accepted: true, car: car.name, carId: car.carId },
    `✓ key to "${car.name}" (${car.carId.slice(0, 8)}) stored; it is activated by your first unlock`,
  );
  return 0;
}
