/**
 * The two files a car install needs, from one source: the commented daemon configuration and the
 * systemd unit. `proxkey car setup` writes them for this install's real paths; the copies in
 * examples/raspberry-pi/ are these templates rendered with `EXAMPLE_INSTALL` (a test keeps them
 * equal: `npm run examples:pi` regenerates them).
 */

/** Where things are on this machine. */
export interface InstallPaths {
  /** Absolute path of the node binary. */
  readonly node: string;
  /** Absolute path of proxkey's CLI entry (dist/cli.js in the installed package). */
  readonly cli: string;
  /** Where the configuration file lives. */
  readonly config: string;
  /** The car's state directory. */
  readonly stateDir: string;
  /** The unprivileged user the daemon runs as. */
  readonly user: string;
  /** The car's name, shown to phones when they pair. */
  readonly name: string;
  /** HCI adapter number (hciN). */
  readonly hci: number;
  /** `gpio`: relays, button and LED on the Pi's header; `log`: print each command (a dry run). */
  readonly actuators: 'gpio' | 'log';
}

/** The paths of a global npm install on Raspberry Pi OS, used for the examples. */
export const EXAMPLE_INSTALL: InstallPaths = {
  node: '/usr/bin/node',
  cli: '/usr/lib/node_modules/proxkey/dist/cli.js',
  config: '/etc/proxkey/car.json',
  stateDir: '/var/lib/proxkey',
  user: 'proxkey',
  name: 'My car',
  hci: 0,
  actuators: 'gpio',
};

const GPIO_SECTION = `  // Relays, one channel per command: BCM line numbers on gpiochip0 (gpiochip4 on a Pi 5 with an
  // older kernel: \`gpiodetect\` tells). Each pulse lasts pulseMs (1..5000 ms; start: longer, like a key held).
  "actuators": {
    "type": "gpio",
    "chip": "gpiochip0",
    "activeLow": false,
    "lines": { "unlock": 17, "lock": 27, "start": 22, "trunk": 23 },
    "pulseMs": { "default": 500, "start": 1200 }
  },
  // A push button from BCM 5 to GND opens pairing mode; an LED on BCM 6 is lit while it is open.
  "pairingButton": { "chip": "gpiochip0", "line": 5 },
  "statusLed": { "chip": "gpiochip0", "line": 6 },`;

const LOG_SECTION = `  // Print each command instead of driving relays (a dry run). For the Pi's relays use
  // { "type": "gpio", "chip": "gpiochip0", "lines": { "unlock": 17, … } }, or
  // { "type": "command", "path": "/usr/local/bin/car-action" } to run a script per command.
  "actuators": { "type": "log" },`;

/** The commented daemon configuration (JSON with // comments; every field optional). */
export function carConfigTemplate(p: InstallPaths): string {
  return `// proxkey car daemon configuration (JSON with // comments). See docs/raspberry-pi.md.
// Every field is optional; \`proxkey car serve --config <this file>\` reports a wrong one by name.
{
  // Shown to phones when they pair.
  "name": ${JSON.stringify(p.name)},
  // The car's key, enrolled phones and audit log (0700, owned by the daemon's user).
  "stateDir": ${JSON.stringify(p.stateDir)},
  // The Bluetooth controller: { "hci": 0 } for hciN, or { "uart": "/dev/ttyAMA0" } for a serial one.
  "bluetooth": { "hci": ${p.hci} },
  // maxRttMs: the relay bound (ms); requireIntent: commands the phone must confirm (--intent).
  "policy": { "maxRttMs": 300, "requireIntent": ["start"] },
${p.actuators === 'gpio' ? GPIO_SECTION : LOG_SECTION}
  // How long pairing mode stays open (s, 1..600); 3 wrong codes close it sooner.
  "pairingTtlSeconds": 120,
  // Passive entry from the connected phone's signal: lock when it walks away; approach unlock is off.
  "proximity": { "walkAwayLock": true, "approachUnlock": false, "linkLossGraceMs": 10000 },
  // The radio's health check: probe the adapter every probeIntervalMs; after a failure, re-open it
  // with back-off (1 s doubling to 30 s) and give up after maxRecoveryAttempts (1..60; systemd restarts).
  "health": { "probeIntervalMs": 10000, "maxRecoveryAttempts": 10 }
}
`;
}

/** A systemd Exec argument, quoted when it needs to be. */
export const arg = (s: string) => (/^[\w@%+=:,./-]+$/.test(s) ? s : `"${s.replace(/(["\\])/g, '\\$1')}"`);

/** A word of a unit's command line or path list: `arg`, and `%` written `%%` (systemd expands specifiers even inside quotes). */
const unitArg = (s: string) => arg(s).replace(/%/g, '%%');

/** The systemd unit (Type=notify with a watchdog) for these paths. */
export function systemdUnit(p: InstallPaths): string {
  return `# /etc/systemd/system/proxkey-car.service — the proxkey car daemon (see docs/raspberry-pi.md).
# Written by \`proxkey car setup\` for this install's paths; check it with \`systemd-analyze verify\`.
[Unit]
Description=proxkey car daemon (phone-as-a-key over Bluetooth LE)
After=network.target
# proxkey drives the HCI adapter itself: bluetoothd must not hold it.
Conflicts=bluetooth.service
# Restart at most 10 times in 5 minutes, then stay failed (visible in systemctl status).
StartLimitIntervalSec=300
StartLimitBurst=10

[Service]
# READY once the car advertises. The watchdog ping (every 15 s) means the daemon's event loop runs,
# also during a radio recovery: that one is bounded and logged, and exits 3 when it fails.
Type=notify
# the pings come from systemd-notify, a child of the daemon
NotifyAccess=all
WatchdogSec=30s
User=${p.user}
Group=${p.user}
# GPIO character devices (gpiochip*) belong to the gpio group on Raspberry Pi OS.
SupplementaryGroups=gpio
# Unblock and power the radio as root ('+'); non-fatal ('-'). rfkill is its own Debian package.
ExecStartPre=-+/usr/sbin/rfkill unblock bluetooth
ExecStartPre=-+/usr/bin/btmgmt --index ${p.hci} power on
ExecStart=${[p.node, p.cli, 'car', 'serve', '--config', p.config].map(unitArg).join(' ')}
# Raw HCI sockets without root: only these two capabilities.
AmbientCapabilities=CAP_NET_RAW CAP_NET_ADMIN
CapabilityBoundingSet=CAP_NET_RAW CAP_NET_ADMIN
NoNewPrivileges=yes
UMask=0077
ProtectSystem=strict
ProtectHome=yes
PrivateTmp=yes
ReadWritePaths=${unitArg(p.stateDir)}
# Restart after a crash, a watchdog timeout or an unrecoverable radio; state is crash-safe.
Restart=on-failure
RestartSec=2s
TimeoutStartSec=60s
# Stopping waits up to 14 s for a relay action that is running (and its answer to the phone),
# then turns every relay off; SIGTERM goes to the daemon only (KillMode=mixed), so a relay pulse
# or a car-action script it runs is not cut short; whatever is left gets SIGKILL at the timeout.
TimeoutStopSec=30s
KillMode=mixed
KillSignal=SIGTERM

[Install]
WantedBy=multi-user.target
`;
}
