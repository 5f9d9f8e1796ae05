/**
 * The `proxkey` command, in process (argv in, stdout/stderr/exit code out): help is complete,
 * the simulated car supports the whole owner/friend flow, and failures print one clear line and
 * exit non-zero.
 */
import { chownSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { COMMAND_RUNS } from '../../src/cli/commands.js';
import { COMMANDS } from '../../src/cli/main.js';
import { FileVehicleStore } from '../../src/node/file-stores.js';
import { VehicleService } from '../../src/service/vehicle-service.js';
import { generateP256KeyPair, nobleCrypto, systemRandom } from '../../src/index.js';
import { cli } from './run-cli.js';

let home: string;
beforeAll(() => {
  home = mkdtempSync(join(tmpdir(), 'proxkey-cli-'));
});
afterAll(() => rmSync(home, { recursive: true, force: true }));

describe('help', () => {
  it('lists every command with a summary, and exits 0 with --help', async () => {
    const r = await cli('--help');
    expect(r.code).toBe(0);
    for (const [name, h] of Object.entries(COMMANDS)) expect(r.out).toMatch(new RegExp(`^  ${name} +${h.summary.replace(/[()]/g, '\\$&')}$`, 'm'));
    expect(r.out).toMatch(/--sim/);
  });

  it.each(Object.keys(COMMANDS))('proxkey %s --help prints its usage and describes each of its options', async (name) => {
    const r = await cli(...name.split(' '), '--help');
    expect(r.code).toBe(0);
    expect(r.out).toContain(`proxkey ${COMMANDS[name]!.usage}`);
    expect(r.out.replace(/\s+/g, ' ').toLowerCase()).toContain(COMMANDS[name]!.summary.toLowerCase());
    for (const o of COMMANDS[name]!.options) expect(r.out).toMatch(new RegExp(`^  --${o}\\b.* \\w+`, 'm'));
  });

  it('every command in the help runs something, and nothing runs that the help does not list', () => {
    expect(Object.keys(COMMAND_RUNS).sort()).toEqual(Object.keys(COMMANDS).sort());
  });

  it('proxkey car (and car --help) lists the car commands', async () => {
    for (const argv of [['car'], ['car', '--help']]) {
      const r = await cli(...argv);
      expect(r.code).toBe(argv.length === 1 ? 2 : 0);
      for (const name of Object.keys(COMMANDS).filter((n) => n.startsWith('car '))) expect(r.out).toContain(name);
    }
  });

  it('missing arguments and values out of range are usage errors (exit 2): a 0-day share never expiring, a timer that would fire at once', async () => {
    for (const [argv, message] of [
      [['share', 'pkreq1.x', '--days', '0'], /--days: expected 1\.\.36500, got 0/],
      [['share', 'pkreq1.x', '--days', '100000000'], /--days: expected 1\.\.36500/],
      [['unlock', '--timeout', '3000000000'], /--timeout: expected 1\.\.600000/],
      [['unlock', '--timeout', '0'], /--timeout: expected 1\.\.600000, got 0/],
      [['share'], /share needs the friend's key request/],
      [['accept'], /accept needs the share string/],
    ] as const) {
      const r = await cli(...argv, '--sim', '--state', join(home, 'usage'));
      expect(r.code, argv.join(' ')).toBe(2);
      expect(r.err, argv.join(' ')).toMatch(message);
    }
  });

  it('keys lists every key of a car with more than one page of them (23 a page)', async () => {
    const state = join(home, 'many-keys');
    expect((await cli('pair', '--sim', '--state', state)).code).toBe(0);
    const car = await VehicleService.open({ store: new FileVehicleStore(join(state, 'sim-car')), actuator: () => undefined });
    for (let i = 0; i < 25; i++)
      await car.registry.enroll((await generateP256KeyPair(nobleCrypto, systemRandom)).publicKey, { role: 'shared', label: `friend ${i}` });
    await car.flushAudit({ final: true });
    const r = await cli('keys', '--sim', '--json', '--state', state);
    expect(r.code, r.err).toBe(0);
    const listed = JSON.parse(r.out) as { total: number; keys: unknown[] };
    expect([listed.total, listed.keys.length]).toEqual([26, 26]);
  });

  it('extra arguments are a usage error, not ignored', async () => {
    for (const argv of [
      ['unlock', 'foo', 'bar'],
      ['status', 'x'],
      ['car', 'status', 'extra', '--dir', home],
      ['pair', '12345678', '87654321'],
    ]) {
      const r = await cli(...argv, '--sim', '--state', join(home, 'extra'));
      expect(r.code, argv.join(' ')).toBe(2);
      expect(r.err).toMatch(/^error: unexpected argument/);
    }
  });

  it('an unknown command or option is a usage error (exit 2, one line)', async () => {
    for (const argv of [['frobnicate'], ['unlock', '--frob'], ['car', 'explode']]) {
      const r = await cli(...argv);
      expect(r.code).toBe(2);
      expect(r.err.trim().split('\n')).toHaveLength(1);
      expect(r.err).toMatch(/^error: /);
    }
  });
});

describe('with a simulated car', () => {
  const owner = () => ['--sim', '--state', join(home, 'owner')];

  it('pairs, unlocks, denies start without intent, and reports JSON', async () => {
    let r = await cli('pair', ...owner());
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/paired with "Simulated car"/);
    r = await cli('unlock', ...owner());
    expect(r).toMatchObject({ code: 0 });
    expect(r.out).toMatch(/✓ unlock: ok/);
    r = await cli('start', ...owner());
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/intent-required/);
    r = await cli('start', '--intent', '--json', ...owner());
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out)).toMatchObject({ command: 'start', status: 'ok', ok: true });
    r = await cli('status', '--json', ...owner());
    expect(JSON.parse(r.out).cars).toHaveLength(1);
  });

  it.each([['1234'], ['abcdefgh'], ['123456789'], []])('pair %s is refused before the radio is touched (one line, exit 2: usage)', async (...code) => {
    // no --sim: a real radio would be opened after the check; this one is missing (hci 9)
    const r = await cli('pair', ...code, '--hci', '9', '--state', join(home, 'badcode'));
    expect(r.code).toBe(2);
    expect(r.err.trim().split('\n')).toEqual([
      expect.stringMatching(code.length ? /^error: ".*" is not a pairing code: it has 8 digits/ : /^error: pair needs the 8-digit code/),
    ]);
  });

  it('a wrong pairing code prints one clear line and exits 1', async () => {
    const r = await cli('pair', '12345678', '--sim', '--state', join(home, 'wrong'));
    expect(r.code).toBe(1);
    expect(r.err.trim().split('\n')).toEqual([expect.stringMatching(/^error: pairing failed: /)]);
  });

  it('an unknown car prints one clear line and exits 1', async () => {
    const r = await cli('unlock', '--car', 'nosuchcar', ...owner());
    expect(r.code).toBe(1);
    expect(r.err.trim().split('\n')).toEqual([expect.stringMatching(/^error: car nosuchcar: not found; known: Simulated car/)]);
  });

  it('a phone with no car at all says how to get one', async () => {
    const r = await cli('unlock', '--sim', '--state', join(home, 'empty'));
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/no car known yet: pair with a car or accept a share first/);
  });

  it('shares a key to a second phone identity, which cannot start; revocation denies it', async () => {
    process.env.PROXKEY_SIM_CAR = join(home, 'owner', 'sim-car'); // one simulated car for both phones
    try {
      const alice = ['--sim', '--state', join(home, 'alice')];
      let r = await cli('request-key', '--label', 'Alice', '--json', ...alice);
      const { request } = JSON.parse(r.out);
      r = await cli('share', request, '--permissions', 'unlock,lock', '--days', '1', '--json', ...owner());
      expect(r.code).toBe(0);
      const { share } = JSON.parse(r.out);
      expect((await cli('accept', share, ...alice)).code).toBe(0);
      expect((await cli('unlock', ...alice)).out).toMatch(/✓ unlock: ok/);
      r = await cli('start', '--intent', ...alice);
      expect(r.code).toBe(1);
      expect(r.out).toMatch(/not-permitted/);
      r = await cli('keys', '--json', ...owner());
      const keys = JSON.parse(r.out).keys as { id: string; role: string }[];
      const aliceKey = keys.find((k) => k.role === 'shared')!.id;
      expect((await cli('revoke', aliceKey, ...owner())).code).toBe(0);
      r = await cli('unlock', ...alice);
      expect(r.code).toBe(1);
      expect(r.out).toMatch(/revoked/);
    } finally {
      delete process.env.PROXKEY_SIM_CAR;
    }
  });

  it('request-key and share print the string alone on stdout, the advice on stderr', async () => {
    let r = await cli('request-key', ...owner());
    expect(r.out.trim()).toMatch(/^pkreq1\.\S+$/);
    expect(r.err).toMatch(/proxkey share <request>/);
    r = await cli('share', r.out.trim(), ...owner());
    expect(r.out.trim()).toMatch(/^pkshare1\.\S+$/);
    expect(r.err).toMatch(/proxkey accept <share>/);
  });

  it('car status/keys/audit refuse a directory without a car and create nothing', async () => {
    for (const op of ['status', 'keys', 'audit']) {
      const dir = join(home, `typo-${op}`);
      const r = await cli('car', op, '--dir', dir);
      expect(r.code).toBe(1);
      expect(r.err).toMatch(new RegExp(`^error: no car in ${dir}: .*only \`proxkey car serve --dir`));
      expect(existsSync(dir)).toBe(false);
    }
  });

  it('with the simulated car and other cars: --sim picks the simulated one, Bluetooth the real one, else says what to type', async () => {
    const me = ['--state', join(home, 'multi')];
    const otherCar = (name: string) => ({ PROXKEY_SIM_CAR: join(home, `other-${name}`) });
    // this phone pairs with its own simulated car, and gets keys to two other cars by shares
    expect((await cli('pair', '--sim', ...me)).code).toBe(0);
    const request = (await cli('request-key', ...me)).out.trim();
    for (const name of ['one', 'two']) {
      Object.assign(process.env, otherCar(name));
      const owner = ['--sim', '--state', join(home, `owner-${name}`)];
      expect((await cli('pair', ...owner)).code).toBe(0);
      const share = (await cli('share', request, ...owner)).out.trim();
      delete process.env.PROXKEY_SIM_CAR;
      expect((await cli('accept', share, ...me)).code).toBe(0);
    }
    // --sim: its own simulated car, no question asked
    expect((await cli('unlock', '--sim', ...me)).out).toMatch(/✓ unlock: ok/);
    // with one real car besides the simulated one, Bluetooth commands go to it (here: no radio)
    const one = ['--state', join(home, 'multi-one')];
    expect((await cli('pair', '--sim', ...one)).code).toBe(0);
    Object.assign(process.env, otherCar('one'));
    const shareOne = (await cli('share', (await cli('request-key', ...one)).out.trim(), '--sim', '--state', join(home, 'owner-one'))).out.trim();
    delete process.env.PROXKEY_SIM_CAR;
    expect((await cli('accept', shareOne, ...one)).code).toBe(0);
    expect((await cli('unlock', '--hci', '9', ...one)).err).toMatch(/^error: Bluetooth unavailable: /);
    // over Bluetooth two real cars fit: one line naming them and the flag, before any radio
    const r = await cli('unlock', '--hci', '9', ...me);
    expect(r.code).toBe(1);
    expect(r.err.trim().split('\n')).toEqual([
      expect.stringMatching(
        /^error: this phone knows several cars: "Simulated car" \([0-9a-f]{8}\), "Simulated car" \([0-9a-f]{8}\); say which with --car <name or id>, e.g. proxkey unlock --car [0-9a-f]{8}$/,
      ),
    ]);
  });

  it('a serial controller that does not exist is an immediate error naming it (phone and car)', async () => {
    let r = await cli('unlock', '--uart', join(home, 'ttyUSB9'), ...owner().slice(1));
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/^error: no serial device .*ttyUSB9: check the path given to --uart/);
    r = await cli('car', 'serve', '--dir', join(home, 'uart-car'), '--uart', join(home, 'ttyUSB9'));
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/^error: no serial device .*ttyUSB9: check the path \(--uart, or bluetooth\.uart in the config\)/);
  });

  it.skipIf(process.getuid?.() !== 0)('root is refused on a car that belongs to another user (it would lock the daemon out)', async () => {
    const dir = join(home, 'owned-by-nobody');
    await VehicleService.open({ store: new FileVehicleStore(dir), actuator: () => undefined });
    for (const f of ['', 'vehicle.json']) chownSync(join(dir, f), 65534, 65534);
    for (const argv of [
      ['car', 'status', '--dir', dir],
      ['car', 'serve', '--dir', dir],
    ]) {
      const r = await cli(...argv);
      expect(r.code).toBe(1);
      expect(r.err).toMatch(new RegExp(`^error: the car in ${dir} belongs to user (nobody|65534): run this as \\1 \\(sudo -u \\1 proxkey car`));
    }
  });

  it('car commands without a state dir explain what is missing', async () => {
    const r = await cli('car', 'keys');
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/--dir/);
  });
});
