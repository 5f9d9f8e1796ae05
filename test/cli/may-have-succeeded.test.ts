/**
 * An error that says the car may have executed the command (`mayHaveSucceeded`) is not told as
 * "move closer and retry": the CLI (human line and --json) and the web app say to check the car.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { describeError as webDescribe } from '../../examples/web-phone/src/messages.js';
import { describeError as cliDescribe } from '../../src/cli/ui.js';
import { FAST_SCRYPT } from '../helpers/scrypt.js';
import {
  createMemoryLinkPair,
  DeniedError,
  deterministicRandom,
  LinkClosedError,
  MemoryPhoneStore,
  MemoryVehicleStore,
  PhoneWallet,
  TimeoutError,
  VehicleService,
  type Command,
  type Link,
} from '../../src/index.js';
import { cli } from './run-cli.js';

/** The car executes the unlock, then the link drops before its RESULT reaches the phone. */
async function droppedAfterExecution(): Promise<{ error: unknown; executed: string[] }> {
  const executed: string[] = [];
  let carLink: Link | undefined;
  let dropAfter = false;
  const car = await VehicleService.open({
    store: new MemoryVehicleStore(),
    random: deterministicRandom('c'),
    name: 'Car',
    actuator: (c: Command) => {
      executed.push(c.kind);
      if (dropAfter) carLink!.close('radio lost');
    },
  });
  const owner = await PhoneWallet.open({ store: new MemoryPhoneStore(), label: 'owner' });
  const { code } = await car.openPairing({ scrypt: FAST_SCRYPT });
  let [p, c] = createMemoryLinkPair();
  let served = car.serve(c);
  await owner.pair(p, code);
  await served;
  [p, c] = createMemoryLinkPair();
  carLink = c;
  dropAfter = true;
  served = car.serve(c);
  const error = await owner.command(p, 'unlock').catch((e: unknown) => e);
  await served;
  return { error, executed };
}

const CHECK_THE_CAR = /the car may have executed it — check the car before retrying/;

describe('mayHaveSucceeded reaches the user', () => {
  it('the link drops after the car executed: the web app and the CLI say to check the car, not to retry', async () => {
    const { error, executed } = await droppedAfterExecution();
    expect(executed).toEqual(['unlock']);
    expect(error).toMatchObject({ mayHaveSucceeded: true });
    expect(webDescribe(error)).toMatch(CHECK_THE_CAR);
    expect(webDescribe(error)).not.toMatch(/move closer and retry/);
    const line = cliDescribe(error);
    expect(line.message).toMatch(CHECK_THE_CAR);
    expect(line.message).not.toMatch(/retry$/);
    expect(line.mayHaveSucceeded).toBe(true);
  });

  it.each([
    ['a RESULT timeout', new TimeoutError('RESULT', 25_000, { mayHaveSucceeded: true })],
    ['a lost link', new LinkClosedError('car disconnected', { mayHaveSucceeded: true })],
    ['an unauthenticated ALERT', new DeniedError('relay-suspected', false, 'later', true)],
  ])('%s that may have run: both say so', (_what, e) => {
    expect(webDescribe(e)).toMatch(CHECK_THE_CAR);
    expect(cliDescribe(e).message).toMatch(CHECK_THE_CAR);
  });

  it('nothing was sent: the usual advice, no flag', () => {
    const e = new TimeoutError('connect', 10_000);
    expect(webDescribe(e)).toMatch(/move closer and retry/);
    // the phone's own storage timing out is not the car out of range
    expect(webDescribe(new TimeoutError('IndexedDB readwrite state', 5_000))).toMatch(/^This phone's storage did not answer in time: retry/);
    expect(cliDescribe(e)).toEqual({ code: 'ERR_TIMEOUT', message: expect.stringMatching(/move closer and retry$/) });
  });
});

describe('proxkey --json', () => {
  const home = mkdtempSync(join(tmpdir(), 'proxkey-mayhave-'));
  afterAll(() => rmSync(home, { recursive: true, force: true }));
  afterEach(() => vi.restoreAllMocks());

  it('an unlock whose RESULT never came: the JSON error line carries mayHaveSucceeded: true', async () => {
    const state = ['--sim', '--state', join(home, 'owner')];
    expect((await cli('pair', ...state)).code).toBe(0);
    vi.spyOn(PhoneWallet.prototype, 'command').mockRejectedValue(new TimeoutError('RESULT', 25_000, { mayHaveSucceeded: true }));
    const r = await cli('unlock', '--json', ...state);
    expect(r.code).toBe(1);
    expect(JSON.parse(r.out)).toEqual({ ok: false, code: 'ERR_TIMEOUT', error: expect.stringMatching(CHECK_THE_CAR), mayHaveSucceeded: true });
    expect(r.err).toMatch(CHECK_THE_CAR);
  });
});
