/**
 * One loader for both BLE families: noble (the phone, GATT central) and bleno (the car, GATT
 * peripheral), each published twice — the maintained `@stoprocent/*` fork and the original
 * `@abandonware/*`. All four are optional peer dependencies: nothing here runs at module load, the
 * package is imported on the first `load*` call, and a missing one is a `BleUnavailableError` that
 * names the packages to install. Node-only (the core never imports this).
 *
 * The families differ in how a stack is pointed at an HCI controller: the `@stoprocent` packages
 * bind on demand (`withBindings('hci', …)`), the `@abandonware` ones read environment variables
 * once, when their `bluetooth-hci-socket` loads (so one controller per process).
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { assertArg, messageOf } from '../errors.js';
import { BleUnavailableError, LINUX_HINT, type HciOptions } from './common.js';

/** How a package of a family is pointed at its HCI controller. */
export type HciBinding = 'with-bindings' | 'environment';

/** A package of a BLE family, and how it binds to a controller. */
export interface BlePackage {
  readonly name: string;
  readonly binding: HciBinding;
}

/** A BLE family: its packages (preferred first) and the environment variable its `environment` package reads the device id from. */
export interface BleFamily {
  /** `noble` or `bleno`: what the errors call it. */
  readonly name: string;
  readonly packages: readonly BlePackage[];
  /** For the `environment` binding: the variable holding the Linux HCI device id. */
  readonly deviceIdVariable: string;
}

/**
 * A family as both publishers ship it: the maintained `@stoprocent` fork first (prebuilt binaries,
 * binds on demand), then the original `@abandonware` package (configured through the environment).
 */
function publishedTwice<N extends 'noble' | 'bleno'>(name: N) {
  return {
    name,
    packages: [
      { name: `@stoprocent/${name}`, binding: 'with-bindings' },
      { name: `@abandonware/${name}`, binding: 'environment' },
    ],
    deviceIdVariable: `${name === 'noble' ? 'NOBLE' : 'BLENO'}_HCI_DEVICE_ID`,
  } as const satisfies BleFamily;
}

/** The GATT central family (the phone side). */
export const NOBLE_FAMILY = publishedTwice('noble');

/** The GATT peripheral family (the car side). */
export const BLENO_FAMILY = publishedTwice('bleno');

/** The names of a family's packages, as `load*({ package })` accepts them. */
export type PackageOf<F extends BleFamily> = F['packages'][number]['name'];

/** A BLE stack's module as loaded: the `with-bindings` packages bind to a controller with `withBindings`. */
export interface LoadedStack {
  readonly withBindings?: (driver: 'hci', options: Record<string, unknown>) => unknown;
}

/** Imports one package by name (the default is the runtime's dynamic `import`). */
export type ImportModule = (specifier: string) => Promise<unknown>;

// not a literal specifier: bundlers and tsc leave the optional peer alone
const dynamicImport: ImportModule = (specifier) => import(specifier);

/** What `loadBleStack` loaded: the package's name and the stack, bound to the controller. */
export interface LoadedBleStack<Stack> {
  readonly packageName: string;
  readonly stack: Stack;
}

/** Options of {@link loadBleStack}: the controller, and optionally one package of the family. */
export interface LoadBleStackOptions extends HciOptions {
  /** Use this package only (default: the first installed of the family's packages). */
  readonly package?: string;
}

/**
 * Load the first installed package of `family` (or `options.package`) and bind it to the HCI
 * controller in `options`. The result is typed by the caller (`Stack`): the packages are untyped
 * optional peers, and each adapter describes the part of the stack it uses structurally.
 * @throws {BleUnavailableError} when none of the packages is installed (the hint names them), or one
 *   is installed but fails to load (the hint says what to check on Linux).
 * @throws {LocalError} `ERR_INVALID_ARGUMENT` when `options.package` is not one of the family's.
 */
export async function loadBleStack<Stack>(
  family: BleFamily,
  options: LoadBleStackOptions = {},
  importModule: ImportModule = dynamicImport,
): Promise<LoadedBleStack<Stack>> {
  const candidates = options.package === undefined ? family.packages : family.packages.filter((p) => p.name === options.package);
  assertArg(candidates.length > 0, `package: expected one of ${family.packages.map((p) => p.name).join(', ')}`);
  const { pkg, module } = await importFirst(candidates, family.name, (p) => configureBeforeImport(family, p, options), importModule);
  // the stacks are untyped: the caller's structural description is taken on trust
  return { packageName: pkg.name, stack: bindController(pkg, module, options) as Stack };
}

