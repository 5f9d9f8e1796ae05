/**
 * systemd's notification protocol: off without NOTIFY_SOCKET; the watchdog period from
 * WATCHDOG_USEC only when WATCHDOG_PID (if set) is this process; a missing systemd-notify is
 * reported once, in words. (The messages on a real socket: test/ble/pi-dry-run.test.ts.)
 */
import { describe, expect, it } from 'vitest';
import { systemdNotifier } from '../../src/cli/sd-notify.js';

describe('systemdNotifier', () => {
  it('is inactive outside systemd', () => {
    const n = systemdNotifier({});
    expect(n.active).toBe(false);
    expect(n.watchdogMs).toBeUndefined();
    n.ready('x'); // no-ops
    n.ping();
  });

  it('takes the watchdog period for this process only', () => {
    const socket = '/run/nonexistent/notify';
    expect(systemdNotifier({ NOTIFY_SOCKET: socket, WATCHDOG_USEC: '30000000' }).watchdogMs).toBe(30_000);
    expect(systemdNotifier({ NOTIFY_SOCKET: socket, WATCHDOG_USEC: '30000000', WATCHDOG_PID: String(process.pid) }).watchdogMs).toBe(30_000);
    expect(systemdNotifier({ NOTIFY_SOCKET: socket, WATCHDOG_USEC: '30000000', WATCHDOG_PID: String(process.pid + 1) }).watchdogMs).toBeUndefined();
    expect(systemdNotifier({ NOTIFY_SOCKET: socket, WATCHDOG_USEC: 'soon' }).watchdogMs).toBeUndefined();
  });

  it('a systemd-notify that is not there is reported once, saying what to install', async () => {
    const errors: Error[] = [];
    const path = process.env.PATH;
    process.env.PATH = '/nonexistent';
    try {
      const n = systemdNotifier({ NOTIFY_SOCKET: '/run/nonexistent/notify' }, (e) => errors.push(e));
      n.ready('up');
      n.ping();
      while (errors.length === 0) await new Promise((r) => setTimeout(r, 5));
      await new Promise((r) => setTimeout(r, 50));
    } finally {
      process.env.PATH = path;
    }
    expect(errors.map((e) => e.message)).toEqual([expect.stringMatching(/^systemd-notify not found: install the systemd package/)]);
  });
});
