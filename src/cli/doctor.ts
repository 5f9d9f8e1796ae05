/**
 * `proxkey doctor`: checks what Bluetooth needs on this machine, one line per check with the fix
 * in the CLI's own words (--hci, --uart). The same checks explain a `BleUnavailableError`: the
 * first one that fails is the one line the user sees (from the system's state, never from the
 * text of the stack's error).
 */
import { accessSync, constants, existsSync, readFileSync, readdirSync, realpathSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { delimiter, join } from 'node:path';
import type { Ui } from './ui.js';

export interface RadioTarget {
  readonly hci?: number;
  readonly uart?: string;
}

export interface Check {
  readonly name: string;
  readonly ok: boolean;
  /** What was found. */
  readonly detail: string;
  /** What to do when not ok. */
  readonly fix?: string;
  /** Only informative: does not fail the doctor. */
  readonly optional?: boolean;
}

const CAP_NET_ADMIN = 12;
const CAP_NET_RAW = 13;
const SETCAP = 'sudo setcap cap_net_raw,cap_net_admin+eip $(readlink -f $(which node))';

/** Whether proxkey runs from a global npm install (the fix for a missing package then needs -g). */
function globalInstall(): boolean {
  const entry = process.argv[1];
  if (!entry) return false;
  try {
    // npm's global root on Unix is <prefix>/lib/node_modules
    return /[/\\]lib[/\\]node_modules[/\\]proxkey[/\\]/.test(realpathSync(entry));
  } catch {
    return false;
  }
}

function installed(pkg: string): string | undefined {
  try {
    const path = createRequire(import.meta.url).resolve(`${pkg}/package.json`);
    return (JSON.parse(readFileSync(path, 'utf8')) as { version?: string }).version ?? '?';
  } catch {
    return undefined;
  }
}

/** Is a BLE stack package for this role installed? */
export function packageCheck(role: 'phone' | 'car'): Check {
  const [maintained, other] = role === 'car' ? ['@stoprocent/bleno', '@abandonware/bleno'] : ['@stoprocent/noble', '@abandonware/noble'];
  const found = [maintained, other].map((p) => [p, installed(p)] as const).find(([, v]) => v);
  const name = `${role} BLE stack (${role === 'car' ? 'bleno' : 'noble'})`;
  if (found) return { name, ok: true, detail: `${found[0]} ${found[1]}` };
  return { name, ok: false, detail: 'not installed', fix: globalInstall() ? `sudo npm install -g ${maintained}` : `npm install ${maintained}` };
}

function adapters(): string[] {
  try {
    return readdirSync('/sys/class/bluetooth').filter((n) => /^hci\d+$/.test(n));
  } catch {
    return [];
  }
}

/** The adapter (hciN) or the serial device (--uart) exists and can be opened. */
export function adapterCheck(t: RadioTarget): Check {
  if (t.uart) {
    const name = `serial HCI controller ${t.uart}`;
    if (!existsSync(t.uart))
      return {
        name,
        ok: false,
        detail: 'no such device',
        fix: 'check the path given to --uart (or bluetooth.uart in the config); `ls /dev/tty*` lists serial devices',
      };
    if (!statSync(t.uart).isCharacterDevice())
      return { name, ok: false, detail: 'not a serial device', fix: '--uart needs a tty (a USB/UART HCI dongle, or a pty of an emulated controller)' };
    try {
      accessSync(t.uart, constants.R_OK | constants.W_OK);
    } catch {
      return { name, ok: false, detail: 'no read/write permission', fix: 'add the user to the dialout group (sudo usermod -aG dialout $USER), or run as root' };
    }
    return { name, ok: true, detail: 'present, readable and writable' };
  }
  const hci = t.hci ?? 0;
  const all = adapters();
  const name = `Bluetooth adapter hci${hci}`;
  if (all.includes(`hci${hci}`)) return { name, ok: true, detail: 'present' };
  return {
    name,
    ok: false,
    detail: all.length ? `not found (this machine has ${all.join(', ')})` : 'not found (this machine has no Bluetooth adapter)',
    fix: all.length
      ? `use --hci ${all[0]!.slice(3)}`
      : 'plug in a Bluetooth LE adapter (`btmgmt info` lists adapters), or use a serial HCI controller with --uart <path>',
  };
}

function rfkillCheck(): Check {
  const name = 'radio not blocked (rfkill)';
  let blocked: string | undefined;
  try {
    for (const dev of readdirSync('/sys/class/rfkill')) {
      const read = (f: string) => readFileSync(join('/sys/class/rfkill', dev, f), 'utf8').trim();
      if (read('type') !== 'bluetooth') continue;
      if (read('hard') === '1') blocked = 'hard-blocked (a switch or the firmware)';
      else if (read('soft') === '1') blocked ??= 'soft-blocked';
    }
  } catch {
    /* no rfkill on this machine */
  }
  return blocked ? { name, ok: false, detail: blocked, fix: 'sudo rfkill unblock bluetooth (package rfkill)' } : { name, ok: true, detail: 'not blocked' };
}

/** Effective capabilities of this process (from /proc), or undefined when unknown. */
function effectiveCaps(): bigint | undefined {
  try {
    const m = /^CapEff:\s*([0-9a-f]+)$/m.exec(readFileSync('/proc/self/status', 'utf8'));
    return m ? BigInt(`0x${m[1]}`) : undefined;
  } catch {
    return undefined;
  }
}

export function permissionCheck(): Check {
  const name = 'raw HCI socket rights (CAP_NET_RAW, CAP_NET_ADMIN)';
  const caps = effectiveCaps();
  if (caps === undefined) return { name, ok: true, detail: 'cannot tell on this system', optional: true };
  const has = (bit: number) => (caps & (1n << BigInt(bit))) !== 0n;
  if (has(CAP_NET_RAW) && has(CAP_NET_ADMIN)) return { name, ok: true, detail: process.getuid?.() === 0 ? 'root' : 'granted' };
  return { name, ok: false, detail: 'missing for this user', fix: `run as root, or once: ${SETCAP} (the systemd unit grants them itself)` };
}

function bluetoothdRunning(): boolean {
  try {
    return readdirSync('/proc').some((p) => {
      if (!/^\d+$/.test(p)) return false;
      try {
        return readFileSync(join('/proc', p, 'comm'), 'utf8').trim() === 'bluetoothd';
      } catch {
        return false;
      }
    });
  } catch {
    return false;
  }
}

/**
 * bluetoothd must not hold the adapter proxkey uses. For hci0 (the default) a running bluetoothd
 * fails the check; for another adapter it is only informative: bluetoothd may be told to leave it
 * alone, and whether it holds that one cannot be told from here (it takes every adapter unless
 * configured otherwise).
 */
export function bluetoothdCheck(hci = 0): Check {
  const name = `adapter${hci === 0 ? '' : ` hci${hci}`} not held by bluetoothd`;
  if (!bluetoothdRunning()) return { name, ok: true, detail: 'bluetoothd is not running' };
  if (hci !== 0)
    return {
      name,
      ok: false,
      optional: true,
      detail: `bluetoothd is running; whether it holds hci${hci} cannot be told from here`,
      fix: `if proxkey cannot open hci${hci}: sudo systemctl stop bluetooth`,
    };
  return {
    name,
    ok: false,
    detail: 'bluetoothd is running and holds the adapter',
    fix: 'sudo systemctl stop bluetooth (disable it on a car), or give proxkey a second adapter with --hci 1',
  };
}

function onPath(cmd: string): boolean {
  return (process.env.PATH ?? '').split(delimiter).some((d) => {
    try {
      accessSync(join(d, cmd), constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

function toolCheck(cmd: string, what: string, pkg: string): Check {
  return onPath(cmd)
    ? { name: `${cmd} (${what})`, ok: true, detail: 'found', optional: true }
    : { name: `${cmd} (${what})`, ok: false, detail: 'not found', fix: `sudo apt install ${pkg}`, optional: true };
}

function nodeCheck(): Check {
  const [major = 0, minor = 0] = process.versions.node.split('.').map(Number);
  const ok = major > 20 || (major === 20 && minor >= 19);
  return { name: 'Node.js ≥ 20.19', ok, detail: process.versions.node, ...(!ok && { fix: 'install Node 20.19 or later (e.g. NodeSource, or Debian trixie)' }) };
}

/** The checks of the radio itself: a serial controller has only its device; an HCI adapter also rfkill, permissions and bluetoothd. */
function radioChecks(t: RadioTarget): Check[] {
  return t.uart ? [adapterCheck(t)] : [adapterCheck(t), rfkillCheck(), permissionCheck(), bluetoothdCheck(t.hci)];
}

/** Every check, for `proxkey doctor`. */
export function allChecks(t: RadioTarget): Check[] {
  const radio = radioChecks(t);
  // a car needs only bleno, a phone only noble: one missing is a problem only if both are
  const [phone, car] = [packageCheck('phone'), packageCheck('car')];
  const either = phone.ok || car.ok;
  return [
    nodeCheck(),
    { ...phone, optional: either },
    { ...car, optional: either },
    ...radio,
    toolCheck('gpioset', 'GPIO relays, button, LED', 'gpiod'),
    toolCheck('systemd-notify', "the daemon's readiness and watchdog under systemd", 'systemd'),
  ];
}

/**
 * The one problem that keeps this role from using Bluetooth here, as "what — fix", or undefined
 * when every check passes (then the stack's own message is all there is).
 */
export function bluetoothProblem(role: 'phone' | 'car', t: RadioTarget): string | undefined {
  const checks = [packageCheck(role), ...radioChecks(t)];
  // a needed check first; an informative one (bluetoothd with another adapter) may still explain it
  const bad = checks.find((c) => !c.ok && !c.optional) ?? checks.find((c) => !c.ok);
  return bad && `${bad.name}: ${bad.detail} — ${bad.fix ?? ''}`;
}

export function doctor(t: RadioTarget, ui: Ui): number {
  const checks = allChecks(t);
  const failed = checks.filter((c) => !c.ok && !c.optional);
  ui.result(
    { ok: failed.length === 0, checks },
    [
      ...checks.map((c) => `${c.ok ? '✓' : c.optional ? '–' : '✗'} ${c.name}: ${c.detail}${!c.ok && c.fix ? `\n    fix: ${c.fix}` : ''}`),
      failed.length === 0 ? 'Bluetooth is ready for proxkey here.' : `${failed.length} problem(s): fix them in this order, then run \`proxkey doctor\` again.`,
    ].join('\n'),
  );
  return failed.length === 0 ? 0 : 1;
}
