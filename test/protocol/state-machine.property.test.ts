/**
 * The two role state machines under arbitrary command sequences (fast-check): a car and a phone
 * wired through two queues that an adversary controls — it delivers, drops, replays, corrupts
 * and injects messages, advances the clock, and calls any method in any state. A reference
 * model predicts every decision of the car (session lifetime, command budget, RTT bound,
 * intent) and the harness checks after every step:
 *
 * - a role never throws, except LocalError('ERR_INVALID_STATE') for a call illegal in its state
 *   (and then its state is unchanged); legal calls never throw;
 * - input that is rejected yields exactly one `error` event and leaves the state unchanged;
 *   garbage (random, corrupted, truncated, replayed) is always rejected;
 * - the car executes only on a genuine, authenticated phone message carrying that command, at
 *   most once per message, and only when the model says the command is allowed;
 * - `session-expired` once the session is older than sessionMaxAgeMs, `rate-limited` beyond
 *   maxCommands, both closing the session; the phone's results are exactly the car's decisions.
 */
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  decodeMessage,
  defaultPolicy,
  LocalError,
  MessageType,
  toHex,
  type Command,
  type PhoneEvent,
  type PhoneSession,
  type RoleOutput,
  type StandardCommand,
} from '../../src/index.js';
import { flipBit, makeWorld, ManualClock, newCar, newPhone, type TestCar, type TestCarOutput, type World } from '../helpers/adversary.js';

const MAX_AGE = 800;
const MAX_COMMANDS = 5;
const MAX_RTT = 300;
const RUNS = Number(process.env.PROXKEY_SM_RUNS ?? 120);
/** Fixed by default so the coverage assertions are deterministic; PROXKEY_SM_SEED=random explores. */
const SEED = process.env.PROXKEY_SM_SEED === 'random' ? Date.now() | 0 : Number(process.env.PROXKEY_SM_SEED ?? 20_260_101);

// ------------------------------------------------------------------ actions

type Garbage =
  { readonly g: 'random'; readonly bytes: Uint8Array } | { readonly g: 'flip'; readonly bit: number } | { readonly g: 'truncate'; readonly n: number };

type Action =
  | { readonly a: 'start' }
  | { readonly a: 'begin'; readonly cmd: StandardCommand; readonly intent: boolean }
  | { readonly a: 'deliverToCar' }
  | { readonly a: 'deliverToPhone' }
  | { readonly a: 'dropToCar' }
  | { readonly a: 'dropToPhone' }
  | { readonly a: 'complete'; readonly ok: boolean }
  | { readonly a: 'command'; readonly cmd: StandardCommand; readonly intent: boolean }
  | { readonly a: 'garbageToCar'; readonly garbage: Garbage; readonly forwardAlert: boolean }
  | { readonly a: 'garbageToPhone'; readonly garbage: Garbage }
  | { readonly a: 'replayToCar'; readonly i: number }
  | { readonly a: 'replayToPhone'; readonly i: number }
  | { readonly a: 'tick'; readonly ms: number }
  | { readonly a: 'carClose' }
  | { readonly a: 'phoneClose' }
  /** Deliver everything queued both ways (and complete executions) until quiet: the honest network. */
  | { readonly a: 'sync' }
  /** An honest round trip: the phone sends a command and the network delivers everything. */
  | { readonly a: 'cycle'; readonly cmd: StandardCommand; readonly intent: boolean };

