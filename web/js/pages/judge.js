// The judge console (评委控制台), opened from the judge's minted link: the teams assigned to this
// judge, the rubric with its weights, saving and revising a scorecard (a revision needs a
// reason), the judge's own progress, and declaring a conflict of interest. It shows no other
// judge's scores: the judge's view does not carry them until the result is final. Made for a tablet.
// Scorecards and declarations go through the queue (queue.js): made without network they wait,
// survive a reload and are sent exactly once; one refused on arrival is shown with its reason.

import { h, replace, setText, reducedMotion } from '../dom.js';
import { t, loc, num, onLang, when } from '../i18n.js';
import { Live } from '../live.js';
import { takeToken, syncClock } from '../api.js';
import { Queue, queuePanel } from '../queue.js';
import { milestoneDots } from '../board.js';
import { langSwitch, statusBanner, title, toast, notice, confirmButton } from '../chrome.js';

/** The weighted mean of the scores given on 0–100, as `Rubric::total` computes it. */
export function rubricTotal(rubric, scores) {
  let sum = 0;
  let weights = 0;
  const span = rubric.scale.max - rubric.scale.min;
  for (const c of rubric.criteria) {
    const s = scores[c.id];
    if (s === undefined || s === null) continue;
    sum += c.weight * ((Math.max(s, rubric.scale.min) - rubric.scale.min) * 100 / span);
    weights += c.weight;
  }
  return weights > 0 ? sum / weights : 0;
}

