//! One live challenge: its state, its single writer, and the fan-out of its views.
//!
//! Commands go through one writer task per challenge. The writer takes every command waiting,
//! decides each against its working copy of the state, appends all their events to the journal in
//! one write and one sync (group commit), and only then applies them to the committed state that
//! readers see, projects one delta per connected view, and acknowledges. Cheers skip the writer:
//! they are counted in memory and a tally event is written every few seconds.
//!
//! With Redis (several instances sharing challenges) the writer appends to the challenge's Redis
//! stream instead, and a tailer on a connection of its own reads the stream, mirrors every event
//! into the local journal and publishes it: events of every instance reach the state and the
//! connections by the same path. The writer acknowledges once the tailer has applied its events.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, RwLock, RwLockReadGuard};
use std::time::{Duration, Instant};

use axum::extract::ws::Utf8Bytes;
use chrono::Utc;
use makerpulse_core::protocol::{Online, ServerMessage};
use makerpulse_core::{
    decide, stamp, Actor, ChallengeId, Command, CommandId, Decision, DomainError, Envelope, Event,
    Phase, Projector, Role, State, TeamId, ViewStream,
};
use tokio::sync::{broadcast, mpsc, oneshot, watch};

use crate::journal::{self, Journal};
use crate::metrics::Metrics;
use crate::redis_log::{Appended, RedisLog};

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
    /// The committed seq, for writers waiting for the tailer.
    seq: watch::Sender<u64>,
    /// Open connections on this instance per role: audience, team, judge, admin.
    local: [AtomicI64; 4],
    /// The latest presence message.
    presence: watch::Sender<Utf8Bytes>,
    shared: Option<Shared>,
    path: PathBuf,
}

/// What a hub needs when instances share its challenge through Redis.
struct Shared {
    log: RedisLog,
    instance: String,
}

impl Hub {
    /// Opens the journal at `path`, replays it and starts the writer; with `redis`, joins the
    /// challenge's shared log (seeding it from the journal when it is behind) and starts the tailer.
    pub async fn open(
        id: ChallengeId,
        path: &Path,
        metrics: Arc<Metrics>,
        redis: Option<(&str, &str)>,
    ) -> anyhow::Result<Arc<Hub>> {
        let opened = Journal::open(path)?;
        let state = State::replay(&opened.events)?;
        tracing::info!(challenge = %id, events = state.seq(), "challenge loaded");
        let shared = match redis {
            None => None,
            Some((url, instance)) => {
                let log = RedisLog::connect(url, &id).await?;
                agree(&log, path, &opened.events).await?;
                Some(Shared {
                    log,
                    instance: instance.to_owned(),
                })
            }
        };
        let (jobs, rx) = mpsc::channel(4 * BATCH);
        let mut streams = Streams::default();
        for role in [Role::Audience, Role::Admin] {
            streams
                .views
                .insert(role.clone(), ViewChannel::new(role, state.seq()));
        }
        let presence = ServerMessage::Presence {
            online: Online::default(),
        };
        let hub = Arc::new(Hub {
            id,
            committed: RwLock::new(state.clone()),
            streams: Mutex::new(streams),
            jobs,
            cheers: Mutex::new(BTreeMap::new()),
            healthy: AtomicBool::new(true),
            counter: AtomicU64::new(0),
            metrics,
            seq: watch::channel(state.seq()).0,
            local: Default::default(),
            presence: watch::channel(Utf8Bytes::from(presence.to_json())).0,
            shared,
            path: path.to_owned(),
        });
        let weak = Arc::downgrade(&hub);
        match &hub.shared {
            None => {
                let name = format!("writer-{}", hub.id);
                on_own_thread(name, writer(weak, opened.journal, state, rx))?;
            }
            Some(shared) => {
                tokio::spawn(tailer(weak.clone(), shared.log.clone(), opened.journal));
                tokio::spawn(shared_writer(weak, shared.log.clone(), state, rx));
            }
        }
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
        if let Some(last) = events.last() {
            self.seq.send_replace(last.seq);
        }
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
        let Some(shared) = &self.shared else { return };
        if let Ok(top) = shared.log.top().await {
            self.committed(top, Duration::from_secs(5)).await;
        }
    }

