//! The report of a run: a table for people and JSON for the benchmark's records.

use std::fmt::Write as _;

use crate::config::{Config, Join};
use crate::procstat::Sample;
use crate::stats::{Counters, Percentiles};
use crate::target::Kind;
use crate::viewer::Shared;

/// One step: a rate held for a while.
#[derive(Clone, Debug, serde::Serialize)]
pub struct StepReport {
    /// Events per second asked for.
    pub rate: f64,
    /// Seconds spent sending.
    pub seconds: f64,
    /// Viewers connected when it began.
    pub viewers: u64,
    /// Events sent (and, on makerpulse, acknowledged).
    pub events: u64,
    /// Messages owed to viewers: events × viewers.
    pub expected: u64,
    /// Messages of the step's events that arrived.
    pub delivered: u64,
    /// Delivered messages per second of sending.
    pub delivered_per_s: f64,
    /// Mean size of a delivered message in bytes.
    pub message_bytes: u64,
    /// Send-to-delivery latency.
    pub latency_ms: Percentiles,
    /// Command answer latency: from sending a command to its answer (makerpulse).
    pub answer_ms: Percentiles,
    /// With several `--url`s, the latency of the viewers of each (viewer `i` joins URL
    /// `i % urls`), in the order given; empty with one.
    pub latency_ms_by_url: Vec<Percentiles>,
    /// Server CPU seconds (user + system) spent during the step and its drain.
    pub server_cpu_s: f64,
    /// The same for each `--server-pid`, in the order given.
    pub server_cpu_s_each: Vec<f64>,
    /// Load generator CPU seconds during the step and its drain.
    pub loadgen_cpu_s: f64,
    /// CPU seconds the whole machine was busy during the step and its drain (every process,
    /// other users' too), and the CPU seconds there were (cores × seconds).
    pub machine_cpu_s: (f64, f64),
    /// Server resident memory at the end of the step.
    pub server_rss_kib: u64,
}

impl StepReport {
    /// One line of the table.
    pub fn line(&self) -> String {
        let l = &self.latency_ms;
        let mut line = format!(
            "{:>7.1} ev/s {:>7} ev {:>12}/{:<12} {:>10.0} msg/s {:>5} B  p50 {:>8.1}  p90 {:>8.1}  p99 {:>8.1}  p99.9 {:>8.1}  max {:>8.1} ms  answers p50 {:>6.1} p99 {:>6.1} max {:>6.1} ms  srv {:>6.1} s  lg {:>6.1} s",
            self.rate,
            self.events,
            self.delivered,
            self.expected,
            self.delivered_per_s,
            self.message_bytes,
            l.p50,
            l.p90,
            l.p99,
            l.p999,
            l.max,
            self.answer_ms.p50,
            self.answer_ms.p99,
            self.answer_ms.max,
            self.server_cpu_s,
            self.loadgen_cpu_s
        );
        let (busy, all) = self.machine_cpu_s;
        let _ = write!(line, "  machine busy {busy:.1}/{all:.1} s");
        for (i, l) in self.latency_ms_by_url.iter().enumerate() {
            let _ = write!(line, "  url {i}: p50 {:.1} p99 {:.1}", l.p50, l.p99);
        }
        line
    }
}

/// The reconnect storm.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Reconnect {
    /// Viewers that dropped their connection.
    pub viewers: u64,
    /// Seconds until every one was welcomed again.
    pub all_welcomed_s: f64,
    /// Seconds until every one got its first message after the welcome.
    pub all_resumed_s: f64,
    /// Resumes answered with exactly the missed messages.
    pub resumed_with_missed_messages: u64,
    /// Resumes answered with a snapshot.
    pub resumed_with_snapshot: u64,
    /// Viewers welcomed again.
    pub reconnected: u64,
}

