/**
 * An in-memory `Link` pair for tests, the demo and simulations, with the knobs of a BLE
 * connection: MTU (messages travel as framed fragments, see `framing.ts`), latency and jitter,
 * link-layer loss, and disconnects at any byte or message.
 *
 * What it models, and why:
 * - **Order.** Within one ATT bearer BLE delivers in order, so jitter never reorders: a packet
 *   is delivered at `max(its own time, the previous packet's time)` (head-of-line blocking).
 * - **Loss.** BLE has no silent loss inside a connection: the link layer retransmits a lost
 *   packet at the next connection event until it is acknowledged, or gives up when the
 *   supervision timeout expires and the connection drops. So `loss` is the probability that one
 *   transmission attempt fails; each failure delays the packet (and everything behind it) by
 *   `retransmitDelayMs`, and once a packet's retransmissions would exceed `supervisionTimeoutMs`
 *   the link breaks (both sides see `by: 'transport'`). `supervisionTimeoutMs: 0` makes every
 *   loss a disconnect.
 * - **Disconnects.** `disconnectAfter` breaks the link after a number of bytes (counted on the
 *   wire: fragments with their headers when `mtu` is set) or whole messages, in both directions
 *   together, in send order. Nothing after the limit is delivered; at the moment the first
 *   packet beyond it would have arrived, both sides close with `by: 'transport'`.
 * - **Close.** `close()` reaches the peer after the one-way latency, behind the packets already
 *   sent (like an LL_TERMINATE_IND).
 *
 * Without `mtu` whole messages travel as single packets (the original behaviour); with no
 * latency they are delivered on the next microtask.
 */
import { copyOf } from '../bytes.js';
import { QueuedLink } from './queued-link.js';
import { assertArg } from '../errors.js';
import type { Link, SendOptions } from './link.js';
import { FRAGMENT_START, FramedLink, valueSizeForMtu, type FramingOptions } from './framing.js';

/** Options of `createMemoryLinkPair`: latency, jitter, an MTU (then messages travel framed), loss and retransmission, supervision timeout, a scripted disconnect. */
export interface MemoryLinkOptions extends FramingOptions {
  /** One-way delivery delay in ms (default 0: delivered on the next microtask). */
  readonly latencyMs?: number;
  /** Extra uniform random delay in [0, jitterMs) per packet; never reorders (default 0). */
  readonly jitterMs?: number;
  /**
   * ATT MTU (23..517). When set, messages are framed and what travels (and is counted, delayed,
   * lost) is fragments of at most `min(mtu - 3, 512)` bytes.
   */
  readonly mtu?: number | undefined;
  /** Probability in [0, 1] that one link-layer transmission attempt fails (default 0). */
  readonly loss?: number;
  /** Delay added by each failed attempt: one connection interval (default 7.5 ms). */
  readonly retransmitDelayMs?: number;
  /** The link breaks when one packet's retransmissions exceed this (default 2000 ms). */
  readonly supervisionTimeoutMs?: number;
  /** Break the link once this many bytes or messages have been carried (both directions). */
  readonly disconnectAfter?: { readonly bytes?: number; readonly messages?: number };
  /** Source of randomness for jitter and loss, in [0, 1) (default `Math.random`). */
  readonly random?: () => number;
  /** Clock for the framing partial-message timeout (default `Date.now`). */
  readonly now?: () => number;
}

type Packet =
  | { readonly kind: 'data'; readonly bytes: Uint8Array }
  | { readonly kind: 'close'; readonly reason: string }
  | { readonly kind: 'break'; readonly reason: string };

interface Endpoint {
  receivePacket(bytes: Uint8Array): void;
  remoteClosed(reason: string): void;
  broken(reason: string): void;
}

/** One direction of the simulated connection: an ordered queue of timed packets. */
class Direction {
  readonly #queue: { due: number; packet: Packet }[] = [];
  #last = -Infinity;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #microtask = false;
  constructor(
    private readonly channel: Channel,
    private readonly to: () => Endpoint,
  ) {}

