/**
 * `proxkey conformance` against proxkey's own roles passes; against a deliberately broken car the
 * specific checks fail; `proxkey decode` reads the published transcripts' messages.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import type { AddressInfo, Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { conformance } from '../../src/cli/conformance.js';
import { carChecks } from '../../src/cli/conformance-car.js';
import { phoneChecks } from '../../src/cli/conformance-phone.js';
import { decodeControl, encodeControl, type Directive } from '../../src/cli/conformance-control.js';
import { CipherState } from '../../src/noise/cipher-state.js';
import { aesGcmCipher } from '../../src/noise/suites.js';
import { encodeBody, encodeMessage } from '../../src/protocol/messages.js';
import { toHex } from '../../src/bytes.js';
import { MemoryVehicleStore } from '../../src/keys/store.js';
import { nodeCrypto } from '../../src/node/node-crypto.js';
import { listenSocketLinks } from '../../src/node/socket-link.js';
import { VehicleService } from '../../src/service/vehicle-service.js';
import { defaultPolicy } from '../../src/policy/default-policy.js';
import { cli } from './run-cli.js';

const unlock = JSON.parse(readFileSync(new URL('../vectors/protocol-unlock-lock-start.json', import.meta.url), 'utf8')) as { messages: { hex: string }[] };
const dir = mkdtempSync(join(tmpdir(), 'proxkey-conformance-test-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('docs/CONFORMANCE.md', () => {
  it('describes every check of both roles', () => {
    const doc = readFileSync(new URL('../../docs/CONFORMANCE.md', import.meta.url), 'utf8');
    for (const c of [...carChecks(), ...phoneChecks()].filter((c) => !c.id.startsWith('vector:'))) expect(doc, c.id).toContain(`\`${c.id}\``);
    expect(doc).toContain('`vector:<name>`');
  });
});

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

  it('without the published transcripts one check, vectors, fails and says where to point PROXKEY_VECTORS', async () => {
    const empty = mkdtempSync(join(dir, 'no-vectors-'));
    process.env.PROXKEY_VECTORS = empty;
    try {
      const r = await cli('conformance', '--role', 'car', '--self');
      expect(r.code).toBe(1);
      expect(r.out).toMatch(/^FAIL {2}vectors {2}no protocol-\*\.json found: set PROXKEY_VECTORS/m);
      expect(r.out).toMatch(/^\d+ passed, 1 failed$/m);
    } finally {
      delete process.env.PROXKEY_VECTORS;
    }
  }, 60_000);

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

  it('a car whose policy allows everything fails the denial checks, and the run exits 1 (over TCP)', async () => {
    const car = await VehicleService.open({ store: new MemoryVehicleStore(), crypto: nodeCrypto, actuator: () => undefined, policy: () => ({ allow: true }) });
    const { code } = await car.openPairing();
    server = await listenSocketLinks('127.0.0.1:0', (link) => void car.serve(link));
    const { port } = server.address() as AddressInfo;
    let out = '';
    const exit = await conformance({ role: 'car', connect: `tcp:127.0.0.1:${port}`, code, timeoutMs: 3_000 }, (s) => (out += s));
    expect(exit).toBe(1);
    expect(out).toMatch(/^FAIL {2}intent-required {2}expected intent-required, got ok$/m);
    expect(out).toMatch(/^FAIL {2}not-permitted {2}expected not-permitted, got ok$/m);
    expect(out).toMatch(/^pass {2}command-unlock/m);
    expect(out).toMatch(/^pass {2}bad-mac-handshake/m);
    expect(out).toMatch(/^\d+ passed, [1-9]\d* failed$/m);
  }, 60_000);
});

describe('proxkey conformance against a car that reseeds its random generator per connection', () => {
  let server: Server | undefined;
  afterAll(() => server?.close());

  it('its CHALLENGE repeats, so a replayed handshake runs again: replayed-handshake fails, the rest passes', async () => {
    let counter = 0;
    const random = (n: number) => {
      const out = new Uint8Array(n);
      for (let at = 0; at < n; at += 32)
        out.set(
          createHash('sha256')
            .update(`seed ${counter++}`)
            .digest()
            .subarray(0, n - at),
          at,
        );
      return out;
    };
    const car = await VehicleService.open({
      store: new MemoryVehicleStore(),
      crypto: nodeCrypto,
      random,
      actuator: () => undefined,
      policy: defaultPolicy({ maxRttMs: Infinity }),
    });
    const { code } = await car.openPairing();
    const path = join(dir, 'reseeding.sock');
    server = await listenSocketLinks(path, (link) => {
      counter = 1_000; // "boot": the same draws on every connection
      void car.serve(link);
    });
    let out = '';
    const exit = await conformance({ role: 'car', connect: `unix:${path}`, code, timeoutMs: 3_000 }, (s) => (out += s));
    expect(exit).toBe(1);
    expect(out).toMatch(/^FAIL {2}replayed-handshake {2}the car answered with 1 RECORD\(s\) instead of ALERT/m);
    expect(out).toMatch(/^\d+ passed, 1 failed$/m);
  }, 60_000);
});

describe('proxkey conformance against a broken phone', () => {
  let server: Server | undefined;
  afterAll(() => server?.close());

  it('a phone that reports ok without checking what the car sent fails the malformed-input checks', async () => {
    const path = join(dir, 'lying-phone.sock');
    // reads the directive and the car's first message, sends nothing, and claims success
    server = await listenSocketLinks(path, (link) => {
      void (async () => {
        const directive = decodeControl(await link.receive({ timeoutMs: 3_000 })) as Directive;
        await link.receive({ timeoutMs: 3_000 });
        const results = directive.action === 'commands' ? directive.commands.map(() => ({ status: 'ok' })) : [];
        await link.send(encodeControl({ results, ...(directive.action === 'pair' && { paired: true }) }));
        link.close();
      })().catch(() => link.close());
    });
    let out = '';
    const exit = await conformance({ role: 'phone', connect: `unix:${path}`, timeoutMs: 3_000 }, (s) => (out += s));
    expect(exit).toBe(1);
    for (const id of ['pair', 'garbage-challenge', 'bad-point-challenge', 'bad-mac-result', 'impostor-car'])
      expect(out).toMatch(new RegExp(`^FAIL  ${id}  `, 'm'));
  }, 60_000);
});

describe('proxkey conformance against a peer that hangs up at once', () => {
  it.each(['car', 'phone'] as const)(
    '--role %s: every check fails, promptly, and the run ends with exit 1',
    async (role) => {
      const path = join(dir, `hang-up-${role}.sock`);
      const server = await listenSocketLinks(path, (link) => link.close('go away'));
      try {
        let out = '';
        const exit = await conformance({ role, connect: `unix:${path}`, code: '12345678', timeoutMs: 2_000 }, (s) => (out += s));
        expect(exit).toBe(1);
        expect(out).not.toMatch(/^pass/m);
        expect(out).toMatch(/^0 passed, \d+ failed$/m);
      } finally {
        server.close();
      }
    },
    60_000,
  );
});

describe('proxkey decode', () => {
  const hex = (i: number) => unlock.messages[i]!.hex;

  it('decodes the transcript CHALLENGE and HANDSHAKE header into fields', async () => {
    const c = await cli('decode', hex(0));
    expect(c.code).toBe(0);
    const challenge = JSON.parse(c.out) as Record<string, unknown>;
    expect(challenge).toMatchObject({ message: 'Challenge', versions: 1, suites: 3, versionsOffered: [1], suitesOffered: [1, 2], ephemeral: hex(0).slice(6) });
    const h = JSON.parse((await cli('decode', hex(1))).out) as Record<string, unknown>;
    expect(h).toMatchObject({ message: 'Handshake', version: 1, suite: 1, noise: hex(1).slice(6) });
    const parts = h.noiseParts as { e: string; encryptedStatic: string; encryptedPayload: string };
    expect(parts.e + parts.encryptedStatic + parts.encryptedPayload).toBe(hex(1).slice(6));
    expect([parts.e.length, parts.encryptedStatic.length]).toEqual([130, 162]);
  });

  it('reads @file, reports an ALERT and a fragment, and rejects garbage with exit 1', async () => {
    const file = join(dir, 'alert.hex');
    writeFileSync(file, '0f 0b\n');
    expect(JSON.parse((await cli('decode', `@${file}`)).out)).toMatchObject([{ message: 'Alert', reason: 'malformed' }]); // a capture: an array, even of one
    expect(JSON.parse((await cli('decode', 'c101')).out)).toMatchObject({ fragment: { start: true, end: true, seq: 1 }, payload: '01' });
    expect((await cli('decode', '7777')).code).toBe(1);
    expect(JSON.parse((await cli('decode', '0f0b\n0f0b')).out)).toHaveLength(2); // several lines inline: an array, none dropped
  });

  it('without keys a RECORD is its ciphertext; with wrong keys it says so', async () => {
    const r = JSON.parse((await cli('decode', hex(2))).out) as Record<string, unknown>;
    expect(r).toMatchObject({ message: 'Record', ciphertext: hex(2).slice(2) });
    const keys = join(dir, 'keys.json');
    writeFileSync(keys, JSON.stringify({ suite: 1, phoneToCar: '00'.repeat(32), carToPhone: '11'.repeat(32) }));
    expect(JSON.parse((await cli('decode', hex(2), '--keys', keys)).out)).toMatchObject({
      body: 'not decryptable with these keys at nonces phone→car 0, car→phone 0',
    });
  });

  it('with the session keys, decrypts a capture: each direction in order, its nonce advancing', async () => {
    const phoneKey = new Uint8Array(32).fill(7);
    const carKey = new Uint8Array(32).fill(9);
    const phone = new CipherState(aesGcmCipher(nodeCrypto), phoneKey);
    const car = new CipherState(aesGcmCipher(nodeCrypto), carKey);
    const seal = async (from: CipherState, body: Parameters<typeof encodeBody>[0]) =>
      toHex(encodeMessage({ type: 0x03, ciphertext: await from.encryptWithAd(Uint8Array.of(0x03), encodeBody(body)) }));
    const capture = [
      `# a session after its handshake`,
      hex(0),
      await seal(car, { kind: 0x11, status: 'ok', data: new Uint8Array(0) }),
      await seal(phone, { kind: 0x10, command: { kind: 'lock' }, intent: false, extensions: [] }),
      await seal(car, { kind: 0x11, status: 'not-permitted', data: Uint8Array.of(1, 2) }),
      await seal(phone, { kind: 0x12, reason: 'ok' }),
    ];
    const file = join(dir, 'capture.hex');
    writeFileSync(file, capture.join('\n'));
    const keys = join(dir, 'session-keys.json');
    writeFileSync(keys, JSON.stringify({ suite: 1, phoneToCar: toHex(phoneKey), carToPhone: toHex(carKey) }));
    const r = await cli('decode', `@${file}`, '--keys', keys);
    expect(r.code).toBe(0);
    const out = JSON.parse(r.out) as Record<string, unknown>[];
    expect(out.map((m) => m.message)).toEqual(['Challenge', 'Record', 'Record', 'Record', 'Record']);
    expect(out.slice(1).map((m) => `${String(m.direction)} ${String(m.nonce)}`)).toEqual(['car→phone 0', 'phone→car 0', 'car→phone 1', 'phone→car 1']);
    expect(out[2]).toMatchObject({ body: { kind: 0x10, command: { kind: 'lock' }, intent: false } });
    expect(out[3]).toMatchObject({ body: { kind: 0x11, status: 'not-permitted', data: '0102' } });
    // starting at nonce 1, the first record of each direction no longer opens
    writeFileSync(keys, JSON.stringify({ suite: 1, phoneToCar: toHex(phoneKey), carToPhone: toHex(carKey), nonce: 1 }));
    const shifted = JSON.parse((await cli('decode', `@${file}`, '--keys', keys)).out) as Record<string, unknown>[];
    expect(shifted[1]!.body).toMatch(/^not decryptable/);
    expect(shifted[3]).toMatchObject({ direction: 'car→phone', nonce: 1 });
  });

  it('a keys file of the wrong shape is refused with one line', async () => {
    const keys = join(dir, 'bad-keys.json');
    writeFileSync(keys, JSON.stringify({ suite: 3, phoneToCar: 'zz' }));
    const r = await cli('decode', hex(2), '--keys', keys);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/^error: --keys: expected/);
  });
});
