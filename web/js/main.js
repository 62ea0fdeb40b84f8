// The entry point of every page: starts the page module the server named in the shell. The route
// table is kept once, in the server (`PAGES` in crates/server/src/web.rs): the shell served at a
// route carries `data-page` and `data-route` on its body, and the route's `{…}` segments are the
// page's parameters. A page that fails to load shows a calm notice, never a blank page.

// The theme first: it sets data-theme on <html> before any page draws.
import './theme.js';
import { guard, notice } from './chrome.js';
import { reportError } from './live.js';
import { registerWorker, staleNote } from './offline.js';

/** The parameters of `path` by `route`: `/phone/{id}/teams/{team}` and `/phone/a/teams/b` give `['a', 'b']`. */
function paramsOf(route, path) {
  const segments = path.split('/');
  return route.split('/').flatMap((part, i) => (part.startsWith('{') ? [decodeURIComponent(segments[i] || '')] : []));
}

async function boot() {
  guard();
  registerWorker();
  const root = document.getElementById('app');
  const { page, route } = document.body.dataset;
  if (!page || !route) {
    notice(root, 'page_not_found');
    return;
  }
  const params = paramsOf(route, location.pathname);
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
    if (window.makerpulse.live) staleNote(window.makerpulse.live);
  } catch (err) {
    reportError(err);
    notice(root, 'error_generic');
  }
}

boot();
