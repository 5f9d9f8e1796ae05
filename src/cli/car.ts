/**
 * `proxkey car …`: the car side. `serve` runs the car (advertise, serve phones, pairing button,
 * status LED, control socket, graceful shutdown); `pair`, `keys`, `revoke`, `audit` act on the
 * running car through its control socket (or on its files when it is not running).
 */
import type { Server } from 'node:net';
import { loadBleno, startCarPeripheral, type CarPeripheral } from '../adapters/bleno/index.js';
import { LocalError } from '../errors.js';
import { commandActuator, gpioRelayActuator, logActuator } from '../node/actuators.js';
import { FileVehicleStore } from '../node/file-stores.js';
import { Gpio } from '../node/gpio.js';
import { defaultPolicy } from '../policy/default-policy.js';
import { commandName } from '../protocol/commands.js';
import { ProximityEngine, type ProximityDecision } from '../proximity/engine.js';
import { linkProximity } from '../node/link-proximity.js';
import type { KeyRecord } from '../roles/types.js';
import type { Actuator } from '../transport/vehicle-driver.js';
import { VehicleService } from '../service/vehicle-service.js';
import { carCrypto, loadCarConfig, type CarConfig } from './config.js';
import { askControl, serveControl, type ControlRequest } from './control.js';
import { renderQr } from './qr.js';
import type { Ui } from './ui.js';

export interface CarArgs {
  readonly dir?: string;
  readonly config?: string;
  readonly name?: string;
  readonly pair?: boolean;
  readonly hci?: number;
  readonly uart?: string;
  readonly scryptLog2N?: number;
}

function keySummary(keys: readonly KeyRecord[]) {
  return keys.map((k) => ({ id: k.id, role: k.role, label: k.label ?? '', permissions: k.permissions, revoked: !!k.revoked }));
}

function resolveConfig(a: CarArgs): CarConfig & { stateDir: string } {
  const file = a.config ? loadCarConfig(a.config) : {};
  const stateDir = a.dir ?? file.stateDir;
  if (!stateDir) throw new LocalError('ERR_INVALID_ARGUMENT', 'the car needs a state directory: --dir <dir> (or stateDir in --config)');
  const bluetooth = a.uart ? { uart: a.uart } : a.hci !== undefined ? { hci: a.hci } : file.bluetooth;
  return { ...file, stateDir, ...(a.name && { name: a.name }), ...(bluetooth && { bluetooth }) };
}

function actuatorFor(c: CarConfig, ui: Ui): Actuator {
  const a = c.actuators ?? { type: 'log' };
  if (a.type === 'gpio') return gpioRelayActuator(a);
  if (a.type === 'command') return commandActuator(a.path, a.timeoutMs);
  return logActuator((l) => ui.info(`  ${l}`));
}

async function showPairing(ui: Ui, p: { code: string; payload: string; expiresAt: number }): Promise<void> {
  const qr = ui.json ? undefined : await renderQr(p.payload);
  ui.result(
    { event: 'pairing', code: p.code, payload: p.payload, expiresAt: p.expiresAt },
    `pairing mode open for ${Math.round((p.expiresAt - Date.now()) / 1000)} s — code ${p.code}\n${qr ?? ''}${qr ? '\n' : ''}  payload: ${p.payload}\n  on the phone: proxkey pair ${p.code}`,
  );
}

