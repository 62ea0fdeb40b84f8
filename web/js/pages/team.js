// The team console (团队控制台), opened from the link the organizers minted (the token in the URL
// fragment): post an update with a photo from the phone's camera, mark the next milestone, and
// see the team's own timeline. Posts and ticks go through the queue (queue.js), so what is made on
// bad Wi-Fi waits, survives a reload, and is sent exactly once when the connection returns.

import { h, replace, setText } from '../dom.js';
import { t, loc, onLang, when } from '../i18n.js';
import { Live } from '../live.js';
import { getJSON, takeToken, syncClock } from '../api.js';
import { clockAt, hms, clockNote, everySecond } from '../clock.js';
import { milestoneDots } from '../board.js';
import { Queue, queuePanel, preparePhoto } from '../queue.js';
import { tx } from '../idb.js';
import { langSwitch, statusBanner, title, toast, notice } from '../chrome.js';
import { postCard } from './phone.js';

const MAX_PHOTOS = 6;

export async function start(root, id) {
  const token = takeToken('team', id);
  if (!token) {
    notice(root, 'need_link');
    return;
  }
  // The console shows the team's own posts as they come (the ticker's), never the leaderboard or
  // the people's choice: every scorecard of the challenge would be a message for nothing.
  const live = new Live(id, token, { parts: ['ticker'] });
  let view = null;
  let teamId = null;
  const outbox = new Queue(`team.${id}`, id, token, live);
  let timeline = null;
  let photos = [];

  const teamName = h('h1', { class: 'title data' });
  const trackEl = h('div', { class: 'sub data' });
  const countdown = h('span', { class: 'countdown small' });
  const clockNoteEl = h('span', { class: 'clock-note' });
  const outboxEl = h('section', { class: 'outbox' });
  const milestoneEl = h('section', { class: 'milestone-card card' });
  const timelineEl = h('section', { class: 'timeline' });

  // ---- the composer --------------------------------------------------------------------------
  const text = h('textarea', { class: 'post-text', ph: 'post_text_ph', rows: 3, maxLength: 2000, name: 'text' });
  const linkInput = h('input', { type: 'url', ph: 'add_link_ph', name: 'link', inputMode: 'url' });
  const percent = h('input', { type: 'range', min: 0, max: 100, step: 5, value: 0, name: 'percent', label: 'progress' });
  const percentSet = h('input', { type: 'checkbox', name: 'percent_set' });
  const percentLabel = h('span', {});
  const photoInput = h('input', { type: 'file', accept: 'image/png,image/jpeg,image/webp,image/*', attrs: { capture: 'environment' }, multiple: true, class: 'file', name: 'photo' });
  const previews = h('div', { class: 'previews' });
  const publish = h('button', { type: 'submit', class: 'primary big', i18n: 'publish' });
  const composer = h('form', { class: 'composer card', on: { submit: (ev) => { ev.preventDefault(); submit(); } } },
    h('h2', { i18n: 'post_update' }),
    text,
    previews,
    h('label', { class: 'photo-btn button' }, h('span', { class: 'cam', attrs: { 'aria-hidden': 'true' } }), h('span', { i18n: 'add_photo' }), photoInput),
    linkInput,
    h('label', { class: 'percent' }, percentSet, percentLabel, percent),
    publish);

  const showPercent = () => {
    percent.disabled = !percentSet.checked;
    setText(percentLabel, percentSet.checked ? t('percent_label', { p: percent.value }) : t('percent_unset'));
  };
  percent.addEventListener('input', showPercent);
  percentSet.addEventListener('change', showPercent);

  function renderPreviews() {
    replace(previews, photos.map((p, i) =>
      h('figure', { class: 'preview' },
        h('img', { src: p.url, alt: t('photo_alt') }),
        h('button', { type: 'button', class: 'x', text: '×', tip: 'remove_photo', label: 'remove_photo', on: { click: () => { photos.splice(i, 1); renderPreviews(); } } }))));
  }

  photoInput.addEventListener('change', async () => {
    const files = [...photoInput.files];
    photoInput.value = '';
    for (const file of files) {
      if (photos.length >= MAX_PHOTOS) {
        toast(t('photos_max', { n: MAX_PHOTOS }), 'error');
        break;
      }
      try {
        photos.push(await preparePhoto(file));
      } catch (err) {
        toast(t(err.code === 'photo_too_big' ? 'photo_too_big' : 'photo_bad_type'), 'error');
      }
    }
    renderPreviews();
  });

  async function submit() {
    const body = text.value.trim();
    const link = linkInput.value.trim();
    if (!body && !link && !photos.length) {
      toast(t('post_needs_content'), 'error');
      return;
    }
    const command = { type: 'post_progress', text: body, links: link ? [link] : [] };
    if (percentSet.checked) command.percent = Number(percent.value);
    const made = photos;
    text.value = '';
    linkInput.value = '';
    photos = [];
    renderPreviews();
    const { kept } = await outbox.add('post', command, made);
    if (!live.open) toast(t('post_queued'), 'ok');
    if (!kept) toast(t('queue_not_kept'), 'error');
  }

  // ---- the queue -----------------------------------------------------------------------------
  const milestoneName = (ms) => {
    const m = view && view.milestones.find((x) => x.id === ms);
    return m ? loc(m.name) : ms;
  };
  const renderOutbox = queuePanel(outboxEl, outbox, live, {
    describe: (item) => (item.kind === 'milestone'
      ? t('queued_milestone', { name: milestoneName(item.command.milestone) })
      : item.command.text || (item.command.links || []).join(' ')),
    // A refused post goes back into the composer, to be changed and posted again.
    canCorrect: (item) => item.kind === 'post' && item.photos.every((p) => p.blob),
    correct: (item) => {
      text.value = item.command.text || '';
      linkInput.value = (item.command.links || [])[0] || '';
      photos = item.photos.map((p) => ({ blob: p.blob, type: p.type, url: URL.createObjectURL(p.blob) }));
      renderPreviews();
      outbox.discard(item);
      text.focus();
    },
  });
  outbox.onChange((items, sent) => {
    if (sent) toast(t(sent.kind === 'milestone' ? 'milestone_sent' : 'post_sent'));
    if (view && teamId) renderMilestones();
  });

  // ---- milestones ----------------------------------------------------------------------------
  const note = h('input', { type: 'text', ph: 'milestone_note_ph', maxLength: 500, name: 'note' });
  async function reach(milestone) {
    const command = { type: 'reach_milestone', milestone, note: note.value.trim() };
    note.value = '';
    const { kept } = await outbox.add('milestone', command);
    if (!live.open) toast(t('milestone_queued'), 'ok');
    if (!kept) toast(t('queue_not_kept'), 'error');
  }

  function renderMilestones() {
    const team = view.teams[teamId];
    if (!team) return;
    const reached = new Set(team.progress.reached.map((r) => r.milestone));
    // A tick that waits to be sent counts as made here, so the next one can be ticked offline too.
    const ticking = new Set(outbox.waiting.filter((i) => i.kind === 'milestone').map((i) => i.command.milestone));
    for (const m of ticking) reached.add(m);
    const next = view.milestones.find((m) => !reached.has(m.id));
    const building = view.challenge && view.challenge.phase === 'running';
    // A tick the organizers took back is told here, with their reason, until it is ticked again.
    const undone = new Map();
    for (const a of view.announcements || []) {
      if (a.team === teamId && a.withdrawn && !reached.has(a.milestone) && !undone.has(a.milestone)) undone.set(a.milestone, a);
    }
    replace(milestoneEl,
      h('h2', { i18n: 'milestones' }),
      milestoneDots(view, team),
      [...undone.values()].map((a) => h('p', { class: 'notice-line undone', role: 'status', data: { milestone: a.milestone },
        text: t('team_milestone_undone', { name: milestoneName(a.milestone), reason: a.withdrawn.reason || '' }) })),
      h('ol', { class: 'steps' }, view.milestones.map((m) => {
        const r = team.progress.reached.find((x) => x.milestone === m.id);
        return h('li', { class: [r ? 'done' : '', ticking.has(m.id) && !r ? 'queued' : '', m === next ? 'next' : ''] },
          h('span', { class: 'data', text: loc(m.name) }),
          h('span', { class: 'when', text: r ? when(r.at) : ticking.has(m.id) ? t('outbox_waiting_short') : m.due_offset_secs != null ? t('due_at', { h: Math.round(m.due_offset_secs / 360) / 10 }) : '' }));
      })),
      next
        ? h('div', { class: 'next-ms' },
          h('span', { i18n: 'next_milestone' }), ' ', h('strong', { class: 'data', text: loc(next.name) }),
          note,
          h('button', { type: 'button', class: 'primary', i18n: 'mark_reached', disabled: !building, data: { milestone: next.id }, on: { click: () => reach(next.id) } }))
        : h('p', { class: 'done', i18n: 'all_milestones_done' }));
  }

  // ---- the team's own timeline ---------------------------------------------------------------
  // The timeline last read is kept with the page's last view, for a reload without network.
  const timelineKey = () => `timeline.${id}.${teamId}`;
  async function loadTimeline() {
    try {
      timeline = await getJSON(`/api/challenges/${encodeURIComponent(id)}/teams/${encodeURIComponent(teamId)}/timeline`, token);
      renderTimeline();
      tx('views', 'readwrite', (s) => s.put({ key: timelineKey(), view: timeline, at: Date.now() })).catch(() => {});
    } catch {
      if (!timeline) {
        const kept = await tx('views', 'readonly', (s) => s.get(timelineKey())).catch(() => null);
        if (kept && !timeline) {
          timeline = kept.view;
          renderTimeline();
        }
      }
      setTimeout(loadTimeline, 5000);
    }
  }

  function renderTimeline() {
    if (!timeline) {
      replace(timelineEl, h('h2', { i18n: 'your_timeline' }), h('p', { class: 'empty', i18n: 'loading' }));
      return;
    }
    const posts = timeline.slice().reverse();
    replace(timelineEl, h('h2', { i18n: 'your_timeline' }),
      posts.length ? posts.map((p) => postCard(view, p)) : h('p', { class: 'empty', i18n: 'no_posts' }));
  }

  function renderHead() {
    const team = view.teams[teamId];
    setText(teamName, team ? loc(team.name) : '');
    const tr = team && view.tracks.find((x) => x.id === team.track);
    setText(trackEl, `${view.challenge ? loc(view.challenge.title) : ''}${tr ? ` · ${loc(tr.name)}` : ''}`);
    const building = view.challenge && (view.challenge.phase === 'running' || view.challenge.phase === 'judging');
    publish.disabled = false;
    composer.classList.toggle('closed', !building);
    composer.querySelector('.closed-note')?.remove();
    if (!building) composer.appendChild(h('p', { class: 'closed-note', i18n: 'not_building' }));
  }

  function renderClock() {
    if (!view || !view.challenge) return;
    const c = clockAt(view.challenge);
    countdown.dataset.state = c.state;
    setText(countdown, hms(c.remaining));
    setText(clockNoteEl, clockNote(c));
  }

  replace(root,
    h('div', { class: 'console team-console' },
      statusBanner(live),
      h('header', { class: 'console-head' },
        h('div', { class: 'row1' }, h('span', { class: 'brand' }, h('img', { src: '/static/icon.svg', alt: '', class: 'logo' }), h('span', { i18n: 'team_console' })), langSwitch()),
        teamName, trackEl,
        h('div', { class: 'row2' }, countdown, clockNoteEl)),
      h('main', { class: 'console-body' }, outboxEl, composer, milestoneEl, timelineEl)));
  showPercent();
  renderTimeline();

  live.on('welcome', (role) => {
    if (role.role !== 'team') return;
    if (!teamId) {
      teamId = role.id;
      loadTimeline();
    }
    outbox.flush();
  });
  live.on('status', (status) => {
    if (status === 'unauthorized') notice(root, 'unauthorized', outboxEl); // What waits stays in view, refused with the reason.
    renderOutbox();
  });
  live.on('view', (v, change) => {
    view = v;
    if (!teamId) return;
    renderHead();
    renderClock();
    renderMilestones();
    if (change.delta) {
      for (const p of change.delta.patches) {
        if (p.type === 'post' && p.post.team === teamId && timeline && !timeline.some((x) => x.id === p.post.id)) {
          timeline.push(p.post);
          renderTimeline();
        }
        if (p.type === 'ticker_hidden' || p.type === 'ticker_removed') loadTimeline();
        if (p.type === 'withdrawn' && (v.announcements || []).some((a) => a.team === teamId && p.seqs.includes(a.seq))) {
          toast(t('team_milestone_undone', { name: milestoneName(v.announcements.find((a) => p.seqs.includes(a.seq)).milestone), reason: p.withdrawal.reason || '' }), 'error', 8000);
        }
      }
    } else if (timeline) {
      loadTimeline();
    }
  });
  const refreshTitle = title(() => `${view && view.teams[teamId] ? loc(view.teams[teamId].name) : t('team_console')} · ${t('app_name')}`);
  live.on('view', () => refreshTitle());
  onLang(() => {
    showPercent();
    renderPreviews();
    renderOutbox();
    if (view && teamId) {
      renderHead();
      renderClock();
      renderMilestones();
      renderTimeline();
    }
  });
  everySecond(renderClock);
  syncClock();
  live.connect();
}