/// Errors and protocol checks; all must be 0 in a good run.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Checks {
    /// Viewers that could not connect.
    pub connect_errors: u64,
    /// Connections lost or closed by the server.
    pub errors: u64,
    /// Messages after a missing one.
    pub gaps: u64,
    /// Duplicates.
    pub stale: u64,
    /// Snapshots that were invalid or differed at one seq.
    pub bad_snapshots: u64,
    /// Error messages from the server.
    pub server_errors: u64,
    /// Writes refused or failed.
    pub write_errors: u64,
    /// Writes skipped (too many in flight).
    pub write_skipped: u64,
    /// Resyncs by snapshot after falling behind (not errors, but messages skipped).
    pub resyncs: u64,
    /// Messages of events this run did not send (e.g. the seeding, to a viewer of an instance
    /// that was still catching up when it joined).
    pub unattributed: u64,
}

/// The whole run.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Report {
    /// The run's name.
    pub label: String,
    /// The protocol.
    pub target: Kind,
    /// Where.
    pub urls: Vec<String>,
    /// The open-files limit of the load generator.
    pub nofile: u64,
    /// The machine's 1-minute load average at the start and the end.
    pub load_average: (f64, f64),
    /// Viewers asked for.
    pub viewers: usize,
    /// Viewers holding a connection after the join.
    pub connections_held: u64,
    /// Seconds until every viewer had its first snapshot (or failed).
    pub join_s: f64,
    /// TCP + WebSocket handshake time.
    pub connect_ms: Percentiles,
    /// Time from starting to connect to the first snapshot.
    pub first_snapshot_ms: Percentiles,
    /// Server memory before the viewers, with them connected and idle, and at the end.
    pub server: [Sample; 3],
    /// (connected − before) / connections held, in bytes.
    pub server_bytes_per_connection: f64,
    /// The load generator's own memory at the end and CPU over the run.
    pub loadgen: Sample,
    /// The steps.
    pub steps: Vec<StepReport>,
    /// The reconnect storm, if there was one.
    pub reconnect: Option<Reconnect>,
    /// Errors and checks.
    pub checks: Checks,
    /// Broadcast payload size (peers).
    pub payload_bytes: usize,
    /// How the viewers joined and what it cost.
    pub join: JoinReport,
}

/// The join: how, the snapshots fetched over HTTP, and the CPU it took.
#[derive(Clone, Debug, serde::Serialize)]
pub struct JoinReport {
    /// `socket`, `http` or `http-one`.
    pub how: Join,
    /// Snapshots fetched over HTTP.
    pub http_snapshots: u64,
    /// Of those, the ones that came compressed.
    pub http_compressed: u64,
    /// Their bodies' bytes as sent.
    pub http_wire_bytes: u64,
    /// Their bodies' bytes decoded.
    pub http_decoded_bytes: u64,
    /// Of those, the ones equal byte for byte (decoded, in the socket's envelope) to the snapshot
    /// a socket received at the same seq just before the join.
    pub http_same_as_socket: u64,
    /// Server CPU seconds from before the viewers until 2 s after the last joined.
    pub server_cpu_s: f64,
    /// Load generator CPU seconds over the same time (its decoding included).
    pub loadgen_cpu_s: f64,
}

