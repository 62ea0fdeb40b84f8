// What every page shares: the language switch, the connection banner, notices, and the guard that
// turns an unexpected error into a calm message instead of a blank page or a stack trace.

import { h, replace } from './dom.js';
import { t, lang, setLang, onLang, missing } from './i18n.js';
import { reportError, errors } from './live.js';

/** The language switch: shows the other language's name; the choice persists. */
export function langSwitch() {
  const b = h('button', {
    class: 'langsw',
    type: 'button',
    i18n: 'lang_switch',
    tip: 'lang_switch_tip',
    on: { click: () => setLang(lang() === 'zh' ? 'en' : 'zh') },
  });
  return b;
}

/** A banner that tells the connection's state: hidden while live. */
export function statusBanner(live) {
  const el = h('div', { class: 'banner', attrs: { role: 'status', 'aria-live': 'polite' }, hidden: true });
  const show = (status) => {
    const key = { reconnecting: 'reconnecting', unauthorized: 'unauthorized', not_found: 'not_found' }[status];
    el.hidden = !key;
    el.className = `banner ${status}`;
    if (key) replace(el, h('span', { class: 'spinner', hidden: status !== 'reconnecting' }), h('span', { i18n: key }));
  };
  live.on('status', show);
  show(live.status);
  return el;
}

let toastBox = null;

/** How many toasts stand at once. */
const TOASTS_SHOWN = 3;

/** A short message at the bottom of the screen. `kind`: 'ok' or 'error'. Text, never markup. */
export function toast(text, kind = 'ok', ms = 3500) {
  if (!toastBox) {
    toastBox = h('div', { class: 'toasts', attrs: { 'aria-live': 'polite' } });
    document.body.appendChild(toastBox);
  }
  const el = h('div', { class: ['toast', kind], text });
  toastBox.appendChild(el);
  // A burst of answers (a bulk setup, a queue sent on reconnect) keeps the three latest, so the
  // toasts never cover the page.
  while (toastBox.children.length > TOASTS_SHOWN) toastBox.firstElementChild.remove();
  setTimeout(() => el.remove(), ms);
  return el;
}

/** A full-page notice (no such challenge, no token), in place of the page. */
export function notice(root, key, ...extra) {
  replace(root, h('main', { class: 'notice' }, h('div', { class: 'notice-top' }, langSwitch()), h('h1', { class: 'brand', i18n: 'app_name' }), h('p', { i18n: key }), extra));
}

// ---- the live region ------------------------------------------------------------------------
// What a screen reader says by itself: a published score, a revealed place. One polite region per
// page; what comes within a moment is said together (the newest few and how many more), and
// never more often than every few seconds, so a burst of scorecards is one short sentence.

const GATHER_MS = 1200;
const QUIET_MS = 5000;
const SAID_AT_ONCE = 3;
let region = null;
let heard = [];
let flushAt = null;
let lastSaid = 0;

/** Says `text` through the page's live region (politely, gathered with others). */
export function announce(text) {
  if (!region) {
    region = h('div', { class: 'sr-only', attrs: { role: 'status', 'aria-live': 'polite', 'aria-atomic': 'true' } });
    document.body.appendChild(region);
  }
  heard.push(text);
  if (flushAt) return;
  const wait = Math.max(GATHER_MS, lastSaid + QUIET_MS - Date.now());
  flushAt = setTimeout(() => {
    flushAt = null;
    lastSaid = Date.now();
    const said = heard.slice(-SAID_AT_ONCE);
    const more = heard.length - said.length;
    heard = [];
    region.textContent = [...said, more ? t('announce_more', { n: more }) : null].filter(Boolean).join('. ');
  }, wait);
}


/**
 * Turns errors nobody caught into a quiet message; the details go to the console only. What went
 * wrong is also kept in `window.makerpulse` (errors, blocked by the CSP, missing message keys),
 * where the browser tests read it.
 */
export function guard() {
  window.makerpulse = { errors, csp: [], missing };
  document.addEventListener('securitypolicyviolation', (ev) => {
    window.makerpulse.csp.push(`${ev.violatedDirective} ${ev.blockedURI}`);
  });
  let last = 0;
  const calm = (err) => {
    reportError(err);
    const now = Date.now();
    if (now - last > 10000) {
      last = now;
      toast(t('error_generic'), 'error', 5000);
    }
  };
  window.addEventListener('error', (ev) => calm(ev.error || ev.message));
  window.addEventListener('unhandledrejection', (ev) => calm(ev.reason));
}

/** Sets the document title now and after every language change; returns a function to set it again. */
export function title(fn) {
  const set = () => {
    document.title = fn();
  };
  set();
  onLang(set);
  return set;
}

/**
 * A button for an action that cannot be undone: the first press arms it (its label asks to
 * confirm), a second press within four seconds runs `action`. No native dialog, so it works the
 * same on a tablet and under test.
 */
export function confirmButton(key, action, cls = 'danger', vars) {
  let armed = null;
  const b = h('button', { type: 'button', class: cls, i18n: key, vars });
  b.addEventListener('click', async () => {
    if (!armed) {
      b.classList.add('armed');
      b.dataset.i18n = 'confirm';
      b.textContent = t('confirm');
      armed = setTimeout(() => {
        armed = null;
        b.classList.remove('armed');
        b.dataset.i18n = key;
        b.textContent = t(key, vars);
      }, 4000);
      return;
    }
    clearTimeout(armed);
    armed = null;
    b.classList.remove('armed');
    b.dataset.i18n = key;
    b.textContent = t(key, vars);
    b.disabled = true;
    try {
      await action();
    } finally {
      b.disabled = false;
    }
  });
  return b;
}
