// The 72-hour clock, computed here from the challenge's times (start, pauses, duration, end) and
// the server's clock, the same way as `Clock::elapsed` in the core: nothing ticks on the server.

import { serverNow } from './api.js';
import { t, when } from './i18n.js';

/** The clock of `challenge` at `now` (ms): its state, and the seconds elapsed and left. */
export function clockAt(challenge, now = serverNow()) {
  const clock = challenge && challenge.clock;
  if (!clock || !clock.started_at) {
    return { state: 'setup', elapsed: 0, remaining: clock ? clock.duration_secs : 0, planned: challenge && challenge.planned_start };
  }
  const start = Date.parse(clock.started_at);
  const end = clock.ended_at ? Date.parse(clock.ended_at) : null;
  const stop = end !== null ? Math.min(end, now) : now;
  let paused = 0;
  for (const p of clock.pauses) {
    const from = Math.max(Date.parse(p.from), start);
    const until = Math.min(p.until ? Date.parse(p.until) : stop, stop);
    paused += Math.max(0, until - from);
  }
  const elapsed = Math.max(0, (stop - start - paused) / 1000);
  // Once building has ended (the clock ran out, or the organizers ended it early) nothing is left.
  const remaining = end !== null ? 0 : Math.max(0, clock.duration_secs - elapsed);
  const last = clock.pauses[clock.pauses.length - 1];
  const isPaused = !!last && !last.until && end === null;
  let state = 'running';
  if (end !== null || remaining <= 0) state = 'over';
  else if (isPaused) state = 'paused';
  return { state, elapsed, remaining, reason: isPaused ? last.reason || '' : '', duration: clock.duration_secs };
}

/** Seconds as H:MM:SS, hours not wrapped (71:59:59). */
export function hms(secs) {
  const s = Math.max(0, Math.floor(secs));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const r = s % 60;
  return `${String(h).padStart(2, '0')}:${String(m).padStart(2, '0')}:${String(r).padStart(2, '0')}`;
}

/** The line under the countdown: not started, paused with its reason, over. */
export function clockNote(c) {
  switch (c.state) {
    case 'setup':
      return c.planned ? t('clock_planned', { at: when(c.planned) }) : t('clock_not_started');
    case 'paused':
      return c.reason ? t('clock_paused_reason', { reason: c.reason }) : t('clock_paused');
    case 'over':
      return t('clock_over');
    default:
      return t('clock_left');
  }
}

/** Calls `fn` every second, on the second, while the page lives. */
export function everySecond(fn) {
  fn();
  const tick = () => {
    fn();
    setTimeout(tick, 1000 - (serverNow() % 1000) + 5);
  };
  setTimeout(tick, 1000 - (serverNow() % 1000) + 5);
}
