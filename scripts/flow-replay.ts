/**
 * Replay of a flow's car side (test/vectors/flow-*.json), as an implementer of the car would
 * run it: a fresh car seeded with the recorded random draws, the recorded local car actions
 * between connections, and on each connection the recorded phone messages, each sent once the
 * car has sent every message recorded before it. Returns what the car sent on each connection.
 */
import { fromHex, toHex } from '../src/bytes.js';
import { createMemoryLinkPair, nobleCrypto, type CryptoProvider } from '../src/index.js';
import { applyCarAction, carActionOf, deterministicSigning, FailingStore, openVectorCar } from './flow.js';
import type { FlowVector } from './flow-vectors.js';
import { scripted } from './transcript.js';

/** What the car sent per connection; a message the car did not send in time is recorded as `missing: <error>`. */
export async function replayCar(v: FlowVector, crypto: CryptoProvider = nobleCrypto): Promise<string[][]> {
  const store = new FailingStore();
  const car = await openVectorCar(
    deterministicSigning(crypto, () => false),
    scripted(v.random.car!.join('')),
    store,
  );
  const sent: string[][] = [];
  for (const [i, c] of v.connections.entries()) {
    for (const a of v.localActions.filter((x) => x.by === 'car' && x.afterConnection === i - 1)) await applyCarAction(car, store, carActionOf(a));
    const [phone, carEnd] = createMemoryLinkPair();
    const served = car.serve(carEnd);
    const got: string[] = [];
    try {
      for (const m of c.messages) {
        if (m.from === 'phone') await phone.send(fromHex(m.hex));
        else got.push(toHex(await phone.receive({ timeoutMs: 2_000 })));
      }
      got.push(
        ...(await phone
          .receive({ timeoutMs: 50 })
          .then((extra) => [`extra: ${toHex(extra)}`])
          .catch(() => [])),
      );
    } catch (e) {
      got.push(`missing: ${e instanceof Error ? e.message : String(e)}`);
    } finally {
      phone.close('replay over');
      await served;
    }
    sent.push(got);
  }
  return sent;
}
