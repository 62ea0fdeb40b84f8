// The scores tab: the board with every contribution, as only the organizers see it.

import { h } from '../../dom.js';
import { t, loc, num } from '../../i18n.js';
import { rowsOf } from '../../board.js';

/** The scores tab of the console `ctx`. */
export function scoresTab(ctx) {
  function render() {
    const { view } = ctx;
    const lb = view.leaderboard;
    const judgeName = (jid) => (view.judges[jid] ? loc(view.judges[jid].name) : jid);
    const critName = (cid) => {
      const c = view.rubric && view.rubric.criteria.find((x) => x.id === cid);
      return c ? loc(c.name) : cid;
    };
    return h('div', { class: 'scores-tab' },
      lb.frozen ? h('p', { class: 'frozen-banner', i18n: 'frozen_banner' }) : null,
      view.tracks.map((tr) => h('section', { class: 'card' },
        h('h2', { class: 'data', text: loc(tr.name) }),
        h('table', { class: 'table scores' },
          h('thead', {}, h('tr', {}, h('th', { i18n: 'rank' }), h('th', { i18n: 'team' }), h('th', { i18n: 'score' }), h('th', { i18n: 'breakdown' }))),
          h('tbody', {}, rowsOf(view, tr.id).map((row) => {
            const team = view.teams[row.team];
            return h('tr', { data: { team: row.team } },
              h('td', { class: 'rank', text: row.rank == null ? '–' : String(row.rank) }),
              h('td', {}, h('strong', { class: 'data', text: team ? loc(team.name) : row.team }),
                h('div', { class: 'muted', text: t('judges_n', { scored: row.judges_scored, assigned: row.judges_assigned }) }),
                lb.pending && lb.pending[row.team] ? h('div', { class: 'pending', text: t('pending_n', { n: lb.pending[row.team] }) }) : null),
              h('td', { class: 'score', text: row.score == null ? t('no_score') : num(row.score, 2) }),
              h('td', {},
                h('div', { class: 'means' }, row.criteria.map((m) => h('span', { class: 'mean' }, h('span', { class: 'data', text: critName(m.criterion) }), ` ${num(m.mean, 2)}`))),
                h('ul', { class: 'contribs' }, (row.contributions || []).map((c) => h('li', { class: c.excluded ? 'excluded' : '' },
                  h('span', { class: 'data', text: judgeName(c.judge) }), ' · ', h('span', { i18n: `role_${c.panel_role}` }), ' · ',
                  h('span', { text: t('contribution_total', { t: num(c.total, 2) }) }),
                  c.normalized != null ? h('span', { text: ` · ${t('contribution_normalized', { t: num(c.normalized, 2) })}` }) : null,
                  h('span', { text: ` · ${t('contribution_weight', { w: num(c.weight, 2) })}` }),
                  c.excluded ? h('span', { class: 'tag', text: ` · ${t(`excluded_${c.excluded}`)}` }) : null)))));
          }))))));
  }

  return { render };
}
