/**
 * `proxkey car setup`: prepare this machine to run the car daemon as a service — a commented
 * configuration, the systemd unit for this install's real paths (this node, this proxkey), the
 * state directory owned by the daemon's user — and print the next steps. Files that exist are
 * kept (rerun-safe) unless `--force`; a rerun whose --user or --dir contradicts a kept file is
 * refused (without them it takes theirs), and so is a state directory that is neither new, empty
 * nor a car's. It does not create the car's key: the first `car serve` does, as the daemon's user.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, readFileSync, readdirSync, realpathSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { loadCarConfig } from './config.js';
import { LocalError } from '../errors.js';
import { writeFileAtomic } from '../node/atomic-file.js';
import { EXAMPLE_INSTALL, arg, carConfigTemplate, systemdUnit, type InstallPaths } from './templates.js';
import type { Ui } from './ui.js';

export interface SetupArgs {
  readonly config?: string;
  readonly dir?: string;
  readonly user?: string;
  readonly name?: string;
  readonly hci?: number;
  readonly unit?: string;
  readonly actuator?: string;
  readonly force?: boolean;
}

export const DEFAULT_UNIT_PATH = '/etc/systemd/system/proxkey-car.service';

interface Account {
  readonly uid: number;
  readonly gid: number;
}

/** The user's uid and primary gid (`id`), or a clear error naming the command that creates it. */
function account(user: string): Account {
  const id = (flag: string) => {
    try {
      return Number(execFileSync('id', [flag, user], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 5_000 }).trim());
    } catch {
      throw new LocalError(
        'ERR_INVALID_ARGUMENT',
        `user "${user}" does not exist: create it first (sudo useradd --system --home /var/lib/proxkey --shell /usr/sbin/nologin --groups gpio ${user}), or pass --user <name>`,
      );
    }
  };
  return { uid: id('-u'), gid: id('-g') };
}

/** The running CLI's entry file, symlinks resolved (`/usr/bin/proxkey` → …/dist/cli.js). */
function cliPath(): string {
  const entry = process.argv[1];
  if (!entry) throw new LocalError('ERR_INVALID_STATE', 'cannot tell where proxkey is installed');
  return realpathSync(entry);
}

async function writeKept(path: string, text: string, mode: number, force: boolean): Promise<'wrote' | 'kept'> {
  if (existsSync(path) && !force) return 'kept';
  mkdirSync(dirname(path), { recursive: true });
  await writeFileAtomic(path, new TextEncoder().encode(text));
  chmodSync(path, mode);
  return 'wrote';
}

/** The install's paths from the arguments and the running process. */
export function installPaths(a: SetupArgs): InstallPaths {
  if (a.actuator !== undefined && a.actuator !== 'gpio' && a.actuator !== 'log')
    throw new LocalError('ERR_INVALID_ARGUMENT', `--actuator: expected gpio or log, got "${a.actuator}"`);
  return {
    node: process.execPath,
    cli: cliPath(),
    config: resolve(a.config ?? EXAMPLE_INSTALL.config),
    stateDir: resolve(a.dir ?? EXAMPLE_INSTALL.stateDir),
    user: a.user ?? EXAMPLE_INSTALL.user,
    name: a.name ?? EXAMPLE_INSTALL.name,
    hci: a.hci ?? EXAMPLE_INSTALL.hci,
    actuators: a.actuator === 'log' ? 'log' : 'gpio',
  };
}

