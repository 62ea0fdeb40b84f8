// The teams tab: every team with its progress and console link, and the form to add or edit one.

import { h } from '../../dom.js';
import { t, loc } from '../../i18n.js';
import { validId } from '../../api.js';
import { toast, confirmButton } from '../../chrome.js';
import { DISCIPLINES, input, field, pair, select } from './forms.js';

/** The teams tab of the console `ctx`. */
export function teamsTab(ctx) {
  const { send, rerender, linkCell } = ctx;
  let editingTeam = null;
  // The tick being taken back, `{team, milestone}`: its form asks for the reason.
  let undoing = null;

  /** A team's ticked milestones, each with a button that opens the undo form. */
  function ticked(view, tm) {
    return h('span', { class: 'ticked' }, tm.progress.reached.map((r) => {
      const m = view.milestones.find((x) => x.id === r.milestone);
      const name = m ? loc(m.name) : r.milestone;
      return h('span', { class: 'ms-chip', data: { milestone: r.milestone } },
        h('span', { class: 'data', text: name }),
        h('button', { type: 'button', class: 'link undo-ms', i18n: 'undo_milestone', attrs: { 'aria-label': t('undo_milestone_tip', { team: loc(tm.name), name }) },
          on: { click: () => { undoing = { team: tm.id, milestone: r.milestone }; rerender(); } } }));
    }));
  }

  /** The form that takes a tick back: which one, the later ones that go with it, the reason. */
  function undoForm(view) {
    const tm = view.teams[undoing.team];
    const at = tm ? tm.progress.reached.findIndex((r) => r.milestone === undoing.milestone) : -1;
    if (at < 0) {
      undoing = null;
      return null;
    }
    const name = (ms) => {
      const m = view.milestones.find((x) => x.id === ms);
      return m ? loc(m.name) : ms;
    };
    const later = tm.progress.reached.slice(at + 1).map((r) => name(r.milestone));
    const reason = h('textarea', { ph: 'undo_reason_ph', label: 'undo_reason_ph', maxLength: 500, rows: 2, required: true, name: 'reason' });
    return h('form', { class: 'card undo-form', data: { team: tm.id, milestone: undoing.milestone }, on: { submit: async (ev) => {
      ev.preventDefault();
      const text = reason.value.trim();
      if (!text) {
        reason.focus();
        return;
      }
      if (await send({ type: 'undo_milestone', team: tm.id, milestone: undoing.milestone, reason: text }, 'milestone_undone_ok')) {
        undoing = null;
        rerender();
      }
    } } },
    h('h2', { text: t('undo_milestone_title', { team: loc(tm.name), name: name(undoing.milestone) }) }),
    later.length ? h('p', { class: 'muted', text: t('undo_milestone_later', { names: later.join('、') }) }) : null,
    reason,
    h('div', { class: 'actions' },
      h('button', { type: 'submit', class: 'danger', i18n: 'undo_confirm' }),
      h('button', { type: 'button', i18n: 'cancel', on: { click: () => { undoing = null; rerender(); } } })));
  }
  function teamForm(team) {
    const { view } = ctx;
    const setup = view.challenge && view.challenge.phase === 'setup';
    const tid = input({ ph: 'team_id_ph', value: team ? team.id : '', disabled: !!team, maxLength: 64, name: 'team_id' });
    const track = select(view.tracks.map((tr) => [tr.id, null, loc(tr.name)]), team ? team.track : view.tracks[0] && view.tracks[0].id);
    track.disabled = !!team && !setup;
    const name = pair(team && team.name, 'title_zh_ph', 'title_en_ph');
    const desc = pair(team && team.description, 'desc_zh_ph', 'desc_en_ph', true);
    const contact = input({ ph: 'contact_ph', value: (team && team.contact) || '', maxLength: 200, name: 'contact' });
    const members = h('ul', { class: 'rows' });
    const memberRow = (m) => {
      const n = input({ ph: 'member_name_ph', value: m ? m.name : '', maxLength: 80 });
      const d = select(DISCIPLINES.map((x) => [x, `discipline_${x}`]), m ? m.discipline : 'software');
      const r = input({ ph: 'region_ph', value: m ? m.region : '', maxLength: 56 });
      const li = h('li', { class: 'edit-row' }, n, d, r, h('button', { type: 'button', class: 'link', i18n: 'remove', on: { click: () => li.remove() } }));
      li.get = () => ({ name: n.value.trim(), discipline: d.value, region: r.value.trim() });
      members.appendChild(li);
    };
    (team ? team.members : []).forEach(memberRow);
    return h('form', { class: 'card grid-form team-form', on: { submit: async (ev) => {
      ev.preventDefault();
      const idv = tid.value.trim();
      if (!validId(idv)) return toast(t('id_invalid'), 'error');
      const command = { type: team ? 'update_team' : 'add_team', id: idv, track: track.value, name: name.get(), description: desc.get(), contact: contact.value.trim(), members: [...members.children].map((li) => li.get()).filter((m) => m.name) };
      if (await send(command, 'saved')) {
        editingTeam = null;
        rerender();
      }
    } } },
    h('h2', { i18n: team ? 'edit' : 'add_team' }),
    tid, field('track', track), name.el, desc.el, contact,
    h('h3', { i18n: 'members' }), members,
    h('button', { type: 'button', i18n: 'add_member', on: { click: () => memberRow(null) } }),
    h('div', { class: 'actions' },
      h('button', { type: 'submit', class: 'primary', i18n: 'save_team' }),
      team ? h('button', { type: 'button', i18n: 'cancel', on: { click: () => { editingTeam = null; rerender(); } } }) : null));
  }

  function render() {
    const { view } = ctx;
    const setup = view.challenge && view.challenge.phase === 'setup';
    const teams = Object.values(view.teams);
    return h('div', { class: 'teams-tab' },
      h('section', { class: 'card' }, h('h2', { i18n: 'tab_teams' }),
        teams.length ? h('table', { class: 'table' },
          h('tbody', {}, teams.map((tm) => {
            const tr = view.tracks.find((x) => x.id === tm.track);
            return h('tr', { data: { team: tm.id } },
              h('td', {}, h('strong', { class: 'data', text: loc(tm.name) }), h('br'), h('code', { class: 'data', text: tm.id })),
              h('td', { class: 'data', text: tr ? loc(tr.name) : tm.track }),
              h('td', { text: t('percent_done', { p: tm.progress.percent ?? 0 }) }),
              h('td', {}, ticked(view, tm)),
              h('td', {}, linkCell({ role: 'team', id: tm.id })),
              h('td', { class: 'actions' },
                h('button', { type: 'button', i18n: 'edit', on: { click: () => { editingTeam = tm.id; rerender(); } } }),
                setup ? confirmButton('remove', () => send({ type: 'remove_team', id: tm.id })) : null));
          }))) : h('p', { class: 'empty', i18n: 'no_teams' })),
      undoing ? undoForm(view) : null,
      editingTeam && view.teams[editingTeam] ? teamForm(view.teams[editingTeam]) : teamForm(null),
      ['setup', 'running'].includes(view.challenge?.phase) ? ctx.importCard() : null);
  }

  return { render };
}
