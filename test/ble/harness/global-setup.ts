/**
 * vitest global setup: checks once per run whether the real-stack BLE tests can run (emulator
 * tools and the four BLE packages), prints the one skip line a user sees when they cannot, and
 * hands the list to the test files (`inject('bleMissing')`, see gate.ts).
 */
import { createRequire } from 'node:module';
import type { TestProject } from 'vitest/node';
import { missingTools } from './emulator.js';

declare module 'vitest' {
  export interface ProvidedContext {
    bleMissing: string[];
  }
}

export const BLE_PACKAGES = ['@stoprocent/noble', '@stoprocent/bleno', '@abandonware/noble', '@abandonware/bleno'] as const;

export default function setup(project: TestProject): void {
  const require = createRequire(import.meta.url);
  const packages = BLE_PACKAGES.filter((m) => {
    try {
      require.resolve(`${m}/package.json`);
      return false;
    } catch {
      return true;
    }
  });
  const missing = [...missingTools(), ...packages];
  project.provide('bleMissing', missing);
  if (missing.length > 0 && process.env.CI !== 'true')
    console.warn(`[proxkey] real-stack BLE tests (emulated controller) skipped: missing ${missing.join('; ')}`);
}
