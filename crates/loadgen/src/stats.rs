//! What one run measures, shared by every viewer task: a clock, the send time of every event,
//! delivery latency per step in sharded HDR histograms, and counters.
//!
//! Latency is attributed to the step in which the event was *sent*, not received, so a step's
//! numbers stay its own even when its last messages arrive after it ended.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError};
use std::time::Instant;

use hdrhistogram::Histogram;

/// Histogram shards: viewers record into `id % SHARDS`, so two worker threads rarely meet on a
/// lock, while memory stays a few MiB however many sockets there are.
const SHARDS: usize = 16;
/// The largest latency recorded, in microseconds (larger values are clamped).
const MAX_US: u64 = 600_000_000;

/// Nanoseconds since the run started; one clock for senders and receivers in this process.
#[derive(Clone, Copy, Debug)]
pub struct Clock(Instant);

impl Clock {
    /// A clock starting now.
    pub fn start() -> Self {
        Clock(Instant::now())
    }

    /// Nanoseconds since the start (never 0, so 0 can mean "unknown").
    pub fn now_ns(&self) -> u64 {
        self.0.elapsed().as_nanos() as u64 + 1
    }
}

/// Latencies in microseconds, sharded.
pub struct Latency {
    shards: Vec<Mutex<Histogram<u64>>>,
}

impl Default for Latency {
    fn default() -> Self {
        Self::new()
    }
}

impl Latency {
    /// Empty histograms (1 µs to 10 min, three significant figures).
    pub fn new() -> Self {
        let make = || Histogram::new_with_bounds(1, MAX_US, 3).expect("valid bounds");
        Latency {
            shards: (0..SHARDS).map(|_| Mutex::new(make())).collect(),
        }
    }

    /// Records one latency from a viewer.
    pub fn record(&self, viewer: usize, micros: u64) {
        let mut h = self.shards[viewer % SHARDS]
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        h.saturating_record(micros.clamp(1, MAX_US));
    }

    /// The latencies of each of `n` groups of viewers, viewer `i` in group `i % n` (the URL it
    /// joined, with `n` URLs): shard `k` holds viewers `k (mod SHARDS)`, so when `n` divides
    /// `SHARDS` (16) a shard's viewers are all in group `k % n`. `None` when it does not.
    pub fn merged_by(&self, n: usize) -> Option<Vec<Histogram<u64>>> {
        if n == 0 || !SHARDS.is_multiple_of(n) {
            return None;
        }
        let mut groups: Vec<Histogram<u64>> = (0..n)
            .map(|_| Histogram::new_with_bounds(1, MAX_US, 3).expect("valid bounds"))
            .collect();
        for (k, shard) in self.shards.iter().enumerate() {
            let h = shard.lock().unwrap_or_else(PoisonError::into_inner);
            groups[k % n].add(&*h).expect("same bounds");
        }
        Some(groups)
    }

    /// Every shard merged.
    pub fn merged(&self) -> Histogram<u64> {
        let mut all = Histogram::new_with_bounds(1, MAX_US, 3).expect("valid bounds");
        for shard in &self.shards {
            let h = shard.lock().unwrap_or_else(PoisonError::into_inner);
            all.add(&*h).expect("same bounds");
        }
        all
    }
}

/// The send time of every event, by its position in the log (makerpulse seq or broadcast
/// number), for receivers whose message does not carry its own stamp back.
pub struct SendTimes {
    base: AtomicU64,
    slots: Vec<AtomicU64>,
}

impl SendTimes {
    /// Room for `capacity` events.
    pub fn new(capacity: usize) -> Self {
        SendTimes {
            base: AtomicU64::new(u64::MAX),
            slots: (0..capacity).map(|_| AtomicU64::new(0)).collect(),
        }
    }

    /// Events after `seq` are the run's own; set once before the writers start.
    pub fn set_base(&self, seq: u64) {
        self.base.store(seq, Ordering::Release);
    }

    /// The seq after which events are the run's own (`u64::MAX` before the writers start).
    pub fn base(&self) -> u64 {
        self.base.load(Ordering::Acquire)
    }

    fn slot(&self, seq: u64) -> Option<&AtomicU64> {
        let base = self.base();
        if seq <= base {
            return None;
        }
        self.slots.get((seq - base - 1) as usize)
    }

    /// Notes that event `seq` was sent at `ns`.
    pub fn record(&self, seq: u64, ns: u64) {
        if let Some(slot) = self.slot(seq) {
            slot.store(ns, Ordering::Release);
        }
    }

    /// When event `seq` was sent, once known.
    pub fn get(&self, seq: u64) -> Option<u64> {
        let ns = self.slot(seq)?.load(Ordering::Acquire);
        (ns != 0).then_some(ns)
    }

    /// Whether `seq` is one of the run's own events (known or not yet known).
    pub fn is_ours(&self, seq: u64) -> bool {
        self.slot(seq).is_some()
    }
}

/// One step of the run: a rate held for a while.
pub struct Step {
    /// When it started sending (ns on the run's clock; 0 until then).
    pub start_ns: AtomicU64,
    /// Latencies of the events sent in this step.
    pub latency: Latency,
    /// Messages of this step's events delivered to viewers.
    pub delivered: AtomicU64,
    /// Bytes of those messages.
    pub bytes: AtomicU64,
    /// Events sent (and acknowledged, for makerpulse) in this step.
    pub events: AtomicU64,
    /// How long each command took to be answered (makerpulse: the HTTP request's round trip).
    pub answers: Latency,
}

