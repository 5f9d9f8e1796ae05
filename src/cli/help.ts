/** The CLI's commands, their arguments and options, and the help texts built from them. */

export interface CommandHelp {
  readonly usage: string;
  readonly summary: string;
  readonly details: string;
  /** Most positional arguments it takes (more is a usage error). */
  readonly maxArgs: number;
  /** The options it uses, described in its help. */
  readonly options: readonly string[];
}

const RADIO = ['hci', 'uart', 'timeout'];
const PHONE = ['state', 'sim', ...RADIO, 'json'];
const CAR_FILES = ['dir', 'config', 'json'];

export const COMMANDS: Record<string, CommandHelp> = {
  pair: {
    usage: 'pair <code | proxkey://pair?…>',
    summary: 'pair this phone with a car in pairing mode',
    details:
      'Use the 8-digit code (or the QR payload) the car shows. The car enrolls this phone as an owner; both sides save before reporting success. With --sim and no code, the simulated car opens pairing mode itself.',
    maxArgs: 1,
    options: ['label', ...PHONE],
  },
  unlock: {
    usage: 'unlock [--car C]',
    summary: 'unlock the car (one round trip)',
    details: 'Finds the car, authenticates both ways and unlocks in one round trip. The time shown is what you waited, from the start of the scan.',
    maxArgs: 0,
    options: ['car', ...PHONE],
  },
  lock: { usage: 'lock [--car C]', summary: 'lock the car', details: 'Like unlock.', maxArgs: 0, options: ['car', ...PHONE] },
  start: {
    usage: 'start --intent [--car C]',
    summary: 'start the car (needs --intent)',
    details: 'By default the car requires the user-intent flag for start: --intent says you confirmed it.',
    maxArgs: 0,
    options: ['intent', 'car', ...PHONE],
  },
  trunk: { usage: 'trunk [--car C]', summary: 'open the trunk', details: 'Like unlock.', maxArgs: 0, options: ['car', ...PHONE] },
  status: {
    usage: 'status',
    summary: "show this phone's key and known cars",
    details: 'Offline: reads the phone state only.',
    maxArgs: 0,
    options: ['state', 'json'],
  },
  'request-key': {
    usage: 'request-key [--label NAME]',
    summary: "print a key request for a car's owner",
    details: 'Prints the pkreq1… string alone on stdout (REQ=$(proxkey request-key) works); send it to the owner, who answers with a share string.',
    maxArgs: 0,
    options: ['label', 'state', 'json'],
  },
  share: {
    usage: 'share <pkreq1…> [--permissions unlock,lock] [--days N] [--car C]',
    summary: '(owner) give a friend a key',
    details: 'Signs a grant for the requesting phone and prints a pkshare1… string sealed to that phone (alone on stdout).',
    maxArgs: 1,
    options: ['permissions', 'days', 'car', 'state', 'json'],
  },
  accept: {
    usage: 'accept <pkshare1…>',
    summary: 'store a key shared with you',
    details: 'The key is activated by your first command to the car.',
    maxArgs: 1,
    options: ['state', 'json'],
  },
  keys: {
    usage: 'keys [--car C]',
    summary: "(owner) list the car's keys",
    details: 'Asks the car over an authenticated session (every page of its list). "← this phone" marks this phone\'s own key.',
    maxArgs: 0,
    options: ['car', ...PHONE],
  },
  revoke: {
    usage: 'revoke <keyId | grantId> [--cascade] [--car C]',
    summary: '(owner) revoke a key or grant',
    details:
      "The car saves the revocation, closes that key's open sessions, then answers. With --cascade (an owner's key id) the keys that owner shared are revoked too.",
    maxArgs: 1,
    options: ['cascade', 'car', ...PHONE],
  },
  doctor: {
    usage: 'doctor [--hci N | --uart PATH]',
    summary: 'check what Bluetooth needs here',
    details:
      'Node version, the BLE packages, the adapter (or serial controller), rfkill, raw-socket rights, bluetoothd, and the tools the car daemon uses; each problem with its fix. Exit 1 if something needed is missing.',
    maxArgs: 0,
    options: ['hci', 'uart', 'json'],
  },
  conformance: {
    usage: 'conformance --role car|phone (--connect tcp:HOST:PORT | unix:PATH | --self) [--code C] [--max-commands N]',
    summary: 'test another implementation of the car or the phone',
    details:
      'Drives the implementation over the byte-stream binding (docs/BLE.md) through the published transcripts and a scripted set of live behaviours (commands, denials, limits, malformed input, pairing, grants, revocation). One line per check, then "N passed, N failed"; exit 1 if any failed. The setup contract is docs/CONFORMANCE.md. --self runs the set against proxkey itself.',
    maxArgs: 0,
    options: ['role', 'connect', 'self', 'code', 'max-commands', 'timeout'],
  },
  decode: {
    usage: 'decode <hex | @file> [--keys FILE]',
    summary: 'decode a protocol message or framing fragment',
    details:
      'Prints the fields of a CHALLENGE, HANDSHAKE header, RECORD, ALERT, pairing message or fragment as JSON; @file reads a capture, one message per line. With --keys (JSON: suite, phoneToCar, carToPhone, nonce) the RECORDs are decrypted in order and their bodies decoded (docs/CONFORMANCE.md).',
    maxArgs: 1,
    options: ['keys'],
  },
  'car serve': {
    usage: 'car serve --dir DIR [--config FILE] [--name N] [--pair] [--hci N | --uart PATH]',
    summary: 'run the car: advertise and serve phones',
    details:
      'The only command that creates a car (in --dir, mode 0700: its key, enrolled phones, audit log). Advertises a rotating id from a rotating private address (no name); heals its radio (re-opens the adapter when it stops answering); under systemd it reports READY and pings the watchdog. SIGTERM and Ctrl-C stop it cleanly. Exit 3: the radio could not be recovered.',
    maxArgs: 0,
    options: ['dir', 'config', 'name', 'pair', 'hci', 'uart', 'json'],
  },
  'car setup': {
    usage: 'car setup [--config FILE] [--dir DIR] [--user U] [--name N] [--hci N] [--unit FILE] [--actuator gpio|log] [--force]',
    summary: 'prepare this machine to run the car as a service',
    details:
      "Writes a commented config (default /etc/proxkey/car.json) and the systemd unit (default /etc/systemd/system/proxkey-car.service) for this install's node and proxkey, creates the state directory (default /var/lib/proxkey) owned by --user (default proxkey), and prints the next steps. Existing files are kept unless --force (a rerun takes their --dir and --user, and refuses others); an existing --dir must be empty or a car's unless --force. Run it with sudo.",
    maxArgs: 0,
    options: ['config', 'dir', 'user', 'name', 'hci', 'unit', 'actuator', 'force', 'json'],
  },
  'car pair': {
    usage: 'car pair --dir DIR',
    summary: 'open pairing mode on the running car',
    details: 'Prints the 8-digit code and a QR code of the pairing payload (valid 120 s, 3 attempts).',
    maxArgs: 0,
    options: CAR_FILES,
  },
  'car keys': {
    usage: 'car keys --dir DIR',
    summary: "list the car's enrolled keys",
    details: 'Through the running car, or its files when it is not running.',
    maxArgs: 0,
    options: CAR_FILES,
  },
  'car revoke': {
    usage: 'car revoke <keyId | grantId> --dir DIR [--cascade]',
    summary: 'revoke a key at the car itself',
    details:
      "Durable before it returns; open sessions of that key are closed. With --cascade (an owner's key id) the keys that owner shared are revoked too, in the same write.",
    maxArgs: 1,
    options: ['cascade', ...CAR_FILES],
  },
  'car backup': {
    usage: 'car backup <file> --dir DIR',
    summary: "save a copy of the car's state",
    details:
      "Copies vehicle.json (the car's private key and every key record) to <file>, mode 0600; refuses to overwrite. Keep it offline: whoever has it can impersonate the car. Works while the car runs.",
    maxArgs: 1,
    options: CAR_FILES,
  },
  'car restore': {
    usage: 'car restore <file> --dir DIR [--force]',
    summary: 'put a backup back (car stopped)',
    details:
      'For a car whose vehicle.json was lost (it then refuses to start) or damaged. Refuses to overwrite a car unless --force, and refuses while the car runs. Every revocation the state directory records (revocations.jsonl, the audit log, a replaced vehicle.json) is applied again, so a backup never brings back a key revoked on this car; onto a directory that records none (a new SD card) it warns: revoke again what was revoked after the backup.',
    maxArgs: 1,
    options: ['force', ...CAR_FILES],
  },
  'car audit': {
    usage: 'car audit --dir DIR',
    summary: "print the car's audit log",
    details: 'Every decision with key, command, result, round-trip time.',
    maxArgs: 0,
    options: CAR_FILES,
  },
  'car status': {
    usage: 'car status --dir DIR',
    summary: 'car name, id, keys, pairing mode',
    details: 'Refuses a directory that holds no car (only `car serve` creates one).',
    maxArgs: 0,
    options: CAR_FILES,
  },
};

