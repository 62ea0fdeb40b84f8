// The setup tab: the challenge's details, its tracks, rubric, milestones and ranking method.

import { h, tx } from '../../dom.js';
import { t } from '../../i18n.js';
import { validId } from '../../api.js';
import { toast, confirmButton } from '../../chrome.js';
import { PANEL_ROLES, input, field, pair, isoToLocal } from './forms.js';

/** The setup tab of the console `ctx`. */
export function setupTab(ctx) {
  const { send, rerender } = ctx;
  function render() {
    const { view } = ctx;
    const c = view.challenge;
    if (!c) return h('p', { class: 'empty', i18n: 'loading' });
    const setup = c.phase === 'setup';
    const name = pair(c.title, 'title_zh_ph', 'title_en_ph');
    const desc = pair(c.description, 'desc_zh_ph', 'desc_en_ph', true);
    const planned = h('input', { type: 'datetime-local', value: isoToLocal(c.planned_start) });
    const hours = h('input', { type: 'number', min: 0.01, step: 0.01, max: 720, value: c.clock.duration_secs / 3600 });
    const details = h('form', { class: 'card grid-form', on: { submit: (ev) => {
      ev.preventDefault();
      send({ type: 'update_challenge', title: name.get(), description: desc.get(), planned_start: planned.value ? new Date(planned.value).toISOString() : null, duration_secs: Math.round(Number(hours.value) * 3600) }, 'saved');
    } } },
    h('h2', { i18n: 'challenge_details' }), name.el, desc.el, field('planned_start', planned), field('duration_hours', hours),
    h('button', { type: 'submit', class: 'primary', i18n: 'save' }));

    // Tracks.
    const trackId = input({ ph: 'track_id_ph', maxLength: 64 });
    const trackName = pair(null, 'title_zh_ph', 'title_en_ph');
    const tracks = h('section', { class: 'card' }, h('h2', { i18n: 'tracks' }),
      h('ul', { class: 'rows' }, view.tracks.map((tr) => {
        const n = pair(tr.name, 'title_zh_ph', 'title_en_ph');
        const d = pair(tr.description, 'desc_zh_ph', 'desc_en_ph');
        return h('li', { class: 'edit-row track-row' }, h('code', { class: 'data', text: tr.id }), n.el, d.el,
          h('button', { type: 'button', i18n: 'save', on: { click: () => send({ type: 'update_track', id: tr.id, name: n.get(), description: d.get() }, 'saved') } }),
          setup ? confirmButton('remove', () => send({ type: 'remove_track', id: tr.id })) : null);
      })),
      setup ? h('form', { class: 'inline-form', on: { submit: async (ev) => {
        ev.preventDefault();
        if (!validId(trackId.value.trim())) return toast(t('id_invalid'), 'error');
        if (await send({ type: 'add_track', id: trackId.value.trim(), name: trackName.get() })) rerender();
      } } }, trackId, trackName.el, h('button', { type: 'submit', class: 'primary', i18n: 'add_track' })) : null);

    // Rubric.
    const rubric = view.rubric || { scale: { min: 1, max: 10 }, criteria: [] };
    const smin = h('input', { type: 'number', min: 0, max: 1000, value: rubric.scale.min });
    const smax = h('input', { type: 'number', min: 1, max: 1000, value: rubric.scale.max });
    const critRows = h('ul', { class: 'rows' });
    const critRow = (c) => {
      const cid = input({ ph: 'criterion_id_ph', value: c ? c.id : '', maxLength: 64, class: 'cid' });
      const n = pair(c && c.name, 'title_zh_ph', 'title_en_ph');
      const w = h('input', { type: 'number', min: 0.01, max: 1000, step: 0.01, value: c ? c.weight : 10, class: 'w' });
      const li = h('li', { class: 'edit-row' }, cid, n.el, field('weight', w), h('button', { type: 'button', class: 'link', i18n: 'remove', on: { click: () => li.remove() } }));
      li.get = () => ({ id: cid.value.trim(), name: n.get(), weight: Number(w.value) });
      critRows.appendChild(li);
    };
    rubric.criteria.forEach(critRow);
    const rubricForm = h('form', { class: 'card rubric-form', on: { submit: (ev) => {
      ev.preventDefault();
      send({ type: 'set_rubric', rubric: { scale: { min: Number(smin.value), max: Number(smax.value) }, criteria: [...critRows.children].map((li) => li.get()) } }, 'saved');
    } } },
    h('h2', { i18n: 'rubric' }), h('label', { class: 'field inline-field' }, h('span', { class: 'label', i18n: 'rubric_scale' }), smin, h('span', { text: '–' }), smax), critRows,
    h('button', { type: 'button', i18n: 'add_criterion', on: { click: () => critRow(null) } }),
    h('button', { type: 'submit', class: 'primary', i18n: 'save_rubric', disabled: !setup }), setup ? null : h('p', { class: 'muted', i18n: 'setup_only' }));

    // Milestones.
    const msRows = h('ul', { class: 'rows' });
    const msRow = (m) => {
      const mid = input({ ph: 'milestone_id_ph', value: m ? m.id : '', maxLength: 64, class: 'cid' });
      const n = pair(m && m.name, 'title_zh_ph', 'title_en_ph');
      const due = h('input', { type: 'number', min: 0, step: 0.5, ph: 'due_hours_ph', value: m && m.due_offset_secs != null ? m.due_offset_secs / 3600 : '', class: 'w' });
      const li = h('li', { class: 'edit-row' }, mid, n.el, due, h('button', { type: 'button', class: 'link', i18n: 'remove', on: { click: () => li.remove() } }));
      li.get = () => {
        const out = { id: mid.value.trim(), name: n.get() };
        if (due.value !== '') out.due_offset_secs = Math.round(Number(due.value) * 3600);
        return out;
      };
      msRows.appendChild(li);
    };
    view.milestones.forEach(msRow);
    const msForm = h('form', { class: 'card milestones-form', on: { submit: (ev) => {
      ev.preventDefault();
      send({ type: 'set_milestones', milestones: [...msRows.children].map((li) => li.get()) }, 'saved');
    } } },
    h('h2', { i18n: 'milestones' }), msRows,
    h('button', { type: 'button', i18n: 'add_milestone', on: { click: () => msRow(null) } }),
    h('button', { type: 'submit', class: 'primary', i18n: 'save_milestones', disabled: !setup }), setup ? null : h('p', { class: 'muted', i18n: 'setup_only' }));

    // Ranking.
    const weights = PANEL_ROLES.map((r) => [r, h('input', { type: 'number', min: 0.01, max: 1000, step: 0.01, value: view.ranking.role_weights[r] ?? 1 })]);
    const normalize = h('input', { type: 'checkbox', checked: view.ranking.normalize });
    const publication = h('select', { class: 'publication', attrs: { 'aria-label': t('publication') } },
      ['on_complete', 'live', 'at_reveal'].map((p) => h('option', { value: p, selected: (view.ranking.publication || 'on_complete') === p, i18n: `pub_${p}` })));
    const pubWarning = h('p', { class: 'warn', i18n: 'pub_live_warning' });
    const pubNote = h('p', { class: 'muted', i18n: 'pub_normalize_note' });
    const showPubNotes = () => {
      pubWarning.hidden = publication.value !== 'live';
      pubNote.hidden = !(publication.value === 'on_complete' && normalize.checked);
    };
    publication.addEventListener('change', showPubNotes);
    normalize.addEventListener('change', showPubNotes);
    showPubNotes();
    const rankingForm = h('form', { class: 'card', on: { submit: (ev) => {
      ev.preventDefault();
      const role_weights = {};
      for (const [r, el] of weights) if (Number(el.value) !== 1) role_weights[r] = Number(el.value);
      send({ type: 'set_ranking', settings: { role_weights, normalize: normalize.checked, publication: publication.value } }, 'saved');
    } } },
    h('h2', { i18n: 'ranking_method' }),
    weights.map(([r, el]) => h('label', { class: 'field' }, h('span', { class: 'label' }, tx(`role_${r}`), ' · ', tx('weight')), el)),
    h('label', { class: 'check' }, normalize, h('span', { i18n: 'normalize' })),
    h('label', { class: 'field' }, h('span', { class: 'label', i18n: 'publication' }), publication),
    pubWarning, pubNote,
    h('button', { type: 'submit', class: 'primary', i18n: 'save_ranking' }));

    return h('div', { class: 'setup' }, details, tracks, rubricForm, msForm, rankingForm);
  }

  return { render };
}
