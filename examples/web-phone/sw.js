// proxkey phone app service worker: works offline after the first visit. At install it caches the
// app shell and every file of the build (the list is written in by vite.config.ts); then network
// first (an update is picked up whenever the phone is online), the cached copy when offline.
// Same-origin GETs only; Bluetooth and the keys never pass through here.
const BUILD = { version: 'dev', files: [] }; // replaced at build time
const CACHE = `proxkey-web-phone-${BUILD.version}`;

self.addEventListener('install', (event) => {
  event.waitUntil(
    caches
      .open(CACHE)
      .then((c) => c.addAll(['./', ...BUILD.files.map((f) => `./${f}`)]))
      .then(() => self.skipWaiting()),
  );
});

self.addEventListener('activate', (event) => {
  event.waitUntil(
    caches
      .keys()
      .then((names) => Promise.all(names.filter((n) => n !== CACHE).map((n) => caches.delete(n))))
      .then(() => self.clients.claim()),
  );
});

self.addEventListener('fetch', (event) => {
  const request = event.request;
  if (request.method !== 'GET' || new URL(request.url).origin !== self.location.origin) return;
  event.respondWith(
    fetch(request)
      .then((response) => {
        if (response.ok) {
          const copy = response.clone();
          void caches.open(CACHE).then((c) => c.put(request, copy));
        }
        return response;
      })
      // ignoreVary: a module script's request carries an Origin header the cached copy was not fetched with
      .catch(() =>
        caches
          .match(request, { ignoreVary: true })
          .then((hit) => hit ?? (request.mode === 'navigate' ? caches.match('./index.html') : undefined))
          .then((hit) => hit ?? Response.error()),
      ),
  );
});
