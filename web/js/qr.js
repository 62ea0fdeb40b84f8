// QR codes for the big screen, the admin console and the printed link sheet, drawn as SVG by
// Kazuhiko Arase's `qrcode-generator` (MIT, vendored unchanged under ./vendor with its notice), so
// that nothing is fetched from elsewhere and no link (with its token) ever leaves the page.

import { qrcode } from './vendor/qrcode-generator/qrcode.mjs';
import { svg } from './dom.js';

/** The quiet zone around the code, in modules (the standard asks for four). */
const QUIET = 4;

/**
 * The dark modules of the QR code of `text` (UTF-8, byte mode, error correction M, the smallest
 * version that holds it), as rows of booleans.
 */
export function qrMatrix(text) {
  const qr = qrcode(0, 'M');
  // The library's byte mode keeps the low byte of each UTF-16 unit: hand it the UTF-8 bytes, one
  // per unit, so that any text (Chinese names included) is encoded as UTF-8.
  qr.addData(String.fromCharCode(...new TextEncoder().encode(text)), 'Byte');
  qr.make();
  const n = qr.getModuleCount();
  return Array.from({ length: n }, (_, row) => Array.from({ length: n }, (_, col) => qr.isDark(row, col)));
}

/** An SVG element of the QR code of `text`, with its quiet zone, dark on light in every theme. */
export function qrSvg(text, label) {
  const modules = qrMatrix(text);
  const n = modules.length;
  const size = n + 2 * QUIET;
  let d = '';
  modules.forEach((row, y) => {
    row.forEach((dark, x) => {
      if (dark) d += `M${x + QUIET} ${y + QUIET}h1v1h-1z`;
    });
  });
  const el = svg(
    'svg',
    { viewBox: `0 0 ${size} ${size}`, class: 'qr', role: 'img', 'shape-rendering': 'crispEdges' },
    svg('rect', { width: size, height: size, fill: '#fff' }),
    svg('path', { d, fill: '#000' }),
  );
  if (label) el.setAttribute('aria-label', label);
  el.dataset.qr = text;
  return el;
}
