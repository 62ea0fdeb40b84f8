// The live view of a challenge over the WebSocket: hello with the token and `since`, a snapshot or
// the missed deltas, then every delta applied exactly as `View::apply` does in the core. A gap
// (a delta whose prev_seq is above the seq held) asks for a snapshot; a dropped connection
// resumes with `since` after a short, growing wait. Commands are answered by id; `send` is the one
// way the consoles send them, over the socket when it is open and over HTTP otherwise. The last
// view is kept in IndexedDB (per page, challenge and token), so a page reloaded without network
// shows the last known state, marked as such, until the live one arrives. A console names the
// parts of the view it shows (`parts`: of 'leaderboard', 'peoples_choice', 'ticker'); the server
// then sends it nothing for an event that changes none of them, and those it left out stay empty.
// A page that shows the whole view and holds none yet fetches its snapshot over HTTP first
// (compressed, and the same bytes for every phone in a hall), then opens the socket from its seq.

import { newId, postCommand } from './api.js';
import { tx, tokenTag } from './idb.js';

/** How many posts the ticker keeps (`TICKER_LEN` in the core). */
export const TICKER_LEN = 30;

/** The part of the view a partial patch changes, for the pages that redraw by part. */
const WHOLE = { board_rows: 'leaderboard', progress: 'team', ticker_hidden: 'ticker', ticker_removed: 'ticker', announced: 'ticker', withdrawn: 'ticker' };

/** How many milestone announcements a view keeps (`ANNOUNCEMENTS_KEPT` in the core). */
export const ANNOUNCEMENTS_KEPT = 30;

/** Close codes of the protocol (docs/protocol.md). */
const CLOSE_UNAUTHORIZED = 4001;
const CLOSE_PROTOCOL = 4003;
const CLOSE_NOT_FOUND = 4004;

/** How long a page waits for its snapshot over HTTP before it asks the socket for it instead. */
const SNAPSHOT_TIMEOUT_MS = 5000;

function byTeamThenJudge(a, b) {
  if (a.team !== b.team) return a.team < b.team ? -1 : 1;
  if (a.judge !== b.judge) return a.judge < b.judge ? -1 : 1;
  return 0;
}

/** The order every board keeps (`board_order` in the core): by rank, ties by team id, rows without a rank last. */
function boardOrder(a, b) {
  if ((a.rank == null) !== (b.rank == null)) return a.rank == null ? 1 : -1;
  if (a.rank !== b.rank) return a.rank - b.rank;
  return a.team < b.team ? -1 : a.team > b.team ? 1 : 0;
}

/**
 * Puts each of `rows` in the place of its team's row in `list`, gives the rows named in `ranks`
 * (team → rank) their new rank, then restores the order.
 */
function replaceRows(list, rows, ranks) {
  if (!rows.length && !Object.keys(ranks).length) return;
  for (const row of rows) {
    const i = list.findIndex((r) => r.team === row.team);
    if (i >= 0) list[i] = row;
  }
  for (const row of list) if (row.team in ranks) row.rank = ranks[row.team];
  list.sort(boardOrder);
}

/**
 * Applies one delta's patches to `view`, in order; the same rules as `View::apply`. Returns false
 * when a patch is of a kind this page does not know (a newer server): the view can no longer be
 * trusted, and the caller asks for a snapshot.
 */
