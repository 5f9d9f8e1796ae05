/** Page helpers shared by the browser tests: a phone = a browser context with the fake Bluetooth. */
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { fakeBluetoothScript, type FakeBluetoothConfig } from './fake-bluetooth.js';
import { UUIDS, type GattBridge } from './gatt-bridge.js';

export const SHOTS = new URL('../screenshots/', import.meta.url).pathname;

export async function launchChromium(executablePath: string): Promise<Browser> {
  const { chromium } = await import('playwright-core');
  // --no-sandbox: CI runs as root, where Chromium refuses its sandbox
  return chromium.launch({ executablePath, args: ['--no-sandbox'] });
}

/** A new phone (its own IndexedDB): a context whose `navigator.bluetooth` reaches `bridge`. */
export async function newPhoneContext(
  browser: Browser,
  bridge: GattBridge,
  mode: FakeBluetoothConfig['mode'] = 'fake',
  serviceWorkers: 'allow' | 'block' = 'block',
): Promise<BrowserContext> {
  const context = await browser.newContext({ viewport: { width: 390, height: 844 }, serviceWorkers });
  await bridge.attach(context);
  await context.addInitScript({ content: await fakeBluetoothScript({ mode, ...UUIDS }) });
  return context;
}

/** Open the app in `context` and wait until it has rendered the wallet. */
export async function openApp(context: BrowserContext, url: string): Promise<Page> {
  const page = await context.newPage();
  await page.goto(url);
  await page.waitForSelector('body[data-ready="true"]');
  return page;
}

/** Click a button and wait until its action has finished (the app marks the body busy meanwhile). */
export async function clickAndSettle(page: Page, selector: string): Promise<void> {
  await page.click(selector);
  await page.waitForSelector('body[data-busy="false"]');
}

export const text = async (page: Page, selector: string): Promise<string> => (await page.textContent(selector))?.trim() ?? '';

export const shot = (page: Page, name: string) => page.screenshot({ path: `${SHOTS}${name}.png`, fullPage: true });