const cmdArb = fc.constantFrom<StandardCommand>('unlock', 'lock', 'start', 'trunk');
const garbageArb: fc.Arbitrary<Garbage> = fc.oneof(
  fc.record({ g: fc.constant('random' as const), bytes: fc.uint8Array({ maxLength: 300 }) }),
  fc.record({ g: fc.constant('flip' as const), bit: fc.nat() }),
  fc.record({ g: fc.constant('truncate' as const), n: fc.nat() }),
);
const actionArb: fc.Arbitrary<Action> = fc.oneof(
  { weight: 3, arbitrary: fc.constant({ a: 'start' as const }) },
  { weight: 3, arbitrary: fc.record({ a: fc.constant('begin' as const), cmd: cmdArb, intent: fc.boolean() }) },
  { weight: 9, arbitrary: fc.constant({ a: 'deliverToCar' as const }) },
  { weight: 9, arbitrary: fc.constant({ a: 'deliverToPhone' as const }) },
  { weight: 1, arbitrary: fc.constant({ a: 'dropToCar' as const }) },
  { weight: 1, arbitrary: fc.constant({ a: 'dropToPhone' as const }) },
  { weight: 5, arbitrary: fc.record({ a: fc.constant('complete' as const), ok: fc.boolean() }) },
  { weight: 6, arbitrary: fc.record({ a: fc.constant('command' as const), cmd: cmdArb, intent: fc.boolean() }) },
  { weight: 3, arbitrary: fc.record({ a: fc.constant('garbageToCar' as const), garbage: garbageArb, forwardAlert: fc.boolean() }) },
  { weight: 3, arbitrary: fc.record({ a: fc.constant('garbageToPhone' as const), garbage: garbageArb }) },
  { weight: 2, arbitrary: fc.record({ a: fc.constant('replayToCar' as const), i: fc.nat() }) },
  { weight: 2, arbitrary: fc.record({ a: fc.constant('replayToPhone' as const), i: fc.nat() }) },
  { weight: 3, arbitrary: fc.record({ a: fc.constant('tick' as const), ms: fc.oneof(fc.integer({ min: 0, max: 50 }), fc.integer({ min: 200, max: 900 })) }) },
  { weight: 1, arbitrary: fc.constant({ a: 'carClose' as const }) },
  { weight: 1, arbitrary: fc.constant({ a: 'phoneClose' as const }) },
  { weight: 4, arbitrary: fc.constant({ a: 'sync' as const }) },
  { weight: 5, arbitrary: fc.record({ a: fc.constant('cycle' as const), cmd: cmdArb, intent: fc.boolean() }) },
);
/** Mostly "warm" runs (the car has challenged and the phone has begun), so sessions get established. */
const runArb = fc
  .tuple(fc.integer({ min: 0, max: 9 }), cmdArb, fc.boolean(), fc.array(actionArb, { minLength: 10, maxLength: 60, size: 'max' }))
  .map(([warm, cmd, intent, rest]): Action[] => (warm < 8 ? [{ a: 'start' }, { a: 'begin', cmd, intent }, ...rest] : rest));

// ------------------------------------------------------------------ the harness

const CAR_RECEIVE_OK = ['new', 'challenged', 'ready', 'executing'];
const PHONE_RECEIVE_OK = ['awaiting-challenge', 'awaiting-result', 'ready'];

interface Sent {
  readonly command?: Command;
  readonly intent: boolean;
}

/** Statistics over all runs, to show the interesting paths were reached. */
const stats: Record<string, number> = {};
const bump = (k: string) => void (stats[k] = (stats[k] ?? 0) + 1);

class Harness {
  readonly clock = new ManualClock();
  readonly w: World;
  readonly car: TestCar;
  readonly phone: PhoneSession;
  readonly toCar: Uint8Array[] = [];
  readonly toPhone: Uint8Array[] = [];
  /** Every genuine message the phone produced, with the command it carries. */
  readonly phoneSent = new Map<string, Sent>();
  readonly executedFrom = new Set<string>();
  /** The command `begin()` chose: what the phone's handshake carries. */
  first: Sent | undefined;
  readonly acceptedByCar: Uint8Array[] = [];
  readonly acceptedByPhone: Uint8Array[] = [];
  /** Results the car sent, in order (each result record's status); the phone must see a prefix. */
  readonly carResults: string[] = [];
  phoneResults = 0;
  // model
  challengedAt: number | undefined;
  establishedAt: number | undefined;
  rtt = 0;
  commandsSeen = 0;
  executions = 0;
  log: string[] = [];

  constructor(base: World) {
    this.w = { ...base, clock: this.clock };
    this.car = newCar(this.w, 'state-machine', { sessionMaxAgeMs: MAX_AGE, maxCommands: MAX_COMMANDS });
    this.phone = newPhone(this.w, 'state-machine');
  }