export function applyDelta(view, delta) {
  view.seq = delta.seq;
  for (const p of delta.patches) {
    switch (p.type) {
      case 'challenge':
        view.challenge = p.challenge;
        break;
      case 'tracks':
        view.tracks = p.tracks;
        break;
      case 'milestones':
        view.milestones = p.milestones;
        break;
      case 'rubric':
        view.rubric = p.rubric;
        break;
      case 'ranking':
        view.ranking = p.ranking;
        break;
      case 'team':
        view.teams[p.team.id] = p.team;
        break;
      case 'team_removed':
        delete view.teams[p.id];
        break;
      case 'judges':
        view.judges = Object.fromEntries(p.judges.map((j) => [j.id, j]));
        break;
      case 'judge':
        view.judges[p.judge.id] = p.judge;
        break;
      case 'judge_removed':
        delete view.judges[p.id];
        break;
      case 'post':
        view.ticker.unshift(p.post);
        if (view.ticker.length > TICKER_LEN) view.ticker.length = TICKER_LEN;
        break;
      case 'ticker_hidden': {
        const post = view.ticker.find((q) => q.id === p.id);
        if (post) post.hidden = p.reason;
        break;
      }
      case 'ticker_removed': {
        const i = view.ticker.findIndex((q) => q.id === p.id);
        if (i >= 0) {
          view.ticker.splice(i, 1);
          if (p.last) view.ticker.push(p.last);
        }
        break;
      }
      case 'announced':
        view.announcements = view.announcements || [];
        view.announcements.unshift(p.announcement);
        if (view.announcements.length > ANNOUNCEMENTS_KEPT) view.announcements.length = ANNOUNCEMENTS_KEPT;
        break;
      case 'withdrawn':
        for (const a of view.announcements || []) if (p.seqs.includes(a.seq)) a.withdrawn = p.withdrawal;
        break;
      case 'progress':
        if (view.teams[p.team]) view.teams[p.team].progress = p.progress;
        break;
      case 'leaderboard':
        view.leaderboard = p.leaderboard;
        break;
      case 'board_rows': {
        const board = view.leaderboard.board;
        replaceRows(board.overall, p.overall || [], p.ranks || {});
        for (const track of board.tracks) replaceRows(track.rows, (p.tracks || []).filter((r) => r.track === track.track), p.track_ranks || {});
        if (p.pending) view.leaderboard.pending = { ...(view.leaderboard.pending || {}), ...p.pending };
        break;
      }
      case 'peoples_choice':
        view.peoples_choice = p.rows;
        break;
      case 'revealed':
        view.reveal.push(p.entry);
        break;
      case 'scorecard': {
        const list = view.scorecards;
        let lo = 0;
        let hi = list.length;
        while (lo < hi) {
          const mid = (lo + hi) >> 1;
          if (byTeamThenJudge(list[mid], p.scorecard) < 0) lo = mid + 1;
          else hi = mid;
        }
        if (lo < list.length && byTeamThenJudge(list[lo], p.scorecard) === 0) list[lo] = p.scorecard;
        else list.splice(lo, 0, p.scorecard);
        break;
      }
      case 'scorecards':
        view.scorecards = p.scorecards;
        break;
      case 'tokens':
        view.tokens = p.tokens;
        break;
      default:
        // A patch of a newer schema: nothing to guess here; a snapshot brings the view back.
        return false;
    }
  }
  return true;
}

/**
 * One live connection. Events: `view` (view, {snapshot, delta, patches}), `status`
 * ('connecting', 'live', 'reconnecting', 'unauthorized', 'not_found'), `welcome` (role),
 * `presence` (connections per role, when the server sends them). `options.parts`, when given,
 * lists the parts of the view the page shows (docs/protocol.md); absent, all of them.
 */
export class Live {
  constructor(challenge, token, options = {}) {
    this.challenge = challenge;
    this.token = token || null;
    this.parts = options.parts || null;
    this.view = null;
    this.role = null;
    this.status = 'connecting';
    this.ws = null;
    this.pending = new Map();
    this.handlers = { view: [], status: [], welcome: [], presence: [] };
    this.online = null;
    this.attempt = 0;
    this.timer = null;
    this.stopped = false;
    this.everLive = false;
    this.resyncing = false;
    // When the shown view is one kept from before (no live one yet): the time it was kept.
    this.stale = null;
    this.cacheKey = null;
    this.saveTimer = null;
    this.restoring = null;
    // The snapshot fetched over HTTP, held until the socket's welcome; and the fetch under way.
    this.fetched = null;
    this.fetching = null;
    // The browser tests compare the view held here with the server's.
    if (window.makerpulse) window.makerpulse.live = this;
    window.addEventListener('online', () => this.kick());
    window.addEventListener('offline', () => this.ws && this.ws.close());
    document.addEventListener('visibilitychange', () => {
      if (document.visibilityState === 'visible') this.kick();
    });
  }

  on(event, fn) {
    this.handlers[event].push(fn);
    return this;
  }

  emit(event, ...args) {
    for (const fn of this.handlers[event]) {
      try {
        fn(...args);
      } catch (err) {
        // One broken renderer must not stop the stream: report it and carry on.
        reportError(err);
      }
    }
  }

  setStatus(status) {
    if (this.status === status) return;
    this.status = status;
    this.emit('status', status);
  }

  /**
   * Shows the view this page kept last time (a reload without network), unless a live one came
   * first; emits `welcome` with the role it had, then `view` with `{cached: true}`.
   */
  async restore() {
    const page = document.body.dataset.page;
    // The organizers' view (links, tokens) lives only as long as their tab, like their token.
    if (!page || page === 'embed' || page === 'admin') return;
    const tag = await tokenTag(this.token);
    if (!tag) return;
    this.cacheKey = `${page}.${this.challenge}.${tag}`;
    let kept = null;
    try {
      kept = await tx('views', 'readonly', (s) => s.get(this.cacheKey));
    } catch {
      return;
    }
    if (this.view) {
      // The live view came first: keep it (it could not be kept before the key was known).
      this.keep();
      return;
    }
    if (!kept || this.everLive) return;
    this.stale = kept.at;
    if (kept.role) {
      this.role = kept.role;
      this.emit('welcome', kept.role);
    }
    this.emit('view', kept.view, { snapshot: true, cached: true, patches: new Set(['*']) });
    this.emit('status', this.status);
  }