    /// Counts a live connection of `role` in or out.
    pub fn connected(&self, role: &Role, delta: i64) {
        let i = match role {
            Role::Audience => 0,
            Role::Team(_) => 1,
            Role::Judge(_) => 2,
            Role::Admin => 3,
        };
        self.local[i].fetch_add(delta, Ordering::Relaxed);
    }

    fn local_online(&self) -> Online {
        let n = |i: usize| self.local[i].load(Ordering::Relaxed).max(0) as u64;
        Online {
            audience: n(0),
            team: n(1),
            judge: n(2),
            admin: n(3),
        }
    }

    /// The latest presence message, and a way to hear of the next.
    pub fn presence(&self) -> watch::Receiver<Utf8Bytes> {
        self.presence.subscribe()
    }

    /// Recounts who is online: this instance's connections, plus, with Redis, those every other
    /// live instance reported in the last [`PRESENCE_TTL`].
    pub async fn refresh_presence(&self) -> Online {
        let local = self.local_online();
        let online = match &self.shared {
            None => local,
            Some(shared) => match shared_presence(&self.id, shared, local).await {
                Ok(total) => total,
                Err(err) => {
                    tracing::debug!(challenge = %self.id, %err, "presence not shared");
                    local
                }
            },
        };
        let text = Utf8Bytes::from(ServerMessage::Presence { online }.to_json());
        self.presence.send_if_modified(|current| {
            if *current == text {
                false
            } else {
                *current = text;
                true
            }
        });
        online
    }
}

/// How long a writer waits after putting lost events back into the shared log, so that every
/// instance's tailer (which checks at least every [`crate::redis_log::TAIL_BLOCK`]) can put back
/// what it holds too before new events go on top.
const RESEED_GRACE: Duration = Duration::from_secs(3);

/// How long an instance's presence report lives in Redis without being renewed.
pub const PRESENCE_TTL: Duration = Duration::from_secs(6);

async fn shared_presence(
    challenge: &ChallengeId,
    shared: &Shared,
    local: Online,
) -> Result<Online, redis::RedisError> {
    let mut conn = shared.log.connection();
    let instances = crate::redis_log::key(challenge, "instances");
    let mine = crate::redis_log::key(challenge, &format!("online:{}", shared.instance));
    redis::pipe()
        .cmd("HSET")
        .arg(&mine)
        .arg("audience")
        .arg(local.audience)
        .arg("team")
        .arg(local.team)
        .arg("judge")
        .arg(local.judge)
        .arg("admin")
        .arg(local.admin)
        .ignore()
        .cmd("EXPIRE")
        .arg(&mine)
        .arg(PRESENCE_TTL.as_secs())
        .ignore()
        .cmd("SADD")
        .arg(&instances)
        .arg(&shared.instance)
        .ignore()
        .query_async::<()>(&mut conn)
        .await?;
    let members: Vec<String> = redis::cmd("SMEMBERS")
        .arg(&instances)
        .query_async(&mut conn)
        .await?;
    let mut total = Online::default();
    for member in members {
        let key = crate::redis_log::key(challenge, &format!("online:{member}"));
        let counts: HashMap<String, u64> = redis::cmd("HGETALL")
            .arg(&key)
            .query_async(&mut conn)
            .await?;
        if counts.is_empty() {
            // Its report expired: the instance is gone.
            let _: i64 = redis::cmd("SREM")
                .arg(&instances)
                .arg(&member)
                .query_async(&mut conn)
                .await?;
            continue;
        }
        let get = |role: &str| counts.get(role).copied().unwrap_or(0);
        total.audience += get("audience");
        total.team += get("team");
        total.judge += get("judge");
        total.admin += get("admin");
    }
    Ok(total)
}