impl Report {
    /// Gathers the report.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        config: &Config,
        shared: &Shared,
        nofile: u64,
        load_average: (f64, f64),
        held: u64,
        join_s: f64,
        server: [Sample; 3],
        loadgen: Sample,
        steps: Vec<StepReport>,
        reconnect: Option<Reconnect>,
        loadgen_join_cpu_s: f64,
    ) -> Report {
        let c = &shared.counters;
        let per_conn = if held > 0 {
            (server[1].rss_kib as f64 - server[0].rss_kib as f64) * 1024.0 / held as f64
        } else {
            0.0
        };
        Report {
            label: config.label.clone(),
            target: config.target,
            urls: config.urls.clone(),
            nofile,
            load_average,
            viewers: config.viewers,
            connections_held: held,
            join_s,
            connect_ms: Percentiles::of(&shared.connect_time.merged()),
            first_snapshot_ms: Percentiles::of(&shared.first_snapshot.merged()),
            server,
            server_bytes_per_connection: per_conn,
            loadgen,
            steps,
            reconnect,
            checks: Checks {
                connect_errors: Counters::get(&c.connect_errors),
                errors: Counters::get(&c.errors),
                gaps: Counters::get(&c.gaps),
                stale: Counters::get(&c.stale),
                bad_snapshots: Counters::get(&c.bad_snapshots),
                server_errors: Counters::get(&c.other),
                write_errors: Counters::get(&c.write_errors),
                write_skipped: Counters::get(&c.write_skipped),
                resyncs: Counters::get(&c.resyncs),
                unattributed: Counters::get(&c.unattributed),
            },
            payload_bytes: config.payload_bytes,
            join: JoinReport {
                how: config.join,
                http_snapshots: Counters::get(&c.http_snapshots),
                http_compressed: Counters::get(&c.http_compressed),
                http_wire_bytes: Counters::get(&c.http_wire_bytes),
                http_decoded_bytes: Counters::get(&c.http_decoded_bytes),
                http_same_as_socket: Counters::get(&c.http_same_as_socket),
                server_cpu_s: server[1].cpu_s - server[0].cpu_s,
                loadgen_cpu_s: loadgen_join_cpu_s,
            },
        }
    }

    /// Whether nothing went wrong: every viewer connected, no gap, no error, nothing lost.
    pub fn clean(&self) -> bool {
        let k = &self.checks;
        self.connections_held == self.viewers as u64
            && k.connect_errors == 0
            && k.errors == 0
            && k.gaps == 0
            && k.bad_snapshots == 0
            && k.server_errors == 0
            && k.write_errors == 0
            && self.steps.iter().all(|s| s.delivered == s.expected)
    }

    /// The table.
    pub fn table(&self) -> String {
        let mut out = String::new();
        let kib = |s: &Sample| s.rss_kib as f64 / 1024.0;
        let _ = writeln!(
            out,
            "== {} ({:?}, {} viewers, load {:.2} → {:.2})",
            self.label, self.target, self.viewers, self.load_average.0, self.load_average.1
        );
        let _ = writeln!(
            out,
            "connections held {}/{}   join {:.2} s   connect p50/p99 {:.1}/{:.1} ms   first snapshot p50/p99/max {:.1}/{:.1}/{:.1} ms",
            self.connections_held,
            self.viewers,
            self.join_s,
            self.connect_ms.p50,
            self.connect_ms.p99,
            self.first_snapshot_ms.p50,
            self.first_snapshot_ms.p99,
            self.first_snapshot_ms.max
        );
        let j = &self.join;
        let _ = writeln!(
            out,
            "join {:?}: CPU server {:.2} s, load generator {:.2} s; over HTTP {} snapshots ({} compressed, {} the socket's bytes), {:.1} MB sent, {:.1} MB decoded",
            j.how,
            j.server_cpu_s,
            j.loadgen_cpu_s,
            j.http_snapshots,
            j.http_compressed,
            j.http_same_as_socket,
            j.http_wire_bytes as f64 / 1e6,
            j.http_decoded_bytes as f64 / 1e6,
        );
        let _ = writeln!(
            out,
            "server RSS {:.1} MiB before, {:.1} MiB connected ({:.0} B per connection), {:.1} MiB at the end; CPU {:.1} s in all",
            kib(&self.server[0]),
            kib(&self.server[1]),
            self.server_bytes_per_connection,
            kib(&self.server[2]),
            self.server[2].cpu_s - self.server[0].cpu_s
        );
        for step in &self.steps {
            let _ = writeln!(out, "{}", step.line());
        }
        if let Some(r) = &self.reconnect {
            let _ = writeln!(
                out,
                "reconnect storm: {}/{} welcomed again in {:.2} s, all resumed in {:.2} s ({} with the missed messages, {} with a snapshot)",
                r.reconnected,
                r.viewers,
                r.all_welcomed_s,
                r.all_resumed_s,
                r.resumed_with_missed_messages,
                r.resumed_with_snapshot
            );
        }
        let k = &self.checks;
        let _ = writeln!(
            out,
            "checks: connect errors {}  errors {}  gaps {}  stale {}  bad snapshots {}  server errors {}  write errors {}  skipped writes {}  resyncs {}  unattributed {}  → {}",
            k.connect_errors,
            k.errors,
            k.gaps,
            k.stale,
            k.bad_snapshots,
            k.server_errors,
            k.write_errors,
            k.write_skipped,
            k.resyncs,
            k.unattributed,
            if self.clean() { "clean" } else { "NOT CLEAN" }
        );
        out
    }
}
