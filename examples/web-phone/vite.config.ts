/**
 * The phone web app (PWA). `npm run web` serves it on localhost (a secure context, so Web Bluetooth
 * and WebCrypto work); `npm run build:web` writes static files to examples/web-phone/dist.
 * The app imports this repository's sources, so it always runs the current library.
 */
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: './',
  // @noble is plain ESM: no pre-bundling, so the dev server never reloads the page to optimise a dependency
  optimizeDeps: { noDiscovery: true },
  build: { outDir: 'dist', emptyOutDir: true, target: 'es2022' },
  server: { host: '127.0.0.1', port: 5173, strictPort: false },
  clearScreen: false,
  logLevel: 'warn',
});
