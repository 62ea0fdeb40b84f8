// The audit tab: every scorecard revision with its reason, and the event log on request.

import { h } from '../../dom.js';
import { t, loc, when, has } from '../../i18n.js';
import { getText, errorText } from '../../api.js';
import { toast } from '../../chrome.js';

/** The audit tab of the console `ctx`. */
export function auditTab(ctx) {
  const { id, token, rerender } = ctx;
  let logLines = null;
  async function loadLog() {
    const { view } = ctx;
    try {
      const since = Math.max(0, (view ? view.seq : 0) - 200);
      const text = await getText(`/api/challenges/${encodeURIComponent(id)}/log?since=${since}`, token);
      logLines = text.split('\n').filter(Boolean).map((l) => JSON.parse(l)).reverse();
      rerender();
    } catch (err) {
      toast(errorText(err), 'error');
    }
  }

  function render() {
    const { view } = ctx;
    const rubric = view.rubric;
    const judgeName = (jid) => (view.judges[jid] ? loc(view.judges[jid].name) : jid);
    const teamName = (tid) => (view.teams[tid] ? loc(view.teams[tid].name) : tid);
    const milestoneName = (ms) => {
      const m = view.milestones.find((x) => x.id === ms);
      return m ? loc(m.name) : ms;
    };
    const scoresText = (scores) => (rubric ? rubric.criteria.map((c) => `${loc(c.name)} ${scores[c.id] ?? '–'}`).join(' · ') : '');
    return h('div', { class: 'audit-tab' },
      h('section', { class: 'card' }, h('h2', { i18n: 'scorecards_audit' }),
        view.scorecards.length ? h('table', { class: 'table audit' },
          h('tbody', {}, view.scorecards.flatMap((card) => [card.earlier ? h('tr', { class: 'old earlier' },
            h('td', { class: 'data', text: teamName(card.team) }),
            h('td', { class: 'data', text: judgeName(card.judge) }),
            h('td', { colSpan: 4, i18n: 'earlier_revisions', vars: { n: card.earlier } })) : null].concat([...card.history, card.current].map((r, i, all) =>
            h('tr', { class: i < all.length - 1 ? 'old' : 'current', data: { team: card.team, judge: card.judge, revision: r.revision } },
              h('td', { class: 'data', text: teamName(card.team) }),
              h('td', { class: 'data', text: judgeName(card.judge) }),
              h('td', { text: t('revision_n', { n: r.revision }) }),
              h('td', { text: when(r.at) }),
              h('td', { class: 'data', text: scoresText(r.scores) }),
              h('td', {}, r.comment ? h('p', { class: 'user', text: r.comment }) : null, r.reason ? h('p', { class: 'user reason', text: r.reason }) : null))))))) : h('p', { class: 'empty', i18n: 'no_scorecards' })),
      h('section', { class: 'card' }, h('h2', { i18n: 'event_log' }),
        h('button', { type: 'button', i18n: 'load_log', on: { click: loadLog } }),
        logLines ? h('table', { class: 'table log' }, h('tbody', {}, logLines.map((e) => h('tr', {},
          h('td', { text: `#${e.seq}` }),
          h('td', { text: when(e.at) }),
          h('td', { class: 'data', text: e.actor.id ? `${e.actor.role}:${e.actor.id}` : e.actor.role }),
          // Reasons (a pause, a hidden post, scoring reopened during the freeze) are the audit.
          h('td', {}, h('span', has(`ev_${e.body.type}`) ? { i18n: `ev_${e.body.type}`, data: { type: e.body.type } } : { class: 'data', text: e.body.type }),
            e.body.milestone ? h('span', { class: 'data', text: ` · ${teamName(e.body.team)} · ${milestoneName(e.body.milestone)}` }) : null,
            e.body.reason ? h('span', { class: 'data', text: ` · ${e.body.reason}` }) : null))))) : null));
  }

  return { render };
}
