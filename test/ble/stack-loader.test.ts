/**
 * The one loader of both BLE families (noble, bleno; `@stoprocent/*` and `@abandonware/*`): the
 * packages are optional peers, a missing one is a `BleUnavailableError` naming what to install, and
 * each package is pointed at its controller its own way. Real imports of packages that do not exist
 * for the missing-package errors; an injected importer where a stack would otherwise be loaded.
 */
import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import {
  BLENO_FAMILY,
  NOBLE_FAMILY,
  importFirst,
  loadBleStack,
  missingPackagesError,
  type BleFamily,
  type ImportModule,
} from '../../src/adapters/ble-stack-loader.js';
import { BleUnavailableError } from '../../src/adapters/common.js';
import { loadNoble } from '../../src/adapters/noble/index.js';
import { loadBleno } from '../../src/adapters/bleno/index.js';
import { LocalError } from '../../src/errors.js';

const ABSENT: BleFamily = {
  name: 'noble',
  packages: [
    { name: '@proxkey-test/absent-fork', binding: 'with-bindings' },
    { name: '@proxkey-test/absent-original', binding: 'environment' },
  ],
  deviceIdVariable: 'PROXKEY_TEST_DEVICE_ID',
};

/** The error a real `import()` of a package that is not installed throws. */
async function notFound(name: string): Promise<unknown> {
  const spec: string = name;
  return import(spec).then(
    () => undefined,
    (e: unknown) => e,
  );
}

const ENV = ['BLUETOOTH_HCI_SOCKET_UART_PORT', 'BLUETOOTH_HCI_SOCKET_UART_BAUDRATE', 'NOBLE_HCI_DEVICE_ID', 'BLENO_HCI_DEVICE_ID'] as const;
const saved = Object.fromEntries(ENV.map((k) => [k, process.env[k]]));
afterEach(() => {
  for (const k of ENV) {
    if (saved[k] === undefined) delete process.env[k];
    else process.env[k] = saved[k];
  }
});

