// CSV written for spreadsheets: RFC 4180 quoting, a UTF-8 byte order mark so that Excel reads
// Chinese names, and no formulas — a cell that a spreadsheet would run (=, +, -, @, a tab or a
// carriage return first) is kept as text with a leading apostrophe, as OWASP recommends.

import { h } from './dom.js';

/** One cell, quoted when it must be. */
function cell(value) {
  let s = value === null || value === undefined ? '' : String(value);
  if (/^[=+\-@\t\r]/.test(s) && !/^-?\d+(\.\d+)?$/.test(s)) s = `'${s}`;
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** A link that saves `rows` as the CSV file `name`; its text is the message `key`. A data: URL
 * rather than a blob: one, so that nothing outlives the page's redraws. */
export function csvLink(name, rows, key) {
  return h('a', { href: `data:text/csv;charset=utf-8,${encodeURIComponent(toCsv(rows))}`, download: name, class: 'button csv-download', i18n: key });
}

/** The CSV text of `rows` (arrays of cells), the first being the header. */
export function toCsv(rows) {
  return `\ufeff${rows.map((r) => r.map(cell).join(',')).join('\r\n')}\r\n`;
}

/** The rows of the CSV `text` (RFC 4180: quoted fields, "" for a quote, CRLF or LF), without
 * a byte order mark and without blank lines. */
export function parseCsv(text) {
  const rows = [];
  let row = [];
  let field = '';
  let quoted = false;
  const s = text.replace(/^\ufeff/, '');
  for (let i = 0; i < s.length; i += 1) {
    const c = s[i];
    if (quoted) {
      if (c === '"' && s[i + 1] === '"') {
        field += '"';
        i += 1;
      } else if (c === '"') {
        quoted = false;
      } else {
        field += c;
      }
    } else if (c === '"' && field === '') {
      quoted = true;
    } else if (c === ',') {
      row.push(field);
      field = '';
    } else if (c === '\n' || c === '\r') {
      if (c === '\r' && s[i + 1] === '\n') i += 1;
      row.push(field);
      field = '';
      if (row.some((f) => f.trim() !== '')) rows.push(row);
      row = [];
    } else {
      field += c;
    }
  }
  row.push(field);
  if (row.some((f) => f.trim() !== '')) rows.push(row);
  return rows;
}
