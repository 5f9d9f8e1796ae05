/**
 * The car of the flood benchmark, in its own process: a `VehicleService` (on `nodeCrypto`, the
 * daemon's default, or `noble`: argv[4]) with one enrolled owner (public key in argv[3]),
 * listening on a unix socket (argv[2]) with the byte-stream binding. Prints `ready` once listening, then `rss <bytes>` whenever asked on stdin.
 */
import { createInterface } from 'node:readline';
import { fromHex, MemoryVehicleStore, nobleCrypto, VehicleService } from '../../src/index.js';
import { listenSocketLinks, nodeCrypto } from '../../src/node/index.js';

const [socketPath, ownerKeyHex, cryptoArg, capArg] = process.argv.slice(2);
if (!socketPath || !ownerKeyHex) throw new Error('usage: car.ts SOCKET OWNER_PUBLIC_KEY_HEX');
const store = new MemoryVehicleStore();
const crypto = cryptoArg === 'noble' ? nobleCrypto : nodeCrypto; // the daemon's default is nodeCrypto
const car = await VehicleService.open({
  store,
  crypto,
  actuator: () => undefined,
  name: 'flood car',
  session: { handshakeTimeoutMs: 2_000 },
  ...(capArg && { maxUnauthenticated: Number(capArg) }),
});
await car.registry.enroll(fromHex(ownerKeyHex), { role: 'owner', label: 'owner' });
process.stdout.write(`car ${Buffer.from(car.identity.publicKey).toString('hex')}\n`);
const server = await listenSocketLinks(socketPath, (link) => void car.serve(link));
process.stdout.write('ready\n');
const commands = createInterface({ input: process.stdin });
commands.on('close', () => process.exit(0)); // the benchmark is gone, however it exited
commands.on('line', (line) => {
  if (line === 'rss') process.stdout.write(`rss ${process.memoryUsage().rss}\n`);
  if (line === 'audit') void car.audit().then((a) => process.stdout.write(`audit ${a.length}\n`));
  if (line === 'quit') server.close(() => process.exit(0));
});
