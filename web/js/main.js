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
    try {
      const mod = await import(`./pages/${page}.js`);
      await mod.start(root, ...params);
    } catch (err) {
      reportError(err);
      notice(root, 'error_load');
    }
    return;
  }
  notice(root, 'page_not_found');
}

boot();
