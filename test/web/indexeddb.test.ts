/**
 * The browser phone's storage in a real Chromium, through the library's own code (the
 * `proxkey/web-bluetooth` entry bundled for the browser and loaded into a blank page on
 * 127.0.0.1, a secure context): the `PhoneStore` contract of `IndexedDbPhoneStore`, and
 * `webCryptoIdentity` creating one non-extractable identity even when two callers race.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import type * as WebBluetooth from '../../src/adapters/web-bluetooth/index.js';
import { launchChromium } from './harness/browser.js';
import { browserGate } from './harness/gate.js';

declare global {
  interface Window {
    proxkeyWeb?: typeof WebBluetooth;
  }
}

const { missing, chromiumPath } = browserGate('IndexedDB phone store and WebCrypto identity in Chromium');
const ENTRY = new URL('../../src/adapters/web-bluetooth/index.ts', import.meta.url).pathname;

describe.skipIf(missing.length > 0)('IndexedDB phone store and WebCrypto identity in Chromium', () => {
  let browser: Browser;
  let server: Server;
  let page: Page;

  beforeAll(async () => {
    const bundle = await build({
      entryPoints: [ENTRY],
      bundle: true,
      platform: 'browser',
      format: 'iife',
      globalName: 'proxkeyWeb',
      write: false,
      logLevel: 'silent',
    });
    const script = bundle.outputFiles[0]!.text;
    server = createServer((req, res) => {
      res.setHeader('content-type', req.url === '/lib.js' ? 'text/javascript' : 'text/html');
      res.end(req.url === '/lib.js' ? script : '<!doctype html><script src="/lib.js"></script>');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    browser = await launchChromium(chromiumPath);
    page = await browser.newPage();
    await page.goto(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`);
    await page.waitForFunction(() => window.proxkeyWeb !== undefined);
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await new Promise((resolve) => server?.close(resolve));
  });

  it('IndexedDbPhoneStore: nothing before the first save, then exactly what was saved, across connections', async () => {
    const result = await page.evaluate(async () => {
      const lib = window.proxkeyWeb!;
      const db = await lib.openPhoneDatabase({ name: 'store-contract' });
      const store = new lib.IndexedDbPhoneStore(db);
      const before = await store.load();
      const car = {
        carId: 'ab'.repeat(16),
        name: 'Car',
        vehicleKey: new Uint8Array(65).fill(4),
        role: 'owner' as const,
        keyId: '01'.repeat(8),
        addedAt: 1,
        grant: Uint8Array.of(1, 2, 3),
      };
      await store.save({ cars: [car] });
      await store.save({ cars: [car, { ...car, carId: 'cd'.repeat(16), name: 'Second', role: 'shared' as const }] });
      db.close();
      const reopened = new lib.IndexedDbPhoneStore(await lib.openPhoneDatabase({ name: 'store-contract' }));
      const after = await reopened.load();
      return {
        before: before === undefined,
        names: after?.cars.map((c) => `${c.name}:${c.role}`),
        grant: Array.from(after?.cars[0]?.grant ?? []),
        key: after?.cars[0]?.vehicleKey.length,
      };
    });
    expect(result).toEqual({ before: true, names: ['Car:owner', 'Second:shared'], grant: [1, 2, 3], key: 65 });
  });

  it('PhoneDatabase: a value IndexedDB cannot store is a StoreError (nothing written), and the database stays usable', async () => {
    const result = await page.evaluate(async () => {
      const lib = window.proxkeyWeb!;
      const db = await lib.openPhoneDatabase({ name: 'uncloneable' });
      const error = await db.put('state', 'x', { f: () => 1 }).then(
        () => 'stored',
        (e: unknown) => `${(e as Error).name} ${(e as { code?: string }).code} ${(e as Error).message}`,
      );
      await db.put('state', 'x', { ok: 1 });
      return { error, after: await db.get('state', 'x') };
    });
    expect(result.error).toMatch(/^StoreError ERR_STORE_\w+ .*readwrite state/);
    expect(result.after).toEqual({ ok: 1 });
  });

  it('webCryptoIdentity: two racing callers get the same non-extractable key, kept after reopening', async () => {
    const result = await page.evaluate(async () => {
      const lib = window.proxkeyWeb!;
      const [a, b] = await Promise.all([lib.openPhoneDatabase({ name: 'identity-race' }), lib.openPhoneDatabase({ name: 'identity-race' })]);
      const [x, y] = await Promise.all([lib.webCryptoIdentity(a), lib.webCryptoIdentity(b)]);
      const hex = (u: Uint8Array) => Array.from(u, (v) => v.toString(16).padStart(2, '0')).join('');
      a.close();
      b.close();
      const z = await lib.webCryptoIdentity(await lib.openPhoneDatabase({ name: 'identity-race' }));
      const signature = await z.custody.sign(new Uint8Array(8));
      return {
        same: hex(x.custody.publicKey) === hex(y.custody.publicKey) && hex(y.custody.publicKey) === hex(z.custody.publicKey),
        signingSame: hex(x.signingKey) === hex(z.signingKey),
        extractable: [z.ecdhKey.extractable, z.signKey.extractable],
        signature: signature.length,
        added: await (async () => {
          const db = await lib.openPhoneDatabase({ name: 'identity-race' });
          return db.add('keys', 'identity', 'x');
        })(),
      };
    });
    expect(result).toEqual({ same: true, signingSame: true, extractable: [false, false], signature: 64, added: false });
  });
});
