/**
 * The car daemon's configuration file: the shipped Raspberry Pi example loads, and every kind of
 * mistake is one clear LocalError naming the field.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { carCrypto, healthOptions, loadCarConfig } from '../../src/cli/config.js';
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
    [
      'activeLow as a string',
      '{"actuators": {"type": "gpio", "chip": "c", "activeLow": "false", "lines": {"unlock": 17}}}',
      /actuators.activeLow must be true or false/,
    ],
    [
      'a negative relay line',
      '{"actuators": {"type": "gpio", "chip": "c", "lines": {"unlock": -1}}}',
      /actuators.lines.unlock must be a line offset: an integer ≥ 0/,
    ],
    ['a relay line in words', '{"actuators": {"type": "gpio", "chip": "c", "lines": {"lock": "27"}}}', /actuators.lines.lock must be a line offset/],
    ['a fractional relay line', '{"actuators": {"type": "gpio", "chip": "c", "lines": {"lock": 2.5}}}', /actuators.lines.lock must be a line offset/],
    [
      'a pulse of 2.8 hours',
      '{"actuators": {"type": "gpio", "chip": "c", "lines": {"unlock": 17}, "pulseMs": {"default": 1e7}}}',
      /actuators.pulseMs.default must be a whole number of ms in 1..5000 \(a pulse must end well inside the car's 10000 ms actuator bound\)/,
    ],
    ['a zero pulse', '{"actuators": {"type": "gpio", "chip": "c", "lines": {"unlock": 17}, "pulseMs": {"start": 0}}}', /actuators.pulseMs.start must be/],
    ['pulseMs not a map', '{"actuators": {"type": "gpio", "chip": "c", "lines": {"unlock": 17}, "pulseMs": 500}}', /actuators.pulseMs must map command names/],
    ['a typo in the gpio actuator', '{"actuators": {"type": "gpio", "chip": "c", "lines": {}, "pulsems": {}}}', /actuators.pulsems is not a known setting/],
    ['a typo in the command actuator', '{"actuators": {"type": "command", "path": "/bin/true", "timeout": 5}}', /actuators.timeout is not a known setting/],
    ['a button with a negative line', '{"pairingButton": {"chip": "gpiochip0", "line": -5}}', /pairingButton needs/],
    ['an LED activeLow as a string', '{"statusLed": {"chip": "gpiochip0", "line": 6, "activeLow": "true"}}', /statusLed.activeLow must be true or false/],
    ['a pairing mode of 31 years', '{"pairingTtlSeconds": 1e9}', /pairingTtlSeconds must be a whole number of seconds in 1..600/],
    ['a zero pairing mode', '{"pairingTtlSeconds": 0}', /pairingTtlSeconds must be/],
    ['a pairing time in words', '{"pairingTtlSeconds": "120"}', /pairingTtlSeconds must be/],
    ['a health typo', '{"health": {"probeIntervalMS": 500}}', /health.probeIntervalMS is not a known setting \(known: probeIntervalMs, maxRecoveryAttempts\)/],
    ['a health callback override', '{"health": {"log": 0}}', /health.log is not a known setting/],
    ['a billion recovery attempts', '{"health": {"maxRecoveryAttempts": 1e9}}', /health.maxRecoveryAttempts must be an integer in 1..60/],
    ['a probe every 50 ms', '{"health": {"probeIntervalMs": 50}}', /health.probeIntervalMs must be an integer in 100..600000/],
    ['a probe once a day', '{"health": {"probeIntervalMs": 86400000}}', /health.probeIntervalMs must be an integer in 100..600000/],
    ['a negative adapter', '{"bluetooth": {"hci": -1}}', /bluetooth.hci must be an adapter number in 0..63/],
    ['a baud rate in words', '{"bluetooth": {"uart": "/dev/ttyAMA0", "baudRate": "fast"}}', /bluetooth.baudRate must be an integer/],
    ['a bluetooth typo', '{"bluetooth": {"hic": 0}}', /bluetooth.hic is not a known setting/],
    ['a relay bound of a day', '{"policy": {"maxRttMs": 86400000}}', /policy.maxRttMs must be a number of ms in \(0, 10000\]/],
    ['a grace of a year', '{"proximity": {"lockGraceMs": 31536000000}}', /proximity.lockGraceMs must be a number of ms in 0..3600000/],
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

  it('accepts the bounds themselves, and hands the radio only the known health settings', () => {
    const c = loadCarConfig(
      write(
        'bounds.json',
        JSON.stringify({
          actuators: { type: 'gpio', chip: 'c', activeLow: true, lines: { unlock: 0 }, pulseMs: { default: 1, start: 5000 } },
          pairingTtlSeconds: 600,
          health: { probeIntervalMs: 100, maxRecoveryAttempts: 60 },
          bluetooth: { uart: '/dev/ttyAMA0', baudRate: 1_000_000 },
        }),
      ),
    );
    expect(healthOptions(c)).toEqual({ probeIntervalMs: 100, maxRecoveryAttempts: 60 });
    // a config object built in code (not loaded) with extra keys: they never reach the supervisor
    expect(healthOptions({ health: { log: 0, maxRecoveryAttempts: 2 } as never })).toEqual({ maxRecoveryAttempts: 2 });
    expect(healthOptions({})).toEqual({});
  });

  it('uses nodeCrypto by default and nobleCrypto with "crypto": "noble"', () => {
    expect(carCrypto(loadCarConfig(write('default.json', '{}')))).toBe(nodeCrypto);
    expect(carCrypto(loadCarConfig(write('node.json', '{"crypto": "node"}')))).toBe(nodeCrypto);
    expect(carCrypto(loadCarConfig(write('noble.json', '{"crypto": "noble"}')))).toBe(nobleCrypto);
  });
});
