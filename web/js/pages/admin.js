// The admin console (管理控制台): choose or create a challenge; set it up (details, tracks,
// rubric, milestones, ranking, teams, judges); mint console links with QR codes; run the clock;
// open and close scoring, freeze, and reveal step by step; see every score's breakdown, the
// audit trail of scorecard revisions and the event log; hide posts; see who is online.

import { h, replace, setText, tx } from '../dom.js';
import { t, loc, num, onLang, when } from '../i18n.js';
import { Live } from '../live.js';
import { getJSON, getText, postJSON, postCommand, takeToken, keepAdminToken, newId, validId, errorText, syncClock } from '../api.js';
import { clockAt, hms, clockNote, everySecond } from '../clock.js';
import { rowsOf } from '../board.js';
import { qrSvg } from '../qr.js';
import { postCard } from './phone.js';
import { langSwitch, statusBanner, title, toast, notice, confirmButton } from '../chrome.js';

const PANEL_ROLES = ['maker_representative', 'domain_expert', 'enterprise_representative', 'investor'];
const DISCIPLINES = ['software', 'hardware', 'design', 'maker', 'business', 'other'];
const TABS = ['run', 'setup', 'teams', 'judges', 'scores', 'audit', 'posts'];

// ---- small form helpers ----------------------------------------------------------------------

function input(props) {
  return h('input', { type: 'text', ...props });
}

function field(key, ...controls) {
  return h('label', { class: 'field' }, h('span', { class: 'label', i18n: key }), controls);
}

/** Two inputs for a bilingual text; `get()` gives `{zh, en}`. */
function pair(value, zhPh, enPh, long = false) {
  const make = (ph, text, lang) => (long
    ? h('textarea', { ph, value: text || '', rows: 2, lang })
    : h('input', { type: 'text', ph, value: text || '', lang }));
  const zh = make(zhPh, value && value.zh, 'zh');
  const en = make(enPh, value && value.en, 'en');
  return { el: h('div', { class: 'pair' }, zh, en), get: () => ({ zh: zh.value.trim(), en: en.value.trim() }) };
}

function select(options, value) {
  return h('select', {}, options.map(([v, key, text]) =>
    h('option', { value: v, selected: v === value, i18n: key, text: key ? undefined : text })));
}

function checks(options, chosen) {
  const boxes = options.map(([v, label]) => {
    const box = h('input', { type: 'checkbox', value: v, checked: chosen.includes(v) });
    return h('label', { class: 'check' }, box, h('span', { class: 'data', text: label }));
  });
  return { el: h('div', { class: 'checks' }, boxes), get: () => boxes.map((b) => b.firstChild).filter((b) => b.checked).map((b) => b.value) };
}

