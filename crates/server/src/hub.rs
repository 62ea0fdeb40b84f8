//! One live challenge: its state, its single writer, and the fan-out of its views.
//!
//! Commands go through one writer task per challenge. The writer takes every command waiting,
//! decides each against its working copy of the state, appends all their events to the journal in
//! one write and one sync (group commit), and only then applies them to the committed state that
//! readers see, projects one delta per connected view, and acknowledges. Cheers skip the writer:
//! they are counted in memory and a tally event is written every few seconds.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, RwLock, RwLockReadGuard};
use std::time::{Duration, Instant};

use axum::extract::ws::Utf8Bytes;
use chrono::Utc;
use makerpulse_core::protocol::ServerMessage;
use makerpulse_core::{
    decide, stamp, Actor, ChallengeId, Command, CommandId, Decision, DomainError, Envelope, Event,
    Phase, Projector, Role, State, TeamId, ViewStream,
};
use tokio::sync::{broadcast, mpsc, oneshot};

use crate::journal::Journal;
use crate::metrics::Metrics;

/// Messages kept per view for clients that resume with `since`.
const RING: usize = 1024;
/// Messages a connection may fall behind before it is resynced with a snapshot.
const LAG: usize = 256;
/// Commands the writer takes into one group commit at most.
const BATCH: usize = 512;
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
}

struct Job {
    actor: Actor,
    envelope: Envelope,
    reply: oneshot::Sender<Result<Answer, CommandError>>,
}

struct ViewChannel {
    stream: ViewStream,
    /// Every message with a seq above `floor` is in `ring`.
    floor: u64,
    ring: VecDeque<Msg>,
    tx: broadcast::Sender<Msg>,
}

impl ViewChannel {
    fn new(role: Role, seq: u64) -> Self {
        Self {
            stream: ViewStream::new(role, seq),
            floor: seq,
            ring: VecDeque::with_capacity(64),
            tx: broadcast::channel(LAG).0,
        }
    }

    fn push(&mut self, msg: Msg) {
        if self.ring.len() == RING {
            if let Some(old) = self.ring.pop_front() {
                self.floor = old.seq;
            }
        }
        self.ring.push_back(msg.clone());
        // No receiver is fine: the ring still serves later resumes.
        let _ = self.tx.send(msg);
    }
}

#[derive(Default)]
struct Streams {
    views: HashMap<Role, ViewChannel>,
    /// The audience snapshot at a seq, kept because joins come in storms.
    audience: Option<(u64, Utf8Bytes)>,
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
    jobs: mpsc::Sender<Job>,
    cheers: Mutex<BTreeMap<TeamId, u64>>,
    healthy: AtomicBool,
    counter: AtomicU64,
    metrics: Arc<Metrics>,
}

impl Hub {
    /// Opens the journal at `path`, replays it and starts the writer.
    pub fn open(id: ChallengeId, path: &Path, metrics: Arc<Metrics>) -> anyhow::Result<Arc<Hub>> {
        let opened = Journal::open(path)?;
        let state = State::replay(&opened.events)?;
        tracing::info!(challenge = %id, events = state.seq(), "challenge loaded");
        let (jobs, rx) = mpsc::channel(4 * BATCH);
        let mut streams = Streams::default();
        for role in [Role::Audience, Role::Admin] {
            streams
                .views
                .insert(role.clone(), ViewChannel::new(role, state.seq()));
        }
        let hub = Arc::new(Hub {
            id,
            committed: RwLock::new(state.clone()),
            streams: Mutex::new(streams),
            jobs,
            cheers: Mutex::new(BTreeMap::new()),
            healthy: AtomicBool::new(true),
            counter: AtomicU64::new(0),
            metrics,
        });
        tokio::spawn(writer(Arc::downgrade(&hub), opened.journal, state, rx));
        Ok(hub)
    }

