//! The embedded writer: one per challenge, on a thread of its own, deciding every command waiting
//! and appending their events to the journal in one write and one sync (group commit).

use std::sync::atomic::Ordering;
use std::time::Instant;

use chrono::Utc;
use makerpulse_core::{decide, stamp, Actor, Decision, Envelope, Event, State};
use tokio::sync::{mpsc, oneshot};

use super::{lock, Answer, CommandError, Hub};
use crate::journal::Journal;
use crate::metrics::Metrics;

/// Commands the writer takes into one group commit at most.
pub(super) const BATCH: usize = 512;

pub(super) struct Job {
    pub(super) actor: Actor,
    pub(super) envelope: Envelope,
    pub(super) reply: oneshot::Sender<Result<Answer, CommandError>>,
}

/// Decides a batch of commands in order against `working`, applying the events of each accepted
/// one so the next is decided on top of it. Returns the events to append and one answer per job;
/// the answers hold until the events are durable. A cheer that reached the writer is counted
/// here when `count_cheers` (cheers are normally counted before they reach it).
pub(super) fn decide_batch(
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
pub(super) async fn append_blocking(
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
pub(super) fn unavailable(
    answers: Vec<Result<Answer, CommandError>>,
) -> Vec<Result<Answer, CommandError>> {
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
pub(super) async fn writer(
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