function isoToLocal(iso) {
  if (!iso) return '';
  const d = new Date(iso);
  const pad = (n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

export async function start(root) {
  let token = takeToken('admin');
  const params = new URLSearchParams(location.search);
  if (!token) {
    const tokenInput = h('input', { type: 'password', ph: 'admin_token_ph', autocomplete: 'off', name: 'token' });
    replace(root, h('main', { class: 'notice' },
      h('div', { class: 'notice-top' }, langSwitch()),
      h('h1', { i18n: 'admin_console' }),
      h('p', { i18n: 'admin_need_token' }),
      h('form', { class: 'signin', on: { submit: (ev) => { ev.preventDefault(); keepAdminToken(tokenInput.value.trim()); location.reload(); } } },
        tokenInput, h('button', { type: 'submit', class: 'primary', i18n: 'sign_in' }))));
    title(() => `${t('admin_console')} · ${t('app_name')}`);
    return;
  }
  const chosen = params.get('c') || sessionStorage.getItem('mp.admin.challenge');
  if (!chosen) {
    await chooser(root, token);
    return;
  }
  await console_(root, token, chosen);
}

/** The list of challenges, and the form to create one. */
async function chooser(root, token) {
  title(() => `${t('admin_console')} · ${t('app_name')}`);
  const list = h('ul', { class: 'challenges' });
  const id = input({ ph: 'challenge_id_ph', name: 'id', maxLength: 64 });
  const name = pair(null, 'title_zh_ph', 'title_en_ph');
  const desc = pair(null, 'desc_zh_ph', 'desc_en_ph', true);
  const hours = h('input', { type: 'number', min: 1, max: 720, value: 72, name: 'hours' });
  const open = (cid) => {
    sessionStorage.setItem('mp.admin.challenge', cid);
    location.assign(`/admin?c=${encodeURIComponent(cid)}`);
  };
  replace(root, h('div', { class: 'console admin' },
    h('header', { class: 'console-head' }, h('div', { class: 'row1' }, h('span', { class: 'brand' }, h('img', { src: '/static/icon.svg', alt: '', class: 'logo' }), h('span', { i18n: 'admin_console' })),
      h('span', {}, langSwitch(), h('button', { type: 'button', class: 'link', i18n: 'sign_out', on: { click: () => { keepAdminToken(null); location.assign('/admin'); } } })))),
    h('main', { class: 'admin-body' },
      h('section', { class: 'card' }, h('h2', { i18n: 'choose_challenge' }), list),
      h('section', { class: 'card' }, h('h2', { i18n: 'create_challenge' }),
        h('form', { class: 'grid-form', on: { submit: async (ev) => {
          ev.preventDefault();
          const cid = id.value.trim();
          if (!validId(cid)) {
            toast(t('id_invalid'), 'error');
            return;
          }
          try {
            await postCommand(cid, token, { id: newId('admin'), command: { type: 'create_challenge', id: cid, title: name.get(), description: desc.get(), duration_secs: Math.round(Number(hours.value) * 3600) } });
            open(cid);
          } catch (err) {
            toast(errorText(err), 'error', 6000);
          }
        } } },
        id, name.el, desc.el, field('duration_hours', hours), h('button', { type: 'submit', class: 'primary', i18n: 'create_challenge' }))))));
  const render = (items) => replace(list, items.length
    ? items.map((c) => h('li', {}, h('button', { type: 'button', class: 'pick', on: { click: () => open(c.id) } },
      h('strong', { class: 'data', text: loc(c.title) }), ' ', h('code', { class: 'data', text: c.id }), ' ', h('span', { class: `phase ${c.phase}`, i18n: `phase_${c.phase}` }))))
    : h('li', { class: 'empty', i18n: 'no_challenges' }));
  try {
    const items = await getJSON('/api/challenges');
    render(items);
    onLang(() => render(items));
  } catch {
    replace(list, h('li', { class: 'empty', i18n: 'error_load' }));
  }
}

async function console_(root, token, id) {
  sessionStorage.setItem('mp.admin.challenge', id);
  const live = new Live(id, token);
  let view = null;
  let tab = sessionStorage.getItem('mp.admin.tab') || 'run';
  if (!TABS.includes(tab)) tab = 'run';

  let submitted = null;
  const send = async (command, okKey = 'cmd_ok') => {
    try {
      await live.send(command, newId('admin'));
      toast(t(okKey));
      if (submitted) delete submitted.dataset.dirty;
      submitted = null;
      return true;
    } catch (err) {
      toast(errorText(err), 'error', 7000);
      return false;
    }
  };

  const titleEl = h('h1', { class: 'title data' });
  const phaseEl = h('span', { class: 'phase' });
  const onlineEl = h('span', { class: 'online' });
  const tabBar = h('nav', { class: 'tabs admin-tabs' });
  const body = h('main', { class: 'admin-body' });
  replace(root, h('div', { class: 'console admin' },
    statusBanner(live),
    h('header', { class: 'console-head' },
      h('div', { class: 'row1' },
        h('span', { class: 'brand' }, h('img', { src: '/static/icon.svg', alt: '', class: 'logo' }), h('span', { i18n: 'admin_console' })),
        h('span', { class: 'head-actions' },
          langSwitch(),
          h('button', { type: 'button', class: 'link', i18n: 'choose_challenge', on: { click: () => { sessionStorage.removeItem('mp.admin.challenge'); location.assign('/admin'); } } }),
          h('button', { type: 'button', class: 'link', i18n: 'sign_out', on: { click: () => { keepAdminToken(null); sessionStorage.removeItem('mp.admin.challenge'); location.assign('/admin'); } } }))),
      h('div', { class: 'row2' }, titleEl, phaseEl, onlineEl),
      tabBar),
    body));

  const renderOnline = (o) => {
    if (!o) {
      setText(onlineEl, '');
      return;
    }
    setText(onlineEl, `${t('online')}: ${t('online_counts', o)}`);
  };
  live.on('presence', renderOnline);

  // ---- the run tab ---------------------------------------------------------------------------
  const countdown = h('div', { class: 'countdown' });
  const clockNoteEl = h('div', { class: 'clock-note' });
  function runTab() {
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
    if (!view || !view.challenge) return;
    const c = clockAt(view.challenge);
    countdown.dataset.state = c.state;
    setText(countdown, hms(c.remaining));
    setText(clockNoteEl, clockNote(c));
  }

  // ---- the setup tab -------------------------------------------------------------------------
  function setupTab() {
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

  // ---- links (minted tokens) -----------------------------------------------------------------
  const minted = new Map();
  async function mint(subject) {
    try {
      const res = await postJSON(`/api/challenges/${encodeURIComponent(id)}/tokens`, token, { subject });
      minted.set(`${subject.role}:${subject.id}`, res.link);
      rerender();
    } catch (err) {
      toast(errorText(err), 'error', 6000);
    }
  }

  function linkCell(subject) {
    const key = `${subject.role}:${subject.id}`;
    const tokens = view.tokens.filter((tk) => tk.subject.role === subject.role && tk.subject.id === subject.id && !tk.revoked_at);
    const link = minted.get(key);
    return h('div', { class: 'link-cell' },
      h('span', { class: 'muted', text: tokens.length ? t('tokens_live', { n: tokens.length }) : t('tokens_none') }),
      h('button', { type: 'button', i18n: 'mint_link', data: { mint: key }, on: { click: () => mint(subject) } }),
      tokens.length ? confirmButton('revoke', () => send({ type: 'revoke_tokens', subject })) : null,
      link ? h('div', { class: 'minted' },
        qrSvg(link, link),
        h('div', {},
          h('p', { class: 'muted', i18n: 'link_once' }),
          h('code', { class: 'data link-text', text: link }),
          h('button', { type: 'button', i18n: 'copy', on: { click: async (ev) => {
            try {
              await navigator.clipboard.writeText(link);
              ev.target.textContent = t('copied');
            } catch {
              // Clipboard refused (no secure context): the link is on screen to copy by hand.
            }
          } } }))) : null);
  }

  // ---- the teams tab -------------------------------------------------------------------------
  let editingTeam = null;
  function teamForm(team) {
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

  function teamsTab() {
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
              h('td', {}, linkCell({ role: 'team', id: tm.id })),
              h('td', { class: 'actions' },
                h('button', { type: 'button', i18n: 'edit', on: { click: () => { editingTeam = tm.id; rerender(); } } }),
                setup ? confirmButton('remove', () => send({ type: 'remove_team', id: tm.id })) : null));
          }))) : h('p', { class: 'empty', i18n: 'no_teams' })),
      editingTeam && view.teams[editingTeam] ? teamForm(view.teams[editingTeam]) : teamForm(null));
  }

  // ---- the judges tab ------------------------------------------------------------------------
  let editingJudge = null;
  function judgeForm(judge) {
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

  function judgesTab() {
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
      editingJudge && view.judges[editingJudge] ? judgeForm(view.judges[editingJudge]) : judgeForm(null));
  }

  // ---- the scores tab: the board with every contribution -------------------------------------
  function scoresTab() {
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

  // ---- the audit tab -------------------------------------------------------------------------
  let logLines = null;
  async function loadLog() {
    try {
      const since = Math.max(0, (view ? view.seq : 0) - 200);
      const text = await getText(`/api/challenges/${encodeURIComponent(id)}/log?since=${since}`, token);
      logLines = text.split('\n').filter(Boolean).map((l) => JSON.parse(l)).reverse();
      rerender();
    } catch (err) {
      toast(errorText(err), 'error');
    }
  }

  function auditTab() {
    const rubric = view.rubric;
    const judgeName = (jid) => (view.judges[jid] ? loc(view.judges[jid].name) : jid);
    const teamName = (tid) => (view.teams[tid] ? loc(view.teams[tid].name) : tid);
    const scoresText = (scores) => (rubric ? rubric.criteria.map((c) => `${loc(c.name)} ${scores[c.id] ?? '–'}`).join(' · ') : '');
    return h('div', { class: 'audit-tab' },
      h('section', { class: 'card' }, h('h2', { i18n: 'scorecards_audit' }),
        view.scorecards.length ? h('table', { class: 'table audit' },
          h('tbody', {}, view.scorecards.flatMap((card) => [...card.history, card.current].map((r, i, all) =>
            h('tr', { class: i < all.length - 1 ? 'old' : 'current', data: { team: card.team, judge: card.judge, revision: r.revision } },
              h('td', { class: 'data', text: teamName(card.team) }),
              h('td', { class: 'data', text: judgeName(card.judge) }),
              h('td', { text: t('revision_n', { n: r.revision }) }),
              h('td', { text: when(r.at) }),
              h('td', { class: 'data', text: scoresText(r.scores) }),
              h('td', {}, r.comment ? h('p', { class: 'user', text: r.comment }) : null, r.reason ? h('p', { class: 'user reason', text: r.reason }) : null)))))) : h('p', { class: 'empty', i18n: 'no_scorecards' })),
      h('section', { class: 'card' }, h('h2', { i18n: 'event_log' }),
        h('button', { type: 'button', i18n: 'load_log', on: { click: loadLog } }),
        logLines ? h('table', { class: 'table log' }, h('tbody', {}, logLines.map((e) => h('tr', {},
          h('td', { text: `#${e.seq}` }),
          h('td', { text: when(e.at) }),
          h('td', { class: 'data', text: e.actor.id ? `${e.actor.role}:${e.actor.id}` : e.actor.role }),
          // Reasons (a pause, a hidden post, scoring reopened during the freeze) are the audit.
          h('td', { class: 'data', text: e.body.reason ? `${e.body.type} · ${e.body.reason}` : e.body.type }))))) : null));
  }

  // ---- the posts tab -------------------------------------------------------------------------
  function postsTab() {
    return h('div', { class: 'posts-tab' },
      view.ticker.length ? view.ticker.map((p) => {
        const reason = input({ ph: 'hide_reason_ph', maxLength: 500 });
        const card = postCard(view, p);
        if (p.hidden) card.appendChild(h('p', { class: 'muted', text: t('hidden_reason', { reason: p.hidden }) }));
        else card.appendChild(h('div', { class: 'inline' }, reason, confirmButton('hide', () => send({ type: 'hide_post', post: p.id, reason: reason.value.trim() }))));
        return card;
      }) : h('p', { class: 'empty', i18n: 'no_posts' }));
  }

  // ---- tabs and rendering --------------------------------------------------------------------
  let stale = false;
  function renderTabs() {
    replace(tabBar, TABS.map((name) => h('button', {
      type: 'button', class: ['tab', tab === name ? 'on' : ''], i18n: `tab_${name}`, data: { tab: name },
      on: { click: () => { tab = name; sessionStorage.setItem('mp.admin.tab', name); rerender(); } },
    })));
  }

  function rerender() {
    if (!view) return;
    stale = false;
    renderTabs();
    const c = view.challenge;
    setText(titleEl, c ? loc(c.title) : id);
    if (c) {
      phaseEl.className = `phase ${c.phase}`;
      setText(phaseEl, t(`phase_${c.phase}`));
    }
    const build = { run: runTab, setup: setupTab, teams: teamsTab, judges: judgesTab, scores: scoresTab, audit: auditTab, posts: postsTab }[tab];
    replace(body, build());
    renderClock();
    renderOnline(live.online);
  }

  /** Whether someone is typing in a form of the page: then only a tab change rebuilds it. */
  function editing() {
    const a = document.activeElement;
    return a && body.contains(a) && (a.tagName === 'INPUT' || a.tagName === 'TEXTAREA' || a.tagName === 'SELECT');
  }

  const RELEVANT = {
    run: ['challenge', 'revealed', 'team', 'team_removed'],
    scores: ['leaderboard', 'rubric', 'team', 'judge', 'judges', 'tracks'],
    audit: ['scorecard', 'scorecards', 'judge', 'team'],
  };
  live.on('view', (v, change) => {
    view = v;
    const p = change.patches;
    const relevant = RELEVANT[tab];
    if (!change.snapshot && relevant && !relevant.some((k) => p.has(k))) return;
    // Forms are rebuilt from the view; while the organizer types, or a button waits for its
    // confirmation, the rebuild waits.
    if (change.snapshot || (!editing() && !dirtyForms() && !body.querySelector('.armed'))) rerender();
    else stale = true;
  });
  setInterval(() => {
    if (stale && !editing() && !dirtyForms() && !body.querySelector('.armed')) rerender();
  }, 1000);
  body.addEventListener('focusout', () => {
    setTimeout(() => {
      if (stale && !editing() && !dirtyForms()) {
        stale = false;
        rerender();
      }
    }, 200);
  });
  // A form someone typed into stays as typed until it is saved (or the tab changes).
  body.addEventListener('input', (ev) => {
    const form = ev.target.closest && ev.target.closest('form');
    if (form) form.dataset.dirty = '1';
  });
  body.addEventListener('submit', (ev) => {
    submitted = ev.target;
  }, true);
  function dirtyForms() {
    return !!body.querySelector('form[data-dirty]');
  }
  live.on('status', (status) => {
    if (status === 'unauthorized') notice(root, 'unauthorized', h('p', {}, h('a', { href: '/admin', i18n: 'sign_out', on: { click: () => keepAdminToken(null) } })));
    if (status === 'not_found') {
      sessionStorage.removeItem('mp.admin.challenge');
    }
  });
  const refreshTitle = title(() => `${view && view.challenge ? loc(view.challenge.title) : id} · ${t('admin_console')}`);
  live.on('view', () => refreshTitle());
  onLang(() => rerender());
  everySecond(renderClock);
  syncClock();
  live.connect();
}
