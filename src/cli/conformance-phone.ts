/**
 * Checks for a phone under test: the runner plays the car (proxkey's own VehicleService, plus
 * an impostor and raw messages) and tells the phone what to do on each connection with a
 * directive; the phone's report says what it concluded. docs/CONFORMANCE.md lists every check.
 */
import { equalBytes } from '../bytes.js';
import type { VehicleState } from '../keys/state.js';
import { MemoryVehicleStore } from '../keys/store.js';
import { nodeCrypto } from '../node/node-crypto.js';
import { defaultPolicy } from '../policy/default-policy.js';
import { encodeMessage } from '../protocol/messages.js';
import { VehicleService } from '../service/vehicle-service.js';
import { createMemoryLinkPair } from '../transport/memory-link.js';
import type { Link } from '../transport/link.js';
import { CheckFailure, expectThat, phoneCloses, transcriptChecksOr, recordedShapes, shapes, type Check } from './conformance-check.js';
import { dataBytes, decodeControl, encodeControl, isControlFrame, type Directive, type DirectiveCommand, type Report } from './conformance-control.js';
import { editedLink, SessionLink } from './conformance-link.js';
import { freshPhone } from './conformance-wallets.js';

export interface PhoneTarget {
  /** A new connection to the phone under test. */
  readonly connect: () => Promise<Link>;
  readonly timeoutMs: number;
  /** The runner's car (set up by the first check). */
  car?: VehicleService;
  /** Every command the runner's cars executed, in order. */
  readonly executed: string[];
  /** The phone's key id at the runner's car, once paired. */
  phoneKeyId?: string;
}

/** A car on a copy of `state` (or a new car), serving like the runner's car. */
async function carFrom(t: PhoneTarget, state: VehicleState | undefined, maxCommands = 32): Promise<VehicleService> {
  const store = new MemoryVehicleStore();
  if (state) await store.save(state);
  return VehicleService.open({
    store,
    crypto: nodeCrypto,
    name: 'proxkey conformance car',
    policy: defaultPolicy({ maxRttMs: Infinity }),
    actuator: (command) => void t.executed.push(command.kind),
    // a phone that goes quiet fails its check within the run's bound, not the car's 30 s idle default
    session: { maxCommands, handshakeTimeoutMs: t.timeoutMs, idleTimeoutMs: t.timeoutMs },
  });
}

const car = (t: PhoneTarget): VehicleService => t.car ?? fail('needs the paired car (check pair failed)');
function fail(message: string): never {
  throw new CheckFailure(message);
}

interface Exchange {
  readonly report: Report;
  /** Every protocol message the phone sent. */
  readonly sent: readonly Uint8Array[];
}

/** One connection: the directive, the car's side of the session, then the phone's report. */
async function exchange(t: PhoneTarget, directive: Directive, carSide: (session: Link) => Promise<unknown>): Promise<Exchange> {
  const link = await t.connect();
  try {
    await link.send(encodeControl(directive));
    const session = new SessionLink(link);
    await carSide(session);
    session.close('car side over');
    const sent = [...session.received];
    let frame = session.control;
    while (!frame) {
      const m = await link.receive({ timeoutMs: t.timeoutMs });
      if (isControlFrame(m)) frame = m;
      else sent.push(m);
    }
    const report = decodeControl(frame) as Report;
    expectThat(Array.isArray(report.results), 'the report has no results list');
    return { report, sent };
  } finally {
    link.close('check over');
  }
}

const commands = (...list: (string | DirectiveCommand)[]): Extract<Directive, { action: 'commands' }> => ({
  action: 'commands',
  commands: list.map((c) => (typeof c === 'string' ? { command: c } : c)),
});
const statuses = (r: Report) => r.results.map((x) => x.status).join(', ');
const serve = (c: VehicleService) => (session: Link) => c.serve(session);

function expectStatuses(r: Report, want: string): string {
  expectThat(statuses(r) === want, `the phone reported ${statuses(r) || 'no result'}${r.error ? ` (${r.error})` : ''} instead of ${want}`);
  return want;
}