  /** Keeps the view for a reload without network, at most once a second. */
  keep() {
    if (!this.cacheKey || this.saveTimer) return;
    this.saveTimer = setTimeout(() => {
      this.saveTimer = null;
      if (!this.view) return;
      tx('views', 'readwrite', (s) => s.put({ key: this.cacheKey, view: this.view, role: this.role, at: Date.now() })).catch(() => {});
    }, 1000);
  }

  /**
   * The snapshot of this page's view over HTTP (`GET …/snapshot`, compressed by the server and
   * revalidated by the browser's cache), or null when it cannot be had: offline, an unknown
   * challenge, a revoked link. The socket's own snapshot then comes as before, and its close
   * says what went wrong.
   */
  async fetchSnapshot() {
    try {
      const headers = this.token ? { Authorization: `Bearer ${this.token}` } : {};
      // A network that swallows the request must not keep the socket from trying: a few seconds.
      const signal = AbortSignal.timeout(SNAPSHOT_TIMEOUT_MS);
      const res = await fetch(`/api/challenges/${encodeURIComponent(this.challenge)}/snapshot`, { headers, signal });
      if (!res.ok) return null;
      const view = await res.json();
      return Number.isSafeInteger(view.seq) ? view : null;
    } catch {
      return null;
    }
  }

  /**
   * Opens the connection (again). A page that follows every part and holds no view yet fetches
   * the snapshot over HTTP first and asks the socket only for what came after it.
   */
  connect() {
    if (this.stopped || this.fetching) return;
    if (!this.restoring) this.restoring = this.restore();
    clearTimeout(this.timer);
    this.timer = null;
    if (!this.view && !this.parts && !this.fetched) {
      this.fetching = this.fetchSnapshot().then((view) => {
        this.fetching = null;
        if (this.stopped) return;
        if (!this.view) this.fetched = view;
        // A socket on its way in the meantime (none should be) is left to finish.
        if (!this.ws) this.openSocket();
      });
      return;
    }
    this.openSocket();
  }

  /** Opens the socket, from the seq of the view held or fetched. */
  openSocket() {
    const proto = location.protocol === 'https:' ? 'wss:' : 'ws:';
    const url = `${proto}//${location.host}/api/challenges/${encodeURIComponent(this.challenge)}/live`;
    let ws;
    try {
      ws = new WebSocket(url);
    } catch {
      this.retry();
      return;
    }
    this.ws = ws;
    this.resyncing = false;
    ws.onopen = () => {
      const hello = { type: 'hello' };
      if (this.token) hello.token = this.token;
      if (this.parts) hello.parts = this.parts;
      if (this.view) hello.since = this.view.seq;
      else if (this.fetched) hello.since = this.fetched.seq;
      ws.send(JSON.stringify(hello));
    };
    ws.onmessage = (ev) => {
      if (ws !== this.ws) return;
      let msg;
      try {
        msg = JSON.parse(ev.data);
      } catch {
        return;
      }
      this.receive(msg);
    };
    ws.onclose = (ev) => {
      if (ws !== this.ws) return;
      this.ws = null;
      this.failPending();
      if (ev.code === CLOSE_UNAUTHORIZED) {
        this.stopped = true;
        this.setStatus('unauthorized');
        return;
      }
      if (ev.code === CLOSE_PROTOCOL) {
        this.view = null;
        this.fetched = null;
      }
      if (ev.code === CLOSE_NOT_FOUND || !this.everLive) {
        // The upgrade of an unknown challenge is refused with a plain 404, which a WebSocket
        // only reports as a failed connection: ask over HTTP whether the challenge exists.
        this.probe();
        return;
      }
      this.retry();
    };
  }

  async probe() {
    let missing = false;
    try {
      const res = await fetch(`/api/challenges/${encodeURIComponent(this.challenge)}/leaderboard`, { cache: 'no-store' });
      missing = res.status === 404;
    } catch {
      missing = false;
    }
    if (missing) {
      // It may yet be created: look again now and then, quietly.
      this.setStatus('not_found');
      this.attempt = 5;
      this.timer = setTimeout(() => {
        this.timer = null;
        this.connect();
      }, 10000);
    } else {
      this.retry();
    }
  }

  /** Reconnects now if the connection is down (the network came back, the tab came back). */
  kick() {
    if (!this.stopped && !this.ws) {
      this.attempt = 0;
      this.connect();
    }
  }

