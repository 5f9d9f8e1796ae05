/**
 * The phone web app in a real Chromium (Debian's, driven by playwright-core), clicking its
 * buttons: pair with the code the car printed, unlock, lock, start with confirm, reload (the key
 * survives and stays non-extractable), a second phone requests a key, redeems a share and is
 * revoked; errors: no Web Bluetooth, chooser cancelled, Bluetooth off, the car vanishing
 * mid-command. `navigator.bluetooth` is a fake bridged to a real `VehicleService` behind GATT
 * semantics (MTU 23, writes without response, notifications, disconnects): harness/gatt-bridge.ts
 * and harness/service-backend.ts.
 * Screenshots of the main states go to test/web/screenshots/ (git-ignored).
 */
import { mkdirSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { serveBuiltApp, type AppServer } from './harness/app-server.js';
import { SHOTS, clickAndSettle, launchChromium, newPhoneContext, openApp, shot, text } from './harness/browser.js';
import { GattBridge } from './harness/gatt-bridge.js';
import { ServiceBackend } from './harness/service-backend.js';
import { browserGate } from './harness/gate.js';
import { generateP256KeyPair, nobleCrypto, systemRandom } from '../../src/index.js';

const { missing, chromiumPath } = browserGate('phone web app in Chromium');
const FAST_PAIRING = { scrypt: { log2N: 12, r: 8, p: 1 } };

describe.skipIf(missing.length > 0)('phone web app in Chromium', () => {
  let browser: Browser;
  let server: AppServer;
  let car: ServiceBackend;
  let bridge: GattBridge;
  const contexts: BrowserContext[] = [];
  let owner: Page;
  let friend: Page;

  async function openPhone(mode: 'fake' | 'absent' = 'fake', context?: BrowserContext): Promise<Page> {
    let ctx = context;
    if (!ctx) {
      ctx = await newPhoneContext(browser, bridge, mode);
      contexts.push(ctx);
    }
    return openApp(ctx, server.url);
  }

  beforeAll(async () => {
    mkdirSync(SHOTS, { recursive: true });
    [server, browser, car] = await Promise.all([serveBuiltApp(), launchChromium(chromiumPath), ServiceBackend.open()]);
    bridge = new GattBridge(car);
  }, 60_000);

  afterAll(async () => {
    const sorted = [...(car?.rttsMs ?? [])].sort((a, b) => a - b);
    if (sorted.length)
      console.info(
        `[proxkey] browser ↔ car round trips through the CDP bridge: median ${sorted[sorted.length >> 1]} ms, max ${sorted.at(-1)} ms over ${sorted.length} sessions`,
      );
    for (const c of contexts) await c.close().catch(() => {});
    await browser?.close();
    await server?.close();
  });

  it('pairs with the code the car printed, unlocks, locks and starts with an explicit confirm', async () => {
    owner = await openPhone();
    expect(await owner.isVisible('#pairing')).toBe(true);
    await shot(owner, 'pairing');
    const { code } = await car.service.openPairing(FAST_PAIRING);
    await owner.fill('#pair-code', code);
    await clickAndSettle(owner, '#btn-pair');
    expect(await text(owner, '#error')).toBe('');
    expect(await text(owner, '#car-name')).toBe('Test car');
    expect(await text(owner, '#car-role')).toBe('owner');

    for (const command of ['unlock', 'lock'] as const) {
      await clickAndSettle(owner, `#btn-${command}`);
      expect(await text(owner, '#last-result')).toMatch(new RegExp(`^✓ ${command}: ok at `));
      if (command === 'unlock') await shot(owner, 'unlocked');
    }
    await owner.click('#btn-start');
    expect(await owner.isVisible('#start-confirm')).toBe(true);
    expect(car.executed).not.toContain('start');
    await clickAndSettle(owner, '#btn-start-confirm');
    expect(await text(owner, '#last-result')).toMatch(/^✓ start: ok at /);
    expect(car.executed).toEqual(['unlock', 'lock', 'start']);
    expect(bridge.choosers).toBe(1); // the car picked at pairing is reused while the page is open
    // GATT semantics held: 20-byte values (MTU 23), all written without response
    expect({ max: bridge.maxWriteSize, oversized: bridge.oversizedWrites, withResponse: bridge.writesWithResponse }).toEqual({
      max: 20,
      oversized: 0,
      withResponse: 0,
    });
  });

  it('keeps its key across a reload, and the key is not extractable', async () => {
    const keyId = await text(owner, '#key-id');
    expect(keyId).toMatch(/^[0-9a-f]{16}$/);
    await owner.reload();
    await owner.waitForSelector('body[data-ready="true"]');
    expect(await text(owner, '#key-id')).toBe(keyId);
    expect(await text(owner, '#car-name')).toBe('Test car');
    expect(await text(owner, '#key-custody')).toBe('non-extractable WebCrypto key');
    const stored = await owner.evaluate(async () => {
      const db = await new Promise<IDBDatabase>((resolve, reject) => {
        const r = indexedDB.open('proxkey-phone');
        r.onsuccess = () => resolve(r.result);
        r.onerror = () => reject(new Error(String(r.error)));
      });
      const record = await new Promise<{ ecdh: CryptoKeyPair; sign: CryptoKeyPair }>((resolve, reject) => {
        const r = db.transaction('keys').objectStore('keys').get('identity');
        r.onsuccess = () => resolve(r.result as { ecdh: CryptoKeyPair; sign: CryptoKeyPair });
        r.onerror = () => reject(new Error(String(r.error)));
      });
      const exported = await crypto.subtle.exportKey('pkcs8', record.ecdh.privateKey).then(
        () => 'exported',
        (e: Error) => e.name,
      );
      db.close();
      return { ecdh: record.ecdh.privateKey.extractable, sign: record.sign.privateKey.extractable, exported };
    });
    expect(stored).toEqual({ ecdh: false, sign: false, exported: 'InvalidAccessError' });
    await clickAndSettle(owner, '#btn-unlock');
    expect(await text(owner, '#last-result')).toMatch(/^✓ unlock: ok/);
  });

  it('a second phone requests a key, redeems the share, is limited to its permissions, and is revoked', async () => {
    friend = await openPhone();
    await friend.click('#request-key summary');
    await clickAndSettle(friend, '#btn-request-key');
    const request = await friend.inputValue('#key-request');
    expect(request).toMatch(/^pkreq/);

    await owner.click('#owner summary');
    await owner.fill('#share-request', request);
    await clickAndSettle(owner, '#btn-share');
    const share = await owner.inputValue('#share-output');
    expect(share.length).toBeGreaterThan(100);

    await friend.fill('#share-input', share);
    await clickAndSettle(friend, '#btn-accept-share');
    expect(await text(friend, '#car-role')).toBe('shared key (not used yet)');
    await clickAndSettle(friend, '#btn-unlock');
    expect(await text(friend, '#last-result')).toMatch(/^✓ unlock: ok/);
    expect(await text(friend, '#car-role')).toBe('shared key');
    await clickAndSettle(friend, '#btn-trunk');
    expect(await friend.getAttribute('#last-result', 'data-status')).toBe('not-permitted');

    const friendKey = await text(friend, '#key-id');
    await clickAndSettle(owner, '#btn-list-keys');
    expect(await text(owner, '#error')).toBe('');
    expect(await owner.locator('#keys-list li').count()).toBe(2);
    await clickAndSettle(owner, `#revoke-${friendKey}`);
    expect(await text(owner, '#last-result')).toMatch(/^✓ revoke: ok/);
    expect(await text(owner, `#keys-list li[data-key-id="${friendKey}"]`)).toMatch(/revoked/);

    await clickAndSettle(friend, '#btn-unlock');
    expect(await friend.getAttribute('#last-result', 'data-status')).toBe('revoked');
    expect(await text(friend, '#last-result')).toMatch(/^✗ unlock: denied — revoked: this key was revoked by the owner/);
    await shot(friend, 'denied');
  });

  it("says so when a save fails after the car answered, and keeps the car's answer", async () => {
    const third = await openPhone();
    await third.click('#request-key summary');
    await clickAndSettle(third, '#btn-request-key');
    await owner.fill('#share-request', await third.inputValue('#key-request'));
    await clickAndSettle(owner, '#btn-share');
    await third.fill('#share-input', await owner.inputValue('#share-output'));
    await clickAndSettle(third, '#btn-accept-share');
    expect(await text(third, '#car-role')).toBe('shared key (not used yet)');
    // from now on every IndexedDB write of this page aborts (a full or failing disk)
    await third.evaluate(() => {
      const put = IDBObjectStore.prototype.put;
      IDBObjectStore.prototype.put = function (this: IDBObjectStore, ...args: Parameters<typeof put>) {
        const request = put.apply(this, args);
        this.transaction.abort();
        return request;
      };
    });
    await clickAndSettle(third, '#btn-unlock'); // the car redeems the grant; the wallet's save of that fails
    expect(await text(third, '#last-result')).toMatch(/^✓ unlock: ok/);
    expect(await text(third, '#error')).toMatch(/^The car answered, but this phone could not save an update: /);
    expect(await third.isVisible('#error')).toBe(true);
  });

  it('lists every key of a car with more than one page of them (23 a page), and revokes one from the second page', async () => {
    const extra: string[] = [];
    for (let i = 0; i < 30; i++) {
      const { publicKey } = await generateP256KeyPair(nobleCrypto, systemRandom);
      extra.push((await car.service.registry.enroll(publicKey, { role: 'shared', permissions: ['unlock'], label: `extra ${i}` })).id);
    }
    const listed = (await car.service.registry.list()).length;
    expect(listed).toBeGreaterThan(2 * 23 - 16); // 30 extra keys and the owner's and friend's: two pages
    await clickAndSettle(owner, '#btn-list-keys');
    expect(await text(owner, '#error')).toBe('');
    expect(await owner.locator('#keys-list li').count()).toBe(listed);
    const last = extra.at(-1)!;
    await clickAndSettle(owner, `#revoke-${last}`);
    expect(await text(owner, '#last-result')).toMatch(/^✓ revoke: ok/);
    expect(await text(owner, `#keys-list li[data-key-id="${last}"]`)).toMatch(/revoked/);
    expect(car.service.isActiveKey(last)).toBe(false);
  });

  it('reports a corrupt or newer phone store instead of resetting it', async () => {
    const page = await openPhone();
    for (const [record, message] of [
      [{ version: 1, state: { cars: 'not a list' } }, /storage cannot be read: IndexedDB phone state: state: cars missing/],
      [{ version: 99, state: { cars: [] } }, /storage cannot be read: IndexedDB phone state: schema version 99/],
    ] as const) {
      await page.evaluate(async (value) => {
        const db = await new Promise<IDBDatabase>((resolve) => {
          const r = indexedDB.open('proxkey-phone');
          r.onsuccess = () => resolve(r.result);
        });
        await new Promise<void>((resolve) => {
          const tx = db.transaction('state', 'readwrite');
          tx.objectStore('state').put(value, 'phone');
          tx.oncomplete = () => resolve();
        });
        db.close();
      }, record);
      await page.reload();
      await page.waitForSelector('body[data-ready="error"]');
      expect(await text(page, '#error')).toMatch(message);
    }
  });

  it('opens offline once visited (service worker), and only thanks to it', async () => {
    for (const serviceWorkers of ['allow', 'block'] as const) {
      const ctx = await newPhoneContext(browser, bridge, 'fake', serviceWorkers);
      contexts.push(ctx);
      const page = await openApp(ctx, server.url);
      if (serviceWorkers === 'allow') await page.evaluate(async () => void (await navigator.serviceWorker.ready));
      await ctx.setOffline(true);
      const reloaded = await page.reload().then(
        () =>
          page.waitForSelector('body[data-ready="true"]', { timeout: 10_000 }).then(
            () => 'app',
            async () =>
              `not ready: ${await page.evaluate(() => JSON.stringify({ ready: document.body.dataset.ready, error: document.getElementById('error')?.textContent, html: document.documentElement.outerHTML.length }))}`,
          ),
        (e: Error) => e.message,
      );
      expect(reloaded, serviceWorkers).toMatch(serviceWorkers === 'allow' ? /^app$/ : /ERR_INTERNET_DISCONNECTED/);
      await ctx.setOffline(false);
    }
  });

  it('says so when the browser has no Web Bluetooth', async () => {
    const page = await openPhone('absent');
    expect(await text(page, '#support-error')).toMatch(/does not support Web Bluetooth/);
    await page.fill('#pair-code', '12345678');
    await clickAndSettle(page, '#btn-pair');
    expect(await text(page, '#error')).toMatch(/^Bluetooth unavailable: this browser does not support Web Bluetooth/);
    await shot(page, 'unsupported');
  });

  it('reports a cancelled chooser and Bluetooth switched off, then works again', async () => {
    const page = await openPhone('fake', owner.context()); // a fresh page: no car remembered, the chooser opens
    bridge.knobs.cancelChooser = true;
    await clickAndSettle(page, '#btn-unlock');
    expect(await text(page, '#error')).toMatch(/^No car was chosen/);
    bridge.knobs.cancelChooser = false;
    bridge.knobs.adapterOff = true;
    await clickAndSettle(page, '#btn-lock');
    expect(await text(page, '#error')).toMatch(/^Bluetooth unavailable: Bluetooth is off/);
    bridge.knobs.adapterOff = false;
    await clickAndSettle(page, '#btn-lock');
    expect(await text(page, '#error')).toBe('');
    expect(await text(page, '#last-result')).toMatch(/^✓ lock: ok/);
    await page.close();
  });

  it('reports a car out of range, and the next tap shows the chooser again', async () => {
    await clickAndSettle(owner, '#btn-lock'); // the owner's page has the car remembered: no chooser
    const choosers = bridge.choosers;
    bridge.knobs.outOfRange = true;
    await clickAndSettle(owner, '#btn-unlock');
    expect(await text(owner, '#error')).toMatch(/^The car is out of range or the connection dropped/);
    bridge.knobs.outOfRange = false;
    await clickAndSettle(owner, '#btn-unlock');
    expect(await text(owner, '#last-result')).toMatch(/^✓ unlock: ok/);
    expect(bridge.choosers).toBe(choosers + 1);
  });

  it('reports a car that disconnects mid-command, without running it, and recovers', async () => {
    const before = car.executed.length;
    bridge.knobs.dropAtWrite = 2; // the phone's first message takes several 20-byte writes
    await clickAndSettle(owner, '#btn-unlock');
    // the command had started on its way (mayHaveSucceeded): the app does not claim it did not run
    expect(await text(owner, '#error')).toMatch(/^Lost contact with the car during the command: the car may have executed it — check the car before retrying/);
    await shot(owner, 'disconnected');
    expect(car.executed.length).toBe(before);
    await clickAndSettle(owner, '#btn-unlock');
    expect(await text(owner, '#last-result')).toMatch(/^✓ unlock: ok/);
    expect(car.executed.slice(before)).toEqual(['unlock']);
  });

  it('opened from the car’s QR payload as a URL, has the code filled in and pairs', async () => {
    const { code, payload } = await car.service.openPairing(FAST_PAIRING);
    const ctx = await newPhoneContext(browser, bridge);
    contexts.push(ctx);
    const page = await openApp(ctx, `${server.url}#pair=${encodeURIComponent(payload)}`);
    expect(await page.inputValue('#pair-code')).toBe(code);
    await clickAndSettle(page, '#btn-pair');
    expect(await text(page, '#error')).toBe('');
    expect(await text(page, '#car-role')).toBe('owner');
  });
});
