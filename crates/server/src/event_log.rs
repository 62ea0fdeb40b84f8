//! The seam between a challenge and the store that keeps its events: an append-only log with a
//! gapless seq that only ever appends on exactly the top its writer decided against.
//!
//! The embedded journal (`journal.rs`) and the Redis stream (`redis_log.rs`) implement it; the
//! hub's writer and its replica are written once over it (`hub/writer.rs`, `hub/replica.rs`), so
//! a third store is one more implementation of [`EventLog`] and nothing else. The futures are
//! boxed so that a hub can hold any log behind one `Arc<dyn EventLog>`.

use std::path::PathBuf;

use futures_util::future::BoxFuture;
use makerpulse_core::Event;

/// What an append did.
#[derive(Debug, PartialEq, Eq)]
pub enum Appended {
    /// The events are in the log, durably; its top is now this seq.
    Done(u64),
    /// The log's top was not the expected seq; nothing was added.
    Conflict {
        /// The top found.
        top: u64,
    },
}

/// A challenge's log of events.
pub trait EventLog: Send + Sync {
    /// Appends `events`, which continue from `expected_top`, if and only if the log's top is
    /// exactly `expected_top`, and returns once they are durable. Only then may the commands
    /// behind them be acknowledged.
    fn append<'a>(
        &'a self,
        expected_top: u64,
        events: &'a [Event],
    ) -> BoxFuture<'a, Result<Appended, StoreError>>;

    /// The seq at the top of the log (0 when it is empty).
    fn top(&self) -> BoxFuture<'_, Result<u64, StoreError>>;

    /// Up to `count` events after seq `after`, in order. A log that others append to may wait a
    /// short while for new events when there are none yet, so that a tailer need not poll.
    fn read_after(&self, after: u64, count: usize)
        -> BoxFuture<'_, Result<Vec<Event>, StoreError>>;
}

/// Why a store could not be read or written. Reaches users only as `unavailable`; the detail is
/// for the log.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A file could not be read or written.
    #[error("{context}: {source}")]
    Io {
        /// What was being done, and to which file.
        context: String,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// A journal that does not read back, and is not merely a torn last record.
    #[error("{0}")]
    Damaged(String),
    /// Events that do not continue the log's seq.
    #[error("event seq {got} does not follow {top}")]
    OutOfSequence {
        /// The seq offered.
        got: u64,
        /// The log's top.
        top: u64,
    },
    /// Events that do not fold into a state.
    #[error("the log does not replay: {0}")]
    Replay(#[from] makerpulse_core::state::SeqError),
    /// Redis refused a command or could not be reached.
    #[error("Redis: {0}")]
    Redis(#[from] redis::RedisError),
    /// This instance's journal and the shared log tell different stories.
    #[error(
        "the journal {} and the shared log disagree at seq {seq}: this instance's data belongs \
         to another history; move it aside to join this log",
        path.display()
    )]
    Disagree {
        /// The journal.
        path: PathBuf,
        /// The first seq found to differ.
        seq: u64,
    },
    /// A blocking task of the store did not finish.
    #[error("a store task failed: {0}")]
    Task(#[from] tokio::task::JoinError),
}

impl StoreError {
    /// A file error with what was being done.
    pub fn io(context: impl Into<String>) -> impl FnOnce(std::io::Error) -> StoreError {
        let context = context.into();
        move |source| StoreError::Io { context, source }
    }
}
