/**
 * The phone web app in Chromium against the real bleno car, over BlueZ's emulated controller,
 * with real noble performing the page's GATT operations: the browser's 20-byte writes and the
 * car's notifications cross both stacks and the emulated radio. Through the app's buttons: pair
 * with the code the car printed, unlock, lock, start with the confirm; the car dropping the link
 * mid-command is reported and the next tap works. Needs the browser (test/web gate) and the BLE
 * bench (test/ble gate); `@stoprocent/*` only (the other family is covered by test/ble).
 */
import { mkdirSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { loadNoble, type NobleLike } from '../../src/adapters/noble/index.js';
import { Emulator, type Controller } from '../ble/harness/emulator.js';
import { realStackGate } from '../ble/harness/gate.js';
import { RoleProcess } from '../ble/harness/role-process.js';
import { serveBuiltApp, type AppServer } from './harness/app-server.js';
import { SHOTS, clickAndSettle, launchChromium, newPhoneContext, openApp, shot, text } from './harness/browser.js';
import { GattBridge } from './harness/gatt-bridge.js';
import { browserGate } from './harness/gate.js';
import { NobleBackend } from './harness/noble-backend.js';

const TITLE = 'phone web app in Chromium, real bleno car over the emulated controller';
const { missing: noBrowser, chromiumPath } = browserGate(TITLE);
const noBench = realStackGate(TITLE, ['@stoprocent/noble', '@stoprocent/bleno']);

describe.skipIf(noBrowser.length > 0 || noBench.length > 0)(TITLE, () => {
  let emu: Emulator;
  let controllers: Controller[] = [];
  let car: RoleProcess;
  let noble: NobleLike;
  let bridge: GattBridge;
  let browser: Browser;
  let server: AppServer;
  let context: BrowserContext;
  let page: Page;

  const executed = (command: string) => car.events.filter((e) => e.event === 'executed' && e.command === command).length;

  beforeAll(async () => {
    mkdirSync(SHOTS, { recursive: true });
    [server, browser, emu] = await Promise.all([serveBuiltApp(), launchChromium(chromiumPath), Emulator.start()]);
    controllers = [await emu.controller('car'), await emu.controller('phone')];
    // relay bound out of the way: 2 shared cores run both stacks, the browser and the bridge
    car = await RoleProcess.start('car', 'car', { BLE_IMPL: 'stoprocent', HCI_PORT: controllers[0]!.port, CAR_MODE: 'service', CAR_MAX_RTT_MS: '60000' });
    noble = await loadNoble({ package: '@stoprocent/noble', uart: { port: controllers[1]!.port } });
    bridge = new GattBridge(new NobleBackend(noble, car));
    context = await newPhoneContext(browser, bridge);
    page = await openApp(context, server.url);
  }, 240_000);

  afterAll(async () => {
    await context?.close().catch(() => {});
    await browser?.close();
    await server?.close();
    (noble as { stop?: () => void } | undefined)?.stop?.();
    await car?.stop();
    for (const c of controllers) await c.close();
    await emu?.stop();
  }, 60_000);

  it('pairs with the code the car printed, unlocks, locks, starts with the confirm', async () => {
    const { code } = await car.call<{ code: string }>('openPairing');
    await page.fill('#pair-code', code);
    await clickAndSettle(page, '#btn-pair');
    expect(await text(page, '#error')).toBe('');
    expect(await text(page, '#car-role')).toBe('owner');
    for (const command of ['unlock', 'lock'] as const) {
      await clickAndSettle(page, `#btn-${command}`);
      expect(await text(page, '#last-result')).toMatch(new RegExp(`^✓ ${command}: ok at `));
      expect(executed(command)).toBe(1);
    }
    await shot(page, 'unlocked-over-ble');
    await page.click('#btn-start');
    await clickAndSettle(page, '#btn-start-confirm');
    expect(await text(page, '#last-result')).toMatch(/^✓ start: ok at /);
    expect(executed('start')).toBe(1);
    expect({ max: bridge.maxWriteSize, oversized: bridge.oversizedWrites, withResponse: bridge.writesWithResponse }).toEqual({
      max: 20,
      oversized: 0,
      withResponse: 0,
    });
    // one BLE connection to the bleno car per action: pair, unlock, lock, start
    expect(car.events.filter((e) => e.event === 'link')).toHaveLength(4);
  }, 120_000);

  it('the car drops the link mid-command: reported, nothing executed, the next tap works', async () => {
    bridge.knobs.dropAtWrite = 2;
    await clickAndSettle(page, '#btn-unlock');
    // the command had started on its way (mayHaveSucceeded): the app does not claim it did not run
    expect(await text(page, '#error')).toMatch(/^Lost contact with the car during the command: the car may have executed it — check the car before retrying/);
    expect(executed('unlock')).toBe(1);
    await clickAndSettle(page, '#btn-unlock');
    expect(await text(page, '#last-result')).toMatch(/^✓ unlock: ok/);
    expect(executed('unlock')).toBe(2);
  }, 120_000);
});