/** Run the car until SIGTERM/SIGINT. */
export async function carServe(a: CarArgs, ui: Ui): Promise<number> {
  const c = resolveConfig(a);
  const store = new FileVehicleStore(c.stateDir);
  // Passive entry from the connected phones' RSSI (config `proximity`; walk-away lock on by
  // default, approach unlock off); decisions are acted on by `car.passiveEntry` under the policy.
  const { keys: perKey, ...engineOptions } = c.proximity ?? {};
  const engine = new ProximityEngine({ ...engineOptions, now: () => performance.now() });
  for (const [keyId, settings] of Object.entries(perKey ?? {})) engine.configureKey(keyId, settings);
  const proximity = linkProximity(engine, { onDecision: (d) => reportPassiveEntry(d) });
  const car = await VehicleService.open({
    store,
    crypto: carCrypto(c),
    ...(c.name !== undefined && { name: c.name }),
    policy: defaultPolicy(c.policy ?? {}),
    hooks: proximity.hooks,
    actuator: actuatorFor(c, ui),
    onEvent: (e, keyId) => {
      proximity.onEvent(e);
      if (e.type === 'decision')
        ui.result(
          { event: 'decision', keyId: e.keyId, command: e.command ? commandName(e.command) : null, result: e.result, rttMs: Math.round(e.rttMs) },
          `  ${e.keyId} ${e.command ? commandName(e.command) : '?'} → ${e.result} (rtt ${Math.round(e.rttMs)} ms)`,
        );
      else if (e.type === 'enrolled') ui.result({ event: 'enrolled', keyId: e.key.id }, `  enrolled shared key ${e.key.id} (grant from ${e.key.issuerKeyId})`);
      else if (e.type === 'error') ui.info(`  rejected input from ${keyId ?? 'a phone'}: ${e.error.message}`);
    },
  });
  const reportPassiveEntry = (d: ProximityDecision) =>
    void car.passiveEntry(d).then(
      (result) =>
        ui.result(
          { event: 'passive-entry', decision: d.type, keyId: d.keyId, cause: d.cause, result },
          `  ${d.keyId} ${d.type} (${d.cause}) → ${result}`,
        ),
      (e: unknown) => ui.info(`  ${d.type} for ${d.keyId} failed: ${(e as Error).message}`),
    );
  const gpio = new Gpio();
  const scrypt = a.scryptLog2N ? { scrypt: { log2N: a.scryptLog2N, r: 8, p: 1 } } : {};
  const ttlMs = (c.pairingTtlSeconds ?? 120) * 1000;
  let led: { release(): void } | undefined;
  const setLed = async (on: boolean) => {
    if (!c.statusLed) return;
    led?.release();
    led = await gpio.hold(c.statusLed, on).catch(() => undefined);
  };
  const openPairing = async () => {
    const p = await car.openPairing({ ttlMs, ...scrypt });
    await setLed(true);
    setTimeout(() => void setLed(false), ttlMs).unref();
    return p;
  };

  const bleno = await loadBleno(c.bluetooth?.uart ? { uart: { port: c.bluetooth.uart, ...(c.bluetooth.baudRate && { baudRate: c.bluetooth.baudRate }) } } : c.bluetooth?.hci !== undefined ? { deviceId: c.bluetooth.hci } : {});
  const stopPairingButton = c.pairingButton ? await gpio.watchButton(c.pairingButton, () => void openPairing().then((p) => showPairing(ui, p))) : undefined;
  const active = new Set<Promise<unknown>>();
  let peripheral: CarPeripheral | undefined;
  let stopSecretWatch: (() => void) | undefined;
  let control: Server | undefined;
  const stopped = new Promise<void>((resolve) => {
    const stop = () => resolve();
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
  });
  try {
    peripheral = await startCarPeripheral({
      bleno,
      // the rotating id only enrolled phones recognise; no name (it would be a static identifier)
      advertising: { secret: car.advertisingSecret },
      onAdvertisingError: (e) => ui.info(`  re-advertising failed (retrying): ${e.message}`),
      onRssi: (link, rssi) => proximity.onRssi(link, rssi),
      onLink: (link) => {
        void link.closed.then(() => proximity.onClose(link));
        const p = proximity.serve(link, () => car.serve(link)).catch((e: unknown) => ui.info(`  session error: ${(e as Error).message}`));
        active.add(p);
        void p.finally(() => active.delete(p));
      },
    });
    // a revocation rotates the advertising secret: advertise under the new one at once
    const live = peripheral;
    stopSecretWatch = car.onAdvertisingSecretChange((secret) => void live.updateAdvertisingSecret(secret).catch(() => undefined));
    control = serveControl(c.stateDir, async (req: ControlRequest) => {
      switch (req.op) {
        case 'pair':
          return openPairing();
        case 'keys':
          return { all: keySummary(await car.registry.list()) };
        case 'revoke':
          return car.revoke(req.target, 'local');
        case 'audit':
          return { entries: await car.audit() };
        case 'status':
          return { name: car.name, carId: car.carId, pairing: car.pairingStatus, keys: (await car.registry.list()).length };
      }
    });
    const keys = (await car.registry.list()).length;
    const privateAddress = peripheral.advertisement.address !== undefined;
    ui.result(
      { event: 'ready', name: car.name, carId: car.carId, keys, privateAddress },
      `car "${car.name}" (${car.carId.slice(0, 8)}) is advertising${privateAddress ? ' from a rotating private address' : ''}; ${keys} key(s) enrolled. Ctrl-C to stop.`,
    );
    if (a.pair) await showPairing(ui, await openPairing());
    await stopped;
    ui.info('stopping…');
    return 0;
  } finally {
    stopSecretWatch?.();
    proximity.stop();
    stopPairingButton?.();
    led?.release();
    control?.close();
    await peripheral?.stop().catch(() => undefined);
    await Promise.race([Promise.allSettled([...active]), new Promise((r) => setTimeout(r, 3_000))]);
    await car.flushAudit().catch(() => undefined);
  }
}

