// The consoles' queue: every command a team or a judge makes (a post with its photos, a milestone
// tick, a scorecard, a revision, a conflict declaration) is kept in IndexedDB first, with its
// command id chosen when the person pressed the button, and then sent — at once when online, or
// when the connection returns, oldest first. Photos wait as Blobs and are uploaded just before
// their post. Because the id is fixed when the command is made, sending again after a lost
// answer is answered "repeated" by the server and changes nothing: each command lands exactly
// once, even across reloads. A command the server refuses when it finally arrives (scoring closed
// meanwhile, a milestone already ticked, a revoked token) stays, with the server's bilingual
// reason, until the person discards or corrects it.

import { h, replace } from './dom.js';
import { t, when, onLang } from './i18n.js';
import { newId, uploadPhoto, postCommand, ApiError, errorText } from './api.js';
import { tx, queued } from './idb.js';

/** Image types the server accepts. */
const ACCEPTED = ['image/png', 'image/jpeg', 'image/webp'];
/** The server's limit for one photo. */
export const MAX_PHOTO = 5 * 1024 * 1024;
/** Photos above this, or not of an accepted type, are redrawn as a JPEG at most this wide. */
const KEEP_AS_IS = 1536 * 1024;
const MAX_SIDE = 1600;

/**
 * Turns a photo the user picked into what the queue keeps: `{blob, type, url}`, a PNG, JPEG or
 * WebP of at most 5 MiB and an object URL for its preview. A large camera photo is scaled down
 * to a 1600-pixel JPEG first. Rejects with `{code: 'photo_bad_type' | 'photo_too_big'}`.
 */
export async function preparePhoto(file) {
  if (ACCEPTED.includes(file.type) && file.size <= KEEP_AS_IS) {
    return { blob: file, type: file.type, url: URL.createObjectURL(file) };
  }
  let bitmap;
  try {
    bitmap = await createImageBitmap(file);
  } catch {
    throw Object.assign(new Error('bad type'), { code: 'photo_bad_type' });
  }
  const scale = Math.min(1, MAX_SIDE / Math.max(bitmap.width, bitmap.height));
  const canvas = document.createElement('canvas');
  canvas.width = Math.max(1, Math.round(bitmap.width * scale));
  canvas.height = Math.max(1, Math.round(bitmap.height * scale));
  canvas.getContext('2d').drawImage(bitmap, 0, 0, canvas.width, canvas.height);
  const blob = await new Promise((resolve) => canvas.toBlob(resolve, 'image/jpeg', 0.85));
  if (!blob || blob.size > MAX_PHOTO) throw Object.assign(new Error('too big'), { code: 'photo_too_big' });
  return { blob, type: 'image/jpeg', url: URL.createObjectURL(blob) };
}

function dataUrlToBlob(data) {
  const [head, body] = data.split(',', 2);
  const type = /data:([^;]+)/.exec(head)[1];
  const bin = atob(body);
  const bytes = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
  return new Blob([bytes], { type });
}

let memoryKeys = 0;

export class Queue {
  /**
   * The queue `box` (one per console kind and challenge, e.g. `team.c`) of `challenge`. Items are
   * sent with the token they were made with: over `live` when it is this console's token, else
   * over HTTP.
   */
  constructor(box, challenge, token, live) {
    this.box = box;
    this.challenge = challenge;
    this.token = token;
    this.live = live;
    this.items = [];
    this.listeners = [];
    this.sending = null;
    this.flushing = false;
    this.again = false;
    this.ready = this.load();
    window.addEventListener('online', () => this.flush());
    setInterval(() => this.items.some((i) => !i.error) && this.flush(), 5000);
  }

  async load() {
    try {
      this.items = await queued(this.box);
    } catch {
      this.items = [];
    }
    await this.migrate();
    this.changed();
    this.flush();
  }

  /** Moves the posts an older release kept in localStorage (`mp.outbox.{challenge}.{team}`) here. */
  async migrate() {
    if (!this.box.startsWith('team.')) return;
    const prefix = `mp.outbox.${this.challenge}.`;
    let keys = [];
    try {
      keys = Object.keys(localStorage).filter((k) => k.startsWith(prefix));
    } catch {
      return;
    }
    for (const k of keys) {
      let old = [];
      try {
        old = JSON.parse(localStorage.getItem(k)) || [];
      } catch {
        old = [];
      }
      for (const o of Array.isArray(old) ? old : []) {
        const photos = (o.photos || []).map((p) => (p.ref ? { ref: p.ref, type: p.type } : { blob: dataUrlToBlob(p.data), type: p.type }));
        await this.keep({ box: this.box, id: o.id, kind: 'post', command: o.command, photos, made: o.made, token: this.token });
      }
      localStorage.removeItem(k);
    }
  }

  /** Writes `item` to the database (a new one gets its key); false when only memory holds it. */
  async keep(item) {
    try {
      const key = await tx('queue', 'readwrite', (s) => s.put(item));
      item.key = key;
      if (!this.items.includes(item)) this.items.push(item);
      return true;
    } catch {
      if (item.key === undefined) item.key = `m${++memoryKeys}`;
      if (!this.items.includes(item)) this.items.push(item);
      return false;
    }
  }

  onChange(fn) {
    this.listeners.push(fn);
  }

