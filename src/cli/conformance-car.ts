/**
 * Checks for a car under test: the runner plays the phones (an owner it pairs with the car's
 * code, a friend it shares a key with, a stranger) and the attacker. docs/CONFORMANCE.md lists
 * each check with what it sends and expects.
 */
import { DeniedError, LinkClosedError } from '../errors.js';
import { MessageType } from '../protocol/constants.js';
import type { CommandInput } from '../protocol/commands.js';
import { reasonFromCode } from '../protocol/reasons.js';
import { commandInput } from './conformance-control.js';
import { freshPhone, phoneKnowing, type CarRecord } from './conformance-wallets.js';
import { CheckFailure, expectThat, phoneCloses, transcriptChecksOr, recordedShapes, shapes, type Check } from './conformance-check.js';
import { editedLink, heldOpen, readUntilClosed, recording, type SendEdit } from './conformance-link.js';
import type { Link } from '../transport/link.js';
import type { PhoneWallet } from '../service/phone-wallet.js';
import type { CommandResult } from '../transport/phone-driver.js';

export interface CarTarget {
  /** A new connection to the car under test. */
  readonly connect: () => Promise<Link>;
  /** The pairing code the car shows. */
  readonly code: string;
  /** The car's commands-per-session limit. */
  readonly maxCommands: number;
  readonly timeoutMs: number;
  /** Filled in by the checks as they go. */
  owner?: PhoneWallet;
  friend?: PhoneWallet;
}

const wait = (t: CarTarget) => ({ timeoutMs: t.timeoutMs });
const owner = (t: CarTarget): PhoneWallet => t.owner ?? failNeeds('an owner (check pair-owner failed)');
const friend = (t: CarTarget): PhoneWallet => t.friend ?? failNeeds('a friend (check grant-redeem failed)');
function failNeeds(what: string): never {
  throw new CheckFailure(`needs ${what}`);
}

/** Run one command on a new connection; an unauthenticated denial (ALERT) comes back as its reason. */
async function statusOf(t: CarTarget, wallet: PhoneWallet, command: CommandInput, intent = false): Promise<string> {
  try {
    return (await wallet.command(await t.connect(), command, { intent, ...wait(t) })).status;
  } catch (e) {
    if (e instanceof DeniedError) return `alert:${e.reason}`;
    throw e;
  }
}

function expectStatus(got: string, ...want: string[]): string {
  expectThat(want.includes(got), `expected ${want.join(' or ')}, got ${got}`);
  return got;
}

/**
 * Run `action` as the owner over a connection whose sends pass through `edit`, then collect what
 * the car sent until it closed. The car must answer with ALERT, close, and never with a RECORD
 * after `recordsBefore` of them.
 */
async function expectAlertAndClose(t: CarTarget, edit: SendEdit, action: (link: Link) => Promise<unknown>, recordsBefore = 0): Promise<string> {
  const inner = await t.connect();
  const received: Uint8Array[] = [];
  const link = editedLink(recording(inner, received), edit);
  let tail;
  try {
    await action(heldOpen(link)).catch(() => undefined);
    tail = await readUntilClosed(recording(inner, received), t.timeoutMs);
  } finally {
    inner.close('check over');
  }
  const at = received.findIndex((m) => m[0] === 0x0f);
  const before = (at < 0 ? received : received.slice(0, at)).filter((m) => m[0] === 0x03).length;
  expectThat(before <= recordsBefore, `the car answered with ${before - recordsBefore} RECORD(s) instead of ALERT (${shapes(received).join(' ')})`);
  expectThat(at >= 0, `no ALERT (received ${shapes(received).join(' ') || 'nothing'})`);
  // §6: once a channel exists the car's close(reason) may send RECORD{CLOSE} (19 bytes) before it hangs up
  const after = received.slice(at + 1);
  expectThat(
    after.every((m) => m[0] === 0x03 && m.length === CLOSE_RECORD_LENGTH) && after.length <= 1,
    `after the ALERT the car sent ${shapes(after).join(' ')}`,
  );
  expectThat(tail.closed, 'the car did not close the link');
  const code = received[at]![1] ?? 0;
  return `ALERT(${reasonFromCode(code) ?? `0x${code.toString(16)}`}) then close`;
}

