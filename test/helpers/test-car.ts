/**
 * A car for sans-IO tests: the real `VehicleSession`, with its key-directory, redemption and
 * authorization requests answered at once by the real `VehicleAnswerer` (the driver's answers)
 * from a world's key store and policy, and time from a manual clock unless given. It stops at
 * `execute` (reported as an `execute` entry among the events) so a test can decide the outcome
 * with `complete()`. What the role produced across the answered steps is merged into one output;
 * decisions are stamped with the clock's time as the driver does.
 */
import {
  stampedEvent,
  VehicleAnswerer,
  VehicleSession,
  type Command,
  type DenyReason,
  type ExecutionOutcome,
  type KeyDirectory,
  type KeyRecord,
  type Policy,
  type RoleOutput,
  type VehicleEvent,
  type VehicleSessionEvent,
  type VehicleHooks,
  type VehicleRequest,
  type VehicleSessionOptions,
  type VehicleSessionState,
} from '../../src/index.js';

export type TestCarEvent =
  VehicleEvent | { readonly type: 'execute'; readonly command: Command; readonly key: KeyRecord; readonly intent: boolean; readonly rttMs: number };
export type TestCarOutput = RoleOutput<TestCarEvent>;

export interface TestCarOptions extends VehicleSessionOptions {
  readonly now: () => number;
  readonly keys: KeyDirectory;
  readonly policy: Policy;
  readonly hooks?: VehicleHooks;
}

export class TestCar {
  readonly session: VehicleSession;
  readonly #now: () => number;
  readonly #answerer: VehicleAnswerer;
  readonly #enrolled: TestCarEvent[] = [];

  constructor(options: TestCarOptions) {
    this.session = new VehicleSession(options);
    this.#now = options.now;
    this.#answerer = new VehicleAnswerer({
      keys: options.keys,
      policy: options.policy,
      ...(options.hooks && { hooks: options.hooks }),
      onEnrolled: (key) => this.#enrolled.push({ type: 'enrolled', key }),
    });
  }

  get state(): VehicleSessionState {
    return this.session.state;
  }
  get keyId(): string | undefined {
    return this.session.keyId;
  }
  get sessionId(): Uint8Array | undefined {
    return this.session.sessionId;
  }

  async start(now = this.#now()): Promise<TestCarOutput> {
    return this.#settle(await this.session.start(now));
  }

  async receive(bytes: Uint8Array, now = this.#now()): Promise<TestCarOutput> {
    return this.#settle(await this.session.receive(bytes, now));
  }

  async complete(outcome: ExecutionOutcome, now = this.#now()): Promise<TestCarOutput> {
    return this.#settle(await this.session.complete(outcome, now));
  }

  async close(reason: 'ok' | DenyReason = 'ok'): Promise<TestCarOutput> {
    return this.#settle(await this.session.close(reason));
  }

  async tick(now = this.#now()): Promise<TestCarOutput> {
    return this.#settle(await this.session.tick(now));
  }

  /** Answer every request but `execute`; merge the outputs. */
  async #settle(first: RoleOutput<VehicleSessionEvent, VehicleRequest>): Promise<TestCarOutput> {
    const stamp = (es: readonly VehicleSessionEvent[]) => es.map((e) => stampedEvent(e, this.#now()));
    const send = [...first.send];
    const events: TestCarEvent[] = stamp(first.events);
    let o = first;
    while (o.request && o.request.type !== 'execute') {
      const answer = await this.#answerer.answer(o.request, this.#now());
      events.push(...this.#enrolled.splice(0));
      o = await this.session.answer(answer, this.#now());
      send.push(...o.send);
      events.push(...stamp(o.events));
    }
    if (o.request?.type === 'execute') {
      const { command, intent, rttMs } = o.request;
      const key = this.#answerer.key;
      if (!key) throw new Error('TestCar: the role asked to execute a command for a key no lookup found');
      events.push({ type: 'execute', command, intent, rttMs, key });
    }
    return { send, events, done: o.done };
  }
}