  fail(msg: string): never {
    throw new Error(`${msg}\n  steps: ${this.log.join(' → ')}`);
  }

  /** Runs a role call; checks the throw rule. Returns undefined when it threw (legitimately). */
  async call<T>(what: string, legal: boolean, state: () => string, f: () => Promise<T> | T): Promise<T | undefined> {
    const before = state();
    try {
      const r = await f();
      if (!legal) this.fail(`${what} in state ${before} should have thrown ERR_INVALID_STATE`);
      return r;
    } catch (e) {
      if (!(e instanceof LocalError) || e.code !== 'ERR_INVALID_STATE') this.fail(`${what} threw ${String(e)}`);
      if (legal) this.fail(`${what} in state ${before} threw ${e.message}`);
      if (state() !== before) this.fail(`${what} threw and changed state ${before} → ${state()}`);
      bump(`illegal ${what}`);
      return undefined;
    }
  }

  /** The decision the model expects for a command the car authenticated just now. */
  expected(cmd: Command, intent: boolean): string {
    const now = this.clock.now();
    if (now - this.establishedAt! > MAX_AGE) return 'session-expired';
    if (this.commandsSeen > MAX_COMMANDS) return 'rate-limited';
    if (this.rtt > MAX_RTT) return 'relay-suspected';
    if (cmd.kind === 'start' && !intent) return 'intent-required';
    return 'execute';
  }

  /** Queue what the car sent; every decision it announces travels as one RESULT record. */
  queueFromCar(o: TestCarOutput): void {
    this.toPhone.push(...o.send);
    for (const e of o.events) if (e.type === 'decision' && e.command !== undefined) this.carResults.push(e.result);
  }

  queueFromPhone(o: RoleOutput<PhoneEvent>, sent?: Sent): void {
    for (const m of o.send) {
      this.toCar.push(m);
      const isCommand = sent && decodeMessage(m).type !== MessageType.Alert;
      this.phoneSent.set(toHex(m), isCommand ? sent : { intent: false });
    }
  }

  /** Car receives `bytes`; `genuine` says whether they are an undelivered genuine phone message. */
  async carReceive(bytes: Uint8Array, kind: 'genuine' | 'garbage' | 'replay', forwardAlert = true): Promise<void> {
    const before = this.car.state;
    const o = await this.call(
      'car.receive',
      CAR_RECEIVE_OK.includes(before),
      () => this.car.state,
      () => this.car.receive(bytes),
    );
    if (!o) return;
    const types = o.events.map((e) => e.type);
    const isAlert = bytes.length === 2 && bytes[0] === MessageType.Alert;
    if (types.includes('error')) {
      // Rejected: exactly one error event, one alert to send, nothing else happens.
      if (types.join() !== 'error') this.fail(`car rejected with events ${types.join()}`);
      if (this.car.state !== before) this.fail(`car rejected input but changed state ${before} → ${this.car.state}`);
      if (o.send.length !== 1 || decodeMessage(o.send[0]!).type !== MessageType.Alert) this.fail('car rejection without one alert');
      bump(`car rejects ${kind}`);
      if (forwardAlert) this.toPhone.push(o.send[0]!);
      return;
    }
    if (kind !== 'genuine') this.fail(`car accepted ${kind} ${toHex(bytes)}: ${types.join()}`);
    if (isAlert) {
      if (types.join() !== 'closed' || this.car.state !== 'closed') this.fail('car on alert');
      return;
    }
    this.acceptedByCar.push(bytes);
    bump(`car accepts ${decodeMessage(bytes).type}`);
    const sent = this.phoneSent.get(toHex(bytes));
    if (!sent) this.fail('car accepted bytes the phone never sent');
    const auth = o.events.find((e) => e.type === 'authenticated');
    if (auth) {
      this.establishedAt = this.clock.now();
      this.rtt = this.clock.now() - this.challengedAt!;
      if (auth.rttMs !== this.rtt) this.fail(`rtt ${auth.rttMs} ≠ model ${this.rtt}`);
    }
    const exec = o.events.find((e) => e.type === 'execute');
    const decision = o.events.find((e) => e.type === 'decision');
    if (exec || decision) {
      this.commandsSeen++;
      if (!sent.command) this.fail('car decided on a message without a command');
      const want = this.expected(sent.command, sent.intent);
      if (exec?.type === 'execute') {
        if (want !== 'execute') this.fail(`car executed ${exec.command.kind}; model says ${want}`);
        if (this.executedFrom.has(toHex(bytes))) this.fail('executed twice from one message');
        if (JSON.stringify(exec.command) !== JSON.stringify(sent.command) || exec.intent !== sent.intent)
          this.fail(`executed ${JSON.stringify(exec.command)} but the phone sent ${JSON.stringify(sent.command)}`);
        this.executedFrom.add(toHex(bytes));
        this.executions++;
        bump('execute');
        if (this.car.state !== 'executing') this.fail(`after execute: state ${this.car.state}`);
      } else if (decision?.type === 'decision') {
        if (decision.result !== want) this.fail(`car decided ${decision.result}; model says ${want}`);
        bump(`deny ${decision.result}`);
        const terminal = ['session-expired', 'rate-limited'].includes(want);
        if (terminal !== (this.car.state === 'closed')) this.fail(`${want}: car state ${this.car.state}`);
      }
    } else if (!types.includes('closed')) {
      this.fail(`car accepted a message with events ${types.join()}`);
    }
    this.queueFromCar(o);
  }