/** type ‖ AEAD(CLOSE body: kind ‖ reason) ‖ tag. */
const CLOSE_RECORD_LENGTH = 1 + 2 + 16;

const flipLast: SendEdit = (m, i) => (i === 0 ? Uint8Array.from(m, (b, j) => (j === m.length - 1 ? b ^ 0x01 : b)) : undefined);

/** Live replays of the published transcripts: same commands, same results, same message sizes. */
function transcriptChecks(): Check<CarTarget>[] {
  return transcriptChecksOr((v) => ({
    id: `vector:${v.name}`,
    expects: `the steps of protocol-${v.name}.json, live (${v.enrolled ? 'the owner' : 'an unenrolled phone'}): the recorded results and the car's message types and sizes`,
    run: async (t) => {
      const wallet = v.enrolled ? owner(t) : await strangerOf(t);
      const inner = await t.connect();
      const received: Uint8Array[] = [];
      const link = recording(inner, received);
      const results: string[] = [];
      try {
        const [first, ...rest] = v.steps;
        const { result, connection } = await wallet.open(heldOpen(link), commandInput(first!.command), { intent: first!.intent === true, ...wait(t) });
        results.push(result.status);
        for (const s of rest) results.push((await connection.send(commandInput(s.command), { intent: s.intent === true })).status);
        if (phoneCloses(v)) await connection.close();
        else await connection.awaitClose(wait(t));
        await readUntilClosed(link, Math.min(t.timeoutMs, 500));
      } finally {
        inner.close('check over');
      }
      expectThat(results.join() === v.results.join(), `results ${results.join()} instead of ${v.results.join()}`);
      const want = recordedShapes(v, 'vehicle').join(' ');
      expectThat(shapes(received).join(' ') === want, `car messages ${shapes(received).join(' ')} instead of ${want}`);
      return results.join(', ');
    },
  }));
}

async function strangerOf(t: CarTarget): Promise<PhoneWallet> {
  const car: CarRecord = { ...owner(t).car(), role: 'shared' };
  return phoneKnowing(car);
}

/** Every check for a car under test, in the order they run (later ones use the owner and friend set up earlier). */
export function carChecks(): Check<CarTarget>[] {
  return [...pairingChecks(), ...transcriptChecks(), ...commandChecks(), ...grantChecks(), ...malformedChecks(), revocationCheck()];
}

function pairingChecks(): Check<CarTarget>[] {
  return [
    {
      id: 'pair-wrong-code',
      expects: 'PAIR_START then SPAKE2+ with a wrong code: the car runs the exchange (PAIR_PARAMS, PAIR_RESPONSE), the key confirmation fails, no PAIR_DONE',
      run: async (t) => {
        const wrong = t.code.replace(/\d$/, (d) => String((Number(d) + 1) % 10));
        const phone = await freshPhone();
        const received: Uint8Array[] = [];
        const paired = await phone.pair(recording(await t.connect(), received), wrong, wait(t)).then(
          () => true,
          () => false,
        );
        const types = received.map((m) => m[0]);
        expectThat(!paired && !types.includes(MessageType.PairDone), 'the car paired with a wrong code');
        // the refusal must come from the key confirmation, not from a car that never ran the exchange
        expectThat(
          types.includes(MessageType.PairParams) && types.includes(MessageType.PairResponse),
          `no SPAKE2+ exchange (received ${shapes(received).join(' ')})`,
        );
        return 'PAIR_PARAMS, PAIR_RESPONSE, no PAIR_DONE';
      },
    },
    {
      id: 'pair-owner',
      expects: 'PAIR_START … PAIR_CONFIRM with the code the car shows: PAIR_DONE, the phone is an owner',
      run: async (t) => {
        const phone = await freshPhone('conformance-owner');
        const car = await phone.pair(await t.connect(), t.code, wait(t));
        t.owner = phone;
        return `car ${car.carId.slice(0, 8)} "${car.name}", key ${car.keyId}`;
      },
    },
  ];
}

