/**
 * Phone role process: real noble on an emulated controller (pty), through `proxkey/noble`.
 * Env: BLE_IMPL (stoprocent | abandonware), HCI_PORT (pty), PHONE_SECRET, CAR_PUBLIC (hex).
 * Commands: echo, session (answers carry typed error names/codes on failure).
 */
import { median } from '../../../src/proximity/robust-stats.js';
import { advertisingFilter, advertisingIdOf, connectToCar, loadNoble, type CarLink, type NobleLike } from '../../../src/adapters/noble/index.js';
import { fromHex, toHex } from '../../../src/bytes.js';
import { makeWallet, phoneOptionsFor, runPhoneCommands, warmUp, type PhoneCommand } from './protocol.js';
import { openPhoneSession } from '../../../src/transport/phone-driver.js';
import type { PhoneWallet } from '../../../src/index.js';
import { emit, serve, toRpcError } from './rpc.js';

const impl = process.env.BLE_IMPL === 'abandonware' ? 'abandonware' : 'stoprocent';
const port = process.env.HCI_PORT!;
let noble: NobleLike;
let current: CarLink | undefined;
let wallet: PhoneWallet | undefined;

const pct = (a: number[], p: number) => [...a].sort((x, y) => x - y)[Math.min(a.length - 1, Math.floor(p * a.length))]!;

async function connect(timeouts: { scanTimeoutMs?: number; stepTimeoutMs?: number; writeTimeoutMs?: number } = {}, secrets: string[] = []) {
  const t0 = performance.now();
  const filter = secrets.length ? advertisingFilter({ cars: secrets.map((s, i) => ({ carId: `car${i}`, secret: fromHex(s) })) }) : undefined;
  const link = await connectToCar({ noble, scanTimeoutMs: 15_000, ...timeouts, ...(filter && { filter }) });
  current = link;
  return { link, connectMs: performance.now() - t0 };
}

async function release(link: CarLink) {
  link.close('phone done');
  await link.disconnected;
  current = undefined;
}

async function main() {
  await warmUp();
  noble = await loadNoble({ package: `@${impl}/noble` as '@stoprocent/noble', uart: { port } });
  serve(
    {
      /** Connect, echo `n` messages of `size` bytes through the Link, disconnect. */
      async echo({ n = 50, size = 20 }: { n?: number; size?: number }) {
        const { link, connectMs } = await connect();
        try {
          const rtts: number[] = [];
          for (let i = 0; i < n; i++) {
            const m = new Uint8Array(size).map((_, k) => (i + k) & 0xff);
            const t = performance.now();
            await link.send(m);
            const back = await link.receive({ timeoutMs: 5000 });
            rtts.push(performance.now() - t);
            if (back.length !== m.length || back.some((b, k) => b !== m[k])) throw new Error(`echo mismatch at ${i}`);
          }
          return { connectMs, mtu: link.mtu, info: link.info, medianMs: median(rtts), p90Ms: pct(rtts, 0.9), maxMs: Math.max(...rtts), n };
        } finally {
          await release(link);
        }
      },
      /** Connect and keep the link open (for `sendOnHeld`). */
      async hold(timeouts: { writeTimeoutMs?: number } = {}) {
        const { connectMs } = await connect(timeouts);
        return { connectMs };
      },
      /** Connect to the car whose rotating advertising id resolves with one of `secrets` (hex), and hold the link. */
      async holdCar({ secrets, scanTimeoutMs = 15_000 }: { secrets: string[]; scanTimeoutMs?: number }) {
        const { link, connectMs } = await connect({ scanTimeoutMs }, secrets);
        const id = advertisingIdOf(link.peripheral);
        return {
          connectMs,
          address: link.peripheral.address,
          addressType: (link.peripheral as { addressType?: string }).addressType,
          id: id ? toHex(id) : null,
        };
      },
      /** Disconnect the held link. */
      async releaseHeld() {
        if (current) await release(current);
        return {};
      },
      /** Send on the held link and wait for the echo; returns the typed error (if any) and the time taken. */
      async sendOnHeld({ receiveTimeoutMs = 1000 }: { receiveTimeoutMs?: number }) {
        const link = current;
        if (!link) throw new Error('no held link');
        const t0 = performance.now();
        let error: ReturnType<typeof toRpcError> | undefined;
        try {
          await link.send(new Uint8Array(10).fill(7));
          await link.receive({ timeoutMs: receiveTimeoutMs });
        } catch (err) {
          error = toRpcError(err);
        }
        const elapsedMs = performance.now() - t0;
        await release(link);
        return { error, elapsedMs };
      },
      /** Pair (owner) with the car in pairing mode, over BLE, with the wallet; then the wallet knows the car. */
      async pair({ code }: { code: string }) {
        wallet ??= await makeWallet();
        const { link } = await connect();
        try {
          const car = await wallet.pair(link, code, { timeoutMs: 15_000 });
          return { carId: car.carId, role: car.role, keyId: wallet.keyId };
        } finally {
          await release(link);
        }
      },
      /** One command with the wallet (after `pair`). */
      async walletCommand({ kind, intent = false }: { kind: 'unlock' | 'lock' | 'start'; intent?: boolean }) {
        if (!wallet) throw new Error('pair first');
        const { link } = await connect();
        try {
          const result = await wallet.command(link, kind, { intent });
          return { status: result.status };
        } finally {
          await release(link);
        }
      },
      /**
       * `npm run bench:ble`: from the moment the phone starts connecting (scan → connect → subscribe)
       * to the car advertising with one of `secrets`, to one 20-byte write→notify echo back.
       */
      async timedEcho({ secrets }: { secrets: string[] }) {
        const t0 = performance.now();
        const { link, connectMs } = await connect({}, secrets);
        try {
          await link.send(new Uint8Array(20).fill(1));
          await link.receive({ timeoutMs: 5000 });
          return { ms: performance.now() - t0, connectMs };
        } finally {
          await release(link);
        }
      },
      /** `npm run bench:ble`: the same start, to the unlock's ok result (the phone's key is prepared before). */
      async timedUnlock({ secrets, phoneSecret, carPublic }: { secrets: string[]; phoneSecret: string; carPublic: string }) {
        const options = await phoneOptionsFor(phoneSecret, carPublic);
        const t0 = performance.now();
        const { link, connectMs } = await connect({}, secrets);
        try {
          const { result, connection } = await openPhoneSession(link, options, 'unlock');
          const ms = performance.now() - t0;
          await connection.close();
          return { ms, connectMs, status: result.status };
        } finally {
          await release(link);
        }
      },
      /** Connect, run the commands in one session, disconnect. Typed errors come back as such. */
      async session({
        commands,
        phoneSecret,
        carPublic,
        timeouts,
      }: {
        commands: PhoneCommand[];
        phoneSecret: string;
        carPublic: string;
        timeouts?: Record<string, number>;
      }) {
        const t0 = performance.now();
        const { link, connectMs } = await connect(timeouts);
        try {
          const results = await runPhoneCommands(link, phoneSecret, carPublic, commands);
          return { connectMs, totalMs: performance.now() - t0, results, tDone: Date.now() };
        } finally {
          await release(link);
        }
      },
    },
    async () => {
      if (current) await release(current).catch(() => {});
      noble?.stop?.();
    },
  );
  emit('ready', { processStart: performance.timeOrigin, t: Date.now() });
}

main().catch((err) => {
  emit('fatal', { error: toRpcError(err) });
  console.error(err);
  process.exit(1);
});
