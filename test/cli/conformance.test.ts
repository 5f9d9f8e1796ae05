/**
 * `proxkey conformance` against proxkey's own roles passes; against a deliberately broken car the
 * specific checks fail; `proxkey decode` reads the published transcripts' messages.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { conformance } from '../../src/cli/conformance.js';
import { MemoryVehicleStore } from '../../src/keys/store.js';
import { nodeCrypto } from '../../src/node/node-crypto.js';
import { listenSocketLinks } from '../../src/node/socket-link.js';
import { VehicleService } from '../../src/service/vehicle-service.js';
import { cli } from './run-cli.js';

const unlock = JSON.parse(readFileSync(new URL('../vectors/protocol-unlock-lock-start.json', import.meta.url), 'utf8')) as { messages: { hex: string }[] };
const dir = mkdtempSync(join(tmpdir(), 'proxkey-conformance-test-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('proxkey conformance --self', () => {
  it.each(['car', 'phone'])(
    '--role %s passes every check against proxkey itself',
    async (role) => {
      const r = await cli('conformance', '--role', role, '--self');
      expect(r.err).toBe('');
      expect(r.out).not.toMatch(/^FAIL/m);
      const [, passed, failed] = /^(\d+) passed, (\d+) failed$/m.exec(r.out)!;
      expect(Number(failed)).toBe(0);
      expect(Number(passed)).toBeGreaterThanOrEqual(role === 'car' ? 20 : 12);
      expect(r.out).toMatch(/^pass {2}vector:unlock-lock-start/m);
      expect(r.code).toBe(0);
    },
    60_000,
  );

  it('usage errors: no target, a bad address, a car without its code', async () => {
    for (const argv of [
      ['conformance', '--role', 'car'],
      ['conformance', '--role', 'car', '--connect', 'tcp:nowhere'],
      ['conformance', '--role', 'car', '--connect', 'unix:/nonexistent'],
      ['conformance', '--role', 'bike', '--self'],
    ]) {
      const r = await cli(...argv);
      expect(r.code, argv.join(' ')).toBe(2);
    }
  });
});

describe('proxkey conformance against a broken car', () => {
  let server: Server | undefined;
  afterAll(() => server?.close());

  it('a car whose policy allows everything fails the denial checks, and the run exits 1', async () => {
    const car = await VehicleService.open({ store: new MemoryVehicleStore(), crypto: nodeCrypto, actuator: () => undefined, policy: () => ({ allow: true }) });
    const { code } = await car.openPairing();
    const path = join(dir, 'broken.sock');
    server = await listenSocketLinks(path, (link) => void car.serve(link));
    let out = '';
    const exit = await conformance({ role: 'car', connect: `unix:${path}`, code, timeoutMs: 3_000 }, (s) => (out += s));
    expect(exit).toBe(1);
    expect(out).toMatch(/^FAIL {2}intent-required {2}expected intent-required, got ok$/m);
    expect(out).toMatch(/^FAIL {2}not-permitted {2}expected not-permitted, got ok$/m);
    expect(out).toMatch(/^pass {2}command-unlock/m);
    expect(out).toMatch(/^pass {2}bad-mac-handshake/m);
    expect(out).toMatch(/^\d+ passed, [1-9]\d* failed$/m);
  }, 60_000);
});

describe('proxkey decode', () => {
  const hex = (i: number) => unlock.messages[i]!.hex;

  it('decodes the transcript CHALLENGE and HANDSHAKE header into fields', async () => {
    const c = await cli('decode', hex(0));
    expect(c.code).toBe(0);
    const challenge = JSON.parse(c.out) as Record<string, unknown>;
    expect(challenge).toMatchObject({ message: 'Challenge', versions: 1, suites: 3, ephemeral: hex(0).slice(6) });
    const h = JSON.parse((await cli('decode', hex(1))).out) as Record<string, unknown>;
    expect(h).toMatchObject({ message: 'Handshake', version: 1, suite: 1, noise: hex(1).slice(6) });
  });

  it('reads @file, reports an ALERT and a fragment, and rejects garbage with exit 1', async () => {
    const file = join(dir, 'alert.hex');
    writeFileSync(file, '0f 0b\n');
    expect(JSON.parse((await cli('decode', `@${file}`)).out)).toMatchObject({ message: 'Alert', reason: 'malformed' });
    expect(JSON.parse((await cli('decode', 'c101')).out)).toMatchObject({ fragment: { start: true, end: true, seq: 1 }, payload: '01' });
    expect((await cli('decode', '7777')).code).toBe(1);
  });

  it('without keys a RECORD is its ciphertext; with wrong keys it says so', async () => {
    const r = JSON.parse((await cli('decode', hex(2))).out) as Record<string, unknown>;
    expect(r).toMatchObject({ message: 'Record', ciphertext: hex(2).slice(2) });
    const keys = join(dir, 'keys.json');
    writeFileSync(keys, JSON.stringify({ suite: 1, phoneToCar: '00'.repeat(32), carToPhone: '11'.repeat(32) }));
    expect(JSON.parse((await cli('decode', hex(2), '--keys', keys)).out)).toMatchObject({ body: 'not decryptable with these keys at nonce 0' });
  });
});
