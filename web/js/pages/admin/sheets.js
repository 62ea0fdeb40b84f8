// The organizers' sheets: every team's and judge's link on a printable page (one card per link,
// with its QR code) and as CSV, minted in one go (or re-minted: earlier links revoked first); and,
// once the result is final, the result with its breakdown as CSV and as a printable page.

import { h, setText } from '../../dom.js';
import { t, loc, num, lang } from '../../i18n.js';
import { postJSON, postCommand, newId, errorText } from '../../api.js';
import { qrSvg } from '../../qr.js';
import { toast, confirmButton } from '../../chrome.js';
import { csvLink } from '../../csv.js';

/** Subjects revoked and minted at once. */
const MINT_AT_ONCE = 6;

/** Prints the element `area` alone (print CSS hides the rest of the page). */
function printArea(area) {
  document.body.classList.add('printing');
  area.classList.add('print-area');
  const done = () => {
    document.body.classList.remove('printing');
    area.classList.remove('print-area');
    window.removeEventListener('afterprint', done);
  };
  window.addEventListener('afterprint', done);
  window.print();
}

/** The sheets of the console `ctx`: `linkSheet()` and `resultSheet()` are cards of the run tab. */
export function sheets(ctx) {
  const { id } = ctx;
  // Links minted here are shown once (the server keeps only their hashes): kept until closed.
  let minted = null;
  let minting = null;
  let built = null;

  const subjects = (view) => [
    ...Object.values(view.teams).map((tm) => ({ role: 'team', id: tm.id })),
    ...Object.values(view.judges).map((j) => ({ role: 'judge', id: j.id })),
  ];
  const hasLive = (view, s) => view.tokens.some((tk) => tk.subject.role === s.role && tk.subject.id === s.id && !tk.revoked_at);

  // A few subjects at a time: each revoke and mint waits for its append to be durable, and the
  // server writes appends that arrive together at once; one by one, a hundred teams took longer
  // than an organizer waits. A command refused for its rate (429) waits a second and goes again.
  async function mintAll(fresh) {
    minting = { done: 0, n: subjects(ctx.view).length };
    ctx.rerender();
    const list = subjects(ctx.view);
    const out = new Array(list.length);
    let failed = null;
    let next = 0;
    const retried = async (call) => {
      for (;;) {
        try {
          return await call();
        } catch (err) {
          if (err.status !== 429) throw err;
          await new Promise((resolve) => setTimeout(resolve, 1000));
        }
      }
    };
    const worker = async () => {
      while (!failed && next < list.length) {
        const i = next++;
        const subject = list[i];
        try {
          if (fresh && hasLive(ctx.view, subject)) {
            await retried(() => postCommand(id, ctx.token, { id: newId('revoke'), command: { type: 'revoke_tokens', subject } }));
          }
          const res = await retried(() => postJSON(`/api/challenges/${encodeURIComponent(id)}/tokens`, ctx.token, { subject }));
          out[i] = { subject, link: res.link };
          minting.done += 1;
          setText(progress, t('minting_n', minting));
        } catch (err) {
          failed = err;
        }
      }
    };
    await Promise.all(Array.from({ length: MINT_AT_ONCE }, worker));
    if (failed) toast(errorText(failed), 'error', 7000);
    else if (fresh) toast(t('links_revoked'));
    minting = null;
    const done = out.filter(Boolean);
    minted = done.length ? done : null;
    ctx.rerender();
  }
  const progress = h('p', { class: 'muted minting', attrs: { 'aria-live': 'polite' } });

  function who(view, subject) {
    if (subject.role === 'team') {
      const tm = view.teams[subject.id];
      const tr = tm && view.tracks.find((x) => x.id === tm.track);
      return { name: tm ? tm.name : { zh: subject.id, en: subject.id }, detail: tr ? loc(tr.name) : '', track: tm ? tm.track : '' };
    }
    const j = view.judges[subject.id];
    return { name: j ? j.name : { zh: subject.id, en: subject.id }, detail: j ? t(`role_${j.panel_role}`) : '', track: '' };
  }

  function linkSheet() {
    const { view } = ctx;
    const n = subjects(view).length;
    const head = h('div', { class: 'actions' },
      confirmButton('mint_all_links', () => mintAll(false), 'primary', { n }),
      confirmButton('remint_all_links', () => mintAll(true), 'danger', { n }));
    if (minting) {
      setText(progress, t('minting_n', minting));
      return h('section', { class: 'card link-sheet-card' }, h('h2', { i18n: 'link_sheet' }), progress);
    }
    if (!minted) {
      return h('section', { class: 'card link-sheet-card' }, h('h2', { i18n: 'link_sheet' }),
        h('p', { class: 'muted', i18n: 'link_sheet_note' }), head);
    }
    // Built once per minting (and language, and names): the run tab redraws at every event, and
    // a hundred QR codes drawn again at every step of the reveal kept the console busy.
    const key = [lang(), ...minted.map(({ subject }) => {
      const w = who(view, subject);
      return `${loc(w.name)}·${w.detail}`;
    })].join('\n');
    if (built && built.minted === minted && built.key === key) return built.el;
    const rows = [['role', 'id', 'name_zh', 'name_en', 'track', 'link'],
      ...minted.map(({ subject, link }) => {
        const w = who(view, subject);
        return [subject.role, subject.id, w.name.zh, w.name.en, w.track, link];
      })];
    const sheet = h('div', { class: 'link-sheet' }, minted.map(({ subject, link }) => {
      const w = who(view, subject);
      return h('article', { class: 'link-card', data: { role: subject.role, id: subject.id } },
        h('h3', { class: 'data', text: loc(w.name) }),
        h('p', { class: 'muted' }, h('span', { i18n: subject.role === 'team' ? 'team_console' : 'judge_console' }), w.detail ? ` · ${w.detail}` : ''),
        qrSvg(link, loc(w.name)),
        h('code', { class: 'data link-text', text: link }));
    }));
    const el = h('section', { class: 'card link-sheet-card' }, h('h2', { i18n: 'link_sheet' }),
      h('p', { class: 'muted', i18n: 'links_once' }),
      h('div', { class: 'actions' },
        h('button', { type: 'button', class: 'primary', i18n: 'print', data: { print: 'links' }, on: { click: () => printArea(sheet) } }),
        csvLink(`${id}-links.csv`, rows, 'download_csv'),
        h('button', { type: 'button', i18n: 'close', on: { click: () => { minted = null; ctx.rerender(); } } })),
      sheet);
    built = { minted, key, el };
    return el;
  }

  function resultSheet() {
    const { view } = ctx;
    if (!view.challenge || view.challenge.phase !== 'revealed') return null;
    const board = view.leaderboard.board;
    const criteria = view.rubric ? view.rubric.criteria : [];
    const judges = Object.keys(view.judges);
    const teamName = (team) => (view.teams[team] ? view.teams[team].name : { zh: team, en: team });
    const rows = [['track', 'rank', 'team', 'name_zh', 'name_en', 'score', 'judges_scored', 'judges_assigned',
      ...criteria.map((c) => `mean_${c.id}`), ...judges.map((j) => `total_${j}`)]];
    for (const tb of board.tracks) {
      for (const r of tb.rows) {
        const mean = (c) => r.criteria.find((m) => m.criterion === c.id)?.mean ?? '';
        const total = (j) => {
          const part = r.contributions.find((x) => x.judge === j && !x.excluded);
          return part ? part.total : '';
        };
        rows.push([tb.track, r.rank ?? '', r.team, teamName(r.team).zh, teamName(r.team).en, r.score ?? '',
          r.judges_scored, r.judges_assigned, ...criteria.map(mean), ...judges.map(total)]);
      }
    }
    const printable = h('div', { class: 'result-sheet' },
      h('h2', { class: 'data', text: view.challenge ? loc(view.challenge.title) : '' }),
      board.tracks.map((tb) => {
        const tr = view.tracks.find((x) => x.id === tb.track);
        return h('section', { class: 'result-track' }, h('h3', { class: 'data', text: tr ? loc(tr.name) : tb.track }),
          h('table', { class: 'table' },
            h('thead', {}, h('tr', {}, h('th', { i18n: 'col_rank' }), h('th', { i18n: 'col_team' }), h('th', { i18n: 'col_score' }),
              criteria.map((c) => h('th', { class: 'data', text: loc(c.name) })))),
            h('tbody', {}, tb.rows.map((r) => h('tr', { data: { team: r.team } },
              h('td', { text: r.rank == null ? '—' : String(r.rank) }),
              h('td', { class: 'data', text: loc(teamName(r.team)) }),
              h('td', { text: r.score == null ? '—' : num(r.score, 2) }),
              criteria.map((c) => {
                const m = r.criteria.find((x) => x.criterion === c.id);
                return h('td', { text: m ? num(m.mean, 2) : '—' });
              }))))));
      }));
    return h('section', { class: 'card result-sheet-card' }, h('h2', { i18n: 'result_sheet' }),
      h('div', { class: 'actions' },
        h('button', { type: 'button', class: 'primary', i18n: 'print', data: { print: 'results' }, on: { click: () => printArea(printable) } }),
        csvLink(`${id}-results.csv`, rows, 'download_csv')),
      printable);
  }

  return { linkSheet, resultSheet };
}
