/**
 * The phone side of the two-laptop setup, as a program (state in ./phone-state.json):
 *
 *   npx tsx examples/phone.ts pair 12345678        pair as owner with the code the car shows
 *   npx tsx examples/phone.ts unlock | lock | start | trunk
 *   npx tsx examples/phone.ts keys                  (owner) list the car's keys
 *   npx tsx examples/phone.ts revoke <keyId|grantId>   (owner) revoke a key or grant
 *   npx tsx examples/phone.ts request               (friend) print a key request for the owner
 *   npx tsx examples/phone.ts share <request> [unlock,lock]   (owner) print a share for a friend
 *   npx tsx examples/phone.ts accept <share>        (friend) store the key; the next unlock enrolls it
 *   npx tsx examples/phone.ts status                this phone's key and cars
 *
 * Exit status: 0 done, 1 denied by the car (or failed), 2 usage.
 * Set PHONE_STATE=./friend-state.json to play a second phone (both files hold private keys and are
 * git-ignored); PROXKEY_HCI picks the controller
 * (a number for hciN, or a serial port path; default hci0). The `proxkey` command does the
 * same with more options (--json, --sim, timeouts, several cars).
 */
import { carFilter, connectToCar, loadNoble } from '../src/adapters/noble/index.js';
import { PhoneWallet, decodeKeyList, type CommandInput } from '../src/index.js';
import { FilePhoneStore } from '../src/node/index.js';

const [cmd = 'status', arg, extra] = process.argv.slice(2);
const wallet = await PhoneWallet.open({ store: new FilePhoneStore(process.env.PHONE_STATE ?? './phone-state.json'), label: 'laptop phone' });

/**
 * Find the car over BLE: our own car by its rotating id once paired (after 4 s without it, any
 * proxkey car: the car's secret changes when a key is revoked), any proxkey car to pair.
 */
async function connect(pairing = false) {
  const hci = process.env.PROXKEY_HCI;
  const noble = await loadNoble(hci === undefined ? {} : /^\d+$/.test(hci) ? { deviceId: Number(hci) } : { uart: { port: hci } }); // throws a BleUnavailableError saying what to install/configure
  const car = pairing ? undefined : wallet.cars()[0];
  const filter = car && carFilter(car);
  const link = await connectToCar({ noble, ...(filter && { filter, fallbackAfterMs: 4_000 }), scanTimeoutMs: 10_000 });
  return { link, refreshAdvertising: !!car && (!filter || !filter(link.peripheral)) };
}

async function send(command: CommandInput) {
  const { link, refreshAdvertising } = await connect();
  const r = await wallet.command(link, command, { intent: command === 'start', refreshAdvertising });
  console.log(`${r.command.kind}: ${r.status} (${r.elapsedMs.toFixed(0)} ms)`);
  return r;
}

let exitCode = 0;
const denied = <R extends { ok: boolean }>(r: R): R => {
  if (!r.ok) exitCode = 1;
  return r;
};

switch (cmd) {
  case 'pair': {
    const car = await wallet.pair((await connect(true)).link, arg ?? '');
    console.log(`paired with "${car.name}" as ${car.role}`);
    break;
  }
  case 'unlock':
  case 'lock':
  case 'start':
  case 'trunk':
    denied(await send(cmd));
    break;
  case 'keys': {
    const r = denied(await send('list-keys'));
    if (r.ok) for (const k of decodeKeyList(r.data).entries) console.log(`  ${k.id}  ${k.role}  ${k.permissions.join(',')}${k.revoked ? '  revoked' : ''}`);
    break;
  }
  case 'revoke':
    denied(await send({ kind: 'revoke', target: arg ?? '' }));
    break;
  case 'request':
    console.log(wallet.keyRequest());
    break;
  case 'share':
    console.log((await wallet.share(arg ?? '', { permissions: (extra ?? 'unlock,lock').split(',') })).share);
    break;
  case 'accept':
    console.log(`key to "${(await wallet.acceptShare(arg ?? '')).name}" stored; unlock once to activate it`);
    break;
  case 'status':
    console.log(`key ${wallet.keyId}`);
    for (const c of wallet.cars()) console.log(`  ${c.name} (${c.carId.slice(0, 8)})  ${c.role}`);
    break;
  default:
    console.log('usage: see the comment at the top of examples/phone.ts');
    process.exit(2);
}
process.exit(exitCode);