/** `environment` packages read their controller from the environment when they load: set it first. */
function configureBeforeImport(family: BleFamily, pkg: BlePackage, options: HciOptions): void {
  if (pkg.binding !== 'environment') return;
  if (options.uart) {
    process.env.BLUETOOTH_HCI_SOCKET_UART_PORT = options.uart.port;
    if (options.uart.baudRate) process.env.BLUETOOTH_HCI_SOCKET_UART_BAUDRATE = String(options.uart.baudRate);
  }
  if (options.deviceId !== undefined) process.env[family.deviceIdVariable] = String(options.deviceId);
}

/** `with-bindings` packages bind to a UART or a numbered controller on demand; otherwise the module is the stack. */
function bindController(pkg: BlePackage, module: LoadedStack, options: HciOptions): unknown {
  const bind = module.withBindings;
  if (pkg.binding !== 'with-bindings' || typeof bind !== 'function') return module;
  if (options.uart) return bind('hci', { hciDriver: 'uart', bindParams: { uart: { port: options.uart.port, baudRate: options.uart.baudRate ?? 1_000_000 } } });
  if (options.deviceId !== undefined) return bind('hci', { deviceId: options.deviceId });
  return module;
}

function isModuleNotFound(err: unknown): boolean {
  const code = typeof err === 'object' && err !== null && 'code' in err ? err.code : undefined;
  return code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND';
}

function isLoadedStack(module: unknown): module is LoadedStack {
  return (typeof module === 'object' || typeof module === 'function') && module !== null;
}

/** A module's default export when it has one (CommonJS packages imported from ESM), else the namespace. */
function stackOf(module: unknown): LoadedStack {
  const inner = isLoadedStack(module) && 'default' in module ? module.default : undefined;
  if (isLoadedStack(inner)) return inner;
  if (isLoadedStack(module)) return module;
  throw new BleUnavailableError(`the BLE package did not export a module (got ${typeof module})`, LINUX_HINT);
}

/**
 * Import the first installed package among `candidates`, in order (dynamic import: nothing happens at
 * module load). `beforeImport` runs before each attempt.
 * @throws {BleUnavailableError} naming every candidate with `npm install` when none is installed, or
 *   with the Linux hint (and the import error as `cause`) when one is installed but fails to load.
 */
export async function importFirst<P extends BlePackage>(
  candidates: readonly P[],
  what: string,
  beforeImport?: (pkg: P) => void,
  importModule: ImportModule = dynamicImport,
): Promise<{ pkg: P; module: LoadedStack }> {
  const failures: string[] = [];
  for (const pkg of candidates) {
    let module: unknown;
    try {
      beforeImport?.(pkg);
      module = await importModule(pkg.name);
    } catch (err) {
      if (isModuleNotFound(err)) {
        failures.push(`${pkg.name}: not installed`);
        continue;
      }
      throw new BleUnavailableError(`${pkg.name} is installed but failed to load: ${messageOf(err)}`, LINUX_HINT, {
        cause: err,
      });
    }
    return { pkg, module: stackOf(module) };
  }
  throw missingPackagesError(what, candidates, failures);
}

/** The error for a family none of whose packages is installed: it names each, with the command to install it. */
export function missingPackagesError(what: string, candidates: readonly BlePackage[], failures: readonly string[] = []): BleUnavailableError {
  const detail = failures.length > 0 ? ` (${failures.join('; ')})` : '';
  return new BleUnavailableError(
    `no ${what} package found${detail}`,
    `Install one: ${candidates.map((c) => `\`npm install ${c.name}\``).join(' or ')} (the @stoprocent packages are maintained and ship prebuilt binaries).`,
  );
}

/** The installed release of `name` (its package.json, resolved as `import` would), or undefined when it cannot be read. */
export function installedVersion(name: string): string | undefined {
  try {
    const path = createRequire(import.meta.url).resolve(`${name}/package.json`);
    const version: unknown = (JSON.parse(readFileSync(path, 'utf8')) as { version?: unknown }).version;
    return typeof version === 'string' ? version : undefined;
  } catch {
    return undefined;
  }
}
