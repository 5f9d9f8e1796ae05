/**
 * The car daemon's configuration file: the shipped Raspberry Pi example loads, and every kind of
 * mistake is one clear LocalError naming the field.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { carCrypto, loadCarConfig } from '../../src/cli/config.js';
import { nobleCrypto } from '../../src/crypto/noble.js';
import { nodeCrypto } from '../../src/node/node-crypto.js';
import { LocalError } from '../../src/errors.js';
import { ProximityEngine } from '../../src/proximity/index.js';

const dir = mkdtempSync(join(tmpdir(), 'proxkey-config-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const write = (name: string, text: string) => {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
};

describe('car config', () => {
  it('loads examples/raspberry-pi/car.json, and its proximity section builds an engine', () => {
    const c = loadCarConfig(new URL('../../examples/raspberry-pi/car.json', import.meta.url).pathname);
    expect(c).toMatchObject({ name: 'My car', actuators: { type: 'gpio' }, proximity: { walkAwayLock: true, approachUnlock: false } });
    const { keys: _keys, ...options } = c.proximity!;
    expect(() => new ProximityEngine({ ...options, now: () => 0 })).not.toThrow();
  });

  it.each([
    ['not JSON', '{', /cannot be read as JSON/],
    ['an array', '[]', /must be a JSON object/],
    ['an unknown field', '{"nmae": "x"}', /nmae is not a known setting/],
    ['a bad actuator type', '{"actuators": {"type": "relay"}}', /actuators.type must be gpio, command or log/],
    ['gpio without lines', '{"actuators": {"type": "gpio", "chip": "gpiochip0"}}', /needs chip and lines/],
    [
      'a command timeout in words',
      '{"actuators": {"type": "command", "path": "/bin/true", "timeoutMs": "10s"}}',
      /actuators.timeoutMs must be a whole number of ms in 1..10000/,
    ],
    ['a zero command timeout', '{"actuators": {"type": "command", "path": "/bin/true", "timeoutMs": 0}}', /actuators.timeoutMs must be/],
    [
      "a command timeout past the car's own bound",
      '{"actuators": {"type": "command", "path": "/bin/true", "timeoutMs": 30000}}',
      /actuators.timeoutMs must be .* 1..10000/,
    ],
    ['a bad button', '{"pairingButton": {"chip": "gpiochip0"}}', /pairingButton needs/],
    ['proximity not an object', '{"proximity": 3}', /proximity must be an object/],
    ['a non-boolean switch', '{"proximity": {"walkAwayLock": "yes"}}', /proximity.walkAwayLock must be true or false/],
    ['a negative grace', '{"proximity": {"linkLossGraceMs": -1}}', /proximity.linkLossGraceMs must be a number of ms/],
    ['an unknown crypto provider', '{"crypto": "openssl"}', /crypto must be "node" or "noble"/],
    ['a null actuator', '{"actuators": null}', /actuators.type must be gpio, command or log/],
    ['a null LED', '{"statusLed": null}', /statusLed needs/],
    ['health not an object', '{"health": []}', /health must be an object/],
    ['a fractional recovery count', '{"health": {"maxRecoveryAttempts": 1.5}}', /health.maxRecoveryAttempts must be an integer/],
    ['a missing file', undefined, /does not exist: write one with `sudo proxkey car setup`/],
  ])('rejects %s with one line naming the field', (_what, text, message) => {
    const p = text === undefined ? join(dir, 'missing.json') : write('bad.json', text);
    let error: unknown;
    try {
      loadCarConfig(p);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(LocalError);
    expect((error as Error).message).toMatch(message);
    expect((error as Error).message).not.toContain('\n');
  });

  it('uses nodeCrypto by default and nobleCrypto with "crypto": "noble"', () => {
    expect(carCrypto(loadCarConfig(write('default.json', '{}')))).toBe(nodeCrypto);
    expect(carCrypto(loadCarConfig(write('node.json', '{"crypto": "node"}')))).toBe(nodeCrypto);
    expect(carCrypto(loadCarConfig(write('noble.json', '{"crypto": "noble"}')))).toBe(nobleCrypto);
  });
});
