// The big screen (大屏) of the hall: each track's leaderboard in turn with animated rank changes,
// the 72-hour countdown, the newest posts with photos, the people's choice, and a QR code to the
// phone view. During a freeze it says so; the reveal plays step by step from the server's
// `revealed` patches, so every screen in the hall moves together.
//
// Options in the query: `?track=ID` pins one track, `?rotate=SECONDS` sets the rotation (0 stops it).

import { h, replace, setText } from '../dom.js';
import { t, loc, num, onLang, clockTime, lang } from '../i18n.js';
import { Live } from '../live.js';
import { syncClock, photoUrl } from '../api.js';
import { clockAt, hms, clockNote, everySecond } from '../clock.js';
import { Board, rowsOf, tickerEntries, milestoneNews, withdrawnText } from '../board.js';
import { qrSvg } from '../qr.js';
import { langSwitch, statusBanner, title, announce } from '../chrome.js';
import { themeSwitch } from '../theme.js';
import { revealText } from './phone.js';

const TICKER_SHOWN = 6;
/** Tracks with more teams than this get tighter rows on the big screen. */
const DENSE_FROM = 8;
/** The longest a page of the places revealed before the moment stays up. */
const REVEAL_PAGE_SECS = 6;

export async function start(root, id) {
  const query = new URLSearchParams(location.search);
  const pinned = query.get('track');
  const rotateSecs = Number(query.get('rotate') ?? 15);
  const live = new Live(id);

  const titleEl = h('h1', { class: 'title data' });
  const phaseEl = h('span', { class: 'phase' });
  const countdown = h('div', { class: 'countdown', data: { state: 'setup' } });
  const clockNoteEl = h('div', { class: 'clock-note' });
  const tabs = h('ul', { class: 'tracks-nav', label: 'tracks' });
  const boardTitle = h('h2', { class: 'board-title' });
  const frozenEl = h('div', { class: 'frozen-banner', hidden: true }, h('span', { class: 'snow', text: '❄', attrs: { 'aria-hidden': 'true' } }), h('span', { i18n: 'frozen_banner' }));
  const board = new Board({ milestones: true, announce });
  const revealEl = h('section', { class: 'reveal', hidden: true });
  const pageEl = h('span', { class: 'board-page' });
  // What the dots of each row stand for: the milestones, in order, named.
  const legendEl = h('ol', { class: 'ms-legend', label: 'milestones' });
  const boardPanel = h('section', { class: 'board-panel' }, h('div', { class: 'board-head' }, boardTitle, pageEl, frozenEl), board.el, legendEl);
  const tickerList = h('ul', { class: 'ticker' });
  const cheersList = h('ol', { class: 'cheers' });
  const phoneUrl = `${location.origin}/phone/${encodeURIComponent(id)}`;

  replace(
    root,
    h('div', { class: 'screen' },
      statusBanner(live),
      h('header', { class: 'screen-head' },
        h('div', { class: 'head-left' },
          h('div', { class: 'brand' }, h('img', { src: '/static/icon.svg', alt: '', class: 'logo' }), h('span', { i18n: 'app_name' }), phaseEl),
          titleEl,
          tabs),
        h('div', { class: 'head-clock' }, countdown, clockNoteEl),
        h('div', { class: 'head-right' }, langSwitch(), themeSwitch())),
      h('main', { class: 'screen-main' },
        h('div', { class: 'stage' }, boardPanel, revealEl),
        h('div', { class: 'side' },
          h('section', { class: 'side-ticker' }, h('h3', { i18n: 'ticker' }), tickerList),
          h('section', { class: 'side-cheers' }, h('h3', { i18n: 'peoples_choice' }), cheersList),
          h('section', { class: 'side-qr' }, qrSvg(phoneUrl, t('scan_to_follow')), h('p', { i18n: 'scan_to_follow' }))))),
  );

  let view = null;
  let current = 0;
  let trackIds = [];
  // A track with more teams than the screen holds is shown a page at a time: every page is a
  // step of the rotation, so each team is on the screen once per rotation. `perPage` is measured
  // from the rows themselves (0 before the first measure: everything).
  let page = 0;
  let perPage = 0;

  /** The track being revealed, while the reveal is on: every part of the screen shows it. */
  const revealTrack = () => {
    const c = view && view.challenge;
    const last = view && view.reveal[view.reveal.length - 1];
    return c && last && (c.phase === 'frozen' || Date.now() < momentUntil) ? last.track : null;
  };
  const trackId = () => {
    const revealing = revealTrack();
    if (revealing) return revealing;
    if (pinned && trackIds.includes(pinned)) return pinned;
    return trackIds.length ? trackIds[current % trackIds.length] : null;
  };
  const pagesOf = (n) => (perPage > 0 ? Math.max(1, Math.ceil(n / perPage)) : 1);

  /** How many rows fit the board's height (at least one). */
  function fits() {
    const first = board.el.querySelector('.row');
    if (!first || !board.el.clientHeight) return 0;
    const gap = parseFloat(getComputedStyle(board.el).rowGap) || 0;
    return Math.max(1, Math.floor((board.el.clientHeight + gap) / (first.offsetHeight + gap)));
  }

  function renderHead() {
    const c = view.challenge;
    setText(titleEl, c ? loc(c.title) : '');
    if (c) {
      phaseEl.className = `phase ${c.phase}`;
      setText(phaseEl, t(`phase_${c.phase}`));
    }
    trackIds = view.tracks.map((tr) => tr.id);
    const cur = trackId();
    replace(tabs, view.tracks.map((tr) => h('li', { class: 'chip', text: loc(tr.name), attrs: { 'aria-current': tr.id === cur ? 'true' : false } })));
  }

  function renderBoard() {
    const cur = trackId();
    const track = view.tracks.find((tr) => tr.id === cur);
    const c = view.challenge;
    const final = c && c.phase === 'revealed';
    setText(boardTitle, track ? (final ? `${t('final_result')} · ${loc(track.name)}` : loc(track.name)) : t('board'));
    frozenEl.hidden = !view.leaderboard.frozen;
    replace(legendEl, view.milestones.map((m) => h('li', {}, h('span', { class: 'dot', attrs: { 'aria-hidden': 'true' } }), h('span', { class: 'data', text: loc(m.name) }))));
    const rows = cur ? rowsOf(view, cur) : [];
    // A large track gets tighter rows (the names keep their size), so a page holds more of it.
    board.el.classList.toggle('dense', rows.length > DENSE_FROM);
    const show = () => {
      const pages = pagesOf(rows.length);
      if (page >= pages) page = 0;
      const from = perPage > 0 ? page * perPage : 0;
      const slice = perPage > 0 ? rows.slice(from, from + perPage) : rows;
      board.update(view, slice);
      board.el.dataset.page = String(page + 1);
      board.el.dataset.pages = String(pages);
      board.el.dataset.perPage = String(perPage || rows.length);
      setText(pageEl, pages > 1 ? t('board_page', { from: from + 1, to: from + slice.length, n: rows.length }) : '');
    };
    // The first time, the rows are measured out of sight, so the board does not jump from all
    // the rows to a page of them in front of the hall.
    const first = perPage === 0;
    if (first) board.el.style.visibility = 'hidden';
    show();
    // Measured again on every render: a language, a theme or a window size changes the rows.
    const fit = fits();
    if (fit && fit !== perPage) {
      perPage = fit;
      show();
    }
    if (first) board.el.style.visibility = '';
  }

  let lastReveal = null;
  // The last step of the reveal (the first place) makes the result final at once: the screen keeps
  // it as the moment for MOMENT_MS before it shows the final board.
  const MOMENT_MS = 20000;
  let momentUntil = 0;
  let lastPhase = null;
  let momentTimer = null;
  function renderReveal() {
    const c = view.challenge;
    const last = view.reveal[view.reveal.length - 1];
    // A place revealed while the screen is open is said once; the ones before it are not.
    if (last && lastReveal !== null && last.seq !== lastReveal) announce(revealText(view, last));
    // The result turning final while the screen watches starts the moment, whether the last
    // place came in the same message or in the one before (the server sends one per event).
    const phase = c ? c.phase : null;
    if (last && phase === 'revealed' && lastPhase !== null && lastPhase !== 'revealed') {
      momentUntil = Date.now() + MOMENT_MS;
      clearTimeout(momentTimer);
      momentTimer = setTimeout(renderAll, MOMENT_MS + 50);
    }
    lastPhase = phase;
    lastReveal = last ? last.seq : 0;
    const revealing = !!last && !!revealTrack();
    revealEl.hidden = !revealing;
    boardPanel.hidden = revealing;
    if (!revealing) return;
    const track = view.tracks.find((tr) => tr.id === last.track);
    const inTrack = Object.values(view.teams).filter((tm) => tm.track === last.track);
    const shown = view.reveal.filter((e) => e.track === last.track);
    const waiting = Math.max(0, inTrack.length - shown.length);
    // The places revealed before, best first, a page at a time (fillRevealList).
    const ranked = shown
      .filter((e) => e.seq !== last.seq)
      .sort((a, b) => (a.rank ?? Infinity) - (b.rank ?? Infinity) || a.seq - b.seq);
    if (last.seq !== revealList.seq) revealList.page = 0;
    const justTeam = view.teams[last.team];
    const final = c && c.phase === 'revealed';
    const row = final ? (view.leaderboard.board.tracks.find((tb) => tb.track === last.track)?.rows || []).find((r) => r.team === last.team) : null;
    replace(
      revealEl,
      h('h2', { class: 'reveal-title' }, h('span', { i18n: 'reveal_title' }), ' · ', h('span', { class: 'data', text: track ? loc(track.name) : '' })),
      h('div', { class: 'reveal-moment', data: { team: last.team, rank: last.rank ?? '' } },
        h('div', { class: 'moment-place', text: last.rank == null ? t('reveal_unranked') : t('reveal_rank', { rank: last.rank }) }),
        h('div', { class: 'moment-name data', text: justTeam ? loc(justTeam.name) : last.team }),
        last.score == null ? null : h('div', { class: 'moment-score', text: num(last.score, 2) }),
        row && row.criteria.length ? h('ul', { class: 'moment-breakdown' }, row.criteria.map((m) => {
          const crit = view.rubric && view.rubric.criteria.find((x) => x.id === m.criterion);
          return h('li', {}, h('span', { class: 'data', text: crit ? loc(crit.name) : m.criterion }), h('strong', { text: num(m.mean, 2) }));
        })) : null),
      waiting ? h('p', { class: 'reveal-waiting', text: t('reveal_waiting_n', { n: waiting }) }) : null,
      revealList.el,
      revealList.pageEl,
    );
    Object.assign(revealList, { seq: last.seq, ranked });
    fillRevealList();
  }

  // The places revealed before the moment: as many as the space under it holds (measured from the
  // rows, like the board's pages), the pages turning every few seconds, so that a long track's
  // places are all seen in turn and none is cut at the stage's edge.
  const revealList = { el: h('ol', { class: 'reveal-list' }), pageEl: h('p', { class: 'reveal-page' }), ranked: [], page: 0, pages: 1, seq: null };
  function revealItem(e) {
    const team = view.teams[e.team];
    return h('li', { class: 'revealed', data: { team: e.team, rank: e.rank ?? '' } },
      h('span', { class: 'rank', text: e.rank == null ? '–' : String(e.rank) }),
      h('span', { class: 'name data', text: team ? loc(team.name) : e.team }),
      h('span', { class: 'place', text: e.rank == null ? t('reveal_unranked') : t('reveal_rank', { rank: e.rank }) }),
      h('span', { class: 'score', text: e.score == null ? '' : num(e.score, 2) }));
  }
  function fillRevealList() {
    const { el, pageEl, ranked } = revealList;
    replace(el, ranked.map(revealItem));
    const first = el.firstElementChild;
    const gap = parseFloat(getComputedStyle(el).rowGap) || 0;
    const per = first && first.offsetHeight ? Math.max(1, Math.floor((el.clientHeight + gap) / (first.offsetHeight + gap))) : ranked.length;
    revealList.pages = Math.max(1, Math.ceil(ranked.length / Math.max(per, 1)));
    if (revealList.page >= revealList.pages) revealList.page = 0;
    const from = revealList.page * per;
    const slice = ranked.slice(from, from + per);
    if (slice.length < ranked.length) replace(el, slice.map(revealItem));
    el.dataset.page = String(revealList.page + 1);
    el.dataset.pages = String(revealList.pages);
    setText(pageEl, revealList.pages > 1 ? t('reveal_page', { from: from + 1, to: from + slice.length, n: ranked.length }) : '');
  }

  // Posts and milestone announcements share the ticker, newest first; each keeps its element,
  // keyed `p<seq>` or `m<seq>`, so nothing already shown is rebuilt or reloaded.
  const tickerItems = new Map();
  let tickerReady = false;
  function renderTicker() {
    const entries = tickerEntries(view, TICKER_SHOWN);
    const keyOf = (e) => (e.post ? `p${e.post.id}` : `m${e.news.seq}`);
    const keep = new Set(entries.map(keyOf));
    for (const [k, el] of tickerItems) {
      if (!keep.has(k)) {
        el.remove();
        tickerItems.delete(k);
      }
    }
    entries.forEach((e, i) => {
      const k = keyOf(e);
      let el = tickerItems.get(k);
      if (!el) {
        el = e.post
          ? h('li', { class: ['post', tickerReady ? 'new' : ''], data: { post: e.post.id } })
          : h('li', { class: ['post', 'milestone-news', tickerReady ? 'new' : ''], data: { news: e.news.seq, team: e.news.team, milestone: e.news.milestone } });
        tickerItems.set(k, el);
      }
      if (e.post) buildPost(el, e.post);
      else buildNews(el, e.news);
      if (tickerList.children[i] !== el) tickerList.insertBefore(el, tickerList.children[i] || null);
    });
    tickerReady = true;
    if (!entries.length) replace(tickerList, h('li', { class: 'empty', i18n: 'no_posts' }));
    else for (const el of [...tickerList.children]) if (!el.dataset.post && !el.dataset.news) el.remove();
  }

  function buildPost(el, p) {
    const team = view.teams[p.team];
    // A post never changes: its card is built once (again only for another language), so
    // its photo is not reloaded on every update.
    const key = `${lang()}:${team ? loc(team.name) : ''}`;
    if (el.dataset.built === key) return;
    el.dataset.built = key;
    replace(
      el,
      p.photos.length ? h('img', { class: 'thumb', src: photoUrl(id, p.photos[0].sha256), alt: t('photo_alt'), loading: 'lazy' }) : null,
      h('div', { class: 'post-body' },
        h('div', { class: 'post-head' }, h('strong', { class: 'data', text: team ? loc(team.name) : p.team }), h('time', { text: clockTime(p.at) })),
        h('p', { class: 'user text', text: p.text })),
    );
  }

  // An announcement changes once, when an organizer withdraws it: then it is rebuilt, marked.
  function buildNews(el, a) {
    const line = milestoneNews(view, a);
    const key = `${lang()}:${line}:${a.withdrawn ? a.withdrawn.seq : ''}`;
    if (el.dataset.built === key) return;
    el.dataset.built = key;
    el.classList.toggle('withdrawn', !!a.withdrawn);
    replace(
      el,
      h('div', { class: 'post-body' },
        h('div', { class: 'post-head' }, h('strong', { class: 'news-line', text: line }), h('time', { text: clockTime(a.at) })),
        a.withdrawn ? h('p', { class: 'withdrawn-note', text: withdrawnText(a) }) : null),
    );
  }

  function renderCheers() {
    const rows = view.peoples_choice.slice(0, 5);
    replace(
      cheersList,
      rows.length
        ? rows.map((r) => {
          const team = view.teams[r.team];
          return h('li', { data: { team: r.team } },
            h('span', { class: 'rank', text: String(r.rank) }),
            h('span', { class: 'name data', text: team ? loc(team.name) : r.team }),
            h('span', { class: 'count', text: t('cheers_n', { n: r.cheers.toLocaleString() }) }));
        })
        : h('li', { class: 'empty', i18n: 'none_yet' }),
    );
  }

  function renderClock() {
    if (!view || !view.challenge) return;
    const c = clockAt(view.challenge);
    countdown.dataset.state = c.state;
    setText(countdown, c.state === 'setup' ? hms(c.remaining) : hms(c.remaining));
    setText(clockNoteEl, clockNote(c));
  }

  function renderAll() {
    if (!view) return;
    renderReveal();
    renderHead();
    renderBoard();
    renderTicker();
    renderCheers();
    renderClock();
  }

  live.on('view', (v, change) => {
    view = v;
    const p = change.patches;
    const all = p.has('*');
    // The reveal first: it decides which track the header and the board show (the one being
    // revealed, and the winner's for the moment after the last step).
    if (all || p.has('revealed') || p.has('challenge')) renderReveal();
    // The header marks the track being revealed: a step into the next track moves it too.
    if (all || p.has('challenge') || p.has('tracks') || p.has('revealed')) renderHead();
    if (all || p.has('leaderboard') || p.has('team') || p.has('tracks') || p.has('milestones') || p.has('challenge') || p.has('team_removed')) renderBoard();
    if (all || p.has('post') || p.has('ticker') || p.has('team')) renderTicker();
    if (all || p.has('peoples_choice') || p.has('team')) renderCheers();
    if (all || p.has('challenge')) renderClock();
    if (all || p.has('challenge')) document.title = pageTitle();
  });
  const pageTitle = () => `${view && view.challenge ? loc(view.challenge.title) : t('app_name')} · ${t('link_screen')}`;
  title(pageTitle);
  onLang(renderAll);

  if (rotateSecs > 0) {
    setInterval(() => {
      if (!view || revealTrack()) return;
      const cur = trackId();
      const pages = pagesOf(cur ? rowsOf(view, cur).length : 0);
      if (page + 1 < pages) {
        page += 1;
      } else {
        page = 0;
        if (pinned || trackIds.length < 2) {
          if (pages < 2) return;
        } else {
          current = (current + 1) % trackIds.length;
        }
      }
      renderHead();
      renderBoard();
    }, rotateSecs * 1000);
  }
  const revealPageSecs = Math.min(rotateSecs, REVEAL_PAGE_SECS);
  if (revealPageSecs > 0) {
    setInterval(() => {
      if (!view || revealEl.hidden || revealList.pages < 2) return;
      revealList.page = (revealList.page + 1) % revealList.pages;
      fillRevealList();
    }, revealPageSecs * 1000);
  }
  window.addEventListener('resize', () => {
    if (!view) return;
    renderBoard();
    if (!revealEl.hidden) fillRevealList();
  });
  everySecond(renderClock);
  syncClock();
  live.connect();
}