/** The phone refused what the car sent: no result accepted, an error reported, no HANDSHAKE/RECORD after `allowed`. */
function expectRefused(x: Exchange, allowedSends = 0): string {
  expectThat(
    x.report.results.every((r) => r.status !== 'ok'),
    `the phone accepted ${statuses(x.report)}`,
  );
  expectThat(x.report.error !== undefined, 'the phone reported no error');
  // a RECORD{CLOSE} (19 bytes) on the way out is allowed: the phone's close() sends it (§6)
  const protocol = x.sent.filter((m) => m[0] === 0x02 || (m[0] === 0x03 && m.length !== 1 + 2 + 16)).length;
  expectThat(protocol <= allowedSends, `the phone sent ${shapes(x.sent).join(' ')} after the bad message`);
  return `refused (${x.report.error})`;
}

function transcriptChecks(): Check<PhoneTarget>[] {
  return transcriptChecksOr((v) => ({
    id: `vector:${v.name}`,
    expects: `the steps of protocol-${v.name}.json, live (${v.enrolled ? 'enrolled' : 'not enrolled'}): the recorded results and the phone's message types and sizes`,
    run: async (t) => {
      const state = car(t).registry.state;
      const c = v.enrolled ? car(t) : await carFrom(t, { ...state, keys: [], revokedGrants: [] });
      const x = await exchange(t, { ...commands(...v.steps), awaitClose: !phoneCloses(v) }, serve(c));
      expectStatuses(x.report, v.results.join(', '));
      const want = recordedShapes(v, 'phone').join(' ');
      expectThat(shapes(x.sent).join(' ') === want, `phone messages ${shapes(x.sent).join(' ')} instead of ${want}`);
      return v.results.join(', ');
    },
  }));
}

/** Every check for a phone under test, in the order they run (`pair` sets up the runner's car). */
export function phoneChecks(): Check<PhoneTarget>[] {
  return [pairCheck(), ...transcriptChecks(), ...behaviourChecks(), ...malformedChecks(), revocationCheck()];
}

function pairCheck(): Check<PhoneTarget> {
  return {
    id: 'pair',
    expects: "directive pair with the car's code: the phone completes SPAKE2+ and is enrolled as an owner",
    run: async (t) => {
      t.car = await carFrom(t, undefined);
      const { code } = await t.car.openPairing();
      const x = await exchange(t, { action: 'pair', code }, serve(t.car));
      expectThat(x.report.paired === true, `the phone reported ${x.report.error ?? 'not paired'}`);
      const owners = t.car.registry.state.keys.filter((k) => k.role === 'owner');
      expectThat(owners.length === 1, `${owners.length} owners enrolled`);
      t.phoneKeyId = owners[0]!.id;
      return `key ${t.phoneKeyId}`;
    },
  };
}

function behaviourChecks(): Check<PhoneTarget>[] {
  return [
    {
      id: 'session-commands',
      expects: 'directive unlock, lock, trunk: one HANDSHAKE then two RECORDs; the phone reports ok, ok, ok and the car executed them in order',
      run: async (t) => {
        const before = t.executed.length;
        const x = await exchange(t, commands('unlock', 'lock', 'trunk'), serve(car(t)));
        expectStatuses(x.report, 'ok, ok, ok');
        expectThat(t.executed.slice(before).join() === 'unlock,lock,trunk', `the car executed ${t.executed.slice(before).join()}`);
        return 'ok, ok, ok';
      },
    },
    {
      id: 'intent',
      expects: 'directive start without intent: the phone reports intent-required; with intent: ok',
      run: async (t) => {
        expectStatuses((await exchange(t, commands('start'), serve(car(t)))).report, 'intent-required');
        return `then ${expectStatuses((await exchange(t, commands({ command: 'start', intent: true }), serve(car(t)))).report, 'ok')}`;
      },
    },
    {
      id: 'result-data',
      expects: "directive advertising-secret: the phone reports ok with the car's 32-byte secret, byte for byte",
      run: async (t) => {
        const x = await exchange(t, commands('advertising-secret'), serve(car(t)));
        expectStatuses(x.report, 'ok');
        expectThat(equalBytes(dataBytes(x.report.results[0]!.data), car(t).advertisingSecret), 'the reported data is not the secret the car sent');
        return '32 bytes intact';
      },
    },
    {
      id: 'max-commands',
      expects: 'a car allowing 2 commands per session, directive unlock, lock, lock: the phone reports ok, ok, rate-limited',
      run: async (t) =>
        expectStatuses(
          (await exchange(t, commands('unlock', 'lock', 'lock'), serve(await carFrom(t, car(t).registry.state, 2)))).report,
          'ok, ok, rate-limited',
        ),
    },
    {
      id: 'unknown-key',
      expects: 'the same car with no key enrolled: the phone reports unknown-key (or an unknown-key error), never ok',
      run: async (t) => {
        const x = await exchange(t, commands('unlock'), serve(await carFrom(t, { ...car(t).registry.state, keys: [], revokedGrants: [] })));
        expectThat(
          statuses(x.report) === 'unknown-key' || (x.report.results.length === 0 && x.report.error !== undefined),
          `the phone reported ${statuses(x.report)}`,
        );
        return statuses(x.report) || x.report.error;
      },
    },
  ];
}

