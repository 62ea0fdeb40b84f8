//! One live challenge: its state, and the API the HTTP handlers, the socket and the timers use.
//!
//! Commands go through one writer task per challenge (`hub/writer.rs`). The writer takes every
//! command waiting, decides each against its working copy of the state, appends all their events
//! to the challenge's [`EventLog`] in one append (with the embedded journal: one write and one
//! sync, a group commit), and only then applies them to the committed state that readers see,
//! projects one delta per connected view (`hub/fanout.rs`), and acknowledges. Cheers skip the
//! writer: they are counted in memory and a tally event is written every few seconds.
//!
//! When several instances share a challenge, the writer appends to the shared log instead, and
//! a tailer reads it, mirrors every event into the local journal and publishes it
//! (`hub/replica.rs`): events of every instance reach the state and the connections by the same
//! path. Who is online is counted apart (`hub/presence.rs`).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, RwLock, RwLockReadGuard};
use std::time::{Duration, Instant};

use axum::extract::ws::Utf8Bytes;
use chrono::Utc;
use makerpulse_core::protocol::{Online, ServerMessage};
use makerpulse_core::{
    decide, Actor, ChallengeId, Command, CommandId, Decision, DomainError, Envelope, Event, Parts,
    Phase, Role, State, TeamId,
};
use tokio::sync::{broadcast, mpsc, oneshot, watch};

use crate::event_log::{EventLog, StoreError};
use crate::journal::{self, JournalLog};
use crate::metrics::Metrics;
use crate::photo_store::{PhotoError, PhotoStore};

mod fanout;
mod history;
mod presence;
mod replica;
mod writer;

use fanout::{Streams, ViewChannel};
use writer::{Job, BATCH};

pub use history::Spacing;
pub use presence::{SharedPresence, PRESENCE_TTL};

/// How often counted cheers are written to the log.
pub const CHEER_TALLY_EVERY: Duration = Duration::from_secs(2);

/// One message of a view, serialised once and shared by every connection of that view.
#[derive(Clone, Debug)]
pub struct Msg {
    /// The event's seq.
    pub seq: u64,
    /// The JSON text.
    pub text: Utf8Bytes,
}

/// How a subscription begins.
#[derive(Debug)]
pub enum Start {
    /// A whole view (JSON of a `snapshot` message).
    Snapshot(Utf8Bytes),
    /// The messages after the client's `since`, in order (maybe none).
    Replay(Vec<Msg>),
}

/// A live view: where it starts, then every message after.
#[derive(Debug)]
pub struct Subscription {
    /// The challenge's seq when it began.
    pub seq: u64,
    /// What to send first.
    pub start: Start,
    /// Every later message of the view.
    pub rx: broadcast::Receiver<Msg>,
}

/// The answer to an accepted command.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Answer {
    /// New events, durable.
    Applied {
        /// First seq.
        first_seq: u64,
        /// Last seq.
        last_seq: u64,
    },
    /// A resend of an accepted command; nothing changed.
    Repeated {
        /// First seq.
        first_seq: u64,
        /// Last seq.
        last_seq: u64,
    },
    /// A cheer, counted.
    Cheered(TeamId),
}

