/**
 * vitest global setup for the real-browser tests (test/web): finds a Chromium and playwright-core
 * once per run, prints the one skip line a user sees when they are missing, and hands what is
 * missing to the test files (`inject('webMissing')`, see gate.ts). CI=true turns it into a failure.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { TestProject } from 'vitest/node';

declare module 'vitest' {
  export interface ProvidedContext {
    webMissing: string[];
    chromiumPath: string;
  }
}

/** Where Debian (`apt-get install chromium`) and other distributions put the browser. */
const CHROMIUM_CANDIDATES = ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome-stable', '/usr/bin/google-chrome'];

export function findChromium(): string | undefined {
  const fromEnv = process.env.PROXKEY_CHROMIUM;
  if (fromEnv) return existsSync(fromEnv) ? fromEnv : undefined;
  return CHROMIUM_CANDIDATES.find((p) => existsSync(p));
}

export default function setup(project: TestProject): void {
  const missing: string[] = [];
  const chromium = findChromium();
  if (!chromium) missing.push('a Chromium browser (apt-get install chromium, or set PROXKEY_CHROMIUM)');
  try {
    createRequire(import.meta.url).resolve('playwright-core/package.json');
  } catch {
    missing.push('playwright-core (npm install)');
  }
  project.provide('webMissing', missing);
  project.provide('chromiumPath', chromium ?? '');
  if (missing.length > 0 && process.env.CI !== 'true') console.warn(`[proxkey] real-browser tests (test/web) skipped: missing ${missing.join('; ')}`);
}
