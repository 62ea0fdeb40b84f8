//! One audience socket: connect, subscribe, then read every message, checking its order and
//! recording its delivery latency; on command, drop the connection and resume with `since`.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use makerpulse_core::protocol::ServerMessage;
use makerpulse_core::Role;
use tokio::sync::watch;
use tokio_tungstenite::tungstenite::{Message, Utf8Bytes};

use crate::http_join;
use crate::stats::{Clock, Counters, Latency, SendTimes, Step};
use crate::target::{self, Frame, Kind};

/// What the run asks of every viewer: the generation to be connected in (a new one means drop
/// and resume), or [`STOP`].
pub type Control = watch::Receiver<u64>;
/// The control value that ends every viewer.
pub const STOP: u64 = u64::MAX;
/// What `follow` answers when the control changed: read it again.
const NEXT: u64 = u64::MAX - 1;

/// How long a viewer waits for its connection and first snapshot.
const OPEN_TIMEOUT: Duration = Duration::from_secs(30);

/// Everything the viewers share.
pub struct Shared {
    /// The protocol.
    pub kind: Kind,
    /// The run's clock.
    pub clock: Clock,
    /// Send times by seq (makerpulse).
    pub sends: SendTimes,
    /// The steps, in order.
    pub steps: Vec<Step>,
    /// Counters.
    pub counters: Counters,
    /// Time to open the TCP connection and finish the WebSocket handshake.
    pub connect_time: Latency,
    /// Time from starting to connect to the first snapshot (or subscription).
    pub first_snapshot: Latency,
    /// The teams a correct makerpulse snapshot holds (0: not checked).
    pub expect_teams: usize,
    /// One verified snapshot per seq; every other snapshot at that seq must be byte-identical.
    pub snapshots: Mutex<HashMap<u64, Utf8Bytes>>,
    /// How fresh viewers fetch their snapshot over HTTP before opening the socket from its seq
    /// (`--join http`, `http-one`); `None`: the socket's own snapshot.
    pub http_join: Option<HttpJoin>,
    /// The seq of the snapshot a socket of the load generator's own received before an HTTP join
    /// (0: none): an HTTP snapshot at that seq is checked against the socket's bytes.
    pub socket_seq: std::sync::atomic::AtomicU64,
    /// Connections being opened at once at most (a listen backlog overflowing would add the
    /// kernel's one-second SYN retry to the join time instead of measuring the server).
    pub gate: tokio::sync::Semaphore,
}

impl Shared {
    /// The step an event sent at `sent_ns` belongs to.
    pub fn step_of(&self, sent_ns: u64) -> Option<&Step> {
        self.steps.iter().rev().find(|s| {
            let start = Counters::get(&s.start_ns);
            start != 0 && start <= sent_ns
        })
    }

    fn delivered(&self, viewer: usize, sent_ns: u64, now: u64, bytes: usize) {
        if let Some(step) = self.step_of(sent_ns) {
            Counters::inc(&step.delivered);
            step.bytes
                .fetch_add(bytes as u64, std::sync::atomic::Ordering::Relaxed);
            step.latency
                .record(viewer, now.saturating_sub(sent_ns) / 1000);
        }
    }

    /// The snapshot first seen at `seq`, once checked.
    fn known(&self, seq: u64) -> Option<Utf8Bytes> {
        let snapshots = self
            .snapshots
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        snapshots.get(&seq).cloned()
    }

    /// Checks a makerpulse snapshot: the first one at a seq must be a valid audience view at
    /// that seq with every team; the others must be the same bytes.
    fn check_snapshot(&self, seq: u64, text: &Utf8Bytes) -> bool {
        if self.kind != Kind::Makerpulse {
            return true;
        }
        let known = self.known(seq);
        if let Some(known) = known {
            return known == *text;
        }
        let valid = match serde_json::from_str::<ServerMessage>(text.as_str()) {
            Ok(ServerMessage::Snapshot { view }) => {
                // Another instance may still be catching up with the seeding when a viewer
                // joins it: a snapshot from before the run's base holds fewer teams, rightly.
                let seeded = view.seq >= self.sends.base();
                view.seq == seq
                    && view.role == Role::Audience
                    && view.challenge.is_some()
                    && (self.expect_teams == 0 || !seeded || view.teams.len() == self.expect_teams)
            }
            _ => false,
        };
        if valid {
            self.snapshots
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .insert(seq, text.clone());
        }
        valid
    }
}

