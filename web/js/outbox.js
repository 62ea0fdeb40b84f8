// The team console's outbox: every post is written to localStorage first, with its command id
// chosen when the team presses "post", and then sent — at once when online, or when the
// connection returns. Photos wait in the outbox too and are uploaded first. Because the id is
// fixed when the post is made, sending again after a lost answer is answered "repeated" by the
// server and changes nothing: each post lands exactly once.

import { newId, uploadPhoto, ApiError } from './api.js';

/** Image types the server accepts. */
const ACCEPTED = ['image/png', 'image/jpeg', 'image/webp'];
/** The server's limit for one photo. */
export const MAX_PHOTO = 5 * 1024 * 1024;
/** Photos above this, or not of an accepted type, are redrawn as a JPEG at most this wide. */
const KEEP_AS_IS = 1536 * 1024;
const MAX_SIDE = 1600;

function readAsDataUrl(blob) {
  return new Promise((resolve, reject) => {
    const r = new FileReader();
    r.onload = () => resolve(r.result);
    r.onerror = () => reject(r.error);
    r.readAsDataURL(blob);
  });
}

function dataUrlToBlob(data) {
  const [head, body] = data.split(',', 2);
  const type = /data:([^;]+)/.exec(head)[1];
  const bin = atob(body);
  const bytes = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
  return new Blob([bytes], { type });
}

/**
 * Turns a photo the user picked into what the outbox keeps: a data URL of a PNG, JPEG or WebP
 * of at most 5 MiB. A large camera photo is scaled down to a 1600-pixel JPEG first. Rejects with
 * `{code: 'photo_bad_type' | 'photo_too_big'}`.
 */
export async function preparePhoto(file) {
  if (ACCEPTED.includes(file.type) && file.size <= KEEP_AS_IS) {
    return { data: await readAsDataUrl(file), type: file.type };
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
  return { data: await readAsDataUrl(blob), type: 'image/jpeg' };
}

export class Outbox {
  /** The outbox of `team` in `challenge`; posts are sent with `live.send`, photos uploaded first. */
  constructor(challenge, team, token, live) {
    this.challenge = challenge;
    this.token = token;
    this.live = live;
    this.key = `mp.outbox.${challenge}.${team}`;
    this.items = this.load();
    this.flushing = false;
    this.again = false;
    this.listeners = [];
    this.sending = null;
    window.addEventListener('online', () => this.flush());
    window.addEventListener('storage', (ev) => {
      if (ev.key === this.key) {
        this.items = this.load();
        this.changed();
      }
    });
    setInterval(() => this.items.some((i) => !i.error) && this.flush(), 10000);
  }

  load() {
    try {
      const raw = localStorage.getItem(this.key);
      const items = raw ? JSON.parse(raw) : [];
      return Array.isArray(items) ? items : [];
    } catch {
      return [];
    }
  }

  save() {
    try {
      localStorage.setItem(this.key, JSON.stringify(this.items));
      return true;
    } catch {
      // Storage full (photos are large): the items stay in memory and are still sent.
      return false;
    }
  }

  onChange(fn) {
    this.listeners.push(fn);
  }

  changed(sent) {
    for (const fn of this.listeners) fn(this.items, sent);
  }

  /** Queues a post (its command without photos, and the prepared photos) and tries to send it. */
  add(command, photos) {
    const item = { id: newId('post'), command, photos: photos.map((p) => ({ data: p.data, type: p.type })), made: new Date().toISOString() };
    this.items.push(item);
    const kept = this.save();
    this.changed();
    this.flush();
    return { item, kept };
  }

  /** Drops a post the server refused. */
  discard(id) {
    this.items = this.items.filter((i) => i.id !== id);
    this.save();
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
        if (item.error) continue;
        this.sending = item.id;
        this.changed();
        const outcome = await this.send(item);
        if (outcome === 'offline') break;
        if (outcome === 'sent') {
          this.items = this.items.filter((i) => i.id !== item.id);
          this.save();
          this.changed(item);
        } else {
          item.error = outcome;
          this.save();
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
        photo.ref = await uploadPhoto(this.challenge, this.token, dataUrlToBlob(photo.data));
        delete photo.data;
        this.save();
      } catch (err) {
        if (!(err instanceof ApiError) || err.network) return 'offline';
        return { code: err.code, message: err.message, message_zh: err.messageZh };
      }
    }
    const command = { ...item.command, photos: item.photos.map((p) => p.ref) };
    try {
      await this.live.send(command, item.id);
      return 'sent';
    } catch (err) {
      if (err.offline || (err instanceof ApiError && err.network)) return 'offline';
      // Busy, not refused: the same command is sent again with the same id later.
      if (err.code === 'rate_limited' || err.code === 'unavailable') return 'offline';
      return { code: err.code, message: err.message, message_zh: err.messageZh || err.message_zh };
    }
  }
}