/// Checks at start that the journal and the shared log tell the same story where they overlap,
/// and seeds the shared log from the journal when it is behind (a new or emptied Redis).
async fn agree(log: &RedisLog, path: &Path, events: &[Event]) -> anyhow::Result<()> {
    let top = log.top().await?;
    let mine = events.last().map_or(0, |e| e.seq);
    let overlap = top.min(mine);
    if overlap > 0 {
        let theirs = log.get(overlap).await?;
        let ours = &events[overlap as usize - 1];
        if theirs.as_ref() != Some(ours) {
            anyhow::bail!(
                "the journal {} and the Redis log disagree at seq {overlap}: this instance's data \
                 belongs to another history; move it aside to join this Redis",
                path.display()
            );
        }
    }
    if top < mine {
        seed(log, path, top, mine).await?;
    }
    Ok(())
}

/// Copies the events after `top` up to `upto` from the journal into the shared log, in chunks,
/// stopping when another instance got there first.
async fn seed(log: &RedisLog, path: &Path, mut top: u64, upto: u64) -> anyhow::Result<()> {
    let events = journal::read_until(path, upto)?;
    tracing::warn!(
        from = top + 1,
        to = upto,
        "the Redis log is behind this instance's journal; seeding it"
    );
    while top < upto {
        let chunk: Vec<Event> = events
            .iter()
            .filter(|e| e.seq > top)
            .take(256)
            .cloned()
            .collect();
        if chunk.is_empty() {
            break;
        }
        // A conflict means another instance is seeding too, or has appended: go on from there.
        top = match log.append(top, &chunk).await? {
            Appended::Done(new_top) => new_top,
            Appended::Conflict { top: found } => found,
        };
    }
    Ok(())
}

/// Reads the shared log from where this instance is, mirrors each event into the journal and
/// publishes it. Runs on a connection of its own because its reads block.
async fn tailer(hub: std::sync::Weak<Hub>, log: RedisLog, journal: Journal) {
    let mut journal = Some(journal);
    let mut last = journal.as_ref().map_or(0, Journal::last_seq);
    'connect: loop {
        if hub.upgrade().is_none() {
            return;
        }
        let mut conn = match log.tail_connection().await {
            Ok(conn) => {
                // A Redis that came back may have lost events this instance holds.
                if let (Some(hub), Ok(top)) = (hub.upgrade(), log.top().await) {
                    if top < last {
                        if let Err(err) = seed(&log, &hub.path, top, last).await {
                            tracing::warn!(challenge = %hub.id, %err, "seeding the Redis log failed");
                        }
                    }
                }
                conn
            }
            Err(err) => {
                if let Some(hub) = hub.upgrade() {
                    hub.healthy.store(false, Ordering::Relaxed);
                    tracing::warn!(challenge = %hub.id, %err, "Redis unreachable; retrying");
                }
                tokio::time::sleep(Duration::from_millis(500)).await;
                continue;
            }
        };
        loop {
            let Some(hub) = hub.upgrade() else { return };
            let read = log.read_after(&mut conn, last, BATCH).await;
            let events = match read {
                Ok(events) => events,
                Err(err) => {
                    hub.healthy.store(false, Ordering::Relaxed);
                    tracing::warn!(challenge = %hub.id, %err, "reading the Redis log failed; reconnecting");
                    tokio::time::sleep(Duration::from_millis(200)).await;
                    continue 'connect;
                }
            };
            hub.healthy.store(true, Ordering::Relaxed);
            if events.is_empty() {
                // Idle: make sure the shared log has not lost what this instance holds (a
                // Redis restarted empty), and put it back if it has.
                match log.top().await {
                    Ok(top) if top < last => {
                        if let Err(err) = seed(&log, &hub.path, top, last).await {
                            tracing::warn!(challenge = %hub.id, %err, "seeding the Redis log failed");
                        }
                    }
                    _ => {}
                }
                continue;
            }
            let fresh: Vec<Event> = events.into_iter().filter(|e| e.seq > last).collect();
            if fresh.first().is_some_and(|e| e.seq != last + 1) {
                tracing::error!(challenge = %hub.id, after = last, "gap in the Redis log; reading again");
                continue;
            }
            let Some(newest) = fresh.last().map(|e| e.seq) else {
                continue;
            };
            let (fresh, mirrored) = append_blocking(&mut journal, fresh, &hub.metrics).await;
            if let Err(err) = mirrored {
                // The event is durable in Redis; the mirror is retried by reading it again.
                tracing::error!(challenge = %hub.id, %err, "mirroring to the journal failed");
                tokio::time::sleep(Duration::from_millis(500)).await;
                continue;
            }
            let now = Utc::now();
            for event in &fresh {
                hub.metrics
                    .stream_lag((now - event.at).to_std().unwrap_or_default());
            }
            hub.publish(&fresh);
            last = newest;
        }
    }
}

