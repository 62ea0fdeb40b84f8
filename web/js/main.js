// The entry point of every page: picks the page module from the path and starts it. A page that
// fails to load shows a calm notice, never a blank page.

import { guard, notice } from './chrome.js';
import { reportError } from './live.js';

const ROUTES = [
  [/^\/$/, 'landing'],
  [/^\/admin\/?$/, 'admin'],
  [/^\/screen\/([^/]+)\/?$/, 'screen'],
  [/^\/phone\/([^/]+)\/teams\/([^/]+)\/?$/, 'phone'],
  [/^\/phone\/([^/]+)\/?$/, 'phone'],
  [/^\/team\/([^/]+)\/?$/, 'team'],
  [/^\/judge\/([^/]+)\/?$/, 'judge'],
  [/^\/embed\/([^/]+)\/?$/, 'embed'],
  [/^\/replay\/([^/]+)\/?$/, 'replay'],
];

async function boot() {
  guard();
  const root = document.getElementById('app');
  for (const [re, page] of ROUTES) {
    const m = re.exec(location.pathname);
    if (!m) continue;
    const params = m.slice(1).map(decodeURIComponent);
    document.body.dataset.page = page;
    let mod = null;
    // A module that failed to arrive (a flaky network) is asked for again a few times.
    for (let attempt = 0; !mod && attempt < 4; attempt++) {
      try {
        mod = await import(`./pages/${page}.js${attempt ? `?retry=${attempt}` : ''}`);
      } catch (err) {
        reportError(err);
        notice(root, 'error_load');
        await new Promise((r) => setTimeout(r, 2000 * (attempt + 1)));
      }
    }
    if (!mod) return;
    try {
      await mod.start(root, ...params);
    } catch (err) {
      reportError(err);
      notice(root, 'error_generic');
    }
    return;
  }
  notice(root, 'page_not_found');
}

boot();
