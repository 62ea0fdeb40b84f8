// The replay (回放): scrub through the 72 hours and see the boards, the posts and the people's
// choice as they were at any moment, read from `view?at=SEQ` (the audience's view then) with the
// moments from `/times`. `?at=SEQ` in the address opens a moment directly.

import { h, replace, setText } from '../dom.js';
import { t, loc, num, onLang, when } from '../i18n.js';
import { getJSON } from '../api.js';
import { clockAt, hms, clockNote } from '../clock.js';
import { Board, rowsOf, tickerEntries } from '../board.js';
import { langSwitch, title } from '../chrome.js';
import { postCard, newsCard } from './phone.js';

export async function start(root, id) {
  const base = `/api/challenges/${encodeURIComponent(id)}`;
  let marks = [];
  let view = null;
  let shownAt = null;
  let seq = null;
  let playing = null;
  const boards = new Map();
  // Play runs the whole challenge in about a minute at ×1, whatever its length; a tick every
  // TICK_MS moves the time on and waits for the moment it reached to be shown.
  const TICK_MS = 250;
  const PLAY_SECS = 60;
  const SPEEDS = [0.5, 1, 2, 4, 8];

  const titleEl = h('h1', { class: 'title data' });
  const slider = h('input', { type: 'range', min: 0, max: 1000, step: 1, value: 1000, class: 'scrub', name: 'at', label: 'replay_slider' });
  const atEl = h('strong', { class: 'at' });
  const seqEl = h('span', { class: 'muted' });
  const countdown = h('span', { class: 'countdown small' });
  const clockNoteEl = h('span', { class: 'clock-note' });
  const playBtn = h('button', { type: 'button', i18n: 'play' });
  const speedSel = h('select', { name: 'speed', class: 'speed' },
    SPEEDS.map((x) => h('option', { value: String(x), text: `×${x}`, selected: x === 1 })));
  const boardsEl = h('div', { class: 'replay-boards' });
  const postsEl = h('div', { class: 'feed' });
  const cheersEl = h('ol', { class: 'cheers' });
  const revealEl = h('ol', { class: 'reveal-log' });
  const body = h('main', { class: 'replay-body' },
    h('section', { class: 'replay-main' }, boardsEl, revealEl),
    h('div', { class: 'replay-side' }, h('h3', { i18n: 'peoples_choice' }), cheersEl, h('h3', { i18n: 'ticker' }), postsEl));

  replace(root, h('div', { class: 'replay' },
    h('header', { class: 'console-head' },
      h('div', { class: 'row1' }, h('a', { class: 'brand', href: '/' }, h('img', { src: '/static/icon.svg', alt: '', class: 'logo' }), h('span', { i18n: 'replay' })), langSwitch()),
      titleEl,
      h('div', { class: 'scrubber' },
        h('button', { type: 'button', text: '◀', class: 'step', label: 'step_back', data: { step: -1 }, on: { click: () => step(-1) } }),
        slider,
        h('button', { type: 'button', text: '▶', class: 'step', label: 'step_forward', data: { step: 1 }, on: { click: () => step(1) } }),
        playBtn,
        h('label', { class: 'speed-label' }, h('span', { i18n: 'replay_speed' }), speedSel),
        h('button', { type: 'button', i18n: 'replay_live', on: { click: () => { stop(); slider.value = slider.max; scrub(); } } })),
      h('div', { class: 'row2' }, atEl, seqEl, countdown, clockNoteEl)),
    body));

  const first = () => Date.parse(marks[0].at);
  const last = () => Date.parse(marks[marks.length - 1].at);
  const timeOf = () => Math.round(first() + ((last() - first()) * Number(slider.value)) / Number(slider.max));

  /** The last moment at or before `ms`. */
  function markAt(ms) {
    let lo = 0;
    let hi = marks.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (Date.parse(marks[mid].at) <= ms) lo = mid;
      else hi = mid - 1;
    }
    return marks[lo];
  }

  /** Puts the slider where the time `ms` is. */
  function placeSlider(ms) {
    const span = last() - first();
    slider.value = String(span > 0 ? Math.round(((ms - first()) / span) * Number(slider.max)) : slider.max);
  }

  let timer = null;
  function scrub() {
    if (!marks.length) return;
    const ms = timeOf();
    const m = markAt(ms);
    shownAt = ms;
    clearTimeout(timer);
    timer = setTimeout(() => load(m.seq), 120);
    renderTime();
  }

  /** Moves to the previous or next moment of the log (`d` = -1 or 1), its time with it. */
  async function step(d) {
    stop();
    if (!marks.length) return;
    const target = seq == null
      ? marks[marks.length - 1]
      : d < 0
        ? marks.findLast((m) => m.seq < seq) ?? marks[0]
        : marks.find((m) => m.seq > seq) ?? marks[marks.length - 1];
    shownAt = Date.parse(target.at);
    placeSlider(shownAt);
    await load(target.seq);
  }

  let loading = 0;
  async function load(at) {
    const ticket = ++loading;
    try {
      const v = await getJSON(`${base}/view?at=${at}`);
      if (ticket !== loading) return;
      view = v;
      seq = at;
      history.replaceState(null, '', `${location.pathname}?at=${at}`);
      render();
    } catch {
      // A moment past a log that was cut: keep showing the last one.
    }
  }

  function renderTime() {
    setText(seqEl, seq == null ? '' : t('seq_n', { n: seq }));
    if (!view || !view.challenge) return;
    const now = shownAt ?? Date.now();
    const c = clockAt(view.challenge, now);
    atEl.dataset.ms = String(Math.round(now));
    setText(atEl, `${when(new Date(now).toISOString())} · ${t('replay_at', { t: hms(c.elapsed) })}`);
    // The slider says the moment it stands at, not a number out of a thousand.
    slider.setAttribute('aria-valuetext', atEl.textContent);
    countdown.dataset.state = c.state;
    setText(countdown, hms(c.remaining));
    setText(clockNoteEl, clockNote(c));
  }

  function render() {
    if (!view) return;
    setText(titleEl, view.challenge ? loc(view.challenge.title) : '');
    renderTime();
    const keep = new Set();
    for (const tr of view.tracks) {
      keep.add(tr.id);
      let b = boards.get(tr.id);
      if (!b) {
        b = { board: new Board({ milestones: true, compact: true }), title: h('h2', { class: 'data' }) };
        b.el = h('section', { class: 'card replay-board' }, b.title, b.board.el);
        boards.set(tr.id, b);
      }
      setText(b.title, loc(tr.name));
      b.board.update(view, rowsOf(view, tr.id));
    }
    for (const [tid, b] of boards) if (!keep.has(tid)) boards.delete(tid);
    replace(boardsEl, view.leaderboard.frozen ? h('p', { class: 'frozen-banner', i18n: 'frozen_banner' }) : null, view.tracks.map((tr) => boards.get(tr.id).el));
    replace(revealEl, view.reveal.map((e) => {
      const team = view.teams[e.team];
      return h('li', {}, h('span', { class: 'data', text: team ? loc(team.name) : e.team }), ' · ',
        h('span', { text: e.rank == null ? t('reveal_unranked') : t('reveal_rank', { rank: e.rank }) }),
        e.score == null ? null : h('span', { text: ` · ${num(e.score, 2)}` }));
    }));
    replace(cheersEl, view.peoples_choice.slice(0, 10).map((r) => h('li', {},
      h('span', { class: 'rank', text: String(r.rank) }),
      h('span', { class: 'name data', text: view.teams[r.team] ? loc(view.teams[r.team].name) : r.team }),
      h('span', { class: 'count', text: t('cheers_n', { n: r.cheers }) }))));
    // Posts and the milestones reached, as the tickers showed them then.
    const entries = tickerEntries(view, 10);
    replace(postsEl, entries.length ? entries.map((e) => (e.post ? postCard(view, e.post) : newsCard(view, e.news))) : h('p', { class: 'empty', i18n: 'no_posts' }));
  }

  function stop() {
    playing = null;
    playBtn.dataset.i18n = 'play';
    playBtn.textContent = t('play');
  }

  /** Plays from the time shown to the end, one tick at a time; each tick shows its moment before
   * the next one starts, so a slow network slows the play down instead of skipping it. */
  async function play(run) {
    let now = shownAt ?? first();
    while (playing === run) {
      const span = Math.max(last() - first(), 1000);
      // Whole milliseconds, as the label shows them: a moment at 233 ms is reached at 233, not
      // at 232.7 (labelled 233 and still showing the moment before).
      now = Math.min(last(), Math.round(now + (span / ((PLAY_SECS * 1000) / TICK_MS)) * Number(speedSel.value)));
      shownAt = now;
      placeSlider(now);
      const m = markAt(now);
      clearTimeout(timer);
      if (m.seq !== seq) await load(m.seq);
      else renderTime();
      if (playing !== run) return;
      if (now >= last()) {
        stop();
        return;
      }
      await new Promise((resolve) => setTimeout(resolve, TICK_MS));
    }
  }

  playBtn.addEventListener('click', () => {
    if (playing) {
      stop();
      return;
    }
    if ((shownAt ?? last()) >= last()) shownAt = first();
    playBtn.dataset.i18n = 'pause';
    playBtn.textContent = t('pause');
    const run = {};
    playing = run;
    play(run);
  });
  slider.addEventListener('input', () => {
    stop();
    scrub();
  });

  title(() => `${view && view.challenge ? loc(view.challenge.title) : t('app_name')} · ${t('replay')}`);
  onLang(render);

  try {
    // A moment a minute; a short challenge (a demo, a rehearsal) a moment a second.
    marks = await getJSON(`${base}/times`);
    if (marks.length < 200) marks = await getJSON(`${base}/times?every=1`);
  } catch {
    replace(body, h('p', { class: 'empty', i18n: 'not_found' }));
    return;
  }
  if (!marks.length) {
    replace(body, h('p', { class: 'empty', i18n: 'replay_empty' }));
    return;
  }
  const wanted = Number(new URLSearchParams(location.search).get('at'));
  if (wanted > 0) {
    const m = marks.find((x) => x.seq >= wanted) || marks[marks.length - 1];
    shownAt = Date.parse(m.at);
    placeSlider(shownAt);
    await load(Math.min(wanted, marks[marks.length - 1].seq));
  } else {
    scrub();
  }
}
