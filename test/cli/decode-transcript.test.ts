/**
 * `proxkey decode --keys` takes the key format of the published transcripts: a whole transcript
 * file, or its `intermediates` (split keys as hex, the suite from the protocol name).
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { sessionKeys } from '../../src/cli/decode.js';
import { cli } from './run-cli.js';

const vectorFile = (name: string) => new URL(`../vectors/protocol-${name}.json`, import.meta.url).pathname;
const load = (name: string) => JSON.parse(readFileSync(vectorFile(name), 'utf8')) as { messages: { hex: string }[]; intermediates: { split: object } };
const dir = mkdtempSync(join(tmpdir(), 'proxkey-decode-test-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function capture(name: string): string {
  const file = join(dir, `${name}.hex`);
  writeFileSync(
    file,
    load(name)
      .messages.map((m) => m.hex)
      .join('\n'),
  );
  return `@${file}`;
}

describe('proxkey decode --keys <transcript>', () => {
  it('decrypts every record of a transcript with the transcript file itself as the keys file', async () => {
    const r = await cli('decode', capture('unlock-lock-start'), '--keys', vectorFile('unlock-lock-start'));
    expect(r.code).toBe(0);
    const out = (JSON.parse(r.out) as Record<string, unknown>[]).slice(2);
    expect(out.map((m) => `${String(m.direction)} ${String(m.nonce)}`)).toEqual([
      'car→phone 0',
      'phone→car 0',
      'car→phone 1',
      'phone→car 1',
      'car→phone 2',
      'phone→car 2',
    ]);
    expect(out.map((m) => m.body)).toMatchObject([
      { kind: 0x11, status: 'ok', data: '' },
      { kind: 0x10, command: { kind: 'lock' }, intent: false },
      { kind: 0x11, status: 'ok' },
      { kind: 0x10, command: { kind: 'start' }, intent: true },
      { kind: 0x11, status: 'ok' },
      { kind: 0x12, reason: 'ok' },
    ]);
  });

  it('takes the intermediates object alone, and finds suite 2 from the protocol name', async () => {
    const keys = join(dir, 'intermediates.json');
    writeFileSync(keys, JSON.stringify(load('chachapoly-unlock').intermediates));
    const out = JSON.parse((await cli('decode', capture('chachapoly-unlock'), '--keys', keys)).out) as Record<string, unknown>[];
    expect(out[2]).toMatchObject({ direction: 'car→phone', nonce: 0, body: { kind: 0x11, status: 'ok' } });
    expect(out[3]).toMatchObject({ direction: 'phone→car', nonce: 0, body: { kind: 0x12, reason: 'ok' } });
  });

  it('maps the split keys to the directions explicitly, and refuses a broken split', () => {
    const i = load('unknown-key').intermediates as { split: { vehicleToPhone: string; phoneToVehicle: string } };
    expect(sessionKeys({ intermediates: i, protocolName: 'ignored' })).toMatchObject({
      carToPhone: i.split.vehicleToPhone,
      phoneToCar: i.split.phoneToVehicle,
    });
    expect(() => sessionKeys({ protocolName: 'Noise_KX_P256_AESGCM_SHA256', split: { vehicleToPhone: 'zz' } })).toThrow(/--keys: expected/);
    expect(() => sessionKeys({ protocolName: 'Noise_XX_25519_AESGCM_SHA256', split: i.split })).toThrow(/--keys: expected/);
  });
});