/// The writer of an instance that shares the challenge through Redis (see the module docs).
async fn shared_writer(
    hub: std::sync::Weak<Hub>,
    log: RedisLog,
    mut working: State,
    mut rx: mpsc::Receiver<Job>,
) {
    let mut batch: Vec<Job> = Vec::with_capacity(BATCH);
    while rx.recv_many(&mut batch, BATCH).await > 0 {
        let Some(hub) = hub.upgrade() else { break };
        let jobs: Vec<Job> = std::mem::take(&mut batch);
        // Decide against the whole log, not just what this instance has read so far: a refusal
        // or a resend must be answered from the same state another instance would see.
        let caught_up = match log.top().await {
            Ok(top) if top > working.seq() => {
                let reached = hub.committed(top, Duration::from_secs(5)).await;
                working = hub.state().clone();
                reached
            }
            Ok(top) if top < working.seq() => {
                // The shared log lost events (a Redis emptied or restored from an old copy).
                // Put back what this instance holds, then give the other instances a moment to
                // put back what they hold beyond it before anyone writes on top: otherwise an
                // instance that had read less could append a different event at a lost seq.
                let mine = working.seq();
                match seed(&log, &hub.path, top, mine).await {
                    Ok(()) => {
                        tokio::time::sleep(RESEED_GRACE).await;
                        let top = log.top().await.unwrap_or(mine);
                        let reached = hub.committed(top, Duration::from_secs(5)).await;
                        working = hub.state().clone();
                        reached
                    }
                    Err(err) => {
                        tracing::warn!(challenge = %hub.id, %err, "seeding the Redis log failed");
                        false
                    }
                }
            }
            Ok(_) => true,
            Err(err) => {
                tracing::warn!(challenge = %hub.id, %err, "Redis unreachable; nothing acknowledged");
                hub.healthy.store(false, Ordering::Relaxed);
                false
            }
        };
        if !caught_up {
            for job in jobs {
                let _ = job.reply.send(Err(CommandError::Unavailable));
            }
            continue;
        }
        let mut attempt = 0;
        let replies = loop {
            attempt += 1;
            let base = working.seq();
            // Cheers are counted once, however often the batch is decided again.
            let (events, answers) =
                decide_batch(&hub, &mut working, &jobs, Utc::now(), attempt == 1);
            let Some(last) = events.last().map(|e| e.seq) else {
                break answers;
            };
            let started = Instant::now();
            let appended = log.append(base, &events).await;
            hub.metrics.redis(started.elapsed());
            match appended {
                Ok(Appended::Done(_)) => {
                    hub.healthy.store(true, Ordering::Relaxed);
                    if hub.committed(last, Duration::from_secs(5)).await {
                        break answers;
                    }
                    // In Redis but not yet read back: a resend will find it and be answered.
                    working = hub.state().clone();
                    break unavailable(answers);
                }
                Ok(Appended::Conflict { top }) => {
                    hub.metrics.append_retry();
                    if top < base {
                        let mine = hub.state().seq();
                        if let Err(err) = seed(&log, &hub.path, top, mine).await {
                            tracing::warn!(challenge = %hub.id, %err, "seeding the Redis log failed");
                        }
                    } else {
                        hub.committed(top, Duration::from_secs(5)).await;
                    }
                    working = hub.state().clone();
                    if attempt >= 20 {
                        break unavailable(answers);
                    }
                }
                Err(err) => {
                    tracing::warn!(challenge = %hub.id, %err, "appending to the Redis log failed; nothing acknowledged");
                    hub.healthy.store(false, Ordering::Relaxed);
                    working = hub.state().clone();
                    break unavailable(answers);
                }
            }
        };
        for (job, answer) in jobs.into_iter().zip(replies) {
            let _ = job.reply.send(answer);
        }
    }
}

