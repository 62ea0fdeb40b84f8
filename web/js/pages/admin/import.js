// Importing teams and judges from CSV: a file (or pasted text) is read here, shown as a preview
// with each row's problems, and sent as one `import_roster` command, which the server adds whole
// or not at all; its answer names every refused row, shown beside that row.

import { h } from '../../dom.js';
import { t, loc, lang } from '../../i18n.js';
import { postCommand, newId, errorText } from '../../api.js';
import { toast } from '../../chrome.js';
import { parseCsv, csvLink } from '../../csv.js';

const DISCIPLINES = ['software', 'hardware', 'design', 'maker', 'business', 'other'];
const PANEL_ROLES = ['maker_representative', 'domain_expert', 'enterprise_representative', 'investor'];
const TEAM_COLUMNS = ['id', 'track', 'name_zh', 'name_en', 'description_zh', 'description_en', 'members', 'contact'];
const JUDGE_COLUMNS = ['id', 'name_zh', 'name_en', 'panel_role', 'affiliation_zh', 'affiliation_en', 'tracks', 'teams', 'conflicts'];
/** The templates: a header and one example row each. */
const TEMPLATES = {
  teams: [TEAM_COLUMNS, ['greenbot', 'hardware', '绿芽机器人', 'GreenBot', '', '', 'Li Na|hardware|中国; Tom Berg|software|Sverige', 'greenbot@example.org']],
  judges: [JUDGE_COLUMNS, ['wang', '王芳', 'Wang Fang', 'domain_expert', '', '', 'hardware; software', '', 'greenbot']],
};

const list = (s) => (s || '').split(/[;,\s]+/).map((x) => x.trim()).filter(Boolean);

/** Reads one member, `name|discipline|region`. */
function member(text, problems) {
  const [name, discipline = 'other', region = ''] = text.split('|').map((x) => x.trim());
  if (!DISCIPLINES.includes(discipline)) problems.push(t('import_bad_discipline', { value: discipline }));
  return { name, discipline: DISCIPLINES.includes(discipline) ? discipline : 'other', region };
}

/** The rows of a CSV as teams or judges (by its header), each with its problems. */
export function readRoster(text) {
  const rows = parseCsv(text);
  if (!rows.length) return { error: t('import_empty') };
  const header = rows[0].map((x) => x.trim().toLowerCase());
  const kind = header.includes('panel_role') ? 'judges' : header.includes('track') ? 'teams' : null;
  if (!kind) return { error: t('import_unknown_header') };
  const col = (row, name) => {
    const i = header.indexOf(name);
    return i < 0 ? '' : (row[i] || '').trim();
  };
  const items = rows.slice(1).map((row, i) => {
    const problems = [];
    const name = { zh: col(row, 'name_zh'), en: col(row, 'name_en') };
    if (!col(row, 'id')) problems.push(t('import_no_id'));
    if (!name.zh && !name.en) problems.push(t('import_no_name'));
    if (kind === 'teams') {
      if (!col(row, 'track')) problems.push(t('import_no_track'));
      return {
        row: i + 1,
        problems,
        value: {
          id: col(row, 'id'),
          track: col(row, 'track'),
          name,
          description: { zh: col(row, 'description_zh'), en: col(row, 'description_en') },
          members: col(row, 'members').split(';').map((m) => m.trim()).filter(Boolean).map((m) => member(m, problems)),
          contact: col(row, 'contact'),
        },
      };
    }
    const role = col(row, 'panel_role');
    if (!PANEL_ROLES.includes(role)) problems.push(t('import_bad_role', { value: role }));
    return {
      row: i + 1,
      problems,
      value: {
        id: col(row, 'id'),
        name,
        panel_role: role,
        affiliation: { zh: col(row, 'affiliation_zh'), en: col(row, 'affiliation_en') },
        assignment: { tracks: list(col(row, 'tracks')), teams: list(col(row, 'teams')) },
        conflicts: list(col(row, 'conflicts')),
      },
    };
  });
  return { kind, items };
}

/** The import card of the console `ctx` (teams or judges, by the file's header). */
export function importCard(ctx) {
  let read = null;
  let refused = new Map();
  const area = h('textarea', { name: 'import_csv', rows: 6, class: 'data', ph: 'import_paste' });
  const file = h('input', { type: 'file', accept: '.csv,text/csv', name: 'import_file' });
  file.addEventListener('change', async () => {
    if (file.files[0]) {
      area.value = await file.files[0].text();
      check();
    }
  });

  function check() {
    read = readRoster(area.value);
    refused = new Map();
    ctx.rerender();
  }

  async function send() {
    const command = { type: 'import_roster', teams: [], judges: [] };
    command[read.kind] = read.items.map((it) => it.value);
    try {
      await postCommand(ctx.id, ctx.token, { id: newId('import'), command });
      toast(t('import_done', { n: read.items.length }));
      read = null;
      area.value = '';
    } catch (err) {
      refused = new Map((err.rows || []).map((r) => [r.row, lang() === 'zh' ? r.message_zh : r.message]));
      toast(errorText(err), 'error', 7000);
    }
    ctx.rerender();
    // The refused rows are listed above the preview: brought into view, however long the file.
    document.querySelector('.import-problems')?.scrollIntoView({ block: 'nearest' });
  }

  const template = (kind) => csvLink(`${kind}-template.csv`, TEMPLATES[kind], `import_template_${kind}`);

  return function render() {
    const ok = read && !read.error && read.items.length && read.items.every((it) => !it.problems.length);
    const problemsOf = (it) => [...it.problems, ...(refused.has(it.row) ? [refused.get(it.row)] : [])];
    const wrong = read && read.items ? read.items.filter((it) => problemsOf(it).length) : [];
    return h('section', { class: 'card import-card' }, h('h2', { i18n: 'import_title' }),
      h('p', { class: 'muted', i18n: 'import_note' }),
      h('p', {}, template('teams'), ' · ', template('judges')),
      h('label', { class: 'import-file' }, h('span', { i18n: 'import_file' }), file),
      h('label', { class: 'import-text' }, h('span', { i18n: 'import_text' }), area),
      h('div', { class: 'actions' },
        h('button', { type: 'button', i18n: 'import_check', on: { click: check } }),
        ok ? h('button', { type: 'button', class: 'primary', i18n: `import_send_${read.kind}`, vars: { n: read.items.length }, on: { click: send } }) : null),
      read && read.error ? h('p', { class: 'error', text: read.error }) : null,
      // Every row with a problem, listed first: in a file of a hundred rows the preview is long.
      wrong.length ? h('ul', { class: 'import-problems', role: 'alert' }, wrong.map((it) => h('li', { data: { row: it.row } },
        h('strong', { text: t('import_row', { row: it.row }) }), ' ', h('span', { class: 'data', text: it.value.id }), ': ',
        h('span', { text: problemsOf(it).join(' · ') })))) : null,
      read && read.items ? h('table', { class: 'table import-preview', data: { kind: read.kind } },
        h('tbody', {}, read.items.map((it) => {
          const problems = problemsOf(it);
          return h('tr', { class: problems.length ? 'refused' : '', data: { row: it.row } },
            h('td', { text: String(it.row) }),
            h('td', { class: 'data', text: it.value.id }),
            h('td', { class: 'data', text: loc(it.value.name) }),
            h('td', { class: 'data', text: read.kind === 'teams' ? it.value.track : PANEL_ROLES.includes(it.value.panel_role) ? t(`role_${it.value.panel_role}`) : it.value.panel_role }),
            h('td', { class: 'problems', text: problems.join(' · ') }));
        }))) : null);
  };
}