  retry() {
    if (this.stopped || this.timer) return;
    this.setStatus('reconnecting');
    // 0.5 s, 1 s, 2 s, … up to 10 s, with jitter so a hall of phones does not return at once.
    const base = Math.min(10000, 500 * 2 ** Math.min(this.attempt, 5));
    this.attempt += 1;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.connect();
    }, base / 2 + Math.random() * base / 2);
  }

  receive(msg) {
    switch (msg.type) {
      case 'welcome':
        this.role = msg.role;
        this.attempt = 0;
        this.everLive = true;
        this.setStatus('live');
        this.emit('welcome', msg.role);
        if (this.fetched) {
          // The snapshot fetched over HTTP is the view from here: what came after it follows.
          const view = this.fetched;
          this.fetched = null;
          if (!this.view) this.receive({ type: 'snapshot', view });
        }
        break;
      case 'snapshot':
        this.resyncing = false;
        this.view = msg.view;
        this.stale = null;
        this.keep();
        this.emit('view', this.view, { snapshot: true, patches: new Set(['*']) });
        break;
      case 'delta': {
        if (!this.view) return;
        if (msg.seq <= this.view.seq) return;
        if (msg.prev_seq > this.view.seq) {
          // A message of this view was lost: the view is no longer trustworthy.
          this.resync();
          return;
        }
        if (!applyDelta(this.view, msg)) {
          this.resync();
          return;
        }
        // A patch of part of something counts as a change of the whole for the pages that redraw
        // on it: changed rows as `leaderboard`, a team's progress as `team`, a hidden post as
        // `ticker`. The view is kept for a reload without network.
        this.keep();
        const kinds = new Set(msg.patches.map((p) => p.type));
        for (const p of msg.patches) if (WHOLE[p.type]) kinds.add(WHOLE[p.type]);
        this.emit('view', this.view, { delta: msg, patches: kinds });
        break;
      }
      case 'presence':
        // Who is watching now: transient, not part of the view.
        this.online = msg.online;
        this.emit('presence', msg.online);
        break;
      case 'ack':
      case 'cheered':
      case 'error': {
        // A snapshot request over the connection's rate: the next delta asks again.
        if (!msg.id && msg.code === 'rate_limited') this.resyncing = false;
        const waiter = msg.id ? this.pending.get(msg.id) : null;
        if (waiter) {
          this.pending.delete(msg.id);
          clearTimeout(waiter.timeout);
          if (msg.type === 'error') waiter.reject(Object.assign(new Error(msg.message), msg, { messageZh: msg.message_zh }));
          else waiter.resolve(msg);
        }
        break;
      }
      default:
        break;
    }
  }

  /**
   * Asks for a snapshot, once until it comes: every delta before it is stale anyway, and the
   * server counts each request against the connection's rate of commands, so a burst of deltas
   * after one gap must not spend the rate a judge's next scorecard needs.
   */
  resync() {
    if (!this.resyncing) this.resyncing = this.sendRaw({ type: 'snapshot' });
  }

  sendRaw(msg) {
    if (this.ws && this.ws.readyState === WebSocket.OPEN) {
      this.ws.send(JSON.stringify(msg));
      return true;
    }
    return false;
  }

  /** Whether commands can go over the socket now. */
  get open() {
    return this.status === 'live' && !!this.ws && this.ws.readyState === WebSocket.OPEN;
  }

  /**
   * Sends a command over the socket. Resolves with the `ack` or `cheered` message; rejects with
   * the `error` message, or with `{offline: true}` when the socket is not open or drops first.
   */
  command(command, id = newId()) {
    return new Promise((resolve, reject) => {
      if (!this.open) {
        reject(Object.assign(new Error('offline'), { offline: true }));
        return;
      }
      const timeout = setTimeout(() => {
        if (this.pending.delete(id)) reject(Object.assign(new Error('timeout'), { offline: true }));
      }, 15000);
      this.pending.set(id, { resolve, reject, timeout });
      this.sendRaw({ type: 'command', id, command });
    });
  }

  /**
   * Sends a command the way every console does: over the socket when it is open, else — or when
   * the socket drops before the answer — as a POST with the same id, so a command that did reach
   * the server is answered "repeated" and lands once. A caller that retries later (the team's
   * outbox) passes the id it fixed when the user acted. Resolves with the answer; rejects with the
   * server's refusal, or an `ApiError` whose `network` is set when the server could not be reached.
   */
  async send(command, id = newId()) {
    if (this.open) {
      try {
        return await this.command(command, id);
      } catch (err) {
        if (!err.offline) throw err;
      }
    }
    return postCommand(this.challenge, this.token, { id, command });
  }

  failPending() {
    for (const [, waiter] of this.pending) {
      clearTimeout(waiter.timeout);
      waiter.reject(Object.assign(new Error('offline'), { offline: true }));
    }
    this.pending.clear();
  }
}

/** Errors reported so far (for the browser tests; never shown on the page). */
export const errors = [];

/** Reports an error to the console without ever showing it on the page. */
export function reportError(err) {
  errors.push(String((err && err.stack) || err));
  console.error('makerpulse:', err);
}