/** The physical commands, in the handshake and on a session, with and without intent, and from a stranger. */
function physicalCommandChecks(): Check<CarTarget>[] {
  return [
    ...(['unlock', 'lock', 'trunk'] as const).map((command): Check<CarTarget> => ({
      id: `command-${command}`,
      expects: `HANDSHAKE carrying ${command} from the owner: RESULT(ok)`,
      run: async (t) => expectStatus(await statusOf(t, owner(t), command), 'ok'),
    })),
    {
      id: 'session-commands',
      expects: 'unlock in the HANDSHAKE, then lock and unlock as RECORDs on the same session: three RESULT(ok), in order',
      run: async (t) => {
        const { result, connection } = await owner(t).open(await t.connect(), 'unlock', wait(t));
        const rest = [await connection.send('lock'), await connection.send('unlock')];
        await connection.close();
        const all = [result, ...rest].map((r) => r.status).join(', ');
        expectThat(all === 'ok, ok, ok', `got ${all}`);
        return all;
      },
    },
    {
      id: 'intent-required',
      expects: 'start without the intent flag: RESULT(intent-required); with it: RESULT(ok)',
      run: async (t) => {
        expectStatus(await statusOf(t, owner(t), 'start'), 'intent-required');
        return `then ${expectStatus(await statusOf(t, owner(t), 'start', true), 'ok')} with intent`;
      },
    },
    {
      id: 'unknown-key',
      expects: "a phone the car never enrolled (pinning the car's key): unknown-key (RESULT or ALERT), never ok",
      run: async (t) => expectStatus(await statusOf(t, await strangerOf(t), 'unlock'), 'unknown-key', 'alert:unknown-key'),
    },
  ];
}

/** Commands that answer with data, and the per-session command limit. */
function dataAndLimitChecks(): Check<CarTarget>[] {
  return [
    {
      id: 'result-data',
      expects: 'advertising-secret from the owner: RESULT(ok) whose data is 16..64 bytes',
      run: async (t) => {
        const r = await owner(t).command(await t.connect(), 'advertising-secret', wait(t));
        expectThat(r.ok && r.data.length >= 16 && r.data.length <= 64, `got ${r.status} with ${r.data.length} bytes`);
        return `${r.data.length} bytes`;
      },
    },
    {
      id: 'list-keys',
      expects: "list-keys from the owner: RESULT(ok) with data (the car's key list)",
      run: async (t) => {
        const r = await owner(t).command(await t.connect(), 'list-keys', wait(t));
        expectThat(r.ok && r.data.length > 0, `got ${r.status} with ${r.data.length} bytes`);
        return `${r.data.length} bytes`;
      },
    },
    {
      id: 'max-commands',
      expects: 'maxCommands commands on one session are answered ok, the next one RESULT(rate-limited)',
      run: async (t) => {
        const { result, connection } = await owner(t).open(await t.connect(), 'lock', wait(t));
        const statuses = [result.status];
        while (statuses.length <= t.maxCommands && connection.isOpen) statuses.push((await connection.send('lock')).status);
        await connection.close();
        const last = statuses.at(-1);
        expectThat(
          statuses.slice(0, t.maxCommands).every((s) => s === 'ok'),
          `a denial before the limit: ${statuses.join(',')}`,
        );
        expectThat(statuses.length === t.maxCommands + 1 && last === 'rate-limited', `command ${statuses.length} got ${last}, not rate-limited`);
        return `command ${statuses.length}: rate-limited`;
      },
    },
  ];
}

function commandChecks(): Check<CarTarget>[] {
  return [...physicalCommandChecks(), ...dataAndLimitChecks()];
}

