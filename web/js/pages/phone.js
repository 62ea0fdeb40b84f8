// The audience's phone view (手机): the live board per track, the newest posts, the people's
// choice with cheering, and a page per team with its whole timeline from the first idea to the
// result. Moving between the board and a team keeps the one live connection.

import { h, replace, setText, safeLink } from '../dom.js';
import { t, loc, num, onLang, when } from '../i18n.js';
import { Live } from '../live.js';
import { getJSON, syncClock, photoUrl, errorText } from '../api.js';
import { clockAt, hms, clockNote, everySecond } from '../clock.js';
import { Board, rowsOf, milestoneDots, scoreText, tickerEntries, milestoneNews, withdrawnText } from '../board.js';
import { langSwitch, statusBanner, title, toast, announce } from '../chrome.js';
import { tabList, tabPanel } from '../tabs.js';

/** One post as a card: team, time, text, photos, links, percent. */
export function postCard(view, p, { teamLink } = {}) {
  const team = view.teams[p.team];
  const name = h('strong', { class: 'data', text: team ? loc(team.name) : p.team });
  return h('article', { class: ['post-card', p.hidden ? 'hidden-post' : ''], data: { post: p.id, team: p.team } },
    h('header', {}, teamLink ? h('a', { href: teamLink, class: 'team-link' }, name) : name, h('time', { text: when(p.at) })),
    p.text ? h('p', { class: 'user text', text: p.text }) : null,
    p.photos.length
      ? h('div', { class: 'photos' }, p.photos.map((ph) => h('img', { src: photoUrl(view.challenge.id, ph.sha256), alt: t('photo_alt'), loading: 'lazy', class: 'photo' })))
      : null,
    p.links.length ? h('ul', { class: 'links' }, p.links.map((l) => h('li', {}, safeLink(l)))) : null,
    p.percent != null ? h('div', { class: 'post-pct', i18n: 'percent_done', vars: { p: p.percent } }) : null,
    p.hidden ? h('div', { class: 'hidden-note', i18n: 'hidden_post' }) : null);
}

/** A milestone announcement as a card of the feed: who reached what, when, and whether it was withdrawn. */
export function newsCard(view, a, { teamLink } = {}) {
  const line = h('strong', { class: 'news-line', text: milestoneNews(view, a) });
  return h('article', { class: ['post-card', 'milestone-news', a.withdrawn ? 'withdrawn' : ''], data: { news: a.seq, team: a.team, milestone: a.milestone } },
    h('header', {}, teamLink ? h('a', { href: teamLink, class: 'team-link' }, line) : line, h('time', { text: when(a.at) })),
    a.withdrawn ? h('p', { class: 'withdrawn-note', text: withdrawnText(a) }) : null);
}

/** What the live region says of a revealed place: the team, its place and its score. */
export function revealText(view, e) {
  const team = view.teams[e.team];
  const place = e.rank == null ? t('reveal_unranked') : t('reveal_rank', { rank: e.rank });
  return t('announce_reveal', { team: team ? loc(team.name) : e.team, place: e.score == null ? place : `${place}, ${num(e.score, 2)}` });
}

/** A client-side bucket like the server's (5 a second, bursts of 10), so taps beyond it wait here. */
class Bucket {
  constructor(rate, burst) {
    this.rate = rate;
    this.burst = burst;
    this.tokens = burst;
    this.last = performance.now();
  }

  take() {
    const now = performance.now();
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) / 1000) * this.rate);
    this.last = now;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}

