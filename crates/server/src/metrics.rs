//! Prometheus metrics: connections by role, messages sent, resyncs and slow closes, command and
//! journal fsync latency; the build's version; the process's own (`process`).
//!
//! Names follow Prometheus's conventions: `makerpulse_` first, base units in the name
//! (`_seconds`, `_bytes`), counters ending in `_total` (the encoder adds it), and the process
//! family under the standard unprefixed `process_` names.

use std::sync::atomic::AtomicU64;
use std::time::Duration;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;

use crate::hub::{Answer, CommandError};

pub mod process;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RoleLabel {
    role: &'static str,
}

/// How a live join began: `replay` (the missed messages) or `snapshot`.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StartLabel {
    start: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct CommandLabel {
    command: &'static str,
    outcome: &'static str,
}

/// What a challenge keeps in memory (see [`Metrics::kept`]).
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct KeptLabel {
    challenge: String,
    what: &'static str,
}

fn latency() -> Histogram {
    // 50 µs to about 1.6 s.
    Histogram::new(exponential_buckets(0.000_05, 2.0, 16))
}

/// Every metric the server keeps.
pub struct Metrics {
    registry: Registry,
    connections: Family<RoleLabel, Gauge>,
    messages: Counter<u64, AtomicU64>,
    resyncs: Counter<u64, AtomicU64>,
    slow_closes: Counter<u64, AtomicU64>,
    joins: Family<StartLabel, Counter<u64, AtomicU64>>,
    events: Counter<u64, AtomicU64>,
    commands: Family<CommandLabel, Histogram, fn() -> Histogram>,
    fsync: Histogram,
    redis: Histogram,
    append_retries: Counter<u64, AtomicU64>,
    stream_lag: Histogram,
    kept: Family<KeptLabel, Gauge>,
    idempotency_lookups: Counter<u64, AtomicU64>,
    history_reads: Family<StartLabel, Counter<u64, AtomicU64>>,
    history_folded: Counter<u64, AtomicU64>,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    /// A fresh set, registered.
    pub fn new() -> Self {
        let mut root = Registry::default();
        root.register_collector(Box::new(process::ProcessCollector));
        let registry = root.sub_registry_with_prefix("makerpulse");
        registry.register(
            "build",
            "The version of makerpulse running, and how it was built",
            prometheus_client::metrics::info::Info::new(vec![
                ("version", env!("CARGO_PKG_VERSION")),
                (
                    "profile",
                    if cfg!(debug_assertions) {
                        "debug"
                    } else {
                        "release"
                    },
                ),
            ]),
        );
        let connections = Family::<RoleLabel, Gauge>::default();
        let messages = Counter::default();
        let resyncs = Counter::default();
        let slow_closes = Counter::default();
        let joins = Family::<StartLabel, Counter<u64, AtomicU64>>::default();
        let events = Counter::default();
        let commands =
            Family::<CommandLabel, Histogram, fn() -> Histogram>::new_with_constructor(latency);
        let fsync = latency();
        let redis = latency();
        let append_retries = Counter::default();
        let stream_lag = latency();
        let kept = Family::<KeptLabel, Gauge>::default();
        let idempotency_lookups = Counter::default();
        let history_reads = Family::<StartLabel, Counter<u64, AtomicU64>>::default();
        let history_folded = Counter::default();
        registry.register(
            "kept",
            "What a challenge keeps in memory, by kind: `events` (applied), `posts` (posts remembered), `posts_whole` (the newest, kept with their \
             text; the others' text is read back from the journal), `revisions` (scorecard revisions held), \
             `answers` (command answers remembered whole) and `answer_fingerprints` (older \
             command ids), `ring_messages` and `ring_bytes` (messages kept for resumes)",
            kept.clone(),
        );
        registry.register(
            "idempotency_lookups",
            "Command ids looked up in the journal because they were outside their actor's window",
            idempotency_lookups.clone(),
        );
        registry.register(
            "history_reads",
            "Reads of the past (`view?at`, past snapshots) by where their fold started: `past` (a \
             checkpoint of the past), `state` (one of the whole state) or `none` (the first event)",
            history_reads.clone(),
        );
        registry.register(
            "history_folded_events",
            "Events folded by reads of the past after the checkpoint they started from",
            history_folded.clone(),
        );
        registry.register(
            "connections",
            "Open live connections by role",
            connections.clone(),
        );
        registry.register(
            "messages_sent",
            "Messages written to live connections and feeds",
            messages.clone(),
        );
        registry.register(
            "queue_resyncs",
            "Connections that fell behind and were resynced with a snapshot",
            resyncs.clone(),
        );
        registry.register(
            "slow_closes",
            "Connections closed because a write did not complete in time",
            slow_closes.clone(),
        );
        registry.register(
            "joins",
            "Live joins, by how they started (replay or snapshot)",
            joins.clone(),
        );
        registry.register("events", "Events appended and published", events.clone());
        registry.register(
            "command_seconds",
            "Command latency from receipt to answer",
            commands.clone(),
        );
        registry.register(
            "journal_fsync_seconds",
            "Journal write and fsync latency per group commit",
            fsync.clone(),
        );
        registry.register(
            "redis_append_seconds",
            "Latency of appends to the shared Redis log",
            redis.clone(),
        );
        registry.register(
            "append_retries",
            "Appends to the Redis log refused because another instance appended first",
            append_retries.clone(),
        );
        registry.register(
            "stream_lag_seconds",
            "Time from an event's decision to its application on this instance",
            stream_lag.clone(),
        );
        Self {
            registry: root,
            connections,
            messages,
            resyncs,
            slow_closes,
            joins,
            events,
            commands,
            fsync,
            redis,
            append_retries,
            stream_lag,
            kept,
            idempotency_lookups,
            history_reads,
            history_folded,
        }
    }