impl Shared {
    /// Checks a view fetched over HTTP as [`Shared::check_snapshot`] does, in the socket's
    /// envelope: equal to the snapshot known at its seq (compared in place, no copy: bytes equal
    /// to checked UTF-8 are UTF-8), or, the first at its seq, a valid view.
    fn check_view(&self, seq: u64, view: Vec<u8>) -> bool {
        const HEAD: &[u8] = br#"{"type":"snapshot","view":"#;
        let known = self.known(seq);
        if let Some(known) = known {
            let known = known.as_bytes();
            return known.len() == HEAD.len() + view.len() + 1
                && known.starts_with(HEAD)
                && known.ends_with(b"}")
                && known[HEAD.len()..known.len() - 1] == view[..];
        }
        let Ok(view) = String::from_utf8(view) else {
            return false;
        };
        self.check_snapshot(
            seq,
            &Utf8Bytes::from(format!(r#"{{"type":"snapshot","view":{view}}}"#)),
        )
    }
}

/// Where one viewer connects from and to.
pub struct Seat {
    /// Its number.
    pub id: usize,
    /// The WebSocket URL.
    pub url: String,
    /// The source address.
    pub from: IpAddr,
}

/// What a viewer knows between connections.
struct Position {
    /// The last seq held (makerpulse) or broadcast number received.
    last: u64,
    /// Whether it ever held a snapshot.
    ready: bool,
    /// Deltas received before the writer learnt their seq: (seq, received at, bytes).
    pending: Vec<(u64, u64, usize)>,
}

/// Runs one viewer until told to stop.
pub async fn run(seat: Seat, shared: Arc<Shared>, mut control: Control) {
    let mut pos = Position {
        last: 0,
        ready: false,
        pending: Vec::new(),
    };
    let mut generation = *control.borrow_and_update();
    while generation != STOP {
        let resume = pos.ready.then_some(pos.last);
        let opened = {
            let _permit = shared.gate.acquire().await;
            tokio::time::timeout(OPEN_TIMEOUT, open(&seat, &shared, &mut pos, resume)).await
        };
        match opened {
            Ok(Ok((ws, resumed))) => {
                Counters::inc(&shared.counters.connected);
                let outcome = follow(ws, resumed, &seat, &shared, &mut pos, &mut control).await;
                shared
                    .counters
                    .connected
                    .fetch_sub(1, std::sync::atomic::Ordering::Relaxed);
                match outcome {
                    Some(NEXT) => generation = *control.borrow_and_update(),
                    Some(next) => generation = next,
                    None => {
                        Counters::inc(&shared.counters.errors);
                        break;
                    }
                }
            }
            Ok(Err(e)) => {
                connect_error(&shared, &format!("{e:#}"));
                break;
            }
            Err(_) => {
                connect_error(&shared, "no snapshot or welcome within the open timeout");
                break;
            }
        }
    }
    settle(&seat, &shared, &mut pos, true);
}

/// Counts a connection that failed to open; the first few are printed, so that a run that is not
/// clean says why.
fn connect_error(shared: &Shared, why: &str) {
    let before = shared
        .counters
        .connect_errors
        .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    if before < 5 {
        eprintln!("connect error: {why}");
    }
}

/// Connects and reads up to the first snapshot (fresh) or the welcome (resume: `true`).
async fn open(
    seat: &Seat,
    shared: &Shared,
    pos: &mut Position,
    resume: Option<u64>,
) -> anyhow::Result<(target::Socket, bool)> {
    let started = shared.clock.now_ns();
    if let (None, Some(how)) = (resume, &shared.http_join) {
        return join_over_http(seat, shared, pos, how, started).await;
    }
    let mut ws = target::connect(&seat.url, seat.from).await?;
    let connected = shared.clock.now_ns();
    if resume.is_none() {
        shared
            .connect_time
            .record(seat.id, (connected - started) / 1000);
    }
    if let Some(hello) = shared.kind.hello(resume) {
        ws.send(Message::text(hello)).await?;
    }
    loop {
        let Some(msg) = ws.next().await else {
            anyhow::bail!("closed before the first snapshot");
        };
        let Message::Text(text) = msg? else { continue };
        match shared.kind.classify(text.as_str()) {
            Frame::Reply(reply) => ws.send(Message::text(reply)).await?,
            Frame::Welcome(_) if resume.is_some() => {
                Counters::inc(&shared.counters.reconnected);
                // The missed deltas (or a snapshot) follow; `follow` tells which.
                return Ok((ws, true));
            }
            Frame::Snapshot(seq) => {
                if !shared.check_snapshot(seq, &text) {
                    Counters::inc(&shared.counters.bad_snapshots);
                }
                pos.last = seq;
                pos.ready = true;
                Counters::inc(&shared.counters.ready);
                shared
                    .first_snapshot
                    .record(seat.id, (shared.clock.now_ns() - started) / 1000);
                return Ok((ws, false));
            }
            Frame::Error => anyhow::bail!("refused: {}", text.as_str()),
            _ => {}
        }
    }
}

/// How fresh viewers fetch their snapshot over HTTP before opening the socket from its seq.
pub enum HttpJoin {
    /// On keep-alive connections the viewers share (a page holds the one it was loaded on); the
    /// socket on a connection of its own, as a browser opens one.
    Pooled(reqwest::Client),
    /// On the viewer's own new connection, which then carries the socket's upgrade.
    OneConnection,
}

/// Joins as a page that uses the HTTP snapshot does: `GET …/snapshot` asking for `gzip, br`,
/// decoded and checked like a socket snapshot (the decoded body wrapped as a `snapshot` message
/// must be the socket's bytes at that seq), then the socket with `since` at its seq; what came
/// after follows on the socket.
async fn join_over_http(
    seat: &Seat,
    shared: &Shared,
    pos: &mut Position,
    how: &HttpJoin,
    started: u64,
) -> anyhow::Result<(target::Socket, bool)> {
    let url = seat
        .url
        .replacen("ws://", "http://", 1)
        .replacen("/live", "/snapshot", 1);
    let (coded, kept) = match how {
        HttpJoin::Pooled(client) => {
            let res = client
                .get(&url)
                .header(reqwest::header::ACCEPT_ENCODING, http_join::ACCEPT_ENCODING)
                .send()
                .await?
                .error_for_status()?;
            let coding = res
                .headers()
                .get(reqwest::header::CONTENT_ENCODING)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned);
            let body = res.bytes().await?.to_vec();
            (http_join::Coded { coding, body }, None)
        }
        HttpJoin::OneConnection => {
            let rest = url.trim_start_matches("http://");
            let (host, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
            let mut stream = target::connect_tcp(&seat.url, seat.from).await?;
            let coded = http_join::get_on(&mut stream, host, path).await?;
            (coded, Some(stream))
        }
    };
    let body = coded.decode()?;
    let c = &shared.counters;
    Counters::inc(&c.http_snapshots);
    if coded.coding.is_some() {
        Counters::inc(&c.http_compressed);
    }
    c.http_wire_bytes.fetch_add(
        coded.body.len() as u64,
        std::sync::atomic::Ordering::Relaxed,
    );
    c.http_decoded_bytes
        .fetch_add(body.len() as u64, std::sync::atomic::Ordering::Relaxed);
    // The seq is the view's first number field but for `schema`: within its first bytes.
    let head = &body[..body.len().min(256)];
    let seq = target::number_after(&String::from_utf8_lossy(head), r#""seq":"#)
        .ok_or_else(|| anyhow::anyhow!("a snapshot without a seq"))?;
    if !shared.check_view(seq, body) {
        Counters::inc(&shared.counters.bad_snapshots);
    } else if seq == Counters::get(&shared.socket_seq) {
        Counters::inc(&c.http_same_as_socket);
    }
    let mut ws = match kept {
        Some(stream) => target::upgrade(&seat.url, stream).await?,
        None => target::connect(&seat.url, seat.from).await?,
    };
    let connected = shared.clock.now_ns();
    shared
        .connect_time
        .record(seat.id, (connected - started) / 1000);
    if let Some(hello) = shared.kind.hello(Some(seq)) {
        ws.send(Message::text(hello)).await?;
    }
    loop {
        let Some(msg) = ws.next().await else {
            anyhow::bail!("closed before the welcome");
        };
        let Message::Text(text) = msg? else { continue };
        match shared.kind.classify(text.as_str()) {
            Frame::Welcome(_) => break,
            Frame::Error => anyhow::bail!("refused: {}", text.as_str()),
            _ => {}
        }
    }
    pos.last = seq;
    pos.ready = true;
    Counters::inc(&shared.counters.ready);
    shared
        .first_snapshot
        .record(seat.id, (shared.clock.now_ns() - started) / 1000);
    Ok((ws, false))
}

/// Opens one socket to `url` for its snapshot, checked and kept as the bytes every later snapshot
/// at its seq must have, and closes it; returns the seq.
pub async fn reference(url: &str, shared: &Shared) -> anyhow::Result<u64> {
    let mut ws = target::connect(url, IpAddr::from([127, 0, 0, 1])).await?;
    if let Some(hello) = shared.kind.hello(None) {
        ws.send(Message::text(hello)).await?;
    }
    loop {
        let Some(msg) = ws.next().await else {
            anyhow::bail!("closed before the first snapshot");
        };
        let Message::Text(text) = msg? else { continue };
        if let Frame::Snapshot(seq) = shared.kind.classify(text.as_str()) {
            anyhow::ensure!(
                shared.check_snapshot(seq, &text),
                "the reference snapshot is not a valid view"
            );
            shared
                .socket_seq
                .store(seq, std::sync::atomic::Ordering::Relaxed);
            let _ = ws.close(None).await;
            return Ok(seq);
        }
    }
}

/// Reads messages until the connection ends (`None`) or the run asks for another generation.
async fn follow(
    mut ws: target::Socket,
    mut fresh_resume: bool,
    seat: &Seat,
    shared: &Shared,
    pos: &mut Position,
    control: &mut Control,
) -> Option<u64> {
    // One waiter on the control channel for the whole connection: a new one per message would
    // lock the channel's waiter list, shared by every viewer, twice per message.
    let changed = control.changed();
    tokio::pin!(changed);
    loop {
        tokio::select! {
            changed = &mut changed => {
                if changed.is_err() {
                    return Some(STOP);
                }
                // Dropping the socket closes it at once, as a phone losing its network would.
                drop(ws);
                return Some(NEXT);
            }
            msg = ws.next() => {
                let text = match msg {
                    Some(Ok(Message::Text(text))) => text,
                    Some(Ok(Message::Close(_))) | Some(Err(_)) | None => return None,
                    Some(Ok(_)) => continue,
                };
                let now = shared.clock.now_ns();
                match shared.kind.classify(text.as_str()) {
                    Frame::Delta { seq, prev_seq } => {
                        if fresh_resume {
                            fresh_resume = false;
                            Counters::inc(&shared.counters.resumed_replay);
                        }
                        if seq <= pos.last {
                            Counters::inc(&shared.counters.stale);
                        } else if prev_seq > pos.last {
                            Counters::inc(&shared.counters.gaps);
                            pos.last = seq;
                        } else {
                            pos.last = seq;
                            match shared.sends.get(seq) {
                                Some(sent) => shared.delivered(seat.id, sent, now, text.len()),
                                None if shared.sends.is_ours(seq) => {
                                    Counters::inc(&shared.counters.pending);
                                    pos.pending.push((seq, now, text.len()));
                                }
                                None => Counters::inc(&shared.counters.unattributed),
                            }
                        }
                    }
                    Frame::Payload { n, sent_ns } => {
                        if n <= pos.last {
                            Counters::inc(&shared.counters.stale);
                        } else {
                            if n != pos.last + 1 {
                                Counters::inc(&shared.counters.gaps);
                            }
                            pos.last = n;
                            shared.delivered(seat.id, sent_ns, now, text.len());
                        }
                    }
                    Frame::Snapshot(seq) => {
                        if fresh_resume {
                            fresh_resume = false;
                            Counters::inc(&shared.counters.resumed_snapshot);
                        } else {
                            Counters::inc(&shared.counters.resyncs);
                        }
                        if !shared.check_snapshot(seq, &text) {
                            Counters::inc(&shared.counters.bad_snapshots);
                        }
                        pos.last = pos.last.max(seq);
                    }
                    Frame::Reply(reply) => {
                        if ws.send(Message::text(reply)).await.is_err() {
                            return None;
                        }
                    }
                    Frame::Error => Counters::inc(&shared.counters.other),
                    Frame::Welcome(_) | Frame::Ignore => {}
                }
                settle(seat, shared, pos, false);
            }
        }
    }
}

/// Records the latency of deltas whose send time has become known since they arrived; at the
/// end (`last`), the ones that never became known are counted as not the run's own.
fn settle(seat: &Seat, shared: &Shared, pos: &mut Position, last: bool) {
    if pos.pending.is_empty() {
        return;
    }
    let before = pos.pending.len();
    pos.pending
        .retain(|&(seq, received, bytes)| match shared.sends.get(seq) {
            Some(sent) => {
                shared.delivered(seat.id, sent, received, bytes);
                false
            }
            None if last => {
                Counters::inc(&shared.counters.unattributed);
                false
            }
            None => true,
        });
    let settled = (before - pos.pending.len()) as u64;
    shared
        .counters
        .pending
        .fetch_sub(settled, std::sync::atomic::Ordering::Relaxed);
}