  async phoneReceive(bytes: Uint8Array, kind: 'genuine' | 'garbage' | 'replay'): Promise<void> {
    const before = this.phone.state;
    const o = await this.call(
      'phone.receive',
      PHONE_RECEIVE_OK.includes(before),
      () => this.phone.state,
      () => this.phone.receive(bytes),
    );
    if (!o) return;
    const types = o.events.map((e) => e.type);
    const isAlert = bytes.length === 2 && bytes[0] === MessageType.Alert;
    if (isAlert) {
      // An alert is unauthenticated but always ends the session: a typed denial, no result.
      if (kind !== 'genuine') this.fail('an alert was used as garbage');
      const e = o.events[0];
      if (types.join() !== 'error,closed' || e?.type !== 'error' || e.error.code !== 'ERR_ALERT') this.fail(`phone on alert: ${types.join()}`);
      bump('phone closed by alert');
      return;
    }
    if (types.includes('error')) {
      if (types.join() !== 'error') this.fail(`phone rejected with events ${types.join()}`);
      if (this.phone.state !== before) this.fail(`phone rejected input but changed state ${before} → ${this.phone.state}`);
      if (o.send.length !== 0) this.fail('phone sent something on rejected input');
      bump(`phone rejects ${kind}`);
      return;
    }
    if (kind !== 'genuine') this.fail(`phone accepted ${kind} ${toHex(bytes)}: ${types.join()}`);
    this.acceptedByPhone.push(bytes);
    for (const e of o.events) {
      if (e.type !== 'result') continue;
      const want = this.carResults[this.phoneResults++];
      if (e.status !== want) this.fail(`phone got ${e.status}; the car's decision #${this.phoneResults} was ${want}`);
      bump('phone result');
    }
    if (o.send.length) {
      // The handshake: it carries the first command.
      this.queueFromPhone(o, this.first);
      bump('handshake sent');
    }
  }

  garbageFor(queue: Uint8Array[], accepted: Uint8Array[], g: Garbage): Uint8Array | undefined {
    if (g.g === 'random') {
      const b = g.bytes.slice();
      if (b[0] === MessageType.Alert) b[0] = 0x0e; // an alert is a legitimate (if unauthenticated) close
      if (b[0] === MessageType.Challenge && b.length >= 3) {
        b[1]! |= 1; // an offer the phone supports, so only the key can be the problem
        b[2]! |= 1;
      }
      return b;
    }
    const src = queue[0] ?? accepted[accepted.length - 1];
    if (!src || src[0] === MessageType.Alert) return undefined;
    if (g.g === 'truncate') return src.slice(0, g.n % src.length);
    // A challenge's header is unauthenticated by design (the car rejects the resulting handshake):
    // flip only its key. Any bit of anything else.
    const lo = src[0] === MessageType.Challenge ? 24 : 0;
    return flipBit(src, lo + (g.bit % (src.length * 8 - lo)));
  }

