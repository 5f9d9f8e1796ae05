/**
 * Replay of a flow's car side (test/vectors/flow-*.json), as an implementer of the car would
 * run it: a fresh car seeded with the recorded random draws, the recorded local car actions
 * between connections, and on each connection the recorded phone messages, each sent once the
 * car has sent every message recorded before it. Returns what the car sent on each connection
 * and the Noise intermediates it computed.
 */
import { fromHex, toHex } from '../src/bytes.js';
import {
  createMemoryLinkPair,
  MemoryPhoneStore,
  nobleCrypto,
  PhoneWallet,
  type CommandInput,
  type CryptoProvider,
  type Link,
  type PhoneConnection,
} from '../src/index.js';
import {
  applyCarAction,
  carActionOf,
  connectionIntermediates,
  deterministicSigning,
  FailingStore,
  openVectorCar,
  type FlowAction,
  type FlowConnection,
} from './flow.js';
import { recordingCrypto, type CryptoCall, type NoiseIntermediates } from './noise-intermediates.js';
import type { FlowVector } from './flow-vectors.js';
import { scripted } from './transcript.js';

/**
 * Play the recorded side `as` on `end`: send its messages, each once the other side (running as
 * `other`) has sent every message recorded before it. Returns what the other side sent; a
 * message it did not send in time is `missing: <error>`, one too many `extra: <hex>`.
 */
async function playPeer(end: Link, as: 'vehicle' | 'phone', messages: FlowConnection['messages'], other: Promise<unknown>): Promise<string[]> {
  const done = other.catch(() => undefined);
  const got: string[] = [];
  try {
    for (const m of messages) {
      if (m.from === as) await end.send(fromHex(m.hex));
      else got.push(toHex(await end.receive({ timeoutMs: 5_000 })));
    }
    const extra = await end.receive({ timeoutMs: 50 }).then(toHex, () => undefined);
    if (extra !== undefined) got.push(`extra: ${extra}`);
  } catch (e) {
    got.push(`missing: ${e instanceof Error ? e.message : String(e)}`);
  } finally {
    end.close('replay over');
    await done;
  }
  return got;
}

export interface CarReplay {
  /** What the car sent per connection; a message it did not send in time is recorded as `missing: <error>`. */
  readonly sent: string[][];
  /** The car's Noise intermediates per connection (undefined where no session was established). */
  readonly intermediates: (NoiseIntermediates | undefined)[];
}

/** The intermediates, or undefined when the car's calls do not make a handshake (it refused the phone's). */
function handshakeOf(messages: FlowConnection['messages'], calls: readonly CryptoCall[]): NoiseIntermediates | undefined {
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
    const got = await playPeer(phone, 'phone', c.messages, car.serve(carEnd));
    sent.push(got);
    intermediates.push(handshakeOf(c.messages, calls));
  }
  return { sent, intermediates };
}

/** A command as recorded (`args` hex) back to the API's form. */
function commandFrom(recorded: unknown): CommandInput {
  if (typeof recorded === 'string') return recorded as CommandInput;
  const c = recorded as { kind: string; args?: string };
  return (c.args === undefined ? c : { ...c, args: fromHex(c.args) }) as CommandInput;
}

/** Run one connection's recorded phone actions on `wallet` over `link`. */
async function phoneActions(wallet: PhoneWallet, link: Link, actions: readonly FlowAction[]): Promise<void> {
  let connection: PhoneConnection | undefined;
  for (const a of actions) {
    if (a.action === 'pair') await wallet.pair(link, String(a.code), { timeoutMs: 5_000 });
    else if (a.action === 'command' && !connection)
      connection = (await wallet.open(link, commandFrom(a.command), { intent: a.intent === true, timeoutMs: 5_000 })).connection;
    else if (a.action === 'command') await connection!.send(commandFrom(a.command), { intent: a.intent === true });
    else if (a.action === 'close') await connection!.close();
    else if (a.action === 'await-close') await connection!.awaitClose({ timeoutMs: 5_000 });
  }
}

/**
 * Replay of a flow's phone side: each phone a fresh wallet seeded with its recorded draws, the
 * recorded phone local actions (share, accept-share), and on each connection its recorded API
 * calls against a car that sends its recorded messages, each once the phone has sent every
 * message recorded before it. Returns what each connection's phone sent and its Noise
 * intermediates (undefined for the connections of a scripted raw phone, which is no wallet).
 */
export async function replayPhones(
  v: FlowVector,
  crypto: CryptoProvider = nobleCrypto,
): Promise<{ sent: (string[] | undefined)[]; intermediates: (NoiseIntermediates | undefined)[] }> {
  let highS = false;
  const calls = new Map<string, CryptoCall[]>();
  const wallets = new Map<string, PhoneWallet>();
  for (const [name, p] of Object.entries(v.phones)) {
    calls.set(name, []);
    const signing = deterministicSigning(recordingCrypto(crypto, calls.get(name)!), () => highS);
    wallets.set(
      name,
      await PhoneWallet.open({
        store: new MemoryPhoneStore(),
        crypto: signing,
        random: scripted(v.random[name]!.join('')),
        now: () => v.clockMs,
        label: p.label,
      }),
    );
  }
  const sent: (string[] | undefined)[] = [];
  const intermediates: (NoiseIntermediates | undefined)[] = [];
  for (const [i, c] of v.connections.entries()) {
    for (const a of v.localActions.filter((x) => x.by !== 'car' && x.afterConnection === i - 1)) {
      const wallet = wallets.get(a.by)!;
      if (a.action === 'accept-share') await wallet.acceptShare(String(a.share));
      if (a.action !== 'share') continue;
      highS = a.highS === true;
      await wallet.share(String(a.keyRequest), {
        ...(Array.isArray(a.permissions) && { permissions: a.permissions.map(String) }),
        ...(typeof a.notAfter === 'number' && { notAfter: a.notAfter }),
      });
      highS = false;
    }
    if (c.actions.some((a) => a.action === 'send')) {
      sent.push(undefined);
      intermediates.push(undefined);
      continue;
    }
    for (const list of calls.values()) list.length = 0;
    const [phoneEnd, car] = createMemoryLinkPair();
    const got = await playPeer(car, 'vehicle', c.messages, phoneActions(wallets.get(c.phone)!, phoneEnd, c.actions));
    sent.push(got);
    intermediates.push(handshakeOf(c.messages, calls.get(c.phone)!));
  }
  return { sent, intermediates };
}