impl Default for Step {
    fn default() -> Self {
        Step {
            start_ns: AtomicU64::new(0),
            latency: Latency::new(),
            delivered: AtomicU64::new(0),
            bytes: AtomicU64::new(0),
            events: AtomicU64::new(0),
            answers: Latency::new(),
        }
    }
}

/// Counters of the whole run.
#[derive(Default)]
pub struct Counters {
    /// Viewers holding a live, subscribed connection now.
    pub connected: AtomicU64,
    /// Viewers that got their first snapshot (or subscription) at least once.
    pub ready: AtomicU64,
    /// Connections refused or failed while opening.
    pub connect_errors: AtomicU64,
    /// Connections that failed or were closed by the server while open.
    pub errors: AtomicU64,
    /// Messages whose seq was not the next expected one (`prev_seq` above the last seq held).
    pub gaps: AtomicU64,
    /// Messages at or below the last seq held (duplicates).
    pub stale: AtomicU64,
    /// Snapshots received after the first (resyncs of a lagging connection, or resumes).
    pub resyncs: AtomicU64,
    /// Snapshots that were not a valid view, or differed from another at the same seq.
    pub bad_snapshots: AtomicU64,
    /// Messages that were neither view messages nor expected control messages.
    pub other: AtomicU64,
    /// Delivered messages whose send time never became known (an event not sent by this run).
    pub unattributed: AtomicU64,
    /// Deltas received whose send time is not known yet (the writer's answer is on its way).
    pub pending: AtomicU64,
    /// Resumed connections welcomed again (reconnect storm).
    pub reconnected: AtomicU64,
    /// Resumes answered with the missed messages (reconnect storm).
    pub resumed_replay: AtomicU64,
    /// Resumes answered with a snapshot instead (the server no longer held the messages).
    pub resumed_snapshot: AtomicU64,
    /// Writes refused or failed.
    pub write_errors: AtomicU64,
    /// Writes skipped because too many were already in flight.
    pub write_skipped: AtomicU64,
    /// Snapshots fetched over HTTP (`--join http`, `http-one`).
    pub http_snapshots: AtomicU64,
    /// Of those, the ones that came compressed.
    pub http_compressed: AtomicU64,
    /// Their bodies' bytes as sent.
    pub http_wire_bytes: AtomicU64,
    /// Their bodies' bytes once decoded.
    pub http_decoded_bytes: AtomicU64,
    /// Of those, the ones checked byte for byte against a snapshot a socket received.
    pub http_same_as_socket: AtomicU64,
}

impl Counters {
    /// Adds one to a counter.
    pub fn inc(counter: &AtomicU64) {
        counter.fetch_add(1, Ordering::Relaxed);
    }

    /// Reads a counter.
    pub fn get(counter: &AtomicU64) -> u64 {
        counter.load(Ordering::Relaxed)
    }
}

/// Percentiles of a histogram in milliseconds.
#[derive(Clone, Debug, Default, serde::Serialize)]
pub struct Percentiles {
    /// Values recorded.
    pub count: u64,
    /// Median.
    pub p50: f64,
    /// 90th percentile.
    pub p90: f64,
    /// 99th percentile.
    pub p99: f64,
    /// 99.9th percentile.
    pub p999: f64,
    /// Largest.
    pub max: f64,
}

impl Percentiles {
    /// The percentiles of `h` (microseconds) in milliseconds.
    pub fn of(h: &Histogram<u64>) -> Self {
        let ms = |us: u64| us as f64 / 1000.0;
        if h.is_empty() {
            return Percentiles::default();
        }
        Percentiles {
            count: h.len(),
            p50: ms(h.value_at_quantile(0.50)),
            p90: ms(h.value_at_quantile(0.90)),
            p99: ms(h.value_at_quantile(0.99)),
            p999: ms(h.value_at_quantile(0.999)),
            max: ms(h.max()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn send_times_know_only_the_runs_own_events() {
        let sends = SendTimes::new(4);
        assert!(!sends.is_ours(1), "nothing is ours before the base is set");
        sends.set_base(10);
        assert!(!sends.is_ours(10));
        assert!(sends.is_ours(11));
        assert_eq!(sends.get(11), None);
        sends.record(11, 500);
        assert_eq!(sends.get(11), Some(500));
        assert!(!sends.is_ours(15), "past the capacity");
    }

    #[test]
    fn latency_by_group_follows_the_viewer() {
        let l = Latency::new();
        for viewer in 0..100 {
            l.record(viewer, if viewer % 2 == 0 { 1_000 } else { 9_000 });
        }
        let groups = l.merged_by(2).expect("2 divides the shards");
        assert_eq!(groups[0].len(), 50);
        assert_eq!(groups[0].max(), groups[0].min());
        assert!(groups[0].max() < 1_100 && groups[1].min() > 8_900);
        assert!(l.merged_by(3).is_none());
    }

    #[test]
    fn latency_shards_merge() {
        let l = Latency::new();
        for v in 0..100 {
            l.record(v, 1000 * (v as u64 + 1));
        }
        let p = Percentiles::of(&l.merged());
        assert_eq!(p.count, 100);
        assert!((p.p50 - 50.0).abs() < 0.5, "{p:?}");
        assert!((p.max - 100.0).abs() < 0.5, "{p:?}");
    }
}
