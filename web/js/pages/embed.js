// The embeddable leaderboard (/embed/{id}) for partner websites: one compact board, live, that
// any site may put in an iframe. Query: `?track=ID` for one track (the overall board without it),
// `?lang=zh|en` for the language, `?theme=light|dark` to match the partner's page (without it, the
// visitor's system decides).

import { h, replace, setText } from '../dom.js';
import { t, loc, onLang } from '../i18n.js';
import { Live } from '../live.js';
import { Board, rowsOf } from '../board.js';
import { langSwitch, statusBanner, title, announce } from '../chrome.js';
import { forceTheme } from '../theme.js';

export async function start(root, id) {
  const query = new URLSearchParams(location.search);
  let track = query.get('track');
  forceTheme(query.get('theme'));
  const live = new Live(id);
  const board = new Board({ compact: true, track: !track, announce });
  const titleEl = h('h1', { class: 'embed-title data' });
  const sub = h('span', { class: 'sub' });
  const frozen = h('span', { class: 'frozen-tag', i18n: 'phase_frozen', hidden: true });
  replace(root, h('main', { class: 'embed' },
    statusBanner(live),
    h('header', { class: 'embed-head' }, h('div', {}, titleEl, ' ', frozen, h('br'), sub), langSwitch()),
    board.el,
    h('footer', {}, h('a', { href: `/phone/${encodeURIComponent(id)}`, target: '_blank', rel: 'noopener', i18n: 'embed_powered' }))));
  let view = null;
  const render = () => {
    if (!view) return;
    if (track && !view.tracks.some((tr) => tr.id === track)) track = null;
    setText(titleEl, view.challenge ? loc(view.challenge.title) : '');
    const tr = track && view.tracks.find((x) => x.id === track);
    setText(sub, tr ? loc(tr.name) : t('overall'));
    frozen.hidden = !view.leaderboard.frozen;
    board.update(view, rowsOf(view, track));
  };
  live.on('view', (v) => {
    view = v;
    render();
  });
  title(() => `${view && view.challenge ? loc(view.challenge.title) : t('app_name')} · ${t('board')}`);
  onLang(render);
  live.connect();
}