/** A shell word: as in the unit's ExecStart when it needs no quotes, else single-quoted (no $ or ` expansion). */
const shellArg = (s: string) => (arg(s) === s ? s : `'${s.replace(/'/g, `'\\''`)}'`);

/**
 * The words of a unit's command or path list as systemd reads them: `"…"` or `'…'` quoted (a
 * backslash escapes the next character) or bare, `%%` for `%`.
 */
const unitWords = (line: string): string[] =>
  [...line.matchAll(/"((?:[^"\\]|\\.)*)"|'((?:[^'\\]|\\.)*)'|(\S+)/g)].map((m) => (m[3] ?? (m[1] ?? m[2]!).replace(/\\(.)/g, '$1')).replace(/%%/g, '%'));

/** A unit setting's value: its last assignment, continuation lines (`\` at the end) joined. */
const unitSetting = (text: string, name: string): string | undefined =>
  [...text.replace(/\\\n/g, ' ').matchAll(new RegExp(`^${name}=(.*)$`, 'gm'))].at(-1)?.[1];

/** The `--config` of a `car serve` command line (`--config <path>` or `--config=<path>`); null: it names none. */
function configOf(words: readonly string[]): string | null {
  for (let i = 0; i < words.length; i++) {
    if (words[i] === '--config') return words[i + 1] ?? null;
    if (words[i]!.startsWith('--config=')) return words[i]!.slice('--config='.length);
  }
  return null;
}

/** A path of a unit, as the daemon sees it (systemd runs it from `/`). */
const fromRoot = (path: string) => resolve('/', path);

/**
 * What the unit file says: its `User=`, the paths of its `ReadWritePaths=` and the `--config` of
 * its `ExecStart=` (unquoted; `null`: an ExecStart that names no config).
 */
function unitSays(text: string): { user?: string; paths?: string[]; config?: string | null } {
  const user = unitSetting(text, 'User')?.trim();
  const rw = unitSetting(text, 'ReadWritePaths');
  const paths = rw && unitWords(rw);
  const exec = unitSetting(text, 'ExecStart');
  return { ...(user && { user }), ...(paths && { paths }), ...(exec !== undefined && { config: configOf(unitWords(exec)) }) };
}

/**
 * This install's paths, consistent with the config and unit a rerun keeps (without `--force`):
 * no --config takes the kept unit's `--config`, no --dir the kept config's stateDir, no --user
 * the kept unit's User=; one that differs from what a kept file says is refused (the service
 * would not run as set up: it would read another config than the one written, its user could
 * not open its state directory, or the config would point at another one).
 */
export function keptInstall(a: SetupArgs, unitPath: string): InstallPaths {
  let p = installPaths(a);
  if (a.force) return p;
  const refuse = (file: string, says: string, flag: string, keep: string) =>
    new LocalError(
      'ERR_INVALID_STATE',
      `${file} (kept: it exists) says ${says}, not ${flag}: pass ${keep} to keep it, or --force to rewrite the config and the unit with ${flag}`,
    );
  const keptUnit = existsSync(unitPath) ? unitSays(readFileSync(unitPath, 'utf8')) : {};
  if (keptUnit.config === null)
    throw new LocalError(
      'ERR_INVALID_STATE',
      `${unitPath} (kept: it exists) has an ExecStart with no --config <path> that setup can read, so it would not read ${p.config}: fix the unit, or pass --force to rewrite the config and the unit`,
    );
  if (keptUnit.config !== undefined) {
    const kept = fromRoot(keptUnit.config);
    if (a.config === undefined) p = { ...p, config: kept };
    else if (kept !== p.config) throw refuse(unitPath, `--config ${kept}`, `--config ${p.config}`, `--config ${shellArg(kept)}`);
  }
  if (existsSync(p.config)) {
    const said = loadCarConfig(p.config).stateDir;
    const dir = said === undefined ? undefined : resolve(said);
    if (dir !== undefined && a.dir === undefined) p = { ...p, stateDir: dir };
    else if (dir !== undefined && dir !== p.stateDir) throw refuse(p.config, `stateDir ${dir}`, `--dir ${p.stateDir}`, `--dir ${shellArg(dir)}`);
  }
  const { user, paths } = keptUnit;
  if (user !== undefined && a.user === undefined) p = { ...p, user };
  else if (user !== undefined && user !== p.user) throw refuse(unitPath, `User=${user}`, `--user ${p.user}`, `--user ${shellArg(user)}`);
  if (paths && !paths.map(fromRoot).includes(p.stateDir))
    throw refuse(unitPath, `ReadWritePaths=${paths.join(' ')}`, `--dir ${p.stateDir}`, `--dir ${shellArg(paths[0]!)}`);
  return p;
}

/**
 * Refuse to take over (chown to the daemon's user, chmod 0700) a state directory that already
 * exists and is neither empty nor a car's (vehicle.json, audit.jsonl), unless `force`.
 */
function checkStateDir(dir: string, user: string, force: boolean): void {
  if (!existsSync(dir)) return;
  if (!statSync(dir).isDirectory()) throw new LocalError('ERR_INVALID_STATE', `--dir ${dir} exists and is not a directory: pick another state directory`);
  // proxkey's own leftovers (a `car serve` killed before it created the car) count as empty
  const entries = readdirSync(dir).filter((n) => !/^lock(\.break)?$|\.tmp$/.test(n));
  if (force || entries.length === 0 || entries.includes('vehicle.json') || entries.includes('audit.jsonl')) return;
  throw new LocalError(
    'ERR_INVALID_STATE',
    `--dir ${dir} is not empty and holds no car (no vehicle.json or audit.jsonl): setup would make it 0700 and owned by ${user}; pick a new or empty directory, or --force to take this one over`,
  );
}

/** Write config + unit, create the state directory; print what was done and what to do next. */
export async function carSetup(a: SetupArgs, ui: Ui): Promise<number> {
  const unitPath = resolve(a.unit ?? DEFAULT_UNIT_PATH);
  if (a.user !== undefined) account(a.user); // a user that does not exist is the first thing to fix
  const p = keptInstall(a, unitPath);
  const who = account(p.user);
  checkStateDir(p.stateDir, p.user, !!a.force);
  const config = await writeKept(p.config, carConfigTemplate(p), 0o640, !!a.force);
  // the daemon's user reads the config; only root edits it
  if (config === 'wrote' && process.getuid?.() === 0) chownSync(p.config, 0, who.gid);
  const unit = await writeKept(unitPath, systemdUnit(p), 0o644, !!a.force);
  mkdirSync(p.stateDir, { recursive: true, mode: 0o700 });
  const st = statSync(p.stateDir);
  if (st.uid !== who.uid || st.gid !== who.gid) chownSync(p.stateDir, who.uid, who.gid);
  chmodSync(p.stateDir, 0o700);
  const serve = [p.node, p.cli, 'car', 'serve', '--config', p.config].map(shellArg).join(' ');
  const steps: [string, string][] = [
    ['proxkey drives the adapter itself', 'sudo systemctl disable --now bluetooth'],
    [
      'try it in the foreground as the service will run it (Ctrl-C stops)',
      `sudo systemd-run --pty --uid=${shellArg(p.user)} -p AmbientCapabilities="CAP_NET_RAW CAP_NET_ADMIN" -p SupplementaryGroups=gpio ${serve} --pair`,
    ],
    ['run it as a service', 'sudo systemctl daemon-reload && sudo systemctl enable --now proxkey-car'],
    ['its log: decisions, pairing codes, recoveries', 'journalctl -u proxkey-car -f'],
  ];
  ui.result(
    { config: { path: p.config, action: config }, unit: { path: unitPath, action: unit }, stateDir: p.stateDir, user: p.user, node: p.node, cli: p.cli },
    [
      `${config} ${p.config}${config === 'kept' ? ' (exists; --force replaces it)' : ' (edit the name, GPIO lines and pulses)'}`,
      `${unit} ${unitPath}${unit === 'kept' ? ' (exists; --force replaces it)' : ` (runs ${p.node} ${p.cli})`}`,
      `state directory ${p.stateDir} (0700, owner ${p.user})`,
      'next:',
      ...steps.map(([why, cmd], i) => `  ${i + 1}. ${why}:\n     ${cmd}`),
    ].join('\n'),
  );
  return 0;
}
