/**
 * Phone role process for proxkey/react-native: its adapter over a react-native-ble-plx
 * `BleManager` surface backed by the real noble stack (test/react-native/noble-ble-manager.ts),
 * on an emulated controller (pty). Env: HCI_PORT. Commands: pair, walletCommand.
 */
import { loadNoble } from '../../../src/adapters/noble/index.js';
import { carFilter, connectToCar, type CarLink } from '../../../src/adapters/react-native/index.js';
import type { PhoneWallet } from '../../../src/index.js';
import { NobleBleManager } from '../../react-native/noble-ble-manager.js';
import { makeWallet, warmUp } from './protocol.js';
import { emit, serve, toRpcError } from './rpc.js';

let manager: NobleBleManager;
let wallet: PhoneWallet | undefined;
let current: CarLink | undefined;

async function withLink<T>(filtered: boolean, work: (link: CarLink) => Promise<T>): Promise<{ result: T; mtu: number; resolved: boolean }> {
  const filter = filtered && wallet ? carFilter(wallet.car()) : undefined;
  const link = (current = await connectToCar({ manager, scanTimeoutMs: 15_000, stepTimeoutMs: 10_000, ...(filter && { filter }) }));
  try {
    return { result: await work(link), mtu: link.mtu, resolved: !!filter && filter(link.device) };
  } finally {
    link.close('phone done');
    await link.disconnected;
    current = undefined;
  }
}

async function main() {
  await warmUp();
  const noble = await loadNoble({ package: '@stoprocent/noble', uart: { port: process.env.HCI_PORT! } });
  manager = new NobleBleManager(noble);
  serve(
    {
      /** Pair (owner) over BLE through proxkey/react-native. */
      async pair({ code }: { code: string }) {
        wallet ??= await makeWallet();
        const { result: car, mtu } = await withLink(false, (link) => wallet!.pair(link, code, { timeoutMs: 15_000 }));
        return { role: car.role, keyId: wallet.keyId, mtu };
      },
      /** One command, finding the car by its rotating id. */
      async walletCommand({ kind }: { kind: 'unlock' | 'lock' }) {
        if (!wallet) throw new Error('pair first');
        const { result, mtu, resolved } = await withLink(true, (link) => wallet!.command(link, kind));
        return { status: result.status, mtu, resolved };
      },
    },
    async () => {
      if (current) {
        current.close('exit');
        await current.disconnected;
      }
      noble.stop?.();
    },
  );
  emit('ready', { t: Date.now() });
}

main().catch((err) => {
  emit('fatal', { error: toRpcError(err) });
  console.error(err);
  process.exit(1);
});
