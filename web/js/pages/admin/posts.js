// The posts tab: the ticker as the organizers see it, with a way to hide a post and say why.

import { h } from '../../dom.js';
import { t } from '../../i18n.js';
import { confirmButton } from '../../chrome.js';
import { postCard } from '../phone.js';
import { input } from './forms.js';

/** The posts tab of the console `ctx`. */
export function postsTab(ctx) {
  const { send } = ctx;
  function render() {
    const { view } = ctx;
    return h('div', { class: 'posts-tab' },
      view.ticker.length ? view.ticker.map((p) => {
        const reason = input({ ph: 'hide_reason_ph', maxLength: 500 });
        const card = postCard(view, p);
        if (p.hidden) card.appendChild(h('p', { class: 'muted', text: t('hidden_reason', { reason: p.hidden }) }));
        else card.appendChild(h('div', { class: 'inline' }, reason, confirmButton('hide', () => send({ type: 'hide_post', post: p.id, reason: reason.value.trim() }))));
        return card;
      }) : h('p', { class: 'empty', i18n: 'no_posts' }));
  }

  return { render };
}