  enqueue(due: number, packet: Packet): void {
    due = Math.max(due, this.#last);
    this.#last = due;
    this.#queue.push({ due, packet });
    this.#schedule();
  }

  clear(): void {
    this.#queue.length = 0;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #schedule(): void {
    if (this.#timer !== undefined || this.#microtask) return;
    const head = this.#queue[0];
    if (!head) return;
    const delay = head.due - Date.now();
    if (delay <= 0) {
      this.#microtask = true;
      queueMicrotask(() => {
        this.#microtask = false;
        this.#deliverDue();
      });
    } else {
      this.#timer = setTimeout(() => {
        this.#timer = undefined;
        this.#deliverDue();
      }, delay);
    }
  }

  #deliverDue(): void {
    const t = Date.now();
    while (this.#queue.length > 0 && this.#queue[0]!.due <= t) {
      const { packet } = this.#queue[0]!;
      if (packet.kind !== 'data') {
        // end of the connection: in a later task, so that a receiver drains what arrived before
        this.#queue.length = 0;
        this.#timer = setTimeout(() => {
          this.#timer = undefined;
          if (packet.kind === 'close') this.to().remoteClosed(packet.reason);
          else this.channel.break(packet.reason);
        }, 0);
        return;
      }
      this.#queue.shift();
      this.to().receivePacket(packet.bytes);
    }
    this.#schedule();
  }
}

class Channel {
  readonly endpoints: Endpoint[] = [];
  readonly #dirs: [Direction, Direction];
  #bytes = 0;
  #messages = 0;
  #broken = false;
  #exhausted = false;
  readonly #latency: number;
  readonly #jitter: number;
  readonly #loss: number;
  readonly #retransmit: number;
  readonly #supervision: number;
  readonly #random: () => number;

