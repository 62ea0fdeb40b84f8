// The HTTP side of the dashboards: JSON reads, commands, photo uploads, the token taken from the
// URL fragment, command ids, and the server's clock. Tokens travel only in an Authorization
// header or the socket's hello, never in a URL query, and are never logged.

import { lang } from './i18n.js';

/** An answer of the API that is not a success, with the server's bilingual message. */
export class ApiError extends Error {
  constructor(status, body) {
    const e = (body && body.error) || {};
    super(e.message || `HTTP ${status}`);
    this.status = status;
    this.code = e.code || (status === 0 ? 'network' : 'http');
    this.messageZh = e.message_zh || '';
    // `import_refused`: every refused row, with its reason in both languages.
    this.rows = e.rows || [];
  }

  /** Whether the request never reached the server (so it may be tried again as it is). */
  get network() {
    return this.status === 0 || this.status === 502 || this.status === 503 || this.status === 504;
  }
}

/** The message of an error (an `ApiError`, a socket `error` message, anything) in the current language. */
export function errorText(err) {
  if (!err) return '';
  if (lang() === 'zh' && (err.messageZh || err.message_zh)) return err.messageZh || err.message_zh;
  return err.message || String(err);
}

function headers(token, extra) {
  const h = new Headers(extra || {});
  if (token) h.set('Authorization', `Bearer ${token}`);
  return h;
}

async function request(path, init) {
  let res;
  try {
    res = await fetch(path, { cache: 'no-store', ...init });
  } catch {
    throw new ApiError(0, null);
  }
  noteServerDate(res);
  const text = await res.text().catch(() => '');
  let body = null;
  try {
    body = text ? JSON.parse(text) : null;
  } catch {
    body = text;
  }
  if (!res.ok) throw new ApiError(res.status, body);
  return body;
}

/** GETs JSON. */
export function getJSON(path, token) {
  return request(path, { headers: headers(token) });
}

/** GETs text (NDJSON). */
export async function getText(path, token) {
  let res;
  try {
    res = await fetch(path, { headers: headers(token), cache: 'no-store' });
  } catch {
    throw new ApiError(0, null);
  }
  if (!res.ok) throw new ApiError(res.status, await res.json().catch(() => null));
  return res.text();
}

/** POSTs JSON. */
export function postJSON(path, token, body) {
  return request(path, {
    method: 'POST',
    headers: headers(token, { 'Content-Type': 'application/json' }),
    body: JSON.stringify(body),
  });
}

/** Sends a command envelope over HTTP; resolves with the answer, rejects with an `ApiError`. */
export function postCommand(challenge, token, envelope) {
  return postJSON(`/api/challenges/${encodeURIComponent(challenge)}/commands`, token, envelope);
}

/** Uploads a photo (a Blob of PNG, JPEG or WebP); resolves with its `{sha256, content_type}`. */
export function uploadPhoto(challenge, token, blob) {
  return request(`/api/challenges/${encodeURIComponent(challenge)}/photos`, {
    method: 'POST',
    headers: headers(token, { 'Content-Type': blob.type || 'application/octet-stream' }),
    body: blob,
  });
}

/** The URL of a photo of a challenge's posts (served only while a visible post shows it). */
export function photoUrl(challenge, sha256) {
  return `/api/challenges/${encodeURIComponent(challenge)}/photos/${encodeURIComponent(sha256)}`;
}

const ID_CHARS = 'abcdefghijklmnopqrstuvwxyz0123456789';

/** A fresh command id: unique per actor, made when the user acts (so a resend reuses it). */
export function newId(prefix = 'c') {
  const bytes = new Uint8Array(12);
  crypto.getRandomValues(bytes);
  let r = '';
  for (const b of bytes) r += ID_CHARS[b % ID_CHARS.length];
  return `${prefix}-${Date.now().toString(36)}-${r}`;
}

/** Whether `id` is a valid id of the protocol. */
export function validId(id) {
  return /^[A-Za-z0-9_-]{1,64}$/.test(id);
}

function store(kind) {
  // The admin token lives only as long as the tab; team and judge links are opened on their own
  // phones and tablets, where staying signed in is the point.
  return kind === 'admin' ? sessionStorage : localStorage;
}

/**
 * The token of this console: taken from `#token=…` when the page was opened from a link (and
 * then removed from the address bar), else the one stored before.
 */
export function takeToken(kind, challenge) {
  const key = kind === 'admin' ? 'mp.token.admin' : `mp.token.${kind}.${challenge}`;
  const m = /(?:^#|&)token=([^&]+)/.exec(location.hash);
  if (m) {
    const token = decodeURIComponent(m[1]);
    try {
      store(kind).setItem(key, token);
    } catch {
      // Not stored: the console still works until the tab closes.
    }
    history.replaceState(null, '', location.pathname + location.search);
    return token;
  }
  try {
    return store(kind).getItem(key);
  } catch {
    return null;
  }
}

/** Stores or forgets the admin token typed in by hand. */
export function keepAdminToken(token) {
  try {
    if (token) sessionStorage.setItem('mp.token.admin', token);
    else sessionStorage.removeItem('mp.token.admin');
  } catch {
    // Private mode: nothing to keep.
  }
}

// ---- the server's clock --------------------------------------------------------------------
// The countdown is computed here from the clock's times, so the screen's own clock must agree
// with the server's. Every response's Date header (whole seconds) bounds the difference; the
// estimate keeps the smallest correction consistent with every header seen.

let skew = 0;
let skewKnown = false;

function noteServerDate(res) {
  const date = res.headers.get('Date');
  if (!date) return;
  const server = Date.parse(date);
  if (Number.isNaN(server)) return;
  // The header truncates to the second: the server's time was in [server, server + 1000).
  const now = Date.now();
  const low = server - now;
  const high = server + 1000 - now;
  if (!skewKnown) {
    skew = Math.abs(low) < 1000 && Math.abs(high) < 1000 ? 0 : (low + high) / 2;
    skewKnown = true;
  } else if (skew < low - 500 || skew > high + 500) {
    skew = (low + high) / 2;
  }
}

/** Now, by the server's clock, in milliseconds. */
export function serverNow() {
  return Date.now() + skew;
}

/** Reads the server's clock once (a cheap request), so that countdowns agree. */
export async function syncClock() {
  try {
    const res = await fetch('/healthz', { cache: 'no-store' });
    noteServerDate(res);
  } catch {
    // Offline: the local clock will do until the next response.
  }
}