  async step(act: Action): Promise<void> {
    this.log.push(act.a + ('cmd' in act ? `(${act.cmd}${act.intent ? '!' : ''})` : '') + ('ms' in act ? `(${act.ms})` : ''));
    const { car, phone } = this;
    switch (act.a) {
      case 'start': {
        const o = await this.call(
          'car.start',
          car.state === 'new',
          () => car.state,
          () => car.start(),
        );
        if (o) {
          this.challengedAt = this.clock.now();
          this.queueFromCar(o);
        }
        return;
      }
      case 'begin': {
        const legal = phone.state === 'new';
        await this.call(
          'phone.begin',
          legal,
          () => phone.state,
          () => phone.begin(act.cmd, { intent: act.intent }),
        );
        if (legal) this.first = { command: { kind: act.cmd }, intent: act.intent };
        return;
      }
      case 'deliverToCar': {
        const m = this.toCar.shift();
        if (m) await this.carReceive(m, 'genuine');
        return;
      }
      case 'deliverToPhone': {
        const m = this.toPhone.shift();
        if (m) await this.phoneReceive(m, 'genuine');
        return;
      }
      case 'dropToCar':
        this.toCar.shift();
        return;
      case 'dropToPhone':
        this.toPhone.shift();
        return;
      case 'complete': {
        const o = await this.call(
          'car.complete',
          car.state === 'executing',
          () => car.state,
          () => car.complete(act.ok ? { ok: true } : { ok: false, reason: 'actuator-failed' }),
        );
        if (!o) return;
        const d = o.events.find((e) => e.type === 'decision');
        if (d?.type !== 'decision' || d.result !== (act.ok ? 'ok' : 'actuator-failed') || car.state !== 'ready') this.fail('complete');
        // The model's 'execute' becomes the reported outcome.
        this.queueFromCar(o);
        return;
      }
      case 'command': {
        const o = await this.call(
          'phone.command',
          phone.state === 'ready',
          () => phone.state,
          () => phone.command(act.cmd, { intent: act.intent }),
        );
        if (o) this.queueFromPhone(o, { command: { kind: act.cmd }, intent: act.intent });
        return;
      }
      case 'garbageToCar': {
        const g = this.garbageFor(this.toCar, this.acceptedByCar, act.garbage);
        if (g) await this.carReceive(g, 'garbage', act.forwardAlert);
        return;
      }
      case 'garbageToPhone': {
        const g = this.garbageFor(this.toPhone, this.acceptedByPhone, act.garbage);
        if (g) await this.phoneReceive(g, 'garbage');
        return;
      }
      case 'replayToCar': {
        const m = this.acceptedByCar[act.i % Math.max(1, this.acceptedByCar.length)];
        if (m) await this.carReceive(m, 'replay', false);
        return;
      }
      case 'replayToPhone': {
        const m = this.acceptedByPhone[act.i % Math.max(1, this.acceptedByPhone.length)];
        if (m) await this.phoneReceive(m, 'replay');
        return;
      }
      case 'tick':
        this.clock.advance(act.ms);
        return;
      case 'carClose': {
        const o = await this.call(
          'car.close',
          true,
          () => car.state,
          () => car.close(),
        );
        if (o && (!o.done || car.state !== 'closed')) this.fail('car.close');
        if (o) this.queueFromCar(o);
        return;
      }
      case 'phoneClose': {
        const o = await this.call(
          'phone.close',
          true,
          () => phone.state,
          () => phone.close(),
        );
        if (o && (!o.done || phone.state !== 'closed')) this.fail('phone.close');
        if (o) this.queueFromPhone(o);
        return;
      }
      case 'cycle':
        await this.step({ a: 'command', cmd: act.cmd, intent: act.intent });
        await this.step({ a: 'sync' });
        return;
      case 'sync':
        for (let i = 0; i < 8 && (this.toCar.length || this.toPhone.length || car.state === 'executing'); i++) {
          if (car.state === 'executing') await this.step({ a: 'complete', ok: true });
          if (this.toCar.length) await this.step({ a: 'deliverToCar' });
          if (this.toPhone.length) await this.step({ a: 'deliverToPhone' });
        }
        return;
    }
  }
}