/// Decides a batch of commands in order against `working`, applying the events of each accepted
/// one so the next is decided on top of it. Returns the events to append and one answer per job;
/// the answers hold until the events are durable. A cheer that reached the writer is counted
/// here when `count_cheers` (cheers are normally counted before they reach it).
fn decide_batch(
    hub: &Hub,
    working: &mut State,
    jobs: &[Job],
    now: chrono::DateTime<Utc>,
    count_cheers: bool,
) -> (Vec<Event>, Vec<Result<Answer, CommandError>>) {
    let mut events: Vec<Event> = Vec::new();
    let answers = jobs
        .iter()
        .map(
            |job| match decide(working, &job.actor, &job.envelope, now) {
                Err(err) => Err(err.into()),
                Ok(Decision::Cheer(team)) => {
                    if count_cheers {
                        *lock(&hub.cheers).entry(team.clone()).or_default() += 1;
                    }
                    Ok(Answer::Cheered(team))
                }
                // The first answer may be in this very batch: like the others, it is given after
                // the append.
                Ok(Decision::Repeat(ack)) => Ok(Answer::Repeated {
                    first_seq: ack.first_seq,
                    last_seq: ack.last_seq,
                }),
                Ok(Decision::Append(bodies)) => {
                    let stamped = stamp(working, &job.actor, &job.envelope, bodies, now);
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
                    Ok(answer)
                }
            },
        )
        .collect();
    (events, answers)
}

/// Appends `events` to the journal (write and sync) off the async threads, and gives the events
/// back. The journal is moved into the blocking task and returned, so it is never shared.
async fn append_blocking(
    journal: &mut Option<Journal>,
    events: Vec<Event>,
    metrics: &Metrics,
) -> (Vec<Event>, anyhow::Result<()>) {
    let j = journal
        .take()
        .expect("the journal comes back after each append");
    let started = Instant::now();
    let (j, events, result) = tokio::task::spawn_blocking(move || {
        let mut j = j;
        let result = j.append(&events);
        (j, events, result)
    })
    .await
    .expect("journal append does not panic");
    *journal = Some(j);
    metrics.fsync(started.elapsed());
    (events, result)
}

/// Turns every accepted answer of a batch whose append failed into `Unavailable`; refusals stay.
fn unavailable(answers: Vec<Result<Answer, CommandError>>) -> Vec<Result<Answer, CommandError>> {
    answers
        .into_iter()
        .map(|a| match a {
            Ok(Answer::Cheered(team)) => Ok(Answer::Cheered(team)),
            Ok(_) => Err(CommandError::Unavailable),
            Err(e) => Err(e),
        })
        .collect()
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

/// Runs `task` on a thread of its own, with a single-threaded runtime.
///
/// The writer is on the path of every event to every viewer: take the commands, append and
/// sync, publish. On the server's shared runtime each of those steps waits its turn behind the
/// connection tasks that the previous event woke, ten thousand of them with a big audience, so
/// under a steady stream of events the queue wait grew the latency several times over what the
/// fan-out itself takes. On its own thread the writer never queues behind viewers; only its
/// `publish` wakes them. One thread per open challenge: a server holds a handful.
fn on_own_thread(
    name: String,
    task: impl std::future::Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    std::thread::Builder::new()
        .name(name)
        .spawn(move || runtime.block_on(task))?;
    Ok(())
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
        let jobs: Vec<Job> = std::mem::take(&mut batch);
        let (events, answers) = decide_batch(&hub, &mut working, &jobs, Utc::now(), true);
        let answers = if events.is_empty() {
            answers
        } else {
            match append_blocking(&mut journal, events, &hub.metrics).await {
                (events, Ok(())) => {
                    hub.healthy.store(true, Ordering::Relaxed);
                    hub.publish(&events);
                    answers
                }
                (_, Err(err)) => {
                    tracing::error!(challenge = %hub.id, error = %err, "journal append failed; nothing acknowledged");
                    hub.healthy.store(false, Ordering::Relaxed);
                    working = hub.state().clone();
                    unavailable(answers)
                }
            }
        };
        for (job, answer) in jobs.into_iter().zip(answers) {
            let _ = job.reply.send(answer);
        }
    }
}
