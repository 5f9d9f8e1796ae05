/**
 * webCryptoProvider in a real browser: headless Chromium runs test/crypto/browser/webcrypto-page.ts
 * (bundled here with esbuild for platform "browser" — a Node built-in anywhere in its import graph
 * fails the bundle) on the browser's own crypto.subtle, against Wycheproof ECDH, ECDSA and AES-GCM.
 * Skipped with one line where Chromium is missing; a failure instead under CI=true.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import { afterAll, describe, expect, it } from 'vitest';
import { which } from '../ble/harness/emulator.js';

const chromium = which('chromium') ?? which('chromium-browser') ?? which('google-chrome');
if (!chromium && process.env.CI !== 'true') console.warn('[proxkey] webCryptoProvider browser test skipped: no chromium (apt-get install chromium)');
const dir = mkdtempSync(join(tmpdir(), 'proxkey-browser-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Headless Chromium loads the page and prints the DOM after its virtual-time budget. */
function dumpDom(browser: string, page: string): Promise<string> {
  const args = [
    '--headless=new',
    '--no-sandbox',
    '--disable-gpu',
    `--user-data-dir=${join(dir, 'profile')}`,
    '--virtual-time-budget=20000',
    '--dump-dom',
    `file://${page}`,
  ];
  return new Promise((resolve, reject) =>
    execFile(browser, args, { timeout: 90_000, maxBuffer: 16 * 1024 * 1024 }, (err, stdout) => (err ? reject(err) : resolve(stdout))),
  );
}

describe.skipIf(!chromium && process.env.CI !== 'true')('webCryptoProvider in headless Chromium', () => {
  it('bundles for the browser and passes Wycheproof ECDH, ECDSA and AES-GCM on the browser\u2019s subtle', { timeout: 120_000 }, async () => {
    expect(chromium, 'CI=true: chromium must be installed').toBeDefined();
    await build({
      entryPoints: [new URL('./browser/webcrypto-page.ts', import.meta.url).pathname],
      bundle: true,
      platform: 'browser',
      format: 'iife',
      outfile: join(dir, 'page.js'),
      logLevel: 'silent',
    });
    writeFileSync(join(dir, 'page.html'), '<!doctype html><html><head><title>pending</title><script src="page.js"></script></head><body></body></html>');
    const dom = await dumpDom(chromium!, join(dir, 'page.html'));
    const title = /<title>RESULT (.*?)<\/title>/s.exec(dom)?.[1];
    expect(title, `no result in the page: ${dom.slice(0, 300)}`).toBeDefined();
    const { tally, failures } = JSON.parse(title!.replace(/&quot;/g, '"').replace(/&amp;/g, '&')) as { tally: Record<string, number>; failures: string[] };
    expect(failures).toEqual([]);
    expect(tally).toEqual({
      'ecdh: secret': 331,
      'ecdh: ERR_INVALID_POINT': 24,
      'ecdsa: true': 173,
      'ecdsa: false': 89,
      'aes-gcm: sealed and opened': 39,
      'aes-gcm: ERR_DECRYPT': 27,
      'keys and signatures': 1,
    });
  });
});
