// A leaderboard list that keeps one element per team and animates rank changes (FLIP: measure,
// reorder, then slide each row from where it was). Shared by the big screen, the phone, the
// embed, the replay and the admin console.

import { h, setText, replace, reducedMotion } from './dom.js';
import { t, loc, num, lang } from './i18n.js';

/** Milestone dots of a team: one per milestone, filled when reached, marked when late. */
export function milestoneDots(view, team) {
  const reached = new Map(((team && team.progress.reached) || []).map((r) => [r.milestone, r]));
  // One picture with one name ("2 of 4 reached") for a screen reader, not a dot each.
  const done = view.milestones.filter((m) => reached.has(m.id)).length;
  return h(
    'span',
    { class: 'dots', attrs: { role: 'img', 'aria-label': t('milestones_reached', { done, total: view.milestones.length }) } },
    view.milestones.map((m) => {
      const r = reached.get(m.id);
      const cls = ['dot', r ? 'on' : '', r && r.on_time === false ? 'late' : ''];
      return h('span', { class: cls, title: loc(m.name) });
    }),
  );
}

/**
 * A milestone announcement in words: "GreenBot reached Prototype · 原型" — the sentence in the
 * current language, the milestone's name in the other one after a dot, so the hall reads it in both.
 */
export function milestoneNews(view, a) {
  const team = view.teams[a.team];
  const m = view.milestones.find((x) => x.id === a.milestone);
  const name = m ? loc(m.name) : a.milestone;
  const other = m ? (lang() === 'zh' ? m.name.en : m.name.zh) : '';
  const line = t('milestone_news', { team: team ? loc(team.name) : a.team, name });
  return other && other !== name ? `${line} · ${other}` : line;
}

/** What a withdrawn announcement adds: "withdrawn", with the reason where the view carries it. */
export function withdrawnText(a) {
  if (!a.withdrawn) return '';
  return a.withdrawn.reason ? t('milestone_withdrawn_reason', { reason: a.withdrawn.reason }) : t('milestone_withdrawn');
}

/**
 * The newest `n` entries of the tickers: posts and milestone announcements together, newest first
 * (a post's id and an announcement's seq are both the seq of their event), each `{post}` or `{news}`.
 */
export function tickerEntries(view, n) {
  const posts = view.ticker;
  const news = view.announcements || [];
  const out = [];
  let i = 0;
  let j = 0;
  while (out.length < n && (i < posts.length || j < news.length)) {
    if (j >= news.length || (i < posts.length && posts[i].id > news[j].seq)) out.push({ post: posts[i++] });
    else out.push({ news: news[j++] });
  }
  return out;
}

/**
 * What a row shows for its jury score: the score once published; before that, how far its panel
 * has come ("being scored: k of n"), since the publication rule keeps the number back until the
 * panel is complete (or until the reveal).
 */
export function scoreText(view, row) {
  if (row.score != null) return num(row.score, 2);
  const final = view.challenge && view.challenge.phase === 'revealed';
  if (final || !row.judges_assigned) return t('no_score');
  return t('being_scored', { scored: row.judges_scored, assigned: row.judges_assigned });
}

/** The rows of `track` (or the overall board when `track` is null) in `view`. */
export function rowsOf(view, track) {
  const board = view.leaderboard.board;
  if (!track) return board.overall;
  const tb = board.tracks.find((b) => b.track === track);
  return tb ? tb.rows : [];
}

export class Board {
  /**
   * `opts`: `milestones` (show dots and percent), `judges` (show judges scored), `track`
   * (show each team's track), `href(team)` (rows link to a page), `extra(row, el)` (adds to a row),
   * `announce(text)` (says a team's newly published or changed score, see chrome.js).
   */
  constructor(opts = {}) {
    this.opts = opts;
    this.el = h('ol', { class: ['board', opts.compact ? 'compact' : ''] });
    this.rows = new Map();
    this.ranks = new Map();
    this.scores = new Map();
  }

  row(teamId) {
    let r = this.rows.get(teamId);
    if (r) return r;
    const rank = h('span', { class: 'rank' });
    const name = h('span', { class: 'name' });
    const sub = h('span', { class: 'sub' });
    const who = h('span', { class: 'who' }, name, sub);
    const ms = h('span', { class: 'ms' });
    const pct = h('span', { class: 'pct' });
    const bar = h('span', { class: 'bar' }, pct);
    const score = h('span', { class: 'score' });
    const judges = h('span', { class: 'judges' });
    const pending = h('span', { class: 'pending' });
    const cells = [rank, who];
    if (this.opts.milestones) cells.push(h('span', { class: 'progress' }, ms, bar));
    cells.push(h('span', { class: 'right' }, score, judges, pending));
    const tag = this.opts.href ? 'a' : 'div';
    const inner = h(tag, { class: 'inner' }, cells);
    const li = h('li', { class: 'row', data: { team: teamId } }, inner);
    const extra = h('div', { class: 'extra' });
    li.appendChild(extra);
    r = { li, inner, rank, name, sub, ms, pct, score, judges, pending, extra };
    this.rows.set(teamId, r);
    return r;
  }

