/**
 * Replay of a flow's car side (test/vectors/flow-*.json), as an implementer of the car would
 * run it: a fresh car seeded with the recorded random draws, the recorded local car actions
 * between connections, and on each connection the recorded phone messages, each sent once the
 * car has sent every message recorded before it. Returns what the car sent on each connection
 * and the Noise intermediates it computed.
 */
import { fromHex, toHex } from '../src/bytes.js';
import { createMemoryLinkPair, nobleCrypto, type CryptoProvider } from '../src/index.js';
import { applyCarAction, carActionOf, connectionIntermediates, deterministicSigning, FailingStore, openVectorCar } from './flow.js';
import { recordingCrypto, type CryptoCall, type NoiseIntermediates } from './noise-intermediates.js';
import type { FlowVector } from './flow-vectors.js';
import { scripted } from './transcript.js';

export interface CarReplay {
  /** What the car sent per connection; a message it did not send in time is recorded as `missing: <error>`. */
  readonly sent: string[][];
  /** The car's Noise intermediates per connection (undefined where no session was established). */
  readonly intermediates: (NoiseIntermediates | undefined)[];
}

/** The intermediates, or undefined when the car's calls do not make a handshake (it refused the phone's). */
function handshakeOf(messages: FlowVector['connections'][number]['messages'], calls: readonly CryptoCall[]): NoiseIntermediates | undefined {
  try {
    return connectionIntermediates(messages, calls);
  } catch {
    return undefined;
  }
}

export async function replayCar(v: FlowVector, crypto: CryptoProvider = nobleCrypto): Promise<CarReplay> {
  const store = new FailingStore();
  const calls: CryptoCall[] = [];
  const car = await openVectorCar(
    deterministicSigning(recordingCrypto(crypto, calls), () => false),
    scripted(v.random.car!.join('')),
    store,
  );
  const sent: string[][] = [];
  const intermediates: (NoiseIntermediates | undefined)[] = [];
  for (const [i, c] of v.connections.entries()) {
    for (const a of v.localActions.filter((x) => x.by === 'car' && x.afterConnection === i - 1)) await applyCarAction(car, store, carActionOf(a));
    calls.length = 0;
    const [phone, carEnd] = createMemoryLinkPair();
    const served = car.serve(carEnd);
    const got: string[] = [];
    try {
      for (const m of c.messages) {
        if (m.from === 'phone') await phone.send(fromHex(m.hex));
        else got.push(toHex(await phone.receive({ timeoutMs: 5_000 })));
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
    intermediates.push(handshakeOf(c.messages, calls));
  }
  return { sent, intermediates };
}