    /// The challenge id.
    pub fn id(&self) -> &ChallengeId {
        &self.id
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

    /// Starts following the view of `role` from `since`: the missed messages if the view still
    /// holds them all, a snapshot otherwise.
    pub fn subscribe(&self, role: &Role, since: Option<u64>) -> Subscription {
        let mut streams = lock(&self.streams);
        let state = self.state();
        let seq = state.seq();
        let channel = streams
            .views
            .entry(role.clone())
            .or_insert_with(|| ViewChannel::new(role.clone(), seq));
        let rx = channel.tx.subscribe();
        let start = match since {
            Some(since) if since <= seq && since >= channel.floor => Start::Replay(
                channel
                    .ring
                    .iter()
                    .filter(|m| m.seq > since)
                    .cloned()
                    .collect(),
            ),
            _ => Start::Snapshot(snapshot_text(&mut streams, &state, role)),
        };
        self.metrics.resumes(matches!(start, Start::Replay(_)));
        Subscription { seq, start, rx }
    }

    /// Applies durable events to the committed state and fans them out.
    fn publish(&self, events: &[Event]) {
        let mut streams = lock(&self.streams);
        for event in events {
            self.committed
                .write()
                .unwrap_or_else(PoisonError::into_inner)
                .apply(event)
                .expect("the writer appends in sequence");
            let state = self.state();
            let projector = Projector::new(&state);
            for channel in streams.views.values_mut() {
                if let Some(delta) = channel.stream.next(&projector, event) {
                    let text = Utf8Bytes::from(ServerMessage::Delta(delta).to_json());
                    channel.push(Msg {
                        seq: event.seq,
                        text,
                    });
                }
            }
        }
        self.metrics.events(events.len());
    }
}

fn snapshot_text(streams: &mut Streams, state: &State, role: &Role) -> Utf8Bytes {
    let render = || {
        let view = Projector::new(state).snapshot(role);
        Utf8Bytes::from(
            ServerMessage::Snapshot {
                view: Box::new(view),
            }
            .to_json(),
        )
    };
    if role != &Role::Audience {
        return render();
    }
    match &streams.audience {
        Some((seq, text)) if *seq == state.seq() => text.clone(),
        _ => {
            let text = render();
            streams.audience = Some((state.seq(), text.clone()));
            text
        }
    }
}

/// The single writer of a challenge (see the module docs). It holds only a weak handle so that
/// dropping the last hub handle ends it once the queue is drained.
async fn writer(
    hub: std::sync::Weak<Hub>,
    journal: Journal,
    mut working: State,
    mut rx: mpsc::Receiver<Job>,
) {
    let mut journal = Some(journal);
    let mut batch: Vec<Job> = Vec::with_capacity(BATCH);
    while rx.recv_many(&mut batch, BATCH).await > 0 {
        let Some(hub) = hub.upgrade() else { break };
        let now = Utc::now();
        let mut events: Vec<Event> = Vec::new();
        let mut waiting: Vec<(oneshot::Sender<_>, Answer)> = Vec::new();
        for job in batch.drain(..) {
            match decide(&working, &job.actor, &job.envelope, now) {
                Err(err) => {
                    let _ = job.reply.send(Err(err.into()));
                }
                Ok(Decision::Cheer(team)) => {
                    // Cheers are normally counted before reaching the writer; count this one too.
                    *lock(&hub.cheers).entry(team.clone()).or_default() += 1;
                    let _ = job.reply.send(Ok(Answer::Cheered(team)));
                }
                Ok(Decision::Repeat(ack)) => {
                    // The first answer may still be in this batch: answer after the sync.
                    waiting.push((
                        job.reply,
                        Answer::Repeated {
                            first_seq: ack.first_seq,
                            last_seq: ack.last_seq,
                        },
                    ));
                }
                Ok(Decision::Append(bodies)) => {
                    let stamped = stamp(&working, &job.actor, &job.envelope, bodies, now);
                    for event in &stamped {
                        working
                            .apply(event)
                            .expect("stamped events follow the state");
                    }
                    let answer = Answer::Applied {
                        first_seq: stamped.first().map_or(0, |e| e.seq),
                        last_seq: stamped.last().map_or(0, |e| e.seq),
                    };
                    events.extend(stamped);
                    waiting.push((job.reply, answer));
                }
            }
        }
        let durable = if events.is_empty() {
            true
        } else {
            let mut j = journal
                .take()
                .expect("the journal is returned after each append");
            let started = Instant::now();
            let (j, result) = tokio::task::spawn_blocking(move || {
                let result = j.append(&events).map(|()| events);
                (j, result)
            })
            .await
            .expect("journal append does not panic");
            journal = Some(j);
            hub.metrics.fsync(started.elapsed());
            match result {
                Ok(events) => {
                    hub.healthy.store(true, Ordering::Relaxed);
                    hub.publish(&events);
                    true
                }
                Err(err) => {
                    tracing::error!(challenge = %hub.id, error = %err, "journal append failed; nothing acknowledged");
                    hub.healthy.store(false, Ordering::Relaxed);
                    working = hub.state().clone();
                    false
                }
            }
        };
        for (reply, answer) in waiting {
            let result = if durable {
                Ok(answer)
            } else {
                Err(CommandError::Unavailable)
            };
            let _ = reply.send(result);
        }
    }
}
