// The landing page: what makerpulse is, and every challenge on this server with links to its big
// screen, phone view, replay and embed.

import { h, replace } from '../dom.js';
import { t, loc, onLang } from '../i18n.js';
import { getJSON } from '../api.js';
import { langSwitch, title } from '../chrome.js';

export async function start(root) {
  title(() => `${t('app_name')} · ${t('landing_title')}`);
  const list = h('ul', { class: 'challenges' });
  replace(
    root,
    h(
      'main',
      { class: 'landing' },
      h('header', { class: 'landing-head' },
        h('div', { class: 'brand' }, h('img', { src: '/static/icon.svg', alt: '', class: 'logo' }), h('span', { i18n: 'app_name' })),
        langSwitch()),
      h('h1', { i18n: 'landing_title' }),
      h('p', { class: 'lead', i18n: 'landing_lead' }),
      h('h2', { i18n: 'challenges' }),
      list,
      h('p', { class: 'foot' },
        h('a', { href: '/admin', i18n: 'link_admin' }), ' · ',
        h('a', { href: '/api/openapi.json', i18n: 'link_api' })),
    ),
  );
  let challenges = [];
  const render = () => {
    if (!challenges.length) {
      replace(list, h('li', { class: 'empty', i18n: 'no_challenges' }));
      return;
    }
    replace(
      list,
      challenges.map((c) =>
        h('li', { class: 'card' },
          h('div', { class: 'card-title' },
            h('strong', { class: 'data', text: loc(c.title) }),
            h('span', { class: `phase ${c.phase}`, i18n: `phase_${c.phase}` })),
          h('nav', { class: 'links' },
            h('a', { href: `/screen/${encodeURIComponent(c.id)}`, i18n: 'link_screen' }),
            h('a', { href: `/phone/${encodeURIComponent(c.id)}`, i18n: 'link_phone' }),
            h('a', { href: `/replay/${encodeURIComponent(c.id)}`, i18n: 'link_replay' }),
            h('a', { href: `/embed/${encodeURIComponent(c.id)}`, i18n: 'link_embed' }))),
      ),
    );
  };
  onLang(render);
  const load = async () => {
    try {
      challenges = await getJSON('/api/challenges');
      render();
    } catch {
      replace(list, h('li', { class: 'empty', i18n: 'error_load' }));
      setTimeout(load, 5000);
    }
  };
  await load();
}