  changed(sent) {
    for (const fn of this.listeners) fn(this.items, sent);
  }

  /** Items not yet sent and not refused. */
  get waiting() {
    return this.items.filter((i) => !i.error);
  }

  /**
   * Queues `command` (its id made now) of `kind` ('post', 'milestone', 'scorecard', 'conflict'),
   * with prepared photos for a post, and tries to send it. Resolves with `{item, kept}`; `kept` is
   * false when the browser could not store it (it is still sent from memory).
   */
  async add(kind, command, photos = []) {
    const item = {
      box: this.box,
      id: newId(kind),
      kind,
      command,
      photos: photos.map((p) => ({ blob: p.blob, type: p.type })),
      made: new Date().toISOString(),
      token: this.token,
    };
    const kept = await this.keep(item);
    this.changed();
    this.flush();
    return { item, kept };
  }

  async forget(item) {
    this.items = this.items.filter((i) => i !== item);
    if (typeof item.key === 'number') {
      try {
        await tx('queue', 'readwrite', (s) => s.delete(item.key));
      } catch {
        // Gone with the database: nothing left to forget.
      }
    }
  }

  /** Drops an item the server refused. */
  async discard(item) {
    await this.forget(item);
    this.changed();
  }

  /** Sends what waits, oldest first, one at a time; stops at the first network failure. */
  async flush() {
    if (this.flushing) {
      this.again = true;
      return;
    }
    this.flushing = true;
    try {
      for (const item of [...this.items]) {
        if (item.error || !this.items.includes(item)) continue;
        this.sending = item.id;
        this.changed();
        const outcome = await this.send(item);
        if (outcome === 'offline') break;
        if (outcome === 'sent') {
          await this.forget(item);
          this.changed(item);
        } else {
          item.error = outcome;
          await this.keep(item);
          this.changed();
        }
      }
    } finally {
      this.sending = null;
      this.flushing = false;
      this.changed();
    }
    if (this.again) {
      this.again = false;
      this.flush();
    }
  }

  /** 'sent', 'offline', or the refusal `{code, message, message_zh}`. */
  async send(item) {
    for (const photo of item.photos) {
      if (photo.ref) continue;
      try {
        photo.ref = await uploadPhoto(this.challenge, item.token, photo.blob);
        delete photo.blob;
        await this.keep(item);
      } catch (err) {
        if (!(err instanceof ApiError) || err.network || err.code === 'rate_limited') return 'offline';
        return { code: err.code, message: err.message, message_zh: err.messageZh };
      }
    }
    const command = item.photos.length ? { ...item.command, photos: item.photos.map((p) => p.ref) } : item.command;
    try {
      if (item.token === this.live.token) await this.live.send(command, item.id);
      else await postCommand(this.challenge, item.token, { id: item.id, command });
      return 'sent';
    } catch (err) {
      if (err.offline || (err instanceof ApiError && err.network)) return 'offline';
      // Busy, not refused: the same command is sent again with the same id later.
      if (err.code === 'rate_limited' || err.code === 'unavailable') return 'offline';
      return { code: err.code, message: err.message, message_zh: err.messageZh || err.message_zh };
    }
  }
}

/**
 * Draws `queue` into `el` (a section, hidden while empty) now and after every change: a count of
 * what waits, and each item with its state; a refused one with the server's reason, "discard",
 * and "correct" where `opts.correct(item)` is given and `opts.canCorrect(item)` allows it.
 * `opts.describe(item)` is the item's one-line text.
 */
export function queuePanel(el, queue, live, opts) {
  const draw = () => {
    const items = queue.items;
    const waiting = items.filter((i) => !i.error).length;
    const refused = items.length - waiting;
    el.hidden = items.length === 0;
    replace(el,
      h('h2', {}, h('span', { i18n: 'outbox' }), ' ',
        h('span', { class: 'count', text: t('outbox_n', { n: waiting }) }),
        refused ? h('span', { class: 'count refused', text: ` · ${t('outbox_refused_n', { n: refused })}` }) : null),
      h('ul', {}, items.map((item) => {
        let state;
        if (item.error) state = h('span', { class: 'state error', text: t('outbox_failed', { msg: errorText(item.error) }) });
        else if (queue.sending === item.id && live.open) state = h('span', { class: 'state', i18n: 'outbox_sending' });
        else state = h('span', { class: 'state waiting', i18n: 'outbox_waiting' });
        const photos = item.photos.length;
        return h('li', { data: { id: item.id, kind: item.kind } },
          h('p', { class: 'user text', text: opts.describe(item) }),
          photos ? h('span', { class: 'n-photos', i18n: 'photos_n', vars: { n: photos } }) : null,
          h('time', { text: when(item.made) }),
          state,
          item.error && opts.correct && (!opts.canCorrect || opts.canCorrect(item))
            ? h('button', { type: 'button', class: 'link correct', i18n: 'outbox_correct', on: { click: () => opts.correct(item) } })
            : null,
          item.error ? h('button', { type: 'button', class: 'link discard', i18n: 'outbox_discard', on: { click: () => queue.discard(item) } }) : null);
      })));
  };
  queue.onChange(draw);
  live.on('status', draw);
  onLang(draw);
  draw();
  return draw;
}
