// The service worker of the dashboards: keeps the pages' shell (the HTML of each page visited,
// every script, style and icon) so that a console, the phone view or the big screen reloads without
// network; the live data then comes from the page's own store of the last view (live.js) until
// the connection returns. The server writes the build's version and the file list into this
// script (crates/server/src/web.rs), so a new release is a new script: it is installed, fills a
// new cache, and deletes the old one. API calls and the live socket never go through a cache.

const VERSION = '__VERSION__';
const FILES = __FILES__;
const CACHE = `makerpulse-${VERSION}`;

self.addEventListener('install', (ev) => {
  ev.waitUntil(caches.open(CACHE).then((c) => c.addAll(FILES)).then(() => self.skipWaiting()));
});

self.addEventListener('activate', (ev) => {
  ev.waitUntil(caches.keys()
    .then((keys) => Promise.all(keys.filter((k) => k.startsWith('makerpulse-') && k !== CACHE).map((k) => caches.delete(k))))
    .then(() => self.clients.claim()));
});

// A page asks for its own shell to be kept (the first visit is not yet served by this worker).
self.addEventListener('message', (ev) => {
  const msg = ev.data || {};
  if (msg.type !== 'keep' || typeof msg.url !== 'string' || !msg.url.startsWith('/') || msg.url.startsWith('//')) return;
  ev.waitUntil(caches.open(CACHE)
    .then((c) => c.add(msg.url))
    .then(() => ev.source && ev.source.postMessage({ type: 'kept', url: msg.url, version: VERSION }))
    .catch(() => {}));
});

self.addEventListener('fetch', (ev) => {
  const req = ev.request;
  if (req.method !== 'GET') return;
  const url = new URL(req.url);
  if (url.origin !== self.location.origin) return;
  if (req.mode === 'navigate') {
    // The network first (a page's shell is tiny and names the release); the kept copy offline.
    ev.respondWith(fetch(req)
      .then((res) => {
        if (res.ok) {
          const copy = res.clone();
          ev.waitUntil(caches.open(CACHE).then((c) => c.put(url.pathname, copy)));
        }
        return res;
      })
      .catch(() => caches.open(CACHE).then((c) => c.match(url.pathname)).then((r) => r || Response.error())));
    return;
  }
  if (url.pathname.startsWith('/static/')) {
    // Files of this release: kept at install, so the cache answers and the network is the fallback.
    ev.respondWith(caches.open(CACHE).then((c) => c.match(req, { ignoreSearch: true })).then((r) => r || fetch(req)));
  }
});