const OPTION_HELP: Record<string, string> = {
  car: '--car <id|name>     which car, when this phone knows several',
  intent: '--intent            you confirm the action (required by default for start)',
  sim: '--sim               a simulated car in this process (no Bluetooth; its state:\n                      $PROXKEY_SIM_CAR or <state>/sim-car)',
  state: '--state <dir>       phone state (default $PROXKEY_HOME or ~/.config/proxkey)',
  label: "--label <name>      this phone's name, shown in the car's key list",
  permissions: '--permissions <p,…> what the friend may do: unlock, lock, start, trunk, custom:<n>\n                      (default unlock,lock)',
  days: '--days <n>          the shared key expires after n days, 1..36500 (default: never)',
  dir: "--dir <dir>         the car's state directory",
  config: "--config <file>     the car's configuration (JSON with // comments)",
  name: "--name <name>       the car's name, shown to phones when they pair",
  pair: '--pair              open pairing mode at start and print its code',
  user: "--user <name>       the daemon's user, owner of the state directory (default proxkey)",
  unit: '--unit <file>       where to write the systemd unit',
  actuator: '--actuator gpio|log relays on GPIO (default), or print commands (a dry run)',
  force: '--force             replace existing files (setup: config and unit; restore: the car state)',
  cascade: '--cascade           also revoke the keys this owner shared',
  hci: '--hci <n>           Bluetooth adapter hciN (default 0; or PROXKEY_HCI=<n>)',
  uart: '--uart <path>       a serial HCI controller (USB/UART dongle, or an emulated one)\n                      instead of hciN (or PROXKEY_HCI=<path>)',
  timeout: '--timeout <ms>      bound for each wait on the radio, 1..600000 (default 10000)',
  role: '--role car|phone    which role the implementation under test plays',
  connect: '--connect <addr>    the implementation under test: tcp:HOST:PORT or unix:PATH',
  self: "--self              test proxkey's own role, served on a unix socket",
  code: '--code <digits>     the pairing code the car under test shows (role car)',
  'max-commands': "--max-commands <n>  the car's commands-per-session limit (default 32)",
  keys: '--keys <file>       JSON with the session keys, to decrypt RECORDs',
  json: '--json              one JSON object per result, for scripts',
};