describe('one loader for both BLE families', () => {
  it('a family none of whose packages is installed is a BleUnavailableError naming each package to install', async () => {
    const err = await loadBleStack(ABSENT).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BleUnavailableError);
    const ble = err as BleUnavailableError;
    expect(ble.code).toBe('ERR_BLE_UNAVAILABLE');
    expect(ble.message).toMatch(/no noble package found \(@proxkey-test\/absent-fork: not installed; @proxkey-test\/absent-original: not installed\)/);
    expect(ble.hint).toBe(
      'Install one: `npm install @proxkey-test/absent-fork` or `npm install @proxkey-test/absent-original` (the @stoprocent packages are maintained and ship prebuilt binaries).',
    );
  });

  it.each([
    ['noble', NOBLE_FAMILY, '@stoprocent/noble', '@abandonware/noble'],
    ['bleno', BLENO_FAMILY, '@stoprocent/bleno', '@abandonware/bleno'],
  ] as const)('the %s error names both of its packages, the maintained fork first', (what, family, fork, original) => {
    const err = missingPackagesError(what, family.packages);
    expect(err).toBeInstanceOf(BleUnavailableError);
    expect(err.hint).toContain(`\`npm install ${fork}\` or \`npm install ${original}\``);
  });

  it('every package of both families is an optional peer dependency (never installed with proxkey)', () => {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
      dependencies?: Record<string, string>;
      peerDependencies?: Record<string, string>;
      peerDependenciesMeta?: Record<string, { optional?: boolean }>;
    };
    for (const { name } of [...NOBLE_FAMILY.packages, ...BLENO_FAMILY.packages]) {
      expect(pkg.peerDependencies, name).toHaveProperty([name]);
      expect(pkg.peerDependenciesMeta?.[name]?.optional, name).toBe(true);
      expect(pkg.dependencies ?? {}, name).not.toHaveProperty([name]);
    }
  });

  it('falls back to the next package when the first is not installed, and configures an environment package before importing it', async () => {
    const imported: string[] = [];
    const fake = { state: 'poweredOn' };
    const importModule: ImportModule = async (name) => {
      imported.push(name);
      if (name === '@stoprocent/bleno') throw await notFound('@proxkey-test/absent-fork');
      expect(process.env.BLENO_HCI_DEVICE_ID).toBe('3');
      return { default: fake };
    };
    const loaded = await loadBleStack<typeof fake>(BLENO_FAMILY, { deviceId: 3 }, importModule);
    expect(imported).toEqual(['@stoprocent/bleno', '@abandonware/bleno']);
    expect(loaded).toEqual({ packageName: '@abandonware/bleno', stack: fake });
    expect(loaded.stack).toBe(fake);
    expect(process.env.NOBLE_HCI_DEVICE_ID).toBe(saved.NOBLE_HCI_DEVICE_ID);
  });

  it('binds a with-bindings package to the UART controller (default 1 Mbaud), and does not touch the environment', async () => {
    const calls: unknown[][] = [];
    const bound = { state: 'bound' };
    const module = { withBindings: (...args: unknown[]) => (calls.push(args), bound) };
    const loaded = await loadBleStack(NOBLE_FAMILY, { uart: { port: '/dev/pts/9' } }, async () => module);
    expect(loaded.stack).toBe(bound);
    expect(calls).toEqual([['hci', { hciDriver: 'uart', bindParams: { uart: { port: '/dev/pts/9', baudRate: 1_000_000 } } }]]);
    expect(process.env.BLUETOOTH_HCI_SOCKET_UART_PORT).toBe(saved.BLUETOOTH_HCI_SOCKET_UART_PORT);
    const byId = await loadBleStack(NOBLE_FAMILY, { deviceId: 1 }, async () => module);
    expect(byId.stack).toBe(bound);
    expect(calls[1]).toEqual(['hci', { deviceId: 1 }]);
    const unbound = await loadBleStack(NOBLE_FAMILY, {}, async () => module);
    expect(unbound.stack).toBe(module);
  });

  it('a package that is installed but fails to load is a BleUnavailableError with the Linux hint and the cause', async () => {
    const broken = new Error('libbluetooth.so: cannot open shared object file');
    const err = await loadBleStack(NOBLE_FAMILY, {}, async () => {
      throw broken;
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BleUnavailableError);
    expect((err as BleUnavailableError).message).toMatch(/@stoprocent\/noble is installed but failed to load: libbluetooth/);
    expect((err as BleUnavailableError).hint).toMatch(/setcap/);
    expect((err as BleUnavailableError).cause).toBe(broken);
  });

  it('tries only the package asked for, and refuses one outside the family', async () => {
    const imported: string[] = [];
    const importModule: ImportModule = async (name) => {
      imported.push(name);
      throw await notFound('@proxkey-test/absent-fork');
    };
    const err = await loadBleStack(NOBLE_FAMILY, { package: '@abandonware/noble' }, importModule).catch((e: unknown) => e);
    expect(imported).toEqual(['@abandonware/noble']);
    expect((err as BleUnavailableError).hint).toBe(
      'Install one: `npm install @abandonware/noble` (the @stoprocent packages are maintained and ship prebuilt binaries).',
    );
    await expect(loadBleStack(NOBLE_FAMILY, { package: '@abandonware/bleno' }, importModule)).rejects.toBeInstanceOf(LocalError);
    expect(imported).toEqual(['@abandonware/noble']);
  });

  it('importFirst reports every candidate it tried, in order', async () => {
    const err = await importFirst(ABSENT.packages, 'bleno').catch((e: unknown) => e);
    expect((err as BleUnavailableError).message).toBe(
      'no bleno package found (@proxkey-test/absent-fork: not installed; @proxkey-test/absent-original: not installed)\n' + (err as BleUnavailableError).hint,
    );
  });

  it('loadNoble and loadBleno are the shared loader (same checks on the package option)', async () => {
    await expect(loadNoble({ package: '@abandonware/bleno' as '@abandonware/noble' })).rejects.toThrow(
      /package: expected one of @stoprocent\/noble, @abandonware\/noble/,
    );
    await expect(loadBleno({ package: '@abandonware/noble' as '@abandonware/bleno' })).rejects.toThrow(
      /package: expected one of @stoprocent\/bleno, @abandonware\/bleno/,
    );
  });
});