describe('role state machines under arbitrary command sequences', () => {
  let w: World;
  beforeAll(async () => {
    w = await makeWorld({ carSeed: 'sm-car', phoneSeed: 'sm-phone', policy: defaultPolicy({ maxRttMs: MAX_RTT }) });
  });

  it(`${RUNS} random interleavings of valid, garbage, replayed and illegal inputs`, async () => {
    await fc.assert(
      fc.asyncProperty(runArb, async (actions) => {
        const h = new Harness(w);
        for (const a of actions) await h.step(a);
        bump('runs');
        if (h.car.sessionId) bump('runs with a session');
      }),
      { numRuns: RUNS, seed: SEED },
    );
    if (process.env.PROXKEY_TEST_REPORTS) console.info('state-machine coverage:', JSON.stringify(stats));
    // The interesting paths were reached (with the fixed default seed this is deterministic).
    const must = ['execute', 'car rejects garbage', 'phone rejects garbage', 'car rejects replay', 'phone rejects replay', 'phone result'];
    for (const k of [...must, 'deny session-expired', 'deny rate-limited', 'deny relay-suspected', 'deny intent-required'])
      expect(stats[k] ?? 0, k).toBeGreaterThan(0);
  });

  it('steered sequences: every limit occurs and the model agrees', async () => {
    const run = async (h: Harness, ...acts: Action[]) => {
      for (const a of acts) await h.step(a);
      return h;
    };
    // intent-required, ok, actuator-failed, then session-expired (closes).
    const a = await run(new Harness(w), { a: 'start' }, { a: 'begin', cmd: 'start', intent: false }, { a: 'sync' });
    await run(a, { a: 'cycle', cmd: 'unlock', intent: false }, { a: 'command', cmd: 'lock', intent: false }, { a: 'deliverToCar' });
    await run(a, { a: 'complete', ok: false }, { a: 'deliverToPhone' }, { a: 'tick', ms: MAX_AGE + 1 }, { a: 'cycle', cmd: 'trunk', intent: false });
    expect(a.carResults).toEqual(['intent-required', 'ok', 'actuator-failed', 'session-expired']);
    expect([a.car.state, a.phone.state, a.executions]).toEqual(['closed', 'closed', 2]);
    // rate-limited after MAX_COMMANDS commands (the handshake's included).
    const b = await run(new Harness(w), { a: 'start' }, { a: 'begin', cmd: 'unlock', intent: false }, { a: 'sync' });
    for (let i = 1; i <= MAX_COMMANDS; i++) await run(b, { a: 'cycle', cmd: 'lock', intent: false });
    expect(b.carResults).toEqual([...Array<string>(MAX_COMMANDS).fill('ok'), 'rate-limited']);
    expect(b.car.state).toBe('closed');
    // relay-suspected: the handshake arrives more than maxRttMs after the challenge.
    const c = await run(new Harness(w), { a: 'start' }, { a: 'tick', ms: MAX_RTT + 1 }, { a: 'begin', cmd: 'unlock', intent: false }, { a: 'sync' });
    expect(c.carResults).toEqual(['relay-suspected']);
    expect(c.executions).toBe(0);
  });
});

