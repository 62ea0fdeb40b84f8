// Console links: minting a team's or a judge's link (shown once, with its QR code) and revoking
// the live ones. The teams and judges tabs share one cell per person.

import { h } from '../../dom.js';
import { t } from '../../i18n.js';
import { postJSON, errorText } from '../../api.js';
import { qrSvg } from '../../qr.js';
import { toast, confirmButton } from '../../chrome.js';

/** The link cell of the console `ctx`: `linkCell({role, id})` builds one person's cell. */
export function linkCells(ctx) {
  const { id, token, send, rerender } = ctx;
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
    const { view } = ctx;
    const key = `${subject.role}:${subject.id}`;
    const tokens = view.tokens.filter((tk) => tk.subject.role === subject.role && tk.subject.id === subject.id && !tk.revoked_at);
    const link = minted.get(key);
    return h('div', { class: 'link-cell' },
      h('span', { class: 'muted', text: tokens.length ? t('tokens_live', { n: tokens.length }) : t('tokens_none') }),
      h('button', { type: 'button', i18n: 'mint_link', data: { mint: key }, on: { click: () => mint(subject) } }),
      tokens.length ? confirmButton('revoke', () => send({ type: 'revoke_tokens', subject })) : null,
      // A lost link: the old ones stop working and a new one is shown.
      tokens.length ? confirmButton('remint', async () => {
        if (await send({ type: 'revoke_tokens', subject }, 'links_revoked')) await mint(subject);
      }) : null,
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

  return linkCell;
}
