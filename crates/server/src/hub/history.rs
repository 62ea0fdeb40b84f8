//! A challenge's past through its checkpoints (`journal/checkpoint.rs`): the open that folds only
//! the journal's tail onto the latest good checkpoint, the checkpoints saved as the challenge
//! goes on, and the state at a past seq, folded from the nearest checkpoint below it.

use std::path::Path;
use std::sync::atomic::Ordering;
use std::sync::{Arc, PoisonError};
use std::time::Instant;

use makerpulse_core::State;

use super::Hub;
use crate::event_log::StoreError;
use crate::journal::checkpoint::{self, Mark, KEEP};
use crate::journal::{self, Index, Journal};

/// History reads (`view?at`, past snapshots) folding at once. Each builds a whole state beside
/// the live one, so they wait for each other rather than fill memory or take the cores the
/// writer and the connections need.
pub(super) const HISTORY_READS: usize = 1;

/// Opens the journal at `path` and folds it: onto the latest checkpoint that the journal's bytes
/// match, or from the start. Checkpoints that do not match are removed; while a long stretch of
/// the journal is folded, checkpoints are saved along it (at most [`KEEP`], spread over it), so
/// that the next open and the reads of the past start near where they need.
pub(super) fn open_folded(path: &Path, every: u64) -> Result<(Journal, State), StoreError> {
    let dir = checkpoint::dir_for(path);
    let claimed = checkpoint::claimed(&dir);
    let size = std::fs::metadata(path).map_or(0, |m| m.len());
    let mut opened = None;
    if let Some((mark, mut state)) = claimed
        .iter()
        .rev()
        .find_map(|m| Some((*m, checkpoint::load(&dir, m)?)))
    {
        let mut saver = Saver::new(&dir, every, mark.seq, size);
        let fold = &mut |event: makerpulse_core::Event, index: &Index| {
            state.apply(&event)?;
            saver.after(&state, index);
            Ok(())
        };
        match Journal::open_with(path, &claimed, Some(&mark), fold)? {
            Some((journal, _)) => opened = Some((journal, state, saver)),
            None => tracing::warn!(
                journal = %path.display(),
                seq = mark.seq,
                "the latest checkpoint is not of this journal's bytes; folding from the start"
            ),
        }
    }
    let (journal, state, saver) = match opened {
        Some(opened) => opened,
        None => {
            let mut state = State::new();
            let mut saver = Saver::new(&dir, every, 0, size);
            let fold = &mut |event: makerpulse_core::Event, index: &Index| {
                state.apply(&event)?;
                saver.after(&state, index);
                Ok(())
            };
            let (journal, _) =
                Journal::open_with(path, &claimed, None, fold)?.expect("no checkpoint to match");
            (journal, state, saver)
        }
    };
    let index = journal.index();
    let mut index = index.write().unwrap_or_else(PoisonError::into_inner);
    let stale: Vec<Mark> = claimed
        .iter()
        .filter(|m| !index.checkpoints_to(u64::MAX).contains(m))
        .copied()
        .collect();
    for mark in &stale {
        tracing::warn!(journal = %path.display(), seq = mark.seq, "removing a checkpoint that is not of this journal");
        let _ = std::fs::remove_file(dir.join(format!("{:020}.ckpt", mark.seq)));
    }
    index.checkpointed(None, &stale);
    saver.finish(&state, &mut index);
    drop(index);
    Ok((journal, state))
}

/// Saves checkpoints along a fold at open.
struct Saver<'a> {
    dir: &'a Path,
    every: u64,
    last: u64,
    size: u64,
    saved: Vec<Mark>,
    removed: Vec<Mark>,
}

