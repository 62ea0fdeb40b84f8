// The admin console (管理控制台): choose or create a challenge; set it up (details, tracks,
// rubric, milestones, ranking, teams, judges); mint console links with QR codes; run the clock;
// open and close scoring, freeze, and reveal step by step; see every score's breakdown, the
// audit trail of scorecard revisions and the event log; hide posts; see who is online.
//
// This file is the page shell: sign-in, the chooser, the header and the tabs, and when to redraw.
// Each tab is built by its module under `admin/` from one shared context (see `ctx` below).

import { h, replace, setText } from '../dom.js';
import { t, loc, onLang } from '../i18n.js';
import { Live } from '../live.js';
import { getJSON, postCommand, takeToken, keepAdminToken, newId, validId, errorText, syncClock } from '../api.js';
import { everySecond } from '../clock.js';
import { langSwitch, statusBanner, title, toast, notice } from '../chrome.js';
import { tabList, tabPanel } from '../tabs.js';
import { input, field, pair } from './admin/forms.js';
import { linkCells } from './admin/links.js';
import { importCard } from './admin/import.js';
import { runTab } from './admin/run.js';
import { setupTab } from './admin/setup.js';
import { teamsTab } from './admin/teams.js';
import { judgesTab } from './admin/judges.js';
import { scoresTab } from './admin/scores.js';
import { auditTab } from './admin/audit.js';
import { postsTab } from './admin/posts.js';

const TABS = ['run', 'setup', 'teams', 'judges', 'scores', 'audit', 'posts'];

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
      h('span', {}, langSwitch(), h('button', { type: 'button', class: 'link', i18n: 'sign_out', on: { click: () => { keepAdminToken(null); location.assign('/admin'); } } }))),
      h('h1', { class: 'title', i18n: 'choose_challenge' })),
    h('main', { class: 'admin-body' },
      h('section', { class: 'card' }, h('h2', { i18n: 'challenges' }), list),
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
  // One panel shows the chosen tab; every tab controls it.
  const tabBar = tabList({
    names: TABS,
    key: (name) => `tab_${name}`,
    label: 'console_tabs',
    panel: () => 'admin-panel',
    cls: 'admin-tabs',
    select: (name) => {
      tab = name;
      sessionStorage.setItem('mp.admin.tab', name);
      rerender();
    },
  });
  const body = tabPanel(h('div', { class: 'admin-panel' }), 'admin-panel', tabBar.id(tab));
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
      tabBar.el),
    h('main', { class: 'admin-body' }, body)));

  const renderOnline = (o) => {
    if (!o) {
      setText(onlineEl, '');
      return;
    }
    setText(onlineEl, `${t('online')}: ${t('online_counts', o)}`);
  };
  live.on('presence', renderOnline);

  // What every tab builds from: the view of now (replaced by each snapshot), the challenge and
  // the admin token, the one way to send a command (with its toast), and a way to redraw.
  const ctx = { id, token, view: null, send, rerender: () => rerender() };
  ctx.linkCell = linkCells(ctx);
  ctx.importCard = importCard(ctx);
  const run = runTab(ctx);
  const tabs = { run, setup: setupTab(ctx), teams: teamsTab(ctx), judges: judgesTab(ctx), scores: scoresTab(ctx), audit: auditTab(ctx), posts: postsTab(ctx) };

  // ---- tabs and rendering --------------------------------------------------------------------
  let stale = false;
  // The tab buttons are made once and only marked (tabs.js): a console redrawn by every event
  // must not swap the button under a finger (or a pointer) between aiming and tapping.
  function renderTabs() {
    tabBar.mark(tab);
    body.setAttribute('aria-labelledby', tabBar.id(tab));
  }

  function rerender() {
    const { view } = ctx;
    if (!view) return;
    stale = false;
    renderTabs();
    const c = view.challenge;
    setText(titleEl, c ? loc(c.title) : id);
    if (c) {
      phaseEl.className = `phase ${c.phase}`;
      setText(phaseEl, t(`phase_${c.phase}`));
    }
    replace(body, tabs[tab].render());
    run.tick();
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
    ctx.view = v;
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
  const refreshTitle = title(() => `${ctx.view && ctx.view.challenge ? loc(ctx.view.challenge.title) : id} · ${t('admin_console')}`);
  live.on('view', () => refreshTitle());
  onLang(() => rerender());
  everySecond(run.tick);
  syncClock();
  live.connect();
}