function revocationCheck(): Check<PhoneTarget> {
  return {
    id: 'revoke-closes-session',
    expects:
      "directive unlock with awaitClose; the car revokes the phone's key once the unlock's RESULT is sent (a second owner keeps the car administrable): the phone reports CLOSE(revoked); its next unlock is denied revoked",
    run: async (t) => {
      await pairSecondOwner(car(t));
      const x = await exchange(t, { ...commands('unlock'), awaitClose: true }, async (session) => {
        let resultSent!: () => void;
        const sent = new Promise<void>((resolve) => (resultSent = resolve));
        // the CHALLENGE is message 0, the unlock's RESULT message 1: revoke once it is on its way
        const serving = car(t).serve(editedLink(session, (_m, i) => void (i === 1 && setTimeout(resultSent, 0))));
        await Promise.race([sent, serving]);
        await car(t).revoke(t.phoneKeyId!);
        await serving;
      });
      expectStatuses(x.report, 'ok');
      expectThat(
        x.report.closeReason === 'revoked',
        `the phone reported close ${x.report.closeReason ?? 'none'}${x.report.error ? ` (${x.report.error})` : ''}`,
      );
      const again = (await exchange(t, commands('unlock'), serve(car(t)))).report;
      expectThat(statuses(again) === 'revoked' || (again.results.length === 0 && again.error !== undefined), `then the phone reported ${statuses(again)}`);
      return `CLOSE(revoked), then ${statuses(again) || again.error}`;
    },
  };
}

/** The car refuses to revoke its last owner: enroll the runner's own phone as a second one. */
async function pairSecondOwner(c: VehicleService): Promise<void> {
  const { code } = await c.openPairing();
  const [phoneEnd, carEnd] = createMemoryLinkPair();
  const serving = c.serve(carEnd);
  await (await freshPhone('runner owner')).pair(phoneEnd, code, { timeoutMs: 10_000 });
  await serving;
}

function malformedChecks(): Check<PhoneTarget>[] {
  const badPoint = encodeMessage({ type: 0x01, versions: 1, suites: 3, ephemeral: Uint8Array.of(0x04, ...new Uint8Array(64).fill(1)) });
  const garbage = Uint8Array.from({ length: 48 }, (_, j) => (j * 37 + 0x99) & 0xff);
  return [
    {
      id: 'garbage-challenge',
      expects: 'directive unlock, then 48 bytes of garbage instead of a CHALLENGE: no HANDSHAKE, the phone reports an error',
      run: async (t) => expectRefused(await exchange(t, commands('unlock'), (s) => s.send(garbage))),
    },
    {
      id: 'bad-point-challenge',
      expects: 'a CHALLENGE whose ephemeral key is not on P-256: no HANDSHAKE, the phone reports an error',
      run: async (t) => expectRefused(await exchange(t, commands('unlock'), (s) => s.send(badPoint))),
    },
    {
      id: 'bad-mac-result',
      expects: "the car's RESULT with its last byte flipped: the phone accepts no result, reports an error, sends no RECORD but at most a RECORD{CLOSE}",
      run: async (t) => {
        const flip = (m: Uint8Array, i: number) => (i === 1 ? Uint8Array.from(m, (b, j) => (j === m.length - 1 ? b ^ 1 : b)) : undefined);
        return expectRefused(await exchange(t, commands('unlock'), (s) => car(t).serve(editedLink(s, flip))), 1);
      },
    },
    {
      id: 'impostor-car',
      expects: 'a car with another key answers: the phone accepts no result and reports an error',
      run: async (t) => expectRefused(await exchange(t, commands('unlock'), serve(await carFrom(t, undefined))), 1),
    },
  ];
}