  /** Shows `rows` of `view`, animating moves. */
  update(view, rows) {
    const still = reducedMotion();
    // Rows of several tracks together (the overall board): their ranks are shown, but no medal,
    // since places are awarded per track.
    this.el.classList.toggle('mixed', !!this.opts.track);
    const before = new Map();
    if (!still) for (const [id, r] of this.rows) if (r.li.isConnected) before.set(id, r.li.getBoundingClientRect().top);
    const seen = new Set();
    const frag = [];
    const pending = view.leaderboard.pending || {};
    for (const row of rows) {
      const team = view.teams[row.team];
      if (!team) continue;
      seen.add(row.team);
      const r = this.row(row.team);
      const rankText = row.rank == null ? '–' : String(row.rank);
      setText(r.rank, rankText);
      r.li.dataset.rank = row.rank == null ? '' : String(row.rank);
      r.li.dataset.score = row.score == null ? '' : String(row.score);
      r.li.classList.toggle('top', row.rank === 1);
      setText(r.name, loc(team.name));
      const track = this.opts.track ? view.tracks.find((tr) => tr.id === team.track) : null;
      setText(r.sub, track ? loc(track.name) : team.members.map((m) => m.region).filter(Boolean).join(' · '));
      setText(r.score, scoreText(view, row));
      r.score.classList.toggle('none', row.score == null);
      // Without a score the score cell already says how many judges have scored.
      if (this.opts.judges !== false) setText(r.judges, row.score == null ? '' : t('judges_n', { scored: row.judges_scored, assigned: row.judges_assigned }));
      const p = pending[row.team];
      setText(r.pending, p ? t('pending_n', { n: p }) : '');
      if (this.opts.milestones) {
        replace(r.ms, milestoneDots(view, team));
        const percent = team.progress.percent;
        r.pct.style.width = `${percent ?? 0}%`;
        r.pct.parentElement.title = percent == null ? '' : t('percent_done', { p: percent });
      }
      if (this.opts.href) r.inner.href = this.opts.href(row.team);
      if (this.opts.extra) this.opts.extra(row, r.extra, team);
      const old = this.ranks.get(row.team);
      if (old != null && row.rank != null && old !== row.rank) flash(r.li, row.rank < old ? 'up' : 'down');
      this.ranks.set(row.team, row.rank);
      // A score that is published or changes while the board is shown is said (a rank that
      // only moves because of another team's score is not: that would flood).
      const oldScore = this.scores.get(row.team);
      if (this.opts.announce && oldScore !== undefined && row.score != null && oldScore !== row.score) {
        const vars = { team: loc(team.name), score: num(row.score, 2), rank: row.rank };
        this.opts.announce(t(row.rank == null ? 'announce_score_unranked' : 'announce_score', vars));
      }
      this.scores.set(row.team, row.score);
      frag.push(r.li);
    }
    for (const [id, r] of this.rows) {
      if (!seen.has(id)) {
        r.li.remove();
        this.rows.delete(id);
        this.ranks.delete(id);
        this.scores.delete(id);
      }
    }
    // Reorder with as few moves as possible: append in order (moving an element keeps it).
    frag.forEach((li, i) => {
      if (this.el.children[i] !== li) this.el.insertBefore(li, this.el.children[i] || null);
    });
    if (!frag.length) {
      if (!this.empty) this.empty = h('li', { class: 'empty', i18n: 'no_teams' });
      this.el.appendChild(this.empty);
    } else if (this.empty) {
      this.empty.remove();
    }
    // FLIP: each row that moved starts where it was and slides into place (unless the person
    // asked for less motion: then it is simply there).
    if (still) return;
    for (const li of frag) {
      const top = before.get(li.dataset.team);
      if (top === undefined) continue;
      const dy = top - li.getBoundingClientRect().top;
      if (Math.abs(dy) < 1) continue;
      li.style.transition = 'none';
      li.style.transform = `translateY(${dy}px)`;
      requestAnimationFrame(() => {
        requestAnimationFrame(() => {
          li.style.transition = '';
          li.style.transform = '';
        });
      });
    }
  }
}

function flash(el, cls) {
  el.classList.remove('up', 'down');
  // Restart the animation even when the same class comes twice in a row.
  void el.offsetWidth;
  el.classList.add(cls);
  setTimeout(() => el.classList.remove(cls), 2500);
}