/** `proxkey car pair|keys|revoke|audit|status` against the running car (or its files). */
export async function carAdmin(op: ControlRequest['op'], a: CarArgs & { target?: string }, ui: Ui): Promise<number> {
  const c = resolveConfig(a);
  const req: ControlRequest = op === 'revoke' ? { op, target: a.target ?? '' } : ({ op } as ControlRequest);
  let answer = await askControl(c.stateDir, req);
  if (!answer) {
    if (op === 'pair') throw new LocalError('ERR_INVALID_STATE', `no car is running for ${c.stateDir}: start it with \`proxkey car serve --dir ${c.stateDir} --pair\``);
    // Not running: act on the files directly.
    const car = await VehicleService.open({ store: new FileVehicleStore(c.stateDir), crypto: carCrypto(c), actuator: () => undefined });
    answer =
      op === 'revoke'
        ? { ok: true, ...(await car.revoke(a.target ?? '', 'local')) }
        : op === 'audit'
          ? { ok: true, entries: await car.audit() }
          : op === 'status'
            ? { ok: true, name: car.name, carId: car.carId, pairing: 'closed', keys: (await car.registry.list()).length, running: false }
            : { ok: true, all: keySummary(await car.registry.list()) };
  }
  if (!answer.ok) throw new LocalError('ERR_INVALID_ARGUMENT', String(answer.error));
  if (op === 'pair') await showPairing(ui, answer as { code: string; payload: string; expiresAt: number });
  else if (op === 'keys') {
    const all = answer.all as { id: string; role: string; label: string; permissions: string[]; revoked: boolean }[];
    ui.result({ keys: all }, all.map((k) => `${k.id}  ${k.role.padEnd(6)}  ${k.permissions.join(',').padEnd(16)} ${k.revoked ? 'revoked ' : ''}${k.label}`).join('\n') || 'no keys enrolled');
  } else if (op === 'audit') {
    const entries = answer.entries as { at: number; event: string; keyId: string; command?: string; result: string; rttMs?: number }[];
    ui.result({ entries }, entries.map((e) => `${new Date(e.at).toISOString()}  ${e.event.padEnd(8)} ${(e.keyId || '-').padEnd(16)} ${(e.command ?? '').padEnd(9)} ${e.result}${e.rttMs !== undefined ? ` (rtt ${e.rttMs} ms)` : ''}`).join('\n') || 'audit log is empty');
  } else if (op === 'revoke') ui.result({ revoked: answer }, `revoked ${a.target}`);
  else ui.result(answer, `car "${answer.name}" (${String(answer.carId).slice(0, 8)}): ${answer.keys} key(s), pairing ${answer.pairing}${answer.running === false ? ', not running' : ''}`);
  return 0;
}
