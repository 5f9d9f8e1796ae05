import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/ble/harness/global-setup.ts', 'test/web/harness/global-setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
});
