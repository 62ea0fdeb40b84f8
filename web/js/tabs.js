// The one tab list of the dashboards (the phone's board/updates/cheers, the admin console's tabs),
// after the WAI-ARIA tabs pattern: buttons with role=tab, aria-selected and aria-controls in a
// role=tablist; one tab stop (the selected tab; the others have tabindex=-1), the left and right
// arrow keys, Home and End move between tabs and select the one reached. The buttons are made once and only
// marked afterwards, so a redraw never swaps a button under a finger between aiming and tapping.

import { h } from './dom.js';

let lists = 0;

/**
 * A tab list. `names`: the tabs; `key(name)`: a tab's message key; `label`: the message key that
 * names the list; `panel(name)`: the id of the element the tab controls; `select(name)`: called
 * when a tab is chosen (by a click, a tap or a key). `cls`: more classes for the list.
 * Returns `{ el, mark(name), id(name) }`: `mark` shows `name` as selected, `id` is a tab's id.
 */
export function tabList({ names, key, label, panel, select, cls }) {
  const prefix = `tabs${++lists}`;
  const id = (name) => `${prefix}-${name}`;
  const buttons = names.map((name) => h('button', {
    type: 'button',
    class: 'tab',
    id: id(name),
    i18n: key(name),
    data: { tab: name },
    attrs: { role: 'tab', 'aria-controls': panel(name), 'aria-selected': 'false', tabindex: '-1' },
    on: { click: () => select(name) },
  }));
  const el = h('div', { class: ['tabs', cls], label, attrs: { role: 'tablist' } }, buttons);
  el.addEventListener('keydown', (ev) => {
    const at = buttons.indexOf(document.activeElement);
    if (at < 0) return;
    const last = buttons.length - 1;
    const to = { ArrowRight: at + 1, ArrowLeft: at - 1, Home: 0, End: last }[ev.key];
    if (to === undefined) return;
    ev.preventDefault();
    const next = buttons[(to + buttons.length) % buttons.length];
    next.focus();
    select(next.dataset.tab);
  });
  function mark(current) {
    for (const b of buttons) {
      const on = b.dataset.tab === current;
      b.setAttribute('aria-selected', String(on));
      b.tabIndex = on ? 0 : -1;
    }
  }
  return { el, mark, id };
}

/** Makes `el` the panel of tab `tabId` (role=tabpanel, named by its tab), with the id `id`. */
export function tabPanel(el, id, tabId) {
  el.id = id;
  el.setAttribute('role', 'tabpanel');
  el.setAttribute('aria-labelledby', tabId);
  return el;
}