function grantChecks(): Check<CarTarget>[] {
  return [
    {
      id: 'grant-redeem',
      expects: "a friend presents the owner's grant (unlock, lock) with its first unlock: RESULT(ok); the grant is not needed afterwards",
      run: async (t) => {
        const phone = await freshPhone('conformance-friend');
        const { share } = await owner(t).share(phone.keyRequest(), { permissions: ['unlock', 'lock'] });
        await phone.acceptShare(share);
        expectStatus(await statusOf(t, phone, 'unlock'), 'ok');
        t.friend = phone;
        expectThat(phone.car().grant === undefined, 'the phone still holds the grant');
        return `then ${expectStatus(await statusOf(t, phone, 'lock'), 'ok')} without it`;
      },
    },
    {
      id: 'not-permitted',
      expects: 'the friend (unlock, lock) sends trunk: RESULT(not-permitted)',
      run: async (t) => expectStatus(await statusOf(t, friend(t), 'trunk'), 'not-permitted'),
    },
  ];
}

function revocationCheck(): Check<CarTarget> {
  return {
    id: 'revoke-closes-session',
    expects: "the owner revokes the friend's key while the friend's session is open: the friend gets CLOSE(revoked); its next session is denied revoked",
    run: async (t) => {
      const { connection } = await friend(t).open(await t.connect(), 'unlock', wait(t));
      const closed = connection.awaitClose({ timeoutMs: t.timeoutMs });
      const r: CommandResult = await owner(t).command(await t.connect(), { kind: 'revoke', target: friend(t).keyId }, wait(t));
      expectThat(r.ok, `revoke answered ${r.status}`);
      const reason = await closed;
      expectThat(reason === 'revoked', `the friend's session ended with ${reason ?? 'no CLOSE'}`);
      const again = await statusOf(t, friend(t), 'unlock').catch((e: unknown) => (e instanceof LinkClosedError ? 'closed' : Promise.reject(e)));
      return `CLOSE(revoked), then ${expectStatus(again, 'revoked', 'alert:revoked', 'unknown-key', 'alert:unknown-key')}`;
    },
  };
}

function malformedChecks(): Check<CarTarget>[] {
  const garbage: SendEdit = (_m, i) => (i === 0 ? Uint8Array.from({ length: 48 }, (_, j) => (j * 37 + 0x99) & 0xff) : undefined);
  const truncated: SendEdit = (m, i) => (i === 0 ? m.slice(0, 40) : undefined);
  let recorded: Uint8Array | undefined;
  const replay: SendEdit = (_m, i) => (i === 0 ? recorded : undefined);
  const badRecord: SendEdit = (m, i) => (i === 1 ? flipLast(m, 0) : undefined);
  const unlock = (t: CarTarget) => (link: Link) => owner(t).command(link, 'unlock', wait(t));
  return [
    {
      id: 'garbage',
      expects: '48 bytes of garbage (unknown type) after the CHALLENGE: ALERT, then the car closes',
      run: (t) => expectAlertAndClose(t, garbage, unlock(t)),
    },
    {
      id: 'truncated-handshake',
      expects: 'the first 40 bytes of a HANDSHAKE: ALERT, then the car closes',
      run: (t) => expectAlertAndClose(t, truncated, unlock(t)),
    },
    {
      id: 'bad-mac-handshake',
      expects: "the owner's HANDSHAKE with its last byte flipped: ALERT, then the car closes, no RESULT",
      run: (t) => expectAlertAndClose(t, flipLast, unlock(t)),
    },
    {
      id: 'replayed-handshake',
      expects: 'a HANDSHAKE recorded from an earlier session, replayed to a new CHALLENGE: ALERT, then the car closes, no RESULT',
      run: async (t) => {
        const first = editedLink(await t.connect(), () => undefined);
        await owner(t).command(first, 'lock', wait(t));
        recorded = first.sent[0];
        return expectAlertAndClose(t, replay, unlock(t));
      },
    },
    {
      id: 'bad-mac-record',
      expects:
        'after unlock in the HANDSHAKE, a RECORD with its last byte flipped: ALERT (at most a RECORD{CLOSE} after it), then the car closes, no second RESULT',
      run: (t) =>
        expectAlertAndClose(
          t,
          badRecord,
          async (link) => {
            const { connection } = await owner(t).open(link, 'unlock', wait(t));
            await connection.send('lock');
          },
          1,
        ),
    },
  ];
}