export async function start(root, id) {
  const token = takeToken('judge', id);
  if (!token) {
    notice(root, 'need_link');
    return;
  }
  // The console shows none of the board, the people's choice or the ticker: without them, a
  // scorecard of another judge is no message at all (the blind form needs none of it).
  const live = new Live(id, token, { parts: [] });
  const queue = new Queue(`judge.${id}`, id, token, live);
  let view = null;
  let me = null;
  let selected = null;
  const drafts = new Map();
  let lastCard = null;

  const nameEl = h('h1', { class: 'title data' });
  const roleEl = h('div', { class: 'sub' });
  const progressEl = h('div', { class: 'my-progress' });
  const progressBar = h('span', { class: 'pct' });
  const list = h('ul', { class: 'judge-teams' });
  const panel = h('section', { class: 'score-panel card', id: 'score-panel' });
  const scoringNote = h('p', { class: 'scoring-note', i18n: 'scoring_is_closed', hidden: true });
  const queueEl = h('section', { class: 'outbox judge-queue' });

  replace(root,
    h('div', { class: 'console judge-console' },
      statusBanner(live),
      h('header', { class: 'console-head' },
        h('div', { class: 'row1' }, h('span', { class: 'brand' }, h('img', { src: '/static/icon.svg', alt: '', class: 'logo' }), h('span', { i18n: 'judge_console' })), langSwitch()),
        nameEl, roleEl,
        h('div', { class: 'row2' }, progressEl, h('span', { class: 'bar' }, progressBar))),
      scoringNote,
      queueEl,
      h('main', { class: 'judge-body' },
        h('nav', { class: 'judge-list' }, h('h2', { i18n: 'assigned_teams' }), h('p', { class: 'blind', i18n: 'blind_note' }), list),
        panel)));

  const judge = () => (view && me ? view.judges[me] : null);
  const myCard = (team) => view.scorecards.find((c) => c.judge === me && c.team === team);
  const scoringOpen = () => !!(view && view.challenge && view.challenge.scoring_open);

  /** The teams this judge scores, and those they declared a conflict with. */
  function teams() {
    const j = judge();
    if (!j || !j.assignment) return [];
    const a = j.assignment;
    return Object.values(view.teams)
      .filter((tm) => a.tracks.includes(tm.track) || a.teams.includes(tm.id))
      .map((tm) => ({ team: tm, conflict: (j.conflicts || []).includes(tm.id) }))
      .sort((x, y) => (view.tracks.findIndex((tr) => tr.id === x.team.track) - view.tracks.findIndex((tr) => tr.id === y.team.track)) || loc(x.team.name).localeCompare(loc(y.team.name)));
  }

  function complete(card) {
    return card && view.rubric && view.rubric.criteria.every((c) => card.current.scores[c.id] !== undefined);
  }

  function renderHead() {
    const j = judge();
    if (!j) return;
    setText(nameEl, loc(j.name));
    setText(roleEl, `${t(`role_${j.panel_role}`)}${loc(j.affiliation) ? ` · ${loc(j.affiliation)}` : ''}`);
    const mine = teams().filter((x) => !x.conflict);
    const done = mine.filter((x) => complete(myCard(x.team.id))).length;
    setText(progressEl, t('my_progress', { done, total: mine.length }));
    progressBar.style.width = `${mine.length ? (done * 100) / mine.length : 0}%`;
    scoringNote.hidden = scoringOpen();
  }

  function renderList() {
    const all = teams();
    if (!all.length) {
      replace(list, h('li', { class: 'empty', i18n: 'no_assigned' }));
      return;
    }
    replace(list, all.map(({ team, conflict }) => {
      const card = myCard(team.id);
      let status = 'status_unscored';
      if (conflict) status = 'status_conflict';
      else if (card && complete(card)) status = 'status_scored';
      else if (card) status = 'status_incomplete';
      const tr = view.tracks.find((x) => x.id === team.track);
      return h('li', {},
        h('button', {
          type: 'button',
          class: ['team-pick', status.replace('status_', '')],
          data: { team: team.id },
          attrs: { 'aria-current': selected === team.id ? 'true' : false, 'aria-controls': 'score-panel' },
          disabled: conflict,
          on: { click: () => select(team.id) },
        },
        h('span', { class: 'name data', text: loc(team.name) }),
        h('span', { class: 'sub data', text: tr ? loc(tr.name) : '' }),
        h('span', { class: 'status' }, h('span', { i18n: status }), card && !conflict ? h('span', { class: 'score', text: ` ${num(rubricTotal(view.rubric, card.current.scores), 2)}` }) : null)));
    }));
  }

  function draftOf(team) {
    let d = drafts.get(team);
    const card = myCard(team);
    if (!d || (card && d.base !== card.current.revision)) {
      d = { scores: card ? { ...card.current.scores } : {}, comment: card ? card.current.comment : '', reason: '', base: card ? card.current.revision : 0 };
      drafts.set(team, d);
    }
    return d;
  }

  function select(team) {
    selected = team;
    renderList();
    renderPanel();
    panel.scrollIntoView({ block: 'nearest', behavior: reducedMotion() ? 'auto' : 'smooth' });
  }

  let totalEl = null;
  let submitBtn = null;

  function updateTotal(d) {
    if (!totalEl) return;
    const missing = view.rubric.criteria.filter((c) => d.scores[c.id] === undefined).length;
    replace(totalEl,
      h('strong', { text: t('total_preview', { total: num(rubricTotal(view.rubric, d.scores), 2) }) }),
      missing ? h('span', { class: 'missing', text: ` · ${t('missing_scores', { n: missing })}` }) : null);
  }

  function renderPanel() {
    totalEl = null;
    submitBtn = null;
    const team = selected && view.teams[selected];
    if (!team || !view.rubric) {
      replace(panel, h('p', { class: 'empty', i18n: 'choose_team' }));
      return;
    }
    const d = draftOf(team.id);
    const card = myCard(team.id);
    lastCard = card ? `${card.current.revision}` : '';
    const rubric = view.rubric;
    const { min, max } = rubric.scale;
    const weightSum = rubric.criteria.reduce((s, c) => s + c.weight, 0);
    totalEl = h('div', { class: 'total' });
    const criteria = rubric.criteria.map((c) => {
      const share = weightSum ? Math.round((c.weight * 1000) / weightSum) / 10 : 0;
      // The criterion's name names its points (a group of toggle buttons) or its number field.
      const nameId = `crit-${c.id}`;
      let input;
      if (max - min <= 10) {
        const buttons = [];
        for (let v = min; v <= max; v++) {
          buttons.push(h('button', {
            type: 'button',
            class: 'pt',
            text: String(v),
            data: { criterion: c.id, value: v },
            attrs: { 'aria-pressed': String(d.scores[c.id] === v) },
            on: {
              click: () => {
                d.scores[c.id] = v;
                for (const b of buttons) b.setAttribute('aria-pressed', String(Number(b.dataset.value) === v));
                updateTotal(d);
              },
            },
          }));
        }
        input = h('div', { class: 'points', attrs: { role: 'group', 'aria-labelledby': nameId } }, buttons);
      } else {
        input = h('input', {
          type: 'number', min, max, step: 1, value: d.scores[c.id] ?? '', data: { criterion: c.id }, attrs: { 'aria-labelledby': nameId },
          on: { input: (ev) => { const v = Number(ev.target.value); if (ev.target.value !== '' && v >= min && v <= max) d.scores[c.id] = Math.round(v); else delete d.scores[c.id]; updateTotal(d); } },
        });
      }
      return h('div', { class: 'criterion' },
        h('div', { class: 'crit-head' }, h('strong', { class: 'data', id: nameId, text: loc(c.name) }), h('span', { class: 'weight', text: `${t('weight_n', { w: num(c.weight, c.weight % 1 ? 1 : 0) })} · ${share}%` })),
        input);
    });
    const comment = h('textarea', { rows: 3, ph: 'comment_ph', maxLength: 2000, value: d.comment, name: 'comment', on: { input: (ev) => { d.comment = ev.target.value; } } });
    const reason = card ? h('input', { type: 'text', ph: 'reason_ph', maxLength: 500, value: d.reason, name: 'reason', on: { input: (ev) => { d.reason = ev.target.value; } } }) : null;
    submitBtn = h('button', { type: 'submit', class: 'primary big', i18n: card ? 'revise_scorecard' : 'submit_scorecard', disabled: !scoringOpen() });
    const form = h('form', { class: 'score-form', on: { submit: (ev) => { ev.preventDefault(); save(team.id); } } },
      h('p', { class: 'scale', text: t('scale_n', { min, max }) }),
      criteria, totalEl, comment, reason, submitBtn);
    const conflictReason = h('input', { type: 'text', ph: 'conflict_reason_ph', maxLength: 500, name: 'conflict_reason' });
    const history = card ? [...card.history, card.current].reverse() : [];
    const tr = view.tracks.find((x) => x.id === team.track);
    replace(panel,
      h('header', { class: 'panel-head' },
        h('h2', { class: 'data', text: loc(team.name) }),
        h('span', { class: 'sub data', text: tr ? loc(tr.name) : '' }),
        h('a', { href: `/phone/${encodeURIComponent(id)}/teams/${encodeURIComponent(team.id)}`, target: '_blank', rel: 'noopener', i18n: 'view_team' })),
      loc(team.description) ? h('p', { class: 'data', text: loc(team.description) }) : null,
      h('div', { class: 'team-progress' }, milestoneDots(view, team), team.progress.percent != null ? h('span', { text: t('percent_done', { p: team.progress.percent }) }) : null),
      h('h3', { i18n: 'rubric' }),
      form,
      history.length
        ? h('details', { class: 'history' }, h('summary', { i18n: 'history' }),
          h('ol', {}, history.map((r) => h('li', {},
            h('strong', { text: t('revision_n', { n: r.revision }) }), ' · ', h('time', { text: when(r.at) }), ' · ',
            h('span', { text: num(rubricTotal(rubric, r.scores), 2) }),
            r.reason ? h('p', { class: 'user text', text: r.reason }) : null))),
          card.earlier ? h('p', { class: 'earlier', i18n: 'earlier_revisions', vars: { n: card.earlier } }) : null)
        : null,
      h('details', { class: 'conflict' }, h('summary', { i18n: 'declare_conflict' }),
        conflictReason,
        confirmButton('declare_conflict', () => declare(team.id, conflictReason.value.trim()))));
    updateTotal(d);
  }

  async function save(team) {
    const d = draftOf(team);
    const card = myCard(team);
    if (card && !d.reason.trim()) {
      toast(t('reason_needed'), 'error');
      return;
    }
    const command = { type: 'submit_scorecard', team, scores: { ...d.scores }, comment: d.comment, reason: card ? d.reason.trim() : '' };
    const { kept } = await queue.add(card ? 'revision' : 'scorecard', command);
    if (!live.open) toast(t('scorecard_queued'), 'ok');
    if (!kept) toast(t('queue_not_kept'), 'error');
  }

  async function declare(team, reason) {
    selected = null;
    renderPanel();
    const { kept } = await queue.add('conflict', { type: 'declare_conflict', team, reason });
    if (!live.open) toast(t('conflict_queued'), 'ok');
    if (!kept) toast(t('queue_not_kept'), 'error');
  }

  const teamName = (team) => (view && view.teams[team] ? loc(view.teams[team].name) : team);
  queuePanel(queueEl, queue, live, {
    describe: (item) => t(`queued_${item.kind}`, { team: teamName(item.command.team) }),
    // A refused scorecard goes back into its team's form, to be changed and saved again.
    canCorrect: (item) => item.kind !== 'conflict',
    correct: (item) => {
      const c = item.command;
      const card = view && myCard(c.team);
      drafts.set(c.team, { scores: { ...c.scores }, comment: c.comment, reason: c.reason, base: card ? card.current.revision : 0 });
      queue.discard(item);
      if (view && view.teams[c.team]) select(c.team);
    },
  });
  queue.onChange((items, sent) => {
    if (!sent) return;
    if (sent.kind === 'conflict') toast(t('conflict_declared'));
    else toast(t('scorecard_sent', { team: teamName(sent.command.team) }));
  });

  live.on('welcome', (role) => {
    if (role.role === 'judge') me = role.id;
  });
  live.on('status', (status) => {
    if (status === 'unauthorized') notice(root, 'unauthorized', queueEl); // What waits stays in view, refused with the reason.
  });
  live.on('view', (v, change) => {
    view = v;
    if (!me) return;
    renderHead();
    renderList();
    const card = selected ? myCard(selected) : null;
    const cardKey = card ? `${card.current.revision}` : '';
    const p = change.patches;
    if (p.has('*') || p.has('rubric') || cardKey !== lastCard || (selected && !view.teams[selected])) {
      renderPanel();
    } else if (submitBtn) {
      submitBtn.disabled = !scoringOpen();
    }
    lastCard = cardKey;
  });
  const refreshTitle = title(() => `${judge() ? loc(judge().name) : t('judge_console')} · ${t('app_name')}`);
  live.on('view', () => refreshTitle());
  onLang(() => {
    if (!view || !me) return;
    renderHead();
    renderList();
    renderPanel();
  });
  replace(panel, h('p', { class: 'empty', i18n: 'choose_team' }));
  syncClock();
  live.connect();
}
