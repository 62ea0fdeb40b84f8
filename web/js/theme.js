// The colour theme: dark, or light for bright halls. The colours are the custom properties of
// app.css; this module only says which set applies, as `data-theme` on <html>. A choice made with
// the switch (on the big screen) is remembered in localStorage and wins on every page of this
// browser; without one the system's `prefers-color-scheme` decides, and is followed when it
// changes. A page may also be told its theme for itself (the embed's `?theme=`), not remembered.

import { h } from './dom.js';

const KEY = 'mp.theme';
const system = matchMedia('(prefers-color-scheme: light)');
let forced = null;

function valid(v) {
  return v === 'light' || v === 'dark' ? v : null;
}

function stored() {
  try {
    return valid(localStorage.getItem(KEY));
  } catch {
    // Storage may be off (private mode, a sandboxed frame): the system decides.
    return null;
  }
}

/** The theme in use: 'light' or 'dark'. */
export function theme() {
  return document.documentElement.dataset.theme;
}

function apply() {
  const next = forced ?? stored() ?? (system.matches ? 'light' : 'dark');
  document.documentElement.dataset.theme = next;
  // The browser's own chrome (the address bar on a phone) follows the page.
  const meta = document.querySelector('meta[name=theme-color]');
  if (meta) meta.content = getComputedStyle(document.documentElement).getPropertyValue('--bg').trim() || meta.content;
  for (const b of document.querySelectorAll('button.themesw')) b.setAttribute('aria-pressed', String(next === 'light'));
}

/** Chooses `next` ('light' or 'dark') and remembers it for every page of this browser. */
export function setTheme(next) {
  if (!valid(next)) return;
  try {
    localStorage.setItem(KEY, next);
  } catch {
    // Not remembered; the switch still works for this page.
  }
  apply();
}

/** Uses `next` on this page only (unknown values are ignored). */
export function forceTheme(next) {
  forced = valid(next);
  apply();
}

/** The theme switch: a toggle button "Light theme", pressed while the light theme is on. */
export function themeSwitch() {
  const b = h('button', {
    type: 'button',
    class: 'themesw',
    i18n: 'theme_light',
    tip: 'theme_light_tip',
    attrs: { 'aria-pressed': String(theme() === 'light') },
    on: { click: () => setTheme(theme() === 'light' ? 'dark' : 'light') },
  });
  return b;
}

system.addEventListener('change', apply);
apply();
