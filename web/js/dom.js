// Building the DOM without HTML strings: every piece of text becomes a text node (or
// textContent), so user text can never turn into markup. Elements that carry a message key
// re-translate themselves when the language changes (see i18n.js `retranslate`).

import { t } from './i18n.js';

/** Appends children: strings and numbers as text, arrays flattened, null/false skipped. */
export function append(el, children) {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (Array.isArray(child)) append(el, child);
    else if (child instanceof Node) el.appendChild(child);
    else el.appendChild(document.createTextNode(String(child)));
  }
  return el;
}

/**
 * Makes an element. `props`: `class`, `text` (textContent), `i18n` (a message key, with `vars`),
 * `ph` (a message key for the placeholder), `tip` (a message key for the title), `label` (a message
 * key for the accessible name, `aria-label`, of a control whose text is an icon), `data` (dataset),
 * `on` (event listeners), `attrs` (attributes), and any other key is set as a property.
 */
export function h(tag, props, ...children) {
  const el = document.createElement(tag);
  if (props) {
    for (const [key, value] of Object.entries(props)) {
      if (value === undefined || value === null) continue;
      switch (key) {
        case 'class':
          el.className = Array.isArray(value) ? value.filter(Boolean).join(' ') : value;
          break;
        case 'text':
          el.textContent = String(value);
          break;
        case 'i18n':
          el.dataset.i18n = value;
          if (props.vars) el.dataset.i18nVars = JSON.stringify(props.vars);
          el.textContent = t(value, props.vars);
          break;
        case 'vars':
          break;
        case 'ph':
          el.dataset.i18nPh = value;
          el.placeholder = t(value);
          break;
        case 'tip':
          el.dataset.i18nTip = value;
          el.title = t(value);
          break;
        case 'label':
          el.dataset.i18nLabel = value;
          el.setAttribute('aria-label', t(value));
          break;
        case 'data':
          for (const [k, v] of Object.entries(value)) el.dataset[k] = String(v);
          break;
        case 'on':
          for (const [ev, fn] of Object.entries(value)) el.addEventListener(ev, fn);
          break;
        case 'attrs':
          for (const [k, v] of Object.entries(value)) {
            if (v !== false && v !== null && v !== undefined) el.setAttribute(k, v === true ? '' : String(v));
          }
          break;
        default:
          el[key] = value;
      }
    }
  }
  return append(el, children);
}

/** A span whose text is the message `key`, kept translated. */
export function tx(key, vars, cls) {
  return h('span', { i18n: key, vars, class: cls });
}

/** Replaces every child of `el`. */
export function replace(el, ...children) {
  el.replaceChildren();
  return append(el, children);
}

/** Sets text only when it changed, so that re-rendering every second costs no layout. */
export function setText(el, text) {
  const s = String(text);
  if (el.textContent !== s) el.textContent = s;
}

const SVG = 'http://www.w3.org/2000/svg';

/** Makes an SVG element with attributes. */
export function svg(tag, attrs, ...children) {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs || {})) el.setAttribute(k, String(v));
  return append(el, children);
}

/** A link only to http(s) addresses; anything else is shown as plain text. */
export function safeLink(url, label) {
  let ok = false;
  try {
    const u = new URL(url);
    ok = u.protocol === 'http:' || u.protocol === 'https:';
  } catch {
    ok = false;
  }
  if (!ok) return h('span', { class: 'user', text: label ?? url });
  return h('a', { class: 'user', href: url, text: label ?? url, target: '_blank', rel: 'noopener noreferrer' });
}

/** Whether the person asked for less motion (`prefers-reduced-motion`): then nothing slides. */
export function reducedMotion() {
  return matchMedia('(prefers-reduced-motion: reduce)').matches;
}