impl<'a> Saver<'a> {
    fn new(dir: &'a Path, every: u64, last: u64, size: u64) -> Saver<'a> {
        Saver {
            dir,
            every,
            last,
            size,
            saved: Vec::new(),
            removed: Vec::new(),
        }
    }

    /// After each event: a checkpoint at each step, the step chosen from the journal's size so
    /// that a fold of the whole journal saves about [`KEEP`] of them.
    fn after(&mut self, state: &State, index: &Index) {
        let (seq, every) = (state.seq(), self.every);
        // A good checkpoint passed on the way counts as saved: the fold only fills the gaps.
        self.last = self.last.max(index.last_checkpoint());
        if every == 0 || !seq.is_multiple_of(every) || seq - self.last < every {
            return;
        }
        let per_event = (index.len() / seq).max(1);
        let total = seq + self.size.saturating_sub(index.len()) / per_event;
        let step = (total / KEEP as u64).div_ceil(every).max(1) * every;
        if seq - self.last >= step {
            self.save(index.mark(), state);
        }
    }

    fn save(&mut self, mark: Mark, state: &State) {
        self.last = mark.seq;
        let started = Instant::now();
        match checkpoint::save(self.dir, mark, state) {
            Ok(removed) => {
                tracing::info!(
                    seq = mark.seq,
                    took_ms = started.elapsed().as_millis() as u64,
                    "checkpoint saved"
                );
                self.saved.push(mark);
                self.removed.extend(removed);
            }
            Err(err) => tracing::warn!(seq = mark.seq, %err, "saving a checkpoint failed"),
        }
    }

    /// The last checkpoint, at the end of the journal when the fold went `every` events past
    /// the previous; then the index learns what was saved and removed.
    fn finish(mut self, state: &State, index: &mut Index) {
        if self.every > 0 && state.seq() >= self.last + self.every {
            self.save(index.mark(), state);
        }
        for mark in self.saved {
            index.checkpointed(Some(mark), &[]);
        }
        index.checkpointed(None, &self.removed);
    }
}

impl Hub {
    /// Saves a checkpoint of the committed state on a blocking thread when `checkpoint_every` events have
    /// passed since the latest, unless one is being saved. The state is cloned under the read
    /// lock (the writer waits for the clone, not for the write), and only when the journal holds
    /// exactly that state's events, so the mark is the journal's own; otherwise it is tried after
    /// the next batch.
    pub(super) fn checkpoint_if_due(hub: &Arc<Hub>) {
        let last = hub
            .index
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .last_checkpoint();
        let every = hub.checkpoint_every;
        if every == 0
            || *hub.seq.borrow() < last + every
            || hub.checkpointing.swap(true, Ordering::AcqRel)
        {
            return;
        }
        let hub = hub.clone();
        tokio::task::spawn_blocking(move || {
            let taken = {
                let state = hub.state();
                let index = hub.index.read().unwrap_or_else(PoisonError::into_inner);
                (index.last_seq() == state.seq()).then(|| (index.mark(), state.clone()))
            };
            if let Some((mark, state)) = taken {
                let started = Instant::now();
                let dir = checkpoint::dir_for(&hub.path);
                match checkpoint::save(&dir, mark, &state) {
                    Ok(removed) => {
                        tracing::info!(challenge = %hub.id, seq = mark.seq, took_ms = started.elapsed().as_millis() as u64, "checkpoint saved");
                        hub.index
                            .write()
                            .unwrap_or_else(PoisonError::into_inner)
                            .checkpointed(Some(mark), &removed);
                    }
                    Err(err) => {
                        tracing::warn!(challenge = %hub.id, seq = mark.seq, %err, "saving a checkpoint failed")
                    }
                }
                drop(state);
            }
            hub.checkpointing.store(false, Ordering::Release);
        });
    }

    /// The state as it was at `seq`, handed to `then` with the live state beside it, both on a
    /// blocking thread; `None` when the log has not reached `seq` yet. The nearest good
    /// checkpoint at or below `seq` is loaded and the events after it folded, read through the
    /// journal's index; at most `HISTORY_READS` (one) run at once.
    pub async fn at<T: Send + 'static>(
        self: &Arc<Hub>,
        seq: u64,
        then: impl FnOnce(State, &State) -> T + Send + 'static,
    ) -> Result<Option<T>, StoreError> {
        let _permit = self.history.acquire().await.expect("never closed");
        let hub = self.clone();
        tokio::task::spawn_blocking(move || {
            let marks = hub
                .index
                .read()
                .unwrap_or_else(PoisonError::into_inner)
                .checkpoints_to(seq);
            let dir = checkpoint::dir_for(&hub.path);
            let mut state = marks
                .iter()
                .find_map(|m| checkpoint::load(&dir, m))
                .unwrap_or_default();
            journal::read_indexed_with(&hub.path, &hub.index, state.seq() + 1, seq, &mut |e| {
                Ok(state.apply(&e)?)
            })?;
            if state.seq() < seq {
                return Ok(None);
            }
            let now = hub.state();
            Ok(Some(then(state, &now)))
        })
        .await?
    }
}
