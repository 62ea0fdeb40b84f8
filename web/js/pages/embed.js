// The embeddable leaderboard (/embed/{id}) for partner websites: one compact board, live, that
// any site may put in an iframe. Query: `?track=ID` for one track (the overall board without it),
// `?lang=zh|en` for the language, `?theme=light|dark` to match the partner's page (without it, the
// visitor's system decides).

import { h, replace, setText } from '../dom.js';

/** How many of the newest milestone announcements the embed shows under its board. */
const NEWS_SHOWN = 3;
import { t, loc, num, onLang } from '../i18n.js';
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
  // During the reveal the frozen board (ranked as at the freeze) would say otherwise than the
  // places being revealed: as on the big screen and the phone, the places revealed so far stand
  // in its stead, the one just revealed first.
  const reveal = h('section', { class: 'reveal compact', hidden: true });
  // The newest milestones reached, as the big screen and the phone announce them.
  const news = h('ul', { class: 'embed-news', label: 'milestones' });
  replace(root, h('main', { class: 'embed' },
    statusBanner(live),
    h('header', { class: 'embed-head' }, h('div', {}, titleEl, ' ', frozen, h('br'), sub), langSwitch()),
    board.el,
    reveal,
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
    renderReveal();
    const shown = (view.announcements || []).filter((a) => !track || (view.teams[a.team] && view.teams[a.team].track === track)).slice(0, NEWS_SHOWN);
    news.hidden = !shown.length;
    replace(news, shown.map((a) => h('li', { class: ['milestone-news', a.withdrawn ? 'withdrawn' : ''], data: { news: a.seq, team: a.team, milestone: a.milestone } },
      h('span', { class: 'news-line', text: milestoneNews(view, a) }),
      a.withdrawn ? h('span', { class: 'withdrawn-note', text: ` · ${withdrawnText(a)}` }) : null)));
  };
  function renderReveal() {
    const c = view.challenge;
    const last = view.reveal[view.reveal.length - 1];
    const revealing = !!(c && c.phase === 'frozen' && last);
    reveal.hidden = !revealing;
    board.el.hidden = revealing;
    if (!revealing) return;
    // A partner showing one track follows that track's places; otherwise the track being revealed.
    const shownTrack = track || last.track;
    const entries = view.reveal.filter((e) => e.track === shownTrack);
    const just = entries[entries.length - 1];
    const tr = view.tracks.find((x) => x.id === shownTrack);
    if (tr) setText(sub, loc(tr.name));
    const nameOf = (e) => (view.teams[e.team] ? loc(view.teams[e.team].name) : e.team);
    const placeOf = (e) => (e.rank == null ? t('reveal_unranked') : t('reveal_rank', { rank: e.rank }));
    const waiting = Object.values(view.teams).filter((tm) => tm.track === shownTrack).length - entries.length;
    replace(reveal,
      h('h2', {}, h('span', { i18n: 'reveal_title' }), ' · ', h('span', { class: 'data', text: tr ? loc(tr.name) : '' })),
      just
        ? h('p', { class: 'just', data: { team: just.team, rank: just.rank ?? '' } },
          h('strong', { class: 'data', text: nameOf(just) }), ' ', h('span', { text: placeOf(just) }),
          just.score == null ? null : h('span', { class: 'score', text: ` ${num(just.score, 2)}` }))
        : null,
      waiting > 0 ? h('p', { class: 'reveal-waiting', text: t('reveal_waiting_n', { n: waiting }) }) : null,
      h('ol', { class: 'reveal-so-far' }, entries.slice()
        .sort((a, b) => (a.rank ?? Infinity) - (b.rank ?? Infinity) || a.seq - b.seq)
        .map((e) => h('li', { data: { team: e.team, rank: e.rank ?? '' } },
          h('span', { class: 'rank', text: e.rank == null ? '–' : String(e.rank) }), ' ',
          h('span', { class: 'data', text: nameOf(e) }),
          e.score == null ? null : h('span', { class: 'score', text: ` ${num(e.score, 2)}` })))));
  }
  live.on('view', (v) => {
    view = v;
    render();
  });
  title(() => `${view && view.challenge ? loc(view.challenge.title) : t('app_name')} · ${t('board')}`);
  onLang(render);
  live.connect();
}
