// The embeddable leaderboard (/embed/{id}) for partner websites: one compact board, live, that
// any site may put in an iframe. Query: `?track=ID` for one track (the overall board without it),
// `?lang=zh|en` for the language, `?theme=light|dark` to match the partner's page (without it, the
// visitor's system decides).

import { h, replace, setText } from '../dom.js';

/** How many of the newest milestone announcements the embed shows under its board. */
const NEWS_SHOWN = 3;
import { t, loc, onLang } from '../i18n.js';
import { Live } from '../live.js';
import { Board, rowsOf, milestoneNews, withdrawnText } from '../board.js';
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
  // The newest milestones reached, as the big screen and the phone announce them.
  const news = h('ul', { class: 'embed-news', label: 'milestones' });
  replace(root, h('main', { class: 'embed' },
    statusBanner(live),
    h('header', { class: 'embed-head' }, h('div', {}, titleEl, ' ', frozen, h('br'), sub), langSwitch()),
    board.el,
    news,
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
    const shown = (view.announcements || []).filter((a) => !track || (view.teams[a.team] && view.teams[a.team].track === track)).slice(0, NEWS_SHOWN);
    news.hidden = !shown.length;
    replace(news, shown.map((a) => h('li', { class: ['milestone-news', a.withdrawn ? 'withdrawn' : ''], data: { news: a.seq, team: a.team, milestone: a.milestone } },
      h('span', { class: 'news-line', text: milestoneNews(view, a) }),
      a.withdrawn ? h('span', { class: 'withdrawn-note', text: ` · ${withdrawnText(a)}` }) : null)));
  };
  live.on('view', (v) => {
    view = v;
    render();
  });
  title(() => `${view && view.challenge ? loc(view.challenge.title) : t('app_name')} · ${t('board')}`);
  onLang(render);
  live.connect();
}
