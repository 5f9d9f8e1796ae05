/**
 * The phone side of the two-laptop setup, as a program:
 *   npx tsx examples/phone.ts pair 12345678
 *   npx tsx examples/phone.ts unlock | lock | start | trunk
 * State lives in ./phone-state.json. The `proxkey` command does the same with more options.
 */
import { connectToCar, loadNoble } from '../src/adapters/noble/index.js';
import { PhoneWallet } from '../src/index.js';
import { FilePhoneStore } from '../src/node/index.js';

const [cmd = 'unlock', code] = process.argv.slice(2);
const wallet = await PhoneWallet.open({ store: new FilePhoneStore('./phone-state.json'), label: 'laptop phone' });
const noble = await loadNoble();
const link = await connectToCar({ noble, scanTimeoutMs: 10_000 });
if (cmd === 'pair') {
  const car = await wallet.pair(link, code ?? '');
  console.log(`paired with ${car.name} as ${car.role}`);
} else {
  const r = await wallet.command(link, cmd as 'unlock', { intent: cmd === 'start' });
  console.log(`${cmd}: ${r.status} (${r.elapsedMs.toFixed(0)} ms)`);
}
process.exit(0);
