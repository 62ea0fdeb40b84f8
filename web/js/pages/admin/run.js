// The run tab: the clock (start, pause, resume, end building), scoring (open, close, freeze,
// reveal step by step) and the links and QR code of the public pages.

import { h, setText } from '../../dom.js';
import { t, loc, num } from '../../i18n.js';
import { clockAt, hms, clockNote } from '../../clock.js';
import { qrSvg } from '../../qr.js';
import { toast, confirmButton } from '../../chrome.js';
import { getJSON, errorText } from '../../api.js';
import { input } from './forms.js';
import { sheets } from './sheets.js';

/** The run tab of the console `ctx`; `tick` redraws the countdown (every second). */
export function runTab(ctx) {
  const { id, send } = ctx;
  const countdown = h('div', { class: 'countdown' });
  const clockNoteEl = h('div', { class: 'clock-note' });
  const { linkSheet, resultSheet } = sheets(ctx);
  function render() {
    const { view } = ctx;
    const c = view.challenge;
    if (!c) return h('p', { class: 'empty', i18n: 'loading' });
    const pauseReason = input({ ph: 'pause_reason_ph', maxLength: 500, name: 'pause_reason' });
    const clk = clockAt(c);
    const total = Object.keys(view.teams).length;
    const links = [
      ['link_screen', `/screen/${encodeURIComponent(id)}`],
      ['link_phone', `/phone/${encodeURIComponent(id)}`],
      ['link_replay', `/replay/${encodeURIComponent(id)}`],
      ['link_embed', `/embed/${encodeURIComponent(id)}`],
    ];
    return h('div', { class: 'run' },
      h('section', { class: 'card clock-card' }, h('h2', { i18n: 'clock' }), countdown, clockNoteEl,
        h('div', { class: 'actions' },
          c.phase === 'setup' ? confirmButton('start_clock', () => send({ type: 'start_challenge' }), 'primary') : null,
          c.phase === 'running' && clk.state !== 'paused' ? h('span', { class: 'inline' }, pauseReason, h('button', { type: 'button', i18n: 'pause_clock', on: { click: () => send({ type: 'pause_clock', reason: pauseReason.value.trim() }) } })) : null,
          c.phase === 'running' && clk.state === 'paused' ? h('button', { type: 'button', class: 'primary', i18n: 'resume_clock', on: { click: () => send({ type: 'resume_clock' }) } }) : null,
          c.phase === 'running' ? confirmButton('end_building', () => send({ type: 'end_building' })) : null)),
      h('section', { class: 'card' }, h('h2', { i18n: 'scoring' }),
        h('p', { class: c.scoring_open ? 'ok' : 'muted', i18n: c.scoring_open ? 'scoring_open_now' : 'scoring_closed_now' }),
        h('p', { class: view.ranking.publication === 'live' ? 'warn' : 'muted', text: t('publication_now', { rule: t(`pub_${view.ranking.publication || 'on_complete'}`) }) }),
        h('div', { class: 'actions' },
          !c.scoring_open && c.phase !== 'revealed' && !view.reveal.length ? openScoring(c) : null,
          c.scoring_open ? guardedButton('close_scoring', { type: 'close_scoring' }) : null,
          c.phase === 'judging' ? guardedButton('freeze', { type: 'freeze' }) : null,
          c.phase === 'frozen' && !view.reveal.length ? guardedButton('reveal_next', { type: 'reveal_next' }, 'primary') : null,
          c.phase === 'frozen' && view.reveal.length ? confirmButton('reveal_next', () => send({ type: 'reveal_next' }), 'primary') : null),
        outstandingCard(view),
        c.phase === 'frozen' || c.phase === 'revealed' ? h('p', { text: t('revealed_n', { n: view.reveal.length, total }) }) : null,
        view.reveal.length ? h('ol', { class: 'reveal-log' }, view.reveal.map((e) => {
          const team = view.teams[e.team];
          return h('li', {}, h('span', { class: 'data', text: team ? loc(team.name) : e.team }), ' · ',
            h('span', { text: e.rank == null ? t('reveal_unranked') : t('reveal_rank', { rank: e.rank }) }),
            e.score == null ? null : h('span', { text: ` · ${num(e.score, 2)}` }));
        })) : null),
      h('section', { class: 'card' }, h('h2', { i18n: 'pages' }),
        h('ul', { class: 'page-links' }, links.map(([key, href]) => h('li', {}, h('a', { href, target: '_blank', rel: 'noopener', i18n: key })))),
        h('div', { class: 'qr-box' }, qrSvg(`${location.origin}/phone/${encodeURIComponent(id)}`, t('link_phone')), h('span', { i18n: 'scan_to_follow' }))),
      resultSheet(),
      linkSheet());
  }

  // The guard before each step that settles the result (closing scoring, freezing, the first
  // reveal): the scorecards the jury still owes are fetched when the button is confirmed; if any
  // are missing, they are listed by judge and by team and the step waits for an explicit
  // "go ahead anyway". Kept here, across the redraws every event causes.
  let guarded = null;
  async function checkThen(key, command) {
    try {
      const owed = await getJSON(`/api/challenges/${encodeURIComponent(id)}/outstanding`, ctx.token);
      if (!owed.by_judge.length && !owed.without_panel.length) {
        guarded = null;
        await send(command);
      } else {
        guarded = { key, command, owed, accepted: false };
      }
    } catch (err) {
      toast(errorText(err), 'error');
    }
    ctx.rerender();
    // The list opens under the button, below the fold on a phone: brought into view, or the
    // organizer sees nothing happen.
    if (guarded) document.querySelector('.outstanding')?.scrollIntoView({ block: 'start' });
  }
  function guardedButton(key, command, cls) {
    return confirmButton(key, () => checkThen(key, command), cls);
  }
  function outstandingCard(view) {
    if (!guarded) return null;
    const { key, command, owed } = guarded;
    const judgeName = (j) => (view.judges[j] ? loc(view.judges[j].name) : j);
    const teamName = (team) => (view.teams[team] ? loc(view.teams[team].name) : team);
    const listOf = (ids, name) => ids.map(name).join(t('list_sep'));
    const agree = h('input', { type: 'checkbox', name: 'accept_outstanding' });
    agree.checked = guarded.accepted;
    const go = h('button', { type: 'button', class: 'danger', i18n: `${key}_anyway` });
    go.disabled = !guarded.accepted;
    agree.addEventListener('change', () => {
      guarded.accepted = agree.checked;
      go.disabled = !agree.checked;
    });
    go.addEventListener('click', async () => {
      guarded = null;
      await send(command);
      ctx.rerender();
    });
    const cancel = h('button', { type: 'button', i18n: 'cancel', on: { click: () => { guarded = null; ctx.rerender(); } } });
    return h('section', { class: 'card outstanding', role: 'alert' },
      h('h2', { i18n: 'outstanding_title' }),
      h('p', { text: t('outstanding_summary', { missing: num(owed.expected - owed.complete, 0), n: num(owed.expected, 0) }) }),
      owed.by_judge.length ? h('h3', { i18n: 'outstanding_by_judge' }) : null,
      owed.by_judge.length ? h('ul', { class: 'outstanding-judges' }, owed.by_judge.map((o) => h('li', { data: { judge: o.judge } },
        h('strong', { text: judgeName(o.judge) }), ' ',
        o.missing.length ? h('span', { text: t('outstanding_missing', { teams: listOf(o.missing, teamName) }) }) : null, ' ',
        o.incomplete.length ? h('span', { text: t('outstanding_incomplete', { teams: listOf(o.incomplete, teamName) }) }) : null))) : null,
      owed.by_team.length ? h('h3', { i18n: 'outstanding_by_team' }) : null,
      owed.by_team.length ? h('ul', { class: 'outstanding-teams' }, owed.by_team.map((o) => h('li', { data: { team: o.team } },
        h('strong', { text: teamName(o.team) }), ' ',
        h('span', { text: t('outstanding_waits', { judges: listOf([...o.missing, ...o.incomplete], judgeName) }) })))) : null,
      owed.without_panel.length ? h('p', { class: 'outstanding-unjudged', text: t('outstanding_no_panel', { teams: listOf(owed.without_panel, teamName) }) }) : null,
      h('label', { class: 'check' }, agree, h('span', { i18n: 'outstanding_accept' })),
      h('div', { class: 'actions' }, go, cancel));
  }

  /** Opening scoring; once the board is frozen, reopening needs a reason for the audit trail. */
  function openScoring(c) {
    const button = h('button', { type: 'button', class: 'primary', i18n: 'open_scoring' });
    if (c.phase !== 'frozen') {
      button.addEventListener('click', () => send({ type: 'open_scoring' }));
      return button;
    }
    const reason = h('input', { type: 'text', class: 'reopen-reason', maxlength: 500, ph: 'reopen_reason_ph', attrs: { 'aria-label': t('reopen_reason_ph') } });
    button.addEventListener('click', () => {
      if (!reason.value.trim()) {
        toast(t('reopen_needs_reason'), 'error');
        reason.focus();
        return;
      }
      send({ type: 'open_scoring', reason: reason.value.trim() });
    });
    return h('span', { class: 'inline' }, reason, button);
  }

  function renderClock() {
    const { view } = ctx;
    if (!view || !view.challenge) return;
    const c = clockAt(view.challenge);
    countdown.dataset.state = c.state;
    setText(countdown, hms(c.remaining));
    setText(clockNoteEl, clockNote(c));
  }

  return { render, tick: renderClock };
}
