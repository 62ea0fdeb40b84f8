// CSV written for spreadsheets: RFC 4180 quoting, a UTF-8 byte order mark so that Excel reads
// Chinese names, and no formulas — a cell that a spreadsheet would run (=, +, -, @, a tab or a
// carriage return first) is kept as text with a leading apostrophe, as OWASP recommends.

/** One cell, quoted when it must be. */
function cell(value) {
  let s = value === null || value === undefined ? '' : String(value);
  if (/^[=+\-@\t\r]/.test(s) && !/^-?\d+(\.\d+)?$/.test(s)) s = `'${s}`;
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** The CSV text of `rows` (arrays of cells), the first being the header. */
export function toCsv(rows) {
  return `\ufeff${rows.map((r) => r.map(cell).join(',')).join('\r\n')}\r\n`;
}
