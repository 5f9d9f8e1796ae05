/**
 * Crash-test worker (bundled and run by crash.test.ts): applies an endless deterministic sequence
 * of enroll / revoke / audit operations to a FileVehicleStore in `dir`, printing one line per
 * acknowledged (durable) operation, until it is SIGKILLed.
 */
import { KeyRegistry, keyIdOf, nobleCrypto } from '../../src/index.js';
import { FileVehicleStore } from '../../src/node/index.js';

import { keyFor } from './crash-keys.js';

async function main() {
  const dir = process.argv[2]!;
  const store = new FileVehicleStore(dir);
  const registry = await KeyRegistry.open({ store });
  const audit = await store.readAudit();
  let i = registry.state.keys.length;
  let a = audit.length;
  const say = (s: string) => process.stdout.write(`${s}\n`);
  keyFor(i); // warm up the curve tables so kills land in the I/O, not in start-up
  say('ready');
  for (;;) {
    await registry.enroll(keyFor(i), { role: i === 0 ? 'owner' : 'shared', label: `k${i}` });
    say(`E ${i}`);
    if (i % 3 === 2) {
      await registry.revoke(keyIdOf(nobleCrypto, keyFor(i - 1)));
      say(`R ${i - 1}`);
    }
    await store.appendAudit({ at: a, event: 'command', keyId: keyIdOf(nobleCrypto, keyFor(i)), result: 'ok', detail: `entry ${a}` });
    say(`A ${a}`);
    a++;
    i++;
  }
}

void main();
