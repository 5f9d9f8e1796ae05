/**
 * `proxkey/web-bluetooth` bundles for a browser: esbuild with `platform: 'browser'` resolves every
 * import (a Node built-in would fail the build), and nothing from noble, bleno or `src/node` is pulled in.
 */
import { describe, expect, it } from 'vitest';
import { browserBundle } from '../helpers/browser-bundle.js';

const ENTRY = new URL('../../src/adapters/web-bluetooth/index.ts', import.meta.url).pathname;

describe('proxkey/web-bluetooth in a browser bundle', () => {
  it('bundles with platform browser, without Node built-ins or the Node BLE stacks', async () => {
    const result = await browserBundle(ENTRY);
    const inputs = Object.keys(result.metafile.inputs);
    expect(inputs.filter((f) => /^node:|noble\/|bleno|src\/node\/|src\/cli\//.test(f) && !f.includes('@noble/'))).toEqual([]);
    expect(inputs.some((f) => f.includes('adapters/web-bluetooth/connect.ts'))).toBe(true);
    const bytes = result.outputFiles[0]!.contents.length;
    expect(bytes).toBeGreaterThan(1000);
    console.info(`[proxkey] web-bluetooth browser bundle: ${(bytes / 1024).toFixed(1)} KiB minified, ${inputs.length} modules`);
  });
});
