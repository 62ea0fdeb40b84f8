// The admin console's small form helpers: inputs, labelled fields, bilingual pairs, selects and
// check lists, shared by the chooser and every tab that edits something.

import { h } from '../../dom.js';

export const PANEL_ROLES = ['maker_representative', 'domain_expert', 'enterprise_representative', 'investor'];
export const DISCIPLINES = ['software', 'hardware', 'design', 'maker', 'business', 'other'];

export function input(props) {
  return h('input', { type: 'text', ...props });
}

export function field(key, ...controls) {
  return h('label', { class: 'field' }, h('span', { class: 'label', i18n: key }), controls);
}

/** Two inputs for a bilingual text; `get()` gives `{zh, en}`. */
export function pair(value, zhPh, enPh, long = false) {
  const make = (ph, text, lang) => (long
    ? h('textarea', { ph, value: text || '', rows: 2, lang })
    : h('input', { type: 'text', ph, value: text || '', lang }));
  const zh = make(zhPh, value && value.zh, 'zh');
  const en = make(enPh, value && value.en, 'en');
  return { el: h('div', { class: 'pair' }, zh, en), get: () => ({ zh: zh.value.trim(), en: en.value.trim() }) };
}

export function select(options, value) {
  return h('select', {}, options.map(([v, key, text]) =>
    h('option', { value: v, selected: v === value, i18n: key, text: key ? undefined : text })));
}

export function checks(options, chosen) {
  const boxes = options.map(([v, label]) => {
    const box = h('input', { type: 'checkbox', value: v, checked: chosen.includes(v) });
    return h('label', { class: 'check' }, box, h('span', { class: 'data', text: label }));
  });
  return { el: h('div', { class: 'checks' }, boxes), get: () => boxes.map((b) => b.firstChild).filter((b) => b.checked).map((b) => b.value) };
}

export function isoToLocal(iso) {
  if (!iso) return '';
  const d = new Date(iso);
  const pad = (n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}
