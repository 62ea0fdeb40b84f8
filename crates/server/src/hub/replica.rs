//! The Redis replica: instances sharing a challenge append to its Redis stream, and a tailer on
//! each reads the stream, mirrors every event into the local journal and publishes it, so events
//! of every instance reach the state and the connections by the same path. The writer
//! acknowledges once the tailer has applied its events.

use std::path::Path;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use chrono::Utc;
use makerpulse_core::{Event, State};
use tokio::sync::mpsc;

use super::writer::{append_blocking, decide_batch, unavailable, Job, BATCH};
use super::{CommandError, Hub};
use crate::journal::{self, Journal};
use crate::redis_log::{Appended, RedisLog};

/// How long a writer waits after putting lost events back into the shared log, so that every
/// instance's tailer (which checks at least every [`crate::redis_log::TAIL_BLOCK`]) can put back
/// what it holds too before new events go on top.
const RESEED_GRACE: Duration = Duration::from_secs(3);

/// Checks at start that the journal and the shared log tell the same story where they overlap,
/// and seeds the shared log from the journal when it is behind (a new or emptied Redis).
pub(super) async fn agree(log: &RedisLog, path: &Path, events: &[Event]) -> anyhow::Result<()> {
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
pub(super) async fn tailer(hub: std::sync::Weak<Hub>, log: RedisLog, journal: Journal) {
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
pub(super) async fn shared_writer(
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