export async function start(root, id, teamParam) {
  const live = new Live(id);
  const base = `/phone/${encodeURIComponent(id)}`;
  const teamHref = (team) => `${base}/teams/${encodeURIComponent(team)}`;
  const bucket = new Bucket(5, 10);
  let view = null;
  let route = teamParam || null;
  let tab = 'board';
  let track = null;

  const titleEl = h('h1', { class: 'title data' });
  const phaseEl = h('span', { class: 'phase' });
  const countdown = h('span', { class: 'countdown small' });
  const clockNoteEl = h('span', { class: 'clock-note' });
  const frozenEl = h('div', { class: 'frozen-banner', hidden: true }, h('span', { i18n: 'frozen_banner' }));
  const body = h('main', { class: 'phone-body' });
  replace(
    root,
    h('div', { class: 'phone' },
      statusBanner(live),
      h('header', { class: 'phone-head' },
        h('div', { class: 'row1' }, h('a', { href: base, class: 'brand' }, h('img', { src: '/static/icon.svg', alt: '', class: 'logo' }), h('span', { i18n: 'app_name' })), langSwitch()),
        titleEl,
        h('div', { class: 'row2' }, phaseEl, countdown, clockNoteEl)),
      frozenEl,
      body),
  );

  // ---- the main view: tabs -----------------------------------------------------------------
  const board = new Board({ milestones: true, href: teamHref, compact: true, announce });
  const trackChips = h('nav', { class: 'chips', label: 'tracks' });
  const feed = h('div', { class: 'feed' });
  const cheers = h('ol', { class: 'cheer-list' });
  const reveal = h('section', { class: 'reveal compact', hidden: true });
  const tabBar = tabList({
    names: ['board', 'feed', 'cheers'],
    key: (name) => `tab_${name}`,
    label: 'page_tabs',
    panel: (name) => `panel-${name}`,
    select: (name) => {
      tab = name;
      renderMain();
    },
  });
  const panels = {
    board: h('section', { class: 'panel' }, reveal, trackChips, board.el),
    feed: h('section', { class: 'panel' }, feed),
    cheers: h('section', { class: 'panel' }, cheers),
  };
  for (const [name, el] of Object.entries(panels)) tabPanel(el, `panel-${name}`, tabBar.id(name));
  const mainView = h('div', { class: 'main-view' }, tabBar.el, panels.board, panels.feed, panels.cheers);

  function renderTabs() {
    tabBar.mark(tab);
    for (const [name, el] of Object.entries(panels)) el.hidden = name !== tab;
  }

  const cheerRows = new Map();

  function renderMain(patches = new Set(['*'])) {
    renderTabs();
    if (!view) return;
    const all = patches.has('*');
    if (track && !view.tracks.some((tr) => tr.id === track)) track = null;
    if (all || patches.has('tracks')) {
      replace(trackChips,
        h('button', { type: 'button', class: 'chip', i18n: 'all_tracks', on: { click: () => { track = null; renderMain(); } } }),
        view.tracks.map((tr) => h('button', { type: 'button', class: 'chip', text: loc(tr.name), data: { track: tr.id }, on: { click: () => { track = tr.id; renderMain(); } } })));
    }
    for (const chip of trackChips.children) chip.setAttribute('aria-pressed', String((chip.dataset.track ?? null) === track));
    board.opts.track = track === null;
    board.update(view, rowsOf(view, track));
    renderRevealPanel();
    if (all || patches.has('post') || patches.has('ticker') || patches.has('team')) {
      const entries = tickerEntries(view, view.ticker.length + (view.announcements || []).length);
      replace(feed, entries.length
        ? entries.map((e) => (e.post ? postCard(view, e.post, { teamLink: teamHref(e.post.team) }) : newsCard(view, e.news, { teamLink: teamHref(e.news.team) })))
        : h('p', { class: 'empty', i18n: 'no_posts' }));
    }
    if (all || patches.has('peoples_choice') || patches.has('team') || patches.has('team_removed')) renderCheers();
  }

  // Rows are kept (and so are their buttons) while counts change; while a person is tapping or
  // scrolling the list, and for HOLD_ORDER_MS after, they keep their places too, so a tap lands on
  // the team it was meant for. The order catches up once the person stops.
  const HOLD_ORDER_MS = 3000;
  let holdOrderUntil = 0;
  let catchUp = null;
  const holdOrder = () => {
    holdOrderUntil = Date.now() + HOLD_ORDER_MS;
    clearTimeout(catchUp);
    catchUp = setTimeout(() => view && renderCheers(), HOLD_ORDER_MS + 50);
  };
  for (const ev of ['pointerdown', 'touchstart', 'wheel', 'keydown', 'focusin']) {
    cheers.addEventListener(ev, holdOrder, { passive: true });
  }

  function renderCheers() {
    const held = Date.now() < holdOrderUntil;
    const seen = new Set();
    view.peoples_choice.forEach((r, i) => {
      const team = view.teams[r.team];
      let row = cheerRows.get(r.team);
      if (!row) {
        row = { rank: h('span', { class: 'rank' }), name: h('a', { class: 'name data', href: teamHref(r.team) }), count: h('span', { class: 'count' }), button: cheerButton(r.team, true) };
        row.li = h('li', { data: { team: r.team } }, row.rank, row.name, row.count, row.button);
        cheerRows.set(r.team, row);
      }
      seen.add(r.team);
      setText(row.rank, String(r.rank));
      setText(row.name, team ? loc(team.name) : r.team);
      // Every row's button says "Cheer": its name says for whom.
      row.button.setAttribute('aria-label', t('cheer_for', { team: team ? loc(team.name) : r.team }));
      setText(row.count, t('cheers_n', { n: r.cheers.toLocaleString() }));
      if (held) {
        if (!row.li.isConnected) cheers.appendChild(row.li);
      } else if (cheers.children[i] !== row.li) {
        cheers.insertBefore(row.li, cheers.children[i] || null);
      }
    });
    for (const [team, row] of cheerRows) {
      if (!seen.has(team)) {
        row.li.remove();
        cheerRows.delete(team);
      }
    }
  }

  let lastReveal = null;
  function renderRevealPanel() {
    const c = view.challenge;
    const last = view.reveal[view.reveal.length - 1];
    // A place revealed while the page is open is said once; the ones before it are not.
    if (last && lastReveal !== null && last.seq !== lastReveal) announce(revealText(view, last));
    lastReveal = last ? last.seq : 0;
    const revealing = c && c.phase === 'frozen' && !!last;
    reveal.hidden = !revealing;
    // During the reveal the frozen board (ranked as it was published at the freeze) would say
    // otherwise than the places being revealed: the places revealed so far stand in its stead.
    board.el.hidden = revealing;
    if (!revealing) return;
    const tr = view.tracks.find((x) => x.id === last.track);
    const team = view.teams[last.team];
    replace(reveal,
      h('h2', {}, h('span', { i18n: 'reveal_title' }), ' · ', h('span', { class: 'data', text: tr ? loc(tr.name) : '' })),
      h('p', { class: 'just', data: { team: last.team, rank: last.rank ?? '' } },
        h('strong', { class: 'data', text: team ? loc(team.name) : last.team }), ' ',
        h('span', { text: last.rank == null ? t('reveal_unranked') : t('reveal_rank', { rank: last.rank }) }),
        last.score == null ? null : h('span', { class: 'score', text: ` ${num(last.score, 2)}` })),
      h('ol', { class: 'reveal-so-far' }, view.reveal
        .filter((e) => e.track === last.track)
        .sort((a, b) => (a.rank ?? Infinity) - (b.rank ?? Infinity) || a.seq - b.seq)
        .map((e) => h('li', { data: { team: e.team, rank: e.rank ?? '' } },
          h('span', { class: 'rank', text: e.rank == null ? '–' : String(e.rank) }), ' ',
          h('span', { class: 'data', text: view.teams[e.team] ? loc(view.teams[e.team].name) : e.team }),
          e.score == null ? null : h('span', { class: 'score', text: ` ${num(e.score, 2)}` })))));
  }

  // ---- cheering ------------------------------------------------------------------------------
  const myCheers = (team) => Number(localStorage.getItem(`mp.cheers.${id}.${team}`) || 0);
  // The team page's big button survives re-renders, so a tap in progress and its "+1" are kept.
  const bigButtons = new Map();
  function bigCheerButton(team) {
    if (!bigButtons.has(team)) bigButtons.set(team, cheerButton(team, false));
    return bigButtons.get(team);
  }
  function cheerButton(team, small) {
    const btn = h('button', {
      type: 'button',
      class: ['cheer', small ? 'small' : ''],
      data: { team },
      on: {
        click: async () => {
          if (!bucket.take()) {
            toast(t('cheer_slow'), 'error', 1500);
            return;
          }
          const bubble = h('span', { class: 'plus', text: '+1' });
          btn.appendChild(bubble);
          setTimeout(() => bubble.remove(), 900);
          try {
            await live.command({ type: 'cheer', team });
            localStorage.setItem(`mp.cheers.${id}.${team}`, String(myCheers(team) + 1));
            if (!small) renderTeam();
          } catch (err) {
            if (err.code === 'rate_limited') toast(t('cheer_slow'), 'error', 1500);
            else if (err.code === 'wrong_phase') toast(t('cheer_closed'), 'error');
            else if (err.offline) toast(t('reconnecting'), 'error', 1500);
            else toast(errorText(err), 'error');
          }
        },
      },
    }, h('span', { class: 'heart', text: '♥', attrs: { 'aria-hidden': 'true' } }), h('span', { i18n: 'cheer' }));
    return btn;
  }

  // ---- a team's page -------------------------------------------------------------------------
  const teamView = h('div', { class: 'team-page' });
  let timeline = null;
  let timelineFor = null;

  async function loadTimeline(team) {
    timelineFor = team;
    try {
      const posts = await getJSON(`/api/challenges/${encodeURIComponent(id)}/teams/${encodeURIComponent(team)}/timeline`);
      if (timelineFor === team) {
        timeline = posts;
        renderTeam();
      }
    } catch {
      if (timelineFor === team) setTimeout(() => route === team && loadTimeline(team), 5000);
    }
  }

  function renderTeam() {
    if (!view) return;
    const team = view.teams[route];
    if (!team) {
      replace(teamView, h('a', { href: base, class: 'back', i18n: 'back' }), h('p', { class: 'empty', i18n: 'no_teams' }));
      return;
    }
    const tr = view.tracks.find((x) => x.id === team.track);
    const pc = view.peoples_choice.find((r) => r.team === team.id);
    const row = rowsOf(view, team.track).find((r) => r.team === team.id);
    const revealed = view.reveal.find((e) => e.team === team.id);
    const final = view.challenge && view.challenge.phase === 'revealed';
    const reachedBy = new Map(team.progress.reached.map((r) => [r.milestone, r]));
    // The whole story in time order: the start, each milestone, each post.
    const items = [];
    const c = view.challenge;
    if (c && c.clock.started_at) items.push({ at: c.clock.started_at, el: h('div', { class: 'tl-event' }, h('span', { i18n: 'started_idea' })) });
    for (const r of team.progress.reached) {
      const m = view.milestones.find((x) => x.id === r.milestone);
      items.push({
        at: r.at,
        el: h('div', { class: ['tl-event', 'milestone', r.on_time === false ? 'late' : ''] },
          h('span', { text: t('milestone_reached', { name: m ? loc(m.name) : r.milestone }) }),
          r.on_time == null ? null : h('span', { class: 'tag', i18n: r.on_time ? 'on_time' : 'late' }),
          r.note ? h('p', { class: 'user text', text: r.note }) : null),
      });
    }
    for (const p of timeline || []) items.push({ at: p.at, el: postCard(view, p) });
    items.sort((a, b) => Date.parse(b.at) - Date.parse(a.at));
    replace(teamView,
      h('a', { href: base, class: 'back', i18n: 'back', on: { click: (ev) => { ev.preventDefault(); go(null); } } }),
      h('header', { class: 'team-head' },
        h('h2', { class: 'data', text: loc(team.name) }),
        h('div', { class: 'sub data', text: tr ? loc(tr.name) : '' }),
        loc(team.description) ? h('p', { class: 'data', text: loc(team.description) }) : null),
      (final || revealed) && revealed
        ? h('p', { class: 'result', text: revealed.rank == null ? t('reveal_unranked') : t('team_result', { rank: revealed.rank, score: num(revealed.score ?? 0, 2) }) })
        : null,
      h('section', { class: 'team-stats' },
        h('div', { class: 'stat' }, h('span', { class: 'label', i18n: 'score' }), h('strong', { text: row ? scoreText(view, row) : t('no_score') }),
          row ? h('span', { class: 'sub', text: t('judges_n', { scored: row.judges_scored, assigned: row.judges_assigned }) }) : null),
        h('div', { class: 'stat' }, h('span', { class: 'label', i18n: 'peoples_choice' }), h('strong', { text: t('cheers_n', { n: (pc ? pc.cheers : 0).toLocaleString() }) }),
          h('span', { class: 'sub', text: t('my_cheers', { n: myCheers(team.id) }) }))),
      bigCheerButton(team.id),
      h('section', { class: 'milestones' },
        h('h3', { i18n: 'milestones' }),
        milestoneDots(view, team),
        h('ol', { class: 'steps' }, view.milestones.map((m) => {
          const r = reachedBy.get(m.id);
          return h('li', { class: [r ? 'done' : '', r && r.on_time === false ? 'late' : ''] },
            h('span', { class: 'data', text: loc(m.name) }),
            h('span', { class: 'when', text: r ? when(r.at) : m.due_offset_secs != null ? t('due_at', { h: Math.round(m.due_offset_secs / 360) / 10 }) : '' }));
        })),
        team.progress.percent != null ? h('div', { class: 'bar big' }, h('span', { class: 'pct', data: { p: team.progress.percent } })) : null),
      team.members.length
        ? h('section', { class: 'members' }, h('h3', { i18n: 'members' }),
          h('ul', {}, team.members.map((m) => h('li', {}, h('span', { class: 'user', text: m.name }), ' · ', h('span', { i18n: `discipline_${m.discipline}` }), m.region ? ' · ' : null, m.region ? h('span', { class: 'user', text: m.region }) : null))))
        : null,
      h('section', { class: 'timeline' }, h('h3', { i18n: 'timeline' }), timeline === null ? h('p', { class: 'empty', i18n: 'loading' }) : items.map((i) => i.el)));
    for (const el of teamView.querySelectorAll('.pct[data-p]')) el.style.width = `${el.dataset.p}%`;
  }

  // ---- routing -------------------------------------------------------------------------------
  function go(team, push = true) {
    route = team;
    if (push) history.pushState(null, '', team ? teamHref(team) : base);
    if (!team) replace(body);
    render();
    window.scrollTo(0, 0);
  }

  function render() {
    if (route) {
      replace(body, teamView);
      if (timelineFor !== route) {
        timeline = null;
        loadTimeline(route);
      }
      renderTeam();
    } else {
      timelineFor = null;
      if (body.firstChild !== mainView) replace(body, mainView);
      renderMain();
    }
  }

  board.el.addEventListener('click', (ev) => {
    const a = ev.target.closest('a.inner');
    if (!a) return;
    ev.preventDefault();
    go(a.closest('li').dataset.team);
  });
  window.addEventListener('popstate', () => {
    const m = /\/teams\/([^/]+)\/?$/.exec(location.pathname);
    go(m ? decodeURIComponent(m[1]) : null, false);
  });

  function renderHead() {
    const c = view.challenge;
    setText(titleEl, c ? loc(c.title) : '');
    if (c) {
      phaseEl.className = `phase ${c.phase}`;
      setText(phaseEl, t(`phase_${c.phase}`));
    }
    frozenEl.hidden = !view.leaderboard.frozen;
  }

  function renderClock() {
    if (!view || !view.challenge) return;
    const c = clockAt(view.challenge);
    countdown.dataset.state = c.state;
    setText(countdown, hms(c.remaining));
    setText(clockNoteEl, clockNote(c));
  }

  live.on('view', (v, change) => {
    view = v;
    renderHead();
    renderClock();
    if (route && change.delta) {
      for (const p of change.delta.patches) {
        if (p.type === 'post' && p.post.team === route && timeline && !timeline.some((x) => x.id === p.post.id)) timeline.push(p.post);
        if (p.type === 'ticker_hidden' || p.type === 'ticker_removed') loadTimeline(route);
      }
    }
    if (change.snapshot && route) loadTimeline(route);
    const teamPatches = ['*', 'team', 'team_removed', 'tracks', 'milestones', 'leaderboard', 'peoples_choice', 'revealed', 'challenge', 'post', 'ticker'];
    if (route) {
      if (teamPatches.some((k) => change.patches.has(k))) render();
    } else {
      renderMain(change.patches);
    }
    if (change.snapshot || change.patches.has('challenge')) refreshTitle();
  });
  const refreshTitle = title(() => `${view && view.challenge ? loc(view.challenge.title) : t('app_name')} · ${t('link_phone')}`);
  onLang(() => {
    if (view) {
      renderHead();
      renderClock();
      render();
    }
  });
  render();
  everySecond(renderClock);
  syncClock();
  live.connect();
}
