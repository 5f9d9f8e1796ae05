/** Build the phone web app once (as `npm run build:web` does) and serve it on loopback. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build, preview } from 'vite';

const CONFIG = new URL('../../../examples/web-phone/vite.config.ts', import.meta.url).pathname;

export interface AppServer {
  readonly url: string;
  close(): Promise<void>;
}

export async function serveBuiltApp(): Promise<AppServer> {
  const outDir = mkdtempSync(join(tmpdir(), 'proxkey-web-phone-'));
  // vitest sets NODE_ENV=test, which would make Vite build a development bundle
  const nodeEnv = process.env.NODE_ENV;
  process.env.NODE_ENV = 'production';
  try {
    await build({ configFile: CONFIG, mode: 'production', logLevel: 'error', build: { outDir, emptyOutDir: true } });
  } finally {
    process.env.NODE_ENV = nodeEnv;
  }
  const server = await preview({ configFile: CONFIG, logLevel: 'error', build: { outDir }, preview: { host: '127.0.0.1', port: 0, strictPort: false } });
  const url = server.resolvedUrls?.local[0];
  if (!url) throw new Error('vite preview did not report a URL');
  return {
    url,
    async close() {
      await server.close();
      rmSync(outDir, { recursive: true, force: true });
    },
  };
}
