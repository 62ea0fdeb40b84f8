// The run tab: the clock (start, pause, resume, end building), scoring (open, close, freeze,
// reveal step by step) and the links and QR code of the public pages.

import { h, setText } from '../../dom.js';
import { t, loc, num } from '../../i18n.js';
import { clockAt, hms, clockNote } from '../../clock.js';
import { qrSvg } from '../../qr.js';
import { toast, confirmButton } from '../../chrome.js';
import { input } from './forms.js';

/** The run tab of the console `ctx`; `tick` redraws the countdown (every second). */
export function runTab(ctx) {
  const { id, send } = ctx;
  const countdown = h('div', { class: 'countdown' });
  const clockNoteEl = h('div', { class: 'clock-note' });
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
          c.scoring_open ? confirmButton('close_scoring', () => send({ type: 'close_scoring' })) : null,
          c.phase === 'judging' ? confirmButton('freeze', () => send({ type: 'freeze' })) : null,
          c.phase === 'frozen' ? confirmButton('reveal_next', () => send({ type: 'reveal_next' }), 'primary') : null),
        c.phase === 'frozen' || c.phase === 'revealed' ? h('p', { text: t('revealed_n', { n: view.reveal.length, total }) }) : null,
        view.reveal.length ? h('ol', { class: 'reveal-log' }, view.reveal.map((e) => {
          const team = view.teams[e.team];
          return h('li', {}, h('span', { class: 'data', text: team ? loc(team.name) : e.team }), ' · ',
            h('span', { text: e.rank == null ? t('reveal_unranked') : t('reveal_rank', { rank: e.rank }) }),
            e.score == null ? null : h('span', { text: ` · ${num(e.score, 2)}` }));
        })) : null),
      h('section', { class: 'card' }, h('h2', { i18n: 'pages' }),
        h('ul', { class: 'page-links' }, links.map(([key, href]) => h('li', {}, h('a', { href, target: '_blank', rel: 'noopener', i18n: key })))),
        h('div', { class: 'qr-box' }, qrSvg(`${location.origin}/phone/${encodeURIComponent(id)}`, t('link_phone')), h('span', { i18n: 'scan_to_follow' }))));
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
