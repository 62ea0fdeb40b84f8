// The judges tab: every judge with their role, scorecards and console link, and the form to add
// or edit one (assignment and conflicts of interest).

import { h } from '../../dom.js';
import { t, loc } from '../../i18n.js';
import { validId } from '../../api.js';
import { toast, confirmButton } from '../../chrome.js';
import { PANEL_ROLES, input, field, pair, select, checks } from './forms.js';

/** The judges tab of the console `ctx`. */
export function judgesTab(ctx) {
  const { send, rerender, linkCell } = ctx;
  let editingJudge = null;
  function judgeForm(judge) {
    const { view } = ctx;
    const jid = input({ ph: 'judge_id_ph', value: judge ? judge.id : '', disabled: !!judge, maxLength: 64, name: 'judge_id' });
    const name = pair(judge && judge.name, 'title_zh_ph', 'title_en_ph');
    const role = select(PANEL_ROLES.map((r) => [r, `role_${r}`]), judge ? judge.panel_role : 'domain_expert');
    const aff = pair(judge && judge.affiliation, 'affiliation_zh_ph', 'affiliation_en_ph');
    const teams = Object.values(view.teams).map((tm) => [tm.id, loc(tm.name)]);
    const aTracks = checks(view.tracks.map((tr) => [tr.id, loc(tr.name)]), judge && judge.assignment ? judge.assignment.tracks : []);
    const aTeams = checks(teams, judge && judge.assignment ? judge.assignment.teams : []);
    const conflicts = checks(teams, (judge && judge.conflicts) || []);
    return h('form', { class: 'card grid-form judge-form', on: { submit: async (ev) => {
      ev.preventDefault();
      const idv = jid.value.trim();
      if (!validId(idv)) return toast(t('id_invalid'), 'error');
      const command = { type: judge ? 'update_judge' : 'add_judge', id: idv, name: name.get(), panel_role: role.value, affiliation: aff.get(), assignment: { tracks: aTracks.get(), teams: aTeams.get() }, conflicts: conflicts.get() };
      if (await send(command, 'saved')) {
        editingJudge = null;
        rerender();
      }
    } } },
    h('h2', { i18n: judge ? 'edit' : 'add_judge' }),
    jid, name.el, field('panel_role', role), aff.el,
    h('h3', { i18n: 'assignment' }), h('p', { class: 'label', i18n: 'assigned_tracks' }), aTracks.el,
    h('p', { class: 'label', i18n: 'assigned_teams_extra' }), aTeams.el,
    h('h3', { i18n: 'conflicts' }), conflicts.el,
    h('div', { class: 'actions' },
      h('button', { type: 'submit', class: 'primary', i18n: 'save_judge' }),
      judge ? h('button', { type: 'button', i18n: 'cancel', on: { click: () => { editingJudge = null; rerender(); } } }) : null));
  }

  function render() {
    const { view } = ctx;
    const setup = view.challenge && view.challenge.phase === 'setup';
    const judges = Object.values(view.judges);
    return h('div', { class: 'judges-tab' },
      h('section', { class: 'card' }, h('h2', { i18n: 'tab_judges' }),
        judges.length ? h('table', { class: 'table' },
          h('tbody', {}, judges.map((j) => {
            const mine = view.scorecards.filter((c) => c.judge === j.id).length;
            return h('tr', { data: { judge: j.id } },
              h('td', {}, h('strong', { class: 'data', text: loc(j.name) }), h('br'), h('code', { class: 'data', text: j.id })),
              h('td', { i18n: `role_${j.panel_role}` }),
              h('td', { text: t('status_scored') + ` ${mine}` }),
              h('td', {}, linkCell({ role: 'judge', id: j.id })),
              h('td', { class: 'actions' },
                h('button', { type: 'button', i18n: 'edit', on: { click: () => { editingJudge = j.id; rerender(); } } }),
                setup ? confirmButton('remove', () => send({ type: 'remove_judge', id: j.id })) : null));
          }))) : h('p', { class: 'empty', i18n: 'none_yet' })),
      editingJudge && view.judges[editingJudge] ? judgeForm(view.judges[editingJudge]) : judgeForm(null),
      ['setup', 'running'].includes(view.challenge?.phase) ? ctx.importCard() : null);
  }

  return { render };
}
