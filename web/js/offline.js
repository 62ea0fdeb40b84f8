// What makes a page work without network: the service worker (web/sw.js) that keeps the shell,
// the manifest link that names this page as the installed app's start, and the note shown while
// the page shows a view kept from before (a reload without network) instead of the live one.

import { h, replace } from './dom.js';
import { t, when, onLang } from './i18n.js';

/** Registers the service worker and asks it to keep this page's shell. */
export function registerWorker() {
  const page = document.body.dataset.page;
  const link = document.querySelector('link[rel="manifest"]');
  // Installed from this page, the app opens this page (a team's console, a challenge's phone view).
  if (link) link.href = `/manifest.webmanifest?start=${encodeURIComponent(location.pathname)}`;
  // The embed lives in other sites' frames: nothing to install or keep there.
  if (!('serviceWorker' in navigator) || page === 'embed') return;
  navigator.serviceWorker.addEventListener('message', (ev) => {
    // The browser tests wait for this before they cut the network.
    if (ev.data && ev.data.type === 'kept' && window.makerpulse) window.makerpulse.offlineReady = ev.data.version;
  });
  navigator.serviceWorker.register('/sw.js', { scope: '/' })
    .then(() => navigator.serviceWorker.ready)
    .then((reg) => reg.active && reg.active.postMessage({ type: 'keep', url: location.pathname }))
    .catch(() => {
      // No worker (a private window, an old browser): the page works, just not offline.
    });
}

/** Shows, above the page, that what it shows is the last known state while it reconnects. */
export function staleNote(live) {
  const el = h('div', { class: 'stale-note', attrs: { role: 'status' }, hidden: true });
  const draw = () => {
    const stale = live.stale && live.status !== 'live' && live.status !== 'unauthorized';
    el.hidden = !stale;
    if (stale) replace(el, h('span', { text: t('stale_view', { time: when(new Date(live.stale).toISOString()) }) }));
  };
  live.on('status', draw);
  live.on('view', draw);
  onLang(draw);
  draw();
  document.body.prepend(el);
}