    /// Sets what `challenge` keeps of kind `what` (see the `kept` metric's help for the kinds).
    pub(crate) fn kept(&self, challenge: &str, what: &'static str, n: u64) {
        self.kept
            .get_or_create(&KeptLabel {
                challenge: challenge.to_owned(),
                what,
            })
            .set(n as i64);
    }

    pub(crate) fn idempotency_lookup(&self) {
        self.idempotency_lookups.inc();
    }

    /// A read of the past that started from `start` (`past`, `state` or `none`) and folded
    /// `folded` events.
    pub(crate) fn history_read(&self, start: &'static str, folded: u64) {
        self.history_reads
            .get_or_create(&StartLabel { start })
            .inc();
        self.history_folded.inc_by(folded);
    }

    /// The metrics in the Prometheus text format.
    pub fn render(&self) -> String {
        let mut out = String::new();
        prometheus_client::encoding::text::encode(&mut out, &self.registry)
            .expect("writing to a String cannot fail");
        out
    }

    pub(crate) fn connected(&self, role: &'static str, delta: i64) {
        self.connections
            .get_or_create(&RoleLabel { role })
            .inc_by(delta);
    }

    pub(crate) fn sent(&self, n: u64) {
        self.messages.inc_by(n);
    }

    pub(crate) fn resynced(&self) {
        self.resyncs.inc();
    }

    pub(crate) fn slow_close(&self) {
        self.slow_closes.inc();
    }

    pub(crate) fn joined(&self, replay: bool) {
        let start = if replay { "replay" } else { "snapshot" };
        self.joins.get_or_create(&StartLabel { start }).inc();
    }

    pub(crate) fn events(&self, n: usize) {
        self.events.inc_by(n as u64);
    }

    pub(crate) fn fsync(&self, took: Duration) {
        self.fsync.observe(took.as_secs_f64());
    }

    pub(crate) fn redis(&self, took: Duration) {
        self.redis.observe(took.as_secs_f64());
    }

    pub(crate) fn append_retry(&self) {
        self.append_retries.inc();
    }

    pub(crate) fn stream_lag(&self, lag: Duration) {
        self.stream_lag.observe(lag.as_secs_f64());
    }

    pub(crate) fn command(
        &self,
        command: &'static str,
        answer: &Result<Answer, CommandError>,
        took: Duration,
    ) {
        let outcome = match answer {
            Ok(Answer::Applied { .. }) => "applied",
            Ok(Answer::Repeated { .. }) => "repeated",
            Ok(Answer::Cheered(_)) => "cheered",
            Err(CommandError::Domain(_) | CommandError::Photo(_)) => "refused",
            Err(CommandError::Unavailable) => "unavailable",
        };
        self.commands
            .get_or_create(&CommandLabel { command, outcome })
            .observe(took.as_secs_f64());
    }
}