export function mainHelp(): string {
  const machine = (n: string) => n.startsWith('car ') || ['doctor', 'conformance', 'decode'].includes(n);
  const phone = Object.entries(COMMANDS).filter(([n]) => !machine(n));
  const car = Object.entries(COMMANDS).filter(([n]) => machine(n));
  const rows = (list: [string, CommandHelp][]) => list.map(([name, h]) => `  ${name.padEnd(14)} ${h.summary}`).join('\n');
  return `proxkey — a phone as a car key over Bluetooth LE

Usage: proxkey <command> [options]      (proxkey <command> --help for its options)

Phone commands:
${rows(phone)}

Car and machine commands:
${rows(car)}

Examples:
  proxkey --sim pair && proxkey --sim unlock   # no Bluetooth at all
  proxkey doctor                               # is Bluetooth ready here?
  proxkey car serve --dir ./car --pair         # on the car laptop
  proxkey pair 12345678                        # on the phone laptop, the code the car shows
  proxkey unlock
`;
}

export function carHelp(): string {
  const rows = Object.entries(COMMANDS)
    .filter(([n]) => n.startsWith('car '))
    .map(([name, h]) => `  ${name.padEnd(12)} ${h.summary}`);
  return `proxkey car — the car side\n\n${rows.join('\n')}\n\nproxkey car <command> --help for its options; docs/raspberry-pi.md for a car in a car.\n`;
}

/** Words wrapped into lines of at most `width` characters. */
function wrap(text: string, width = 96): string {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/)) {
    if (line && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  return [...lines, line].join('\n');
}

export function commandHelp(name: string): string {
  const h = COMMANDS[name]!;
  const options = [...h.options, 'help'].map((o) => (o === 'help' ? '-h, --help          this help' : OPTION_HELP[o]!)).map((l) => `  ${l}`);
  const about = `${h.summary[0]!.toUpperCase()}${h.summary.slice(1)}.${h.details ? ` ${h.details}` : ''}`;
  return `proxkey ${h.usage}\n\n${wrap(about)}\n\nOptions:\n${options.join('\n')}\n`;
}