/// Why a command was not accepted.
#[derive(Debug, thiserror::Error)]
pub enum CommandError {
    /// The core refused it.
    #[error(transparent)]
    Domain(#[from] DomainError),
    /// The log could not be written; nothing was acknowledged.
    #[error("the event log is unavailable")]
    Unavailable,
    /// A post names a photo that was not uploaded (the core cannot see the files).
    #[error(transparent)]
    Photo(#[from] PhotoError),
}

/// A `std` lock is right here: no lock in this module is ever held across an `.await`, and
/// every critical section is short and CPU-only. A panic while holding one leaves consistent
/// data (events are applied whole), so a poisoned lock is simply taken over.
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// One live challenge.
pub struct Hub {
    id: ChallengeId,
    committed: RwLock<State>,
    streams: Mutex<Streams>,
    /// The audience's snapshot compressed for HTTP joins (`http/snapshot.rs`).
    packed: crate::http::snapshot::PackedSnapshots,
    jobs: mpsc::Sender<Job>,
    cheers: Mutex<BTreeMap<TeamId, u64>>,
    healthy: AtomicBool,
    counter: AtomicU64,
    metrics: Arc<Metrics>,
    /// The committed seq, for writers waiting for the tailer.
    seq: watch::Sender<u64>,
    /// Open connections on this instance per role: audience, team, judge, admin.
    local: [AtomicI64; 4],
    /// The latest presence message.
    presence: watch::Sender<Utf8Bytes>,
    /// The log other instances append to as well, when the challenge is shared.
    shared_log: Option<Arc<dyn EventLog>>,
    /// Where instances sum who is online, when they do.
    shared_presence: Option<SharedPresence>,
    path: PathBuf,
    /// Where each event lies in the journal, and when: history reads cost what they return.
    index: journal::SharedIndex,
    /// The photo files, to check that a post names only uploaded photos.
    photos: Arc<PhotoStore>,
    /// Room for the history reads folding at once (`hub/history.rs`).
    history: tokio::sync::Semaphore,
    /// Whether a checkpoint is being saved.
    checkpoints_saving: AtomicBool,
    /// Events between two checkpoints of each kind.
    checkpoints: Spacing,
}

/// How instances share a challenge: the log they all append to, and where they sum presence.
pub struct Sharing {
    /// The challenge's shared log.
    pub log: Arc<dyn EventLog>,
    /// The same log for the writer and the tailer, through connections opened on their own
    /// thread when they first use them, so that no reply on the path of an event is read by
    /// another runtime (see `RedisLog::apart`).
    pub replica: Arc<dyn EventLog>,
    /// Where instances report who is online; with `None`, this instance counts its own.
    pub presence: Option<SharedPresence>,
}

impl Hub {
    /// Opens the journal at `path`, replays it and starts the writer; with `sharing`, joins the
    /// challenge's shared log (seeding it from the journal when it is behind) and starts the
    /// tailer that mirrors it into the journal. Checkpoints of the state and of the past are
    /// saved as `checkpoints` says.
    pub async fn open(
        id: ChallengeId,
        path: &Path,
        metrics: Arc<Metrics>,
        photos: Arc<PhotoStore>,
        sharing: Option<Sharing>,
        checkpoints: Spacing,
    ) -> Result<Arc<Hub>, StoreError> {
        let (opened, state) = {
            let path = path.to_owned();
            // Folded as read, from the latest checkpoint: the log is never held in memory whole.
            tokio::task::spawn_blocking(move || history::open_folded(&path, checkpoints)).await??
        };
        tracing::info!(challenge = %id, events = state.seq(), "challenge loaded");
        let index = opened.index();
        let journal = Arc::new(JournalLog::new(opened, metrics.clone()));
        let (shared_log, replica_log, shared_presence) = match sharing {
            None => (None, None, None),
            Some(Sharing {
                log,
                replica,
                presence,
            }) => {
                replica::agree(&*log, &journal, state.seq()).await?;
                (Some(log), Some(replica), presence)
            }
        };
        let (jobs, rx) = mpsc::channel(4 * BATCH);
        let mut streams = Streams::default();
        for role in [Role::Audience, Role::Admin] {
            streams.views.insert(
                (role.clone(), Parts::ALL),
                ViewChannel::new(role, Parts::ALL, state.seq()),
            );
        }
        let presence = ServerMessage::Presence {
            online: Online::default(),
        };
        let hub = Arc::new(Hub {
            id,
            committed: RwLock::new(state.clone()),
            streams: Mutex::new(streams),
            packed: Default::default(),
            jobs,
            cheers: Mutex::new(BTreeMap::new()),
            healthy: AtomicBool::new(true),
            counter: AtomicU64::new(0),
            metrics,
            seq: watch::channel(state.seq()).0,
            local: Default::default(),
            presence: watch::channel(Utf8Bytes::from(presence.to_json())).0,
            shared_log,
            shared_presence,
            path: path.to_owned(),
            index,
            photos,
            history: tokio::sync::Semaphore::new(history::HISTORY_READS),
            checkpoints_saving: AtomicBool::new(false),
            checkpoints,
        });
        let weak = Arc::downgrade(&hub);
        match replica_log {
            None => {
                let name = format!("writer-{}", hub.id);
                writer::on_own_thread(name, writer::writer(weak, journal, None, state, rx))
                    .map_err(StoreError::io("starting the writer thread"))?;
            }
            Some(log) => {
                // The tailer publishes every event, so it gets the writer's thread for the same
                // reason (see `writer::on_own_thread`): on the shared runtime each read of the
                // shared log and each publish waited behind the connections the previous event
                // had woken, and two instances had 3.9× the p99 of one. The tail and command
                // connections of `log` are opened on this thread's runtime, so their replies
                // are read here too.
                let name = format!("replica-{}", hub.id);
                let tailer = replica::tailer(weak.clone(), log.clone(), journal.clone());
                let writer = writer::writer(weak, log.clone(), Some(journal), state, rx);
                writer::on_own_thread(name, async move {
                    tokio::join!(tailer, writer);
                })
                .map_err(StoreError::io("starting the replica thread"))?;
            }
        }
        Ok(hub)
    }

    /// The challenge id.
    pub fn id(&self) -> &ChallengeId {
        &self.id
    }

    /// The audience's snapshot compressed for HTTP joins, kept by the hub whose seq names it.
    pub(crate) fn packed_snapshots(&self) -> &crate::http::snapshot::PackedSnapshots {
        &self.packed
    }

    /// Whether the last append succeeded.
    pub fn is_healthy(&self) -> bool {
        self.healthy.load(Ordering::Relaxed)
    }

    /// Reads the committed state. Keep the guard short: the writer waits for it.
    pub fn state(&self) -> RwLockReadGuard<'_, State> {
        self.committed
            .read()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Decides and, once durable, applies a command.
    pub async fn command(&self, actor: Actor, envelope: Envelope) -> Result<Answer, CommandError> {
        let started = Instant::now();
        let name = envelope.command.name();
        let answer = if matches!(envelope.command, Command::Cheer { .. }) {
            self.cheer(&actor, &envelope)
        } else if let Err(e) = self.photos_uploaded(&envelope.command).await {
            Err(e)
        } else {
            let (reply, answer) = oneshot::channel();
            let job = Job {
                actor,
                envelope,
                reply,
            };
            if self.jobs.send(job).await.is_err() {
                return Err(CommandError::Unavailable);
            }
            answer.await.unwrap_or(Err(CommandError::Unavailable))
        };
        self.metrics.command(name, &answer, started.elapsed());
        answer
    }

    /// A post may name only photos that were uploaded, with their real type.
    async fn photos_uploaded(&self, command: &Command) -> Result<(), CommandError> {
        match command {
            Command::PostProgress { photos, .. } => Ok(self.photos.check_named(photos).await?),
            _ => Ok(()),
        }
    }

    fn cheer(&self, actor: &Actor, envelope: &Envelope) -> Result<Answer, CommandError> {
        let decision = decide(&self.state(), actor, envelope, Utc::now())?;
        match decision {
            Decision::Cheer(team) => {
                *lock(&self.cheers).entry(team.clone()).or_default() += 1;
                Ok(Answer::Cheered(team))
            }
            _ => unreachable!("a cheer is decided as a cheer"),
        }
    }

    /// A command id for the server's own commands.
    fn system_id(&self, kind: &str) -> CommandId {
        let n = self.counter.fetch_add(1, Ordering::Relaxed);
        let nanos = Utc::now().timestamp_nanos_opt().unwrap_or_default();
        CommandId::new(format!("sys-{kind}-{nanos:x}-{n}")).expect("valid id")
    }

    /// Writes counted cheers to the log; on failure they are counted again next time.
    pub async fn tally_cheers(&self) {
        let counts = std::mem::take(&mut *lock(&self.cheers));
        if counts.is_empty() {
            return;
        }
        let envelope = Envelope::new(
            self.system_id("tally"),
            Command::TallyCheers {
                counts: counts.clone(),
            },
        );
        if let Err(err) = self.command(Actor::System, envelope).await {
            tracing::warn!(challenge = %self.id, %err, "cheer tally not written; keeping the counts");
            let mut pending = lock(&self.cheers);
            for (team, n) in counts {
                *pending.entry(team).or_default() += n;
            }
        }
    }

    /// Ends building when the clock has run out.
    pub async fn check_clock(&self) {
        let expired = {
            let state = self.state();
            state.phase() == Phase::Running
                && state
                    .challenge()
                    .is_some_and(|c| c.clock.expired(Utc::now()))
        };
        if expired {
            let envelope = Envelope::new(self.system_id("clock"), Command::EndBuilding);
            if let Err(err) = self.command(Actor::System, envelope).await {
                tracing::warn!(challenge = %self.id, %err, "could not end building");
            }
        }
    }

    /// Sets the `kept` gauges of this challenge: what it holds in memory, so that an operator
    /// sees growth before it hurts.
    pub fn report_kept(&self) {
        let (ring_messages, ring_bytes) = lock(&self.streams).ring_sizes();
        let state = self.state();
        let (answers, fingerprints) = state.remembered_commands();
        let revisions: usize = state
            .scorecards()
            .values()
            .map(|c| c.history.len() + 1)
            .sum();
        let id = self.id.as_str();
        let m = &self.metrics;
        m.kept(id, "events", state.seq());
        let (posts, whole) = state.post_counts();
        m.kept(id, "posts", posts as u64);
        m.kept(id, "posts_whole", whole as u64);
        m.kept(id, "revisions", revisions as u64);
        m.kept(id, "answers", answers as u64);
        m.kept(id, "answer_fingerprints", fingerprints as u64);
        m.kept(id, "ring_messages", ring_messages as u64);
        m.kept(id, "ring_bytes", ring_bytes as u64);
    }

    /// Waits until the committed seq reaches `seq`, for at most `timeout`.
    async fn committed(&self, seq: u64, timeout: Duration) -> bool {
        let mut rx = self.seq.subscribe();
        tokio::time::timeout(timeout, rx.wait_for(|&s| s >= seq))
            .await
            .is_ok_and(|r| r.is_ok())
    }

    /// With Redis, waits (briefly) until this instance has read the whole shared log, so that
    /// what another instance just wrote (a minted token, say) is known here. A no-op without Redis.
    pub async fn catch_up(&self) {
        let Some(log) = &self.shared_log else { return };
        if let Ok(top) = log.top().await {
            self.committed(top, Duration::from_secs(5)).await;
        }
    }

    /// The events `from..=until` as this instance's journal holds them, read through its index
    /// on a blocking thread: for the audit log and exports.
    pub async fn history(&self, from: u64, until: u64) -> Result<Vec<Event>, StoreError> {
        journal::read_indexed_blocking(self.path.clone(), self.index.clone(), from, until).await
    }

    /// The last event of each run of events within one second, up to seq `until`, from the
    /// journal's index (no read): the finest marks for scrubbing a replay by time.
    pub fn seconds(&self, until: u64) -> Vec<(u64, chrono::DateTime<Utc>)> {
        let index = self.index.read().unwrap_or_else(PoisonError::into_inner);
        index.seconds(until).collect()
    }

    /// The events at `seqs` (increasing), read back from this instance's journal through its
    /// index on a blocking thread: the older posts of a team's timeline, whose text the state
    /// does not keep.
    pub async fn events_at(&self, seqs: Vec<u64>) -> Result<Vec<Event>, StoreError> {
        let (path, index) = (self.path.clone(), self.index.clone());
        tokio::task::spawn_blocking(move || journal::read_seqs(&path, &index, &seqs)).await?
    }

    /// The command whose first event is at `first_seq`, read back from this instance's
    /// journal: its actor and its answer; `None` when the journal has no event there or the
    /// event carries no command. Blocking: the writer calls it for a command id it no longer
    /// remembers (see [`makerpulse_core::answers`]), which is rare.
    pub(crate) fn command_in_log(
        &self,
        first_seq: u64,
    ) -> Result<Option<(Actor, makerpulse_core::state::Ack)>, StoreError> {
        journal::command_at(&self.path, &self.index, first_seq)
    }
}