  constructor(private readonly options: MemoryLinkOptions) {
    this.#latency = options.latencyMs ?? 0;
    this.#jitter = options.jitterMs ?? 0;
    this.#loss = options.loss ?? 0;
    this.#retransmit = options.retransmitDelayMs ?? 7.5;
    this.#supervision = options.supervisionTimeoutMs ?? 2000;
    this.#random = options.random ?? Math.random;
    assertArg(this.#latency >= 0 && this.#jitter >= 0, 'latencyMs, jitterMs: expected ≥ 0');
    assertArg(this.#loss >= 0 && this.#loss <= 1, 'loss: expected a probability in [0, 1]');
    assertArg(this.#loss === 0 || this.#retransmit > 0, 'retransmitDelayMs: expected > 0 when loss > 0');
    assertArg(this.#supervision >= 0, 'supervisionTimeoutMs: expected ≥ 0');
    const d = options.disconnectAfter;
    assertArg(d?.bytes === undefined || (Number.isInteger(d.bytes) && d.bytes >= 0), 'disconnectAfter.bytes: expected an integer ≥ 0');
    assertArg(d?.messages === undefined || (Number.isInteger(d.messages) && d.messages >= 0), 'disconnectAfter.messages: expected an integer ≥ 0');
    this.#dirs = [new Direction(this, () => this.endpoints[1]!), new Direction(this, () => this.endpoints[0]!)];
  }

  /** One-way base delay of a packet sent now (latency + jitter). */
  #baseDue(): number {
    return Date.now() + this.#latency + (this.#jitter > 0 ? this.#random() * this.#jitter : 0);
  }

  send(from: 0 | 1, bytes: Uint8Array, startsMessage: boolean): void {
    if (this.#broken || this.#exhausted) return;
    const dir = this.#dirs[from];
    const limit = this.options.disconnectAfter;
    const overBytes = limit?.bytes !== undefined && this.#bytes + bytes.length > limit.bytes;
    const overMessages = limit?.messages !== undefined && startsMessage && this.#messages >= limit.messages;
    const base = this.#baseDue();
    if (overBytes || overMessages) {
      this.#exhausted = true;
      const what = overBytes ? `${limit.bytes} bytes` : `${limit.messages} messages`;
      dir.enqueue(base, { kind: 'break', reason: `simulated disconnect after ${what}` });
      return;
    }
    this.#bytes += bytes.length;
    if (startsMessage) this.#messages++;
    let delay = 0;
    if (this.#loss > 0) {
      // link-layer retransmissions until acknowledged, or the supervision timeout
      while (this.#random() < this.#loss) {
        delay += this.#retransmit;
        if (delay > this.#supervision) {
          this.#exhausted = true;
          dir.enqueue(base + this.#supervision, { kind: 'break', reason: `supervision timeout (${this.#supervision} ms of retransmissions)` });
          return;
        }
      }
    }
    dir.enqueue(base + delay, { kind: 'data', bytes });
  }

  close(from: 0 | 1, reason: string): void {
    if (this.#broken) return;
    this.#dirs[from].enqueue(Date.now() + this.#latency, { kind: 'close', reason });
  }

  break(reason: string): void {
    if (this.#broken) return;
    this.#broken = true;
    for (const d of this.#dirs) d.clear();
    for (const e of this.endpoints) e.broken(reason);
  }
}

/** Whole messages as single packets (no `mtu`). */
class MemoryLink extends QueuedLink implements Endpoint {
  constructor(
    private readonly channel: Channel,
    private readonly index: 0 | 1,
  ) {
    super();
  }

  async send(message: Uint8Array, options: SendOptions = {}): Promise<void> {
    this.inbox.assertCanSend(message, options);
    this.channel.send(this.index, copyOf(message), true);
  }

  close(reason = 'closed'): void {
    if (this.isClosed) return;
    this.inbox.close({ by: 'local', reason });
    this.channel.close(this.index, reason);
  }

  receivePacket(bytes: Uint8Array): void {
    if (this.isClosed) return;
    this.inbox.push(bytes);
    // too many unread: the queue closed the link (transport); the peer sees the connection end
    if (this.isClosed) this.channel.close(this.index, this.inbox.closeInfo?.reason ?? 'closed');
  }
  remoteClosed(reason: string): void {
    this.inbox.close({ by: 'remote', reason });
  }
  broken(reason: string): void {
    this.inbox.close({ by: 'transport', reason });
  }
}

/** Messages framed into MTU-sized fragments (`mtu` set). */
function framedEndpoint(channel: Channel, index: 0 | 1, mtu: number, options: MemoryLinkOptions): { link: Link; endpoint: Endpoint } {
  let fromChannel = false;
  const link: FramedLink = new FramedLink({
    valueSize: valueSizeForMtu(mtu),
    maxMessageSize: options.maxMessageSize,
    partialTimeoutMs: options.partialTimeoutMs,
    now: options.now,
    writeFragment: async (fragment) => channel.send(index, fragment, (fragment[0]! & FRAGMENT_START) !== 0),
    // a local close or a framing error: the peer sees the connection end
    onClose: (info) => {
      if (!fromChannel) channel.close(index, info.reason);
    },
  });
  const endpoint: Endpoint = {
    receivePacket: (bytes) => link.deliver(bytes),
    remoteClosed: (reason) => {
      fromChannel = true;
      link.terminate('remote', reason);
    },
    broken: (reason) => {
      fromChannel = true;
      link.terminate('transport', reason);
    },
  };
  return { link, endpoint };
}

/** Two connected links: what one sends, the other receives (see the module doc for the knobs). */
export function createMemoryLinkPair(options: MemoryLinkOptions = {}): [Link, Link] {
  const channel = new Channel(options);
  const { mtu } = options;
  if (mtu !== undefined) {
    valueSizeForMtu(mtu); // validate early
    const a = framedEndpoint(channel, 0, mtu, options);
    const b = framedEndpoint(channel, 1, mtu, options);
    channel.endpoints.push(a.endpoint, b.endpoint);
    return [a.link, b.link];
  }
  const a = new MemoryLink(channel, 0);
  const b = new MemoryLink(channel, 1);
  channel.endpoints.push(a, b);
  return [a, b];
}
