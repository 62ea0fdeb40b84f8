//! The replica of a shared log: when instances share a challenge (through Redis), each keeps the
//! whole log in its own journal too, so that losing the shared store loses no event.
//!
//! A tailer reads the shared log from where this instance is, mirrors every event into the
//! journal, and only then publishes it: events of every instance, this one's included, reach the
//! state and the connections by that one path. A shared log found behind the journal (a Redis
//! emptied or restored from an old copy) is seeded again from it. Written over [`EventLog`], like
//! the writer.

use std::sync::atomic::Ordering;
use std::sync::{Arc, Weak};
use std::time::Duration;

use chrono::Utc;
use makerpulse_core::Event;

use super::writer::BATCH;
use super::Hub;
use crate::event_log::{Appended, EventLog, StoreError};
use crate::journal::JournalLog;

/// How long a writer waits after putting lost events back into the shared log, so that every
/// instance's tailer (which checks at least every [`crate::redis_log::TAIL_BLOCK`]) can put back
/// what it holds too before new events go on top.
pub(super) const RESEED_GRACE: Duration = Duration::from_secs(3);

/// Events copied into the shared log per append while seeding it.
const SEED_CHUNK: usize = 256;

/// Checks at start that the journal and the shared log tell the same story where they overlap,
/// and seeds the shared log from the journal when it is behind (a new or emptied Redis).
pub(super) async fn agree(
    shared: &dyn EventLog,
    journal: &JournalLog,
    mine: u64,
) -> Result<(), StoreError> {
    let top = shared.top().await?;
    let overlap = top.min(mine);
    if overlap > 0 {
        let theirs = shared.read_after(overlap - 1, 1).await?;
        let ours = journal.read_after(overlap - 1, 1).await?;
        if theirs.is_empty() || theirs.first() != ours.first() {
            return Err(StoreError::Disagree {
                path: journal.path().to_owned(),
                seq: overlap,
            });
        }
    }
    if top < mine {
        seed(shared, journal, top, mine).await?;
    }
    Ok(())
}

/// Copies the events after `top` up to `upto` from `mirror` into the shared log, in chunks,
/// stopping when another instance got there first.
pub(super) async fn seed(
    shared: &dyn EventLog,
    mirror: &dyn EventLog,
    mut top: u64,
    upto: u64,
) -> Result<(), StoreError> {
    let mut events = mirror.read_after(top, usize::MAX).await?;
    events.retain(|e| e.seq <= upto);
    tracing::warn!(
        from = top + 1,
        to = upto,
        "the shared log is behind this instance's journal; seeding it"
    );
    while top < upto {
        let chunk: Vec<Event> = events
            .iter()
            .filter(|e| e.seq > top)
            .take(SEED_CHUNK)
            .cloned()
            .collect();
        if chunk.is_empty() {
            break;
        }
        // A conflict means another instance is seeding too, or has appended: go on from there.
        top = match shared.append(top, &chunk).await? {
            Appended::Done(new_top) => new_top,
            Appended::Conflict { top: found } => found,
        };
    }
    Ok(())
}

/// Puts back into the shared log what it lost of what this instance holds up to `last`. Returns
/// whether the shared log could be asked at all.
async fn reseed_if_behind(
    hub: &Hub,
    shared: &dyn EventLog,
    mirror: &dyn EventLog,
    last: u64,
) -> bool {
    let Ok(top) = shared.top().await else {
        return false;
    };
    if top < last {
        if let Err(err) = seed(shared, mirror, top, last).await {
            tracing::warn!(challenge = %hub.id, %err, "seeding the shared log failed");
        }
    }
    true
}

/// Reads the shared log from where this instance is, mirrors each event into the journal and
/// publishes it, until the hub is dropped. The shared log's reads wait for new events, so it
/// reads on a connection of its own.
pub(super) async fn tailer(hub: Weak<Hub>, shared: Arc<dyn EventLog>, mirror: Arc<JournalLog>) {
    let mut last = mirror.top().await.unwrap_or_default();
    // Whether the shared log may have lost events since it was last read: at start, and after a
    // failed read (a Redis that came back may have come back empty).
    let mut suspect = true;
    loop {
        let Some(hub) = hub.upgrade() else { return };
        if suspect {
            suspect = !reseed_if_behind(&hub, &*shared, &*mirror, last).await;
        }
        let events = match shared.read_after(last, BATCH).await {
            Ok(events) => events,
            Err(err) => {
                // Retried quickly once, then at a calmer pace while the store stays down.
                let pause = if hub.is_healthy() { 200 } else { 500 };
                hub.healthy.store(false, Ordering::Relaxed);
                tracing::warn!(challenge = %hub.id, %err, "reading the shared log failed; retrying");
                suspect = true;
                drop(hub);
                tokio::time::sleep(Duration::from_millis(pause)).await;
                continue;
            }
        };
        hub.healthy.store(true, Ordering::Relaxed);
        if events.is_empty() {
            // Idle: make sure the shared log has not lost what this instance holds (a Redis
            // restarted empty), and put it back if it has.
            reseed_if_behind(&hub, &*shared, &*mirror, last).await;
            continue;
        }
        let fresh: Vec<Event> = events.into_iter().filter(|e| e.seq > last).collect();
        if fresh.first().is_some_and(|e| e.seq != last + 1) {
            tracing::error!(challenge = %hub.id, after = last, "gap in the shared log; reading again");
            continue;
        }
        let Some(newest) = fresh.last().map(|e| e.seq) else {
            continue;
        };
        match mirror.append(last, &fresh).await {
            Ok(Appended::Done(_)) => {}
            mirrored => {
                // The event is durable in the shared log; the mirror is retried by reading it
                // again.
                let err = match mirrored {
                    Err(err) => err.to_string(),
                    _ => "the journal is not where the tailer left it".to_owned(),
                };
                tracing::error!(challenge = %hub.id, %err, "mirroring to the journal failed");
                drop(hub);
                tokio::time::sleep(Duration::from_millis(500)).await;
                continue;
            }
        }
        let now = Utc::now();
        for event in &fresh {
            hub.metrics
                .stream_lag((now - event.at).to_std().unwrap_or_default());
        }
        hub.publish(&fresh);
        Hub::checkpoint_if_due(&hub);
        last = newest;
    }
}
