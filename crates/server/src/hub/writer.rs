//! The single writer of a challenge, written once over [`EventLog`]: it takes every command
//! waiting, decides them in order, appends their events in one append, and acknowledges only once
//! the append is durable and applied.
//!
//! With the embedded journal that is one write and one `fdatasync` per batch (group commit), after
//! which the writer publishes the events itself. With a shared log (`replica.rs`) the append only
//! lands when the log's top is exactly what the batch was decided against; a batch that lost the
//! race is decided again on top of what the other instance wrote, and the writer acknowledges once
//! the tailer has read its events back, so that events of every instance reach the state by one
//! path.

use std::sync::atomic::Ordering;
use std::sync::{Arc, Weak};
use std::time::Duration;

use chrono::Utc;
use makerpulse_core::{
    decide, decide_new, stamp, Actor, Decision, DomainError, Envelope, Event, State,
};
use tokio::sync::{mpsc, oneshot};

use super::replica::{seed, RESEED_GRACE};
use super::{lock, Answer, CommandError, Hub};
use crate::event_log::{Appended, EventLog};

/// Commands the writer takes into one group commit at most.
pub(super) const BATCH: usize = 512;
/// How often a batch that keeps losing the race to other instances is decided again before its
/// commands are answered `unavailable`.
const ATTEMPTS: u32 = 20;
/// How long the writer waits for its events (or another instance's) to be read back.
const READ_BACK: Duration = Duration::from_secs(5);

/// A command waiting for the writer, and where its answer goes.
pub(super) struct Job {
    pub(super) actor: Actor,
    pub(super) envelope: Envelope,
    pub(super) reply: oneshot::Sender<Result<Answer, CommandError>>,
}

/// The writer of a challenge. It appends to `log`; `mirror` is this instance's journal when `log`
/// is shared with other instances (the tailer fills the mirror and publishes), and `None` when
/// `log` is the journal itself (the writer publishes). It holds only a weak handle so that
/// dropping the last hub handle ends it once the queue is drained.
pub(super) async fn writer(
    hub: Weak<Hub>,
    log: Arc<dyn EventLog>,
    mirror: Option<Arc<dyn EventLog>>,
    mut working: State,
    mut rx: mpsc::Receiver<Job>,
) {
    let mut batch: Vec<Job> = Vec::with_capacity(BATCH);
    while rx.recv_many(&mut batch, BATCH).await > 0 {
        let Some(hub) = hub.upgrade() else { break };
        let jobs: Vec<Job> = std::mem::take(&mut batch);
        let answers = if catch_up(&hub, &*log, mirror.as_deref(), &mut working).await {
            commit(&hub, &*log, mirror.as_deref(), &mut working, &jobs).await
        } else {
            jobs.iter()
                .map(|_| Err(CommandError::Unavailable))
                .collect()
        };
        for (job, answer) in jobs.into_iter().zip(answers) {
            let _ = job.reply.send(answer);
        }
        Hub::checkpoint_if_due(&hub);
    }
}

/// Brings `working` up to the whole log before a batch is decided: a refusal or a resend must be
/// answered from the same state another instance would see. Returns whether it got there. The
/// embedded journal is always there already: only this writer appends to it.
async fn catch_up(
    hub: &Hub,
    log: &dyn EventLog,
    mirror: Option<&dyn EventLog>,
    working: &mut State,
) -> bool {
    match log.top().await {
        Ok(top) if top > working.seq() => {
            let reached = hub.committed(top, READ_BACK).await;
            *working = hub.state().clone();
            reached
        }
        Ok(top) if top < working.seq() => {
            // The shared log lost events (a Redis emptied or restored from an old copy). Put
            // back what this instance holds, then give the other instances a moment to put back
            // what they hold beyond it before anyone writes on top: otherwise an instance that
            // had read less could append a different event at a lost seq.
            let Some(mirror) = mirror else {
                tracing::error!(challenge = %hub.id, top, "the log is behind the state it holds");
                return false;
            };
            let mine = working.seq();
            match seed(log, mirror, top, mine).await {
                Ok(()) => {
                    tokio::time::sleep(RESEED_GRACE).await;
                    let top = log.top().await.unwrap_or(mine);
                    let reached = hub.committed(top, READ_BACK).await;
                    *working = hub.state().clone();
                    reached
                }
                Err(err) => {
                    tracing::warn!(challenge = %hub.id, %err, "seeding the shared log failed");
                    false
                }
            }
        }
        Ok(_) => true,
        Err(err) => {
            tracing::warn!(challenge = %hub.id, %err, "the event log is unreachable; nothing acknowledged");
            hub.healthy.store(false, Ordering::Relaxed);
            false
        }
    }
}

