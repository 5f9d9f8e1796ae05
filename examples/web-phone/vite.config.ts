/**
 * The phone web app (PWA). `npm run web` serves it on localhost (a secure context, so Web Bluetooth
 * and WebCrypto work); `npm run build:web` writes static files to examples/web-phone/dist.
 * The app imports this repository's sources, so it always runs the current library.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { defineConfig, type Plugin } from 'vite';

/** Emit sw.js with the list of every built file, so the first visit caches the whole app. */
function serviceWorker(): Plugin {
  const source = readFileSync(fileURLToPath(new URL('./sw.js', import.meta.url)), 'utf8');
  return {
    name: 'proxkey-service-worker',
    apply: 'build',
    generateBundle(_options, bundle) {
      const files = [...new Set([...Object.keys(bundle), 'index.html', 'manifest.webmanifest', 'icon.svg'])].sort();
      const version = createHash('sha256').update(files.join('\n')).digest('hex').slice(0, 12);
      const code = source.replace("const BUILD = { version: 'dev', files: [] };", `const BUILD = ${JSON.stringify({ version, files })};`);
      if (code === source) this.error('sw.js: BUILD placeholder not found');
      this.emitFile({ type: 'asset', fileName: 'sw.js', source: code });
    },
  };
}

export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: './',
  plugins: [serviceWorker()],
  // @noble is plain ESM: no pre-bundling, so the dev server never reloads the page to optimise a dependency
  optimizeDeps: { noDiscovery: true },
  build: { outDir: 'dist', emptyOutDir: true, target: 'es2022' },
  server: { host: '127.0.0.1', port: 5173, strictPort: false },
  clearScreen: false,
  logLevel: 'warn',
});