describe('lifetime and budget, explicitly', () => {
  let w: World;
  beforeAll(async () => {
    w = await makeWorld({ carSeed: 'limits-car', phoneSeed: 'limits-phone' });
  });

  async function established(extra: { sessionMaxAgeMs?: number; maxCommands?: number }) {
    const clock = new ManualClock();
    const cw = { ...w, clock };
    const car = newCar(cw, 'limits', extra);
    const phone = newPhone(cw, 'limits');
    phone.begin('unlock');
    const hs = (await phone.receive((await car.start()).send[0]!)).send[0]!;
    const o = await car.receive(hs);
    expect(o.events.map((e) => e.type)).toEqual(['authenticated', 'execute']);
    await phone.receive((await car.complete({ ok: true })).send[0]!);
    const send = async (cmd: StandardCommand) => {
      const r = await car.receive((await phone.command(cmd)).send[0]!);
      const decision = r.events.find((e) => e.type === 'decision' || e.type === 'execute');
      if (decision?.type === 'execute') {
        await phone.receive((await car.complete({ ok: true })).send[0]!);
        return 'execute';
      }
      for (const m of r.send) await phone.receive(m);
      return decision?.type === 'decision' ? decision.result : 'none';
    };
    return { clock, car, phone, send };
  }

  it('a command exactly at sessionMaxAgeMs is served; 1 ms later it is session-expired and the session closes', async () => {
    const s = await established({ sessionMaxAgeMs: 5_000 });
    s.clock.advance(5_000);
    expect(await s.send('lock')).toBe('execute');
    s.clock.advance(1);
    expect(await s.send('unlock')).toBe('session-expired');
    expect(s.car.state).toBe('closed');
    expect(s.phone.state).toBe('closed');
  });

  it('the default lifetime is 60 s', async () => {
    const s = await established({});
    s.clock.advance(60_001);
    expect(await s.send('lock')).toBe('session-expired');
  });

  it('maxCommands counts the handshake’s command; the next one is rate-limited and the session closes', async () => {
    const s = await established({ maxCommands: 3 });
    expect(await s.send('lock')).toBe('execute');
    expect(await s.send('unlock')).toBe('execute');
    expect(await s.send('lock')).toBe('rate-limited');
    expect(s.car.state).toBe('closed');
  });

  it('the default budget is 32 commands', async () => {
    const s = await established({});
    for (let i = 2; i <= 32; i++) expect(await s.send(i % 2 ? 'lock' : 'unlock')).toBe('execute');
    expect(await s.send('lock')).toBe('rate-limited');
  });

  it('rejected handshakes do not reset the RTT clock: a relay cannot buy time with garbage', async () => {
    const clock = new ManualClock();
    const cw = { ...w, clock, policy: defaultPolicy({ maxRttMs: 300 }) };
    const car = newCar(cw, 'rtt');
    const phone = newPhone(cw, 'rtt');
    phone.begin('unlock');
    const hs = (await phone.receive((await car.start()).send[0]!)).send[0]!;
    for (let i = 0; i < 5; i++) {
      clock.advance(100);
      const bad = await car.receive(flipBit(hs, hs.length * 8 - 1 - i)); // a tag bit: fails after all the DH work
      expect(bad.events.map((e) => e.type)).toEqual(['error']);
    }
    const o = await car.receive(hs);
    expect(o.events[0]).toMatchObject({ type: 'authenticated', rttMs: 500 });
    expect(o.events.find((e) => e.type === 'decision')).toMatchObject({ result: 'relay-suspected' });
  });

  it('a second step while one is in progress is refused with ERR_INVALID_STATE (both roles)', async () => {
    const clock = new ManualClock();
    const cw = { ...w, clock };
    const car = newCar(cw, 'reentrant');
    const phone = newPhone(cw, 'reentrant');
    phone.begin('unlock');
    const challenge = (await car.start()).send[0]!;
    const first = phone.receive(challenge);
    await expect(phone.receive(challenge)).rejects.toMatchObject({ code: 'ERR_INVALID_STATE' });
    const hs = (await first).send[0]!;
    const a = car.receive(hs);
    await expect(car.receive(hs)).rejects.toMatchObject({ code: 'ERR_INVALID_STATE' });
    await expect(car.close()).rejects.toMatchObject({ code: 'ERR_INVALID_STATE' });
    expect((await a).events.map((e) => e.type)).toEqual(['authenticated', 'execute']);
  });
});