/// Decides `jobs` on top of `working` and appends their events, deciding again after each
/// conflict; returns one answer per job, given only once the events are durable and applied.
/// With a `mirror` the log is shared and the tailer applies its events, so the writer waits for
/// it; without, the writer publishes them itself.
async fn commit(
    hub: &Hub,
    log: &dyn EventLog,
    mirror: Option<&dyn EventLog>,
    working: &mut State,
    jobs: &[Job],
) -> Vec<Result<Answer, CommandError>> {
    let mut attempt = 0;
    loop {
        attempt += 1;
        let base = working.seq();
        // Cheers are counted once, however often the batch is decided again.
        let (events, answers) = decide_batch(hub, working, jobs, Utc::now(), attempt == 1);
        let Some(last) = events.last().map(|e| e.seq) else {
            return answers;
        };
        match log.append(base, &events).await {
            Ok(Appended::Done(_)) => {
                hub.healthy.store(true, Ordering::Relaxed);
                if mirror.is_none() {
                    hub.publish(&events);
                    // The readers' state is where `working` is now: hold what grows once.
                    working.share_with(&hub.state());
                    return answers;
                }
                if hub.committed(last, READ_BACK).await {
                    working.share_with(&hub.state());
                    return answers;
                }
                // In the log but not yet read back: a resend will find it and be answered.
                *working = hub.state().clone();
                return unavailable(answers);
            }
            Ok(Appended::Conflict { top }) => {
                hub.metrics.append_retry();
                match mirror {
                    // The shared log lost events since the batch began: put them back.
                    Some(mirror) if top < base => {
                        let mine = hub.state().seq();
                        if let Err(err) = seed(log, mirror, top, mine).await {
                            tracing::warn!(challenge = %hub.id, %err, "seeding the shared log failed");
                        }
                    }
                    _ => {
                        hub.committed(top, READ_BACK).await;
                    }
                }
                *working = hub.state().clone();
                if attempt >= ATTEMPTS {
                    return unavailable(answers);
                }
            }
            Err(err) => {
                tracing::error!(challenge = %hub.id, error = %err, "appending to the event log failed; nothing acknowledged");
                hub.healthy.store(false, Ordering::Relaxed);
                *working = hub.state().clone();
                return unavailable(answers);
            }
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
        .map(|job| match resolve(hub, working, job, now) {
            Err(err) => Err(err),
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
            Ok(Decision::LookUp { .. }) => Err(CommandError::Unavailable),
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
        })
        .collect();
    (events, answers)
}

/// Decides a job; a command id that may be an older command's (outside the actor's window of
/// remembered answers) is looked up in the journal, so that a resend however late is answered
/// with its first answer and never applied twice. If the journal cannot be read the command is
/// refused as `unavailable` (and may be sent again), never decided as new.
fn resolve(
    hub: &Hub,
    working: &State,
    job: &Job,
    now: chrono::DateTime<Utc>,
) -> Result<Decision, CommandError> {
    let first_seq = match decide(working, &job.actor, &job.envelope, now)? {
        Decision::LookUp { first_seq } => first_seq,
        decision => return Ok(decision),
    };
    hub.metrics.idempotency_lookup();
    let found = match hub.command_in_log(first_seq) {
        Ok(found) => found,
        Err(err) => {
            tracing::error!(challenge = %hub.id, %err, "looking up an old command id failed");
            return Err(CommandError::Unavailable);
        }
    };
    match found {
        Some((actor, ack)) if actor == job.actor && ack.command_id == job.envelope.id => {
            if ack.is_for(&job.envelope.command) {
                Ok(Decision::Repeat(ack))
            } else {
                Err(DomainError::CommandIdReused {
                    id: job.envelope.id.to_string(),
                }
                .into())
            }
        }
        // Another command's fingerprint: this one is new.
        Some(_) => Ok(decide_new(working, &job.actor, &job.envelope, now)?),
        // Not in the journal yet (the first send is in this very batch, hundreds of commands
        // back): refused for now; the resend after this batch finds it.
        None => Err(CommandError::Unavailable),
    }
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

/// Runs `task` on a thread of its own, with a single-threaded runtime.
///
/// The writer is on the path of every event to every viewer: take the commands, append and
/// sync, publish. On the server's shared runtime each of those steps waits its turn behind the
/// connection tasks that the previous event woke, ten thousand of them with a big audience, so
/// under a steady stream of events the queue wait grew the latency several times over what the
/// fan-out itself takes. On its own thread the writer never queues behind viewers; only its
/// `publish` wakes them. One thread per open challenge: a server holds a handful.
pub(super) fn on_own_thread(
    name: String,
    task: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    std::thread::Builder::new()
        .name(name)
        .spawn(move || runtime.block_on(task))?;
    Ok(())
}
