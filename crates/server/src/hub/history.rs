//! A challenge's past through its checkpoints (`journal/checkpoint.rs`): the open that folds only
//! the journal's tail onto the latest good checkpoint, the checkpoints saved as the challenge
//! goes on (of the whole state, and of the past, closer together), and the state at a past seq,
//! folded from the nearest checkpoint below it.

use std::path::Path;
use std::sync::atomic::Ordering;
use std::sync::mpsc::{sync_channel, SyncSender};
use std::sync::{Arc, PoisonError};
use std::thread::JoinHandle;
use std::time::Instant;

use makerpulse_core::{Past, State};

use super::Hub;
use crate::event_log::StoreError;
use crate::journal::checkpoint::{self, Kind, Mark, KEEP, KEEP_PAST};
use crate::journal::{self, Index, Journal};

/// History reads (`view?at`, past snapshots) folding at once. Each builds a whole state beside
/// the live one, so they wait for each other rather than fill memory or take the cores the
/// writer and the connections need.
pub(super) const HISTORY_READS: usize = 1;

/// How often checkpoints are saved: events between two of the whole state, and between two of
/// the past; 0 for none.
#[derive(Clone, Copy, Debug)]
pub struct Spacing {
    /// Events between two checkpoints of the whole state (restarts).
    pub every: u64,
    /// Events between two checkpoints of the past (reads of the past).
    pub past_every: u64,
}

/// Opens the journal at `path` and folds it: onto the latest checkpoint that the journal's bytes
/// match, or from the start. Checkpoints of either kind that do not match are removed; while a
/// long stretch of the journal is folded, checkpoints are saved along it (of the whole state at
/// most [`KEEP`], spread over it; of the past every `past_every` events, written by a thread
/// beside the fold), so that the next open and the reads of the past start near where they need.
pub(super) fn open_folded(path: &Path, spacing: Spacing) -> Result<(Journal, State), StoreError> {
    let dir = checkpoint::dir_for(path);
    for junk in checkpoint::unreadable_pasts(&dir) {
        tracing::warn!(file = %junk.display(), "removing a checkpoint of the past that does not read");
        let _ = std::fs::remove_file(junk);
    }
    let wholes = checkpoint::claimed(&dir);
    let pasts = checkpoint::claimed_of(&dir, Kind::Past);
    let claimed: Vec<(Kind, Mark)> = (wholes.iter().map(|m| (Kind::State, *m)))
        .chain(pasts.iter().map(|m| (Kind::Past, *m)))
        .collect();
    let size = std::fs::metadata(path).map_or(0, |m| m.len());
    let mut opened = None;
    if let Some((mark, mut state)) = wholes
        .iter()
        .rev()
        .find_map(|m| Some((*m, checkpoint::load(&dir, m)?)))
    {
        let mut saver = Saver::new(&dir, spacing, Some(mark), size);
        let fold = &mut |event: makerpulse_core::Event, index: &Index| {
            state.apply(&event)?;
            saver.after(&state, index);
            Ok(())
        };
        match Journal::open_with(path, &claimed, Some(&mark), fold)? {
            Some((journal, _)) => opened = Some((journal, state, saver)),
            None => {
                saver.abandon();
                tracing::warn!(
                    journal = %path.display(),
                    seq = mark.seq,
                    "the latest checkpoint is not of this journal's bytes; folding from the start"
                )
            }
        }
    }
    let (journal, state, saver) = match opened {
        Some(opened) => opened,
        None => {
            let mut state = State::new();
            let mut saver = Saver::new(&dir, spacing, None, size);
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
    let good = index.checkpoints_to(u64::MAX);
    let stale: Vec<Mark> = wholes
        .iter()
        .filter(|m| !good.contains(m))
        .copied()
        .collect();
    let stale_pasts: Vec<Mark> = pasts
        .iter()
        .filter(|m| !index.pasts().contains(m))
        .copied()
        .collect();
    for (kind, mark) in
        (stale.iter().map(|m| (Kind::State, m))).chain(stale_pasts.iter().map(|m| (Kind::Past, m)))
    {
        tracing::warn!(journal = %path.display(), seq = mark.seq, "removing a checkpoint that is not of this journal");
        let _ = std::fs::remove_file(checkpoint::file_for(&dir, kind, mark.seq));
    }
    index.checkpointed(None, &stale);
    index.pasted(None, &stale_pasts);
    saver.finish(&state, &mut index);
    drop(index);
    Ok((journal, state))
}

/// Saves checkpoints along a fold at open.
struct Saver<'a> {
    dir: &'a Path,
    spacing: Spacing,
    last: u64,
    last_past: u64,
    size: u64,
    saved: Vec<Mark>,
    removed: Vec<Mark>,
    /// The checkpoint the fold starts from, and whether the journal was found to hold its bytes
    /// (known before the first event after it is folded); nothing is saved along a fold from a
    /// checkpoint that is not the journal's, which is given up at its end.
    from: Option<Mark>,
    trusted: Option<bool>,
    /// The thread that writes the checkpoints of the past, and the way to it.
    pasts: Option<PastWriter>,
}

/// The way to the thread that writes checkpoints of the past along a fold, and the thread, which
/// returns the marks it wrote.
type PastWriter = (SyncSender<(Mark, Past)>, JoinHandle<Vec<Mark>>);

impl<'a> Saver<'a> {
    fn new(dir: &'a Path, spacing: Spacing, from: Option<Mark>, size: u64) -> Saver<'a> {
        Saver {
            dir,
            spacing,
            last: from.map_or(0, |m| m.seq),
            last_past: 0,
            size,
            saved: Vec::new(),
            removed: Vec::new(),
            from,
            trusted: None,
            pasts: None,
        }
    }

    /// After each event: a checkpoint of the whole state at each step, the step chosen from the
    /// journal's size so that a fold of the whole journal saves about [`KEEP`] of them; one of
    /// the past every `past_every` events.
    fn after(&mut self, state: &State, index: &Index) {
        let from = self.from;
        let trusted = *self.trusted.get_or_insert_with(|| {
            from.is_none_or(|from| index.checkpoints_to(from.seq).first() == Some(&from))
        });
        if !trusted {
            return;
        }
        let seq = state.seq();
        let past_every = self.spacing.past_every;
        // A good checkpoint passed on the way counts as saved: the fold only fills the gaps.
        self.last_past = self.last_past.max(index.last_past());
        if past_every > 0 && seq.is_multiple_of(past_every) && seq - self.last_past >= past_every {
            self.last_past = seq;
            self.save_past(index.mark(), state.past());
        }
        let every = self.spacing.every;
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

    /// Hands a checkpoint of the past to the thread that writes them (started on the first),
    /// so that encoding and writing it run beside the fold.
    fn save_past(&mut self, mark: Mark, past: Past) {
        let (tx, _) = self.pasts.get_or_insert_with(|| {
            // Two waiting at most: a few MB, whatever the journal's length.
            let (tx, rx) = sync_channel::<(Mark, Past)>(2);
            let dir = self.dir.to_owned();
            let writer = std::thread::spawn(move || {
                let mut saved = Vec::new();
                for (mark, past) in rx {
                    match checkpoint::save_past(&dir, mark, &past, false) {
                        Ok(_) => saved.push(mark),
                        Err(err) => {
                            tracing::warn!(seq = mark.seq, %err, "saving a checkpoint of the past failed")
                        }
                    }
                }
                saved
            });
            (tx, writer)
        });
        // The thread ends only when the sender is dropped; a send fails only if it panicked.
        let _ = tx.send((mark, past));
    }

    /// Waits for the checkpoints of the past handed over so far: the marks written.
    fn pasts_written(&mut self) -> Vec<Mark> {
        match self.pasts.take() {
            Some((tx, writer)) => {
                drop(tx);
                writer.join().unwrap_or_default()
            }
            None => Vec::new(),
        }
    }

    /// After a fold that was given up (it saved nothing: see `trusted`).
    fn abandon(mut self) {
        debug_assert!(self.saved.is_empty());
        self.pasts_written();
    }

    /// The last checkpoint, at the end of the journal when the fold went `every` events past
    /// the previous; then the index learns what was saved and removed, and the checkpoints of
    /// the past are thinned to [`KEEP_PAST`].
    fn finish(mut self, state: &State, index: &mut Index) {
        if self.spacing.every > 0 && state.seq() >= self.last + self.spacing.every {
            self.save(index.mark(), state);
        }
        for mark in self.saved.drain(..) {
            index.checkpointed(Some(mark), &[]);
        }
        index.checkpointed(None, &self.removed);
        for mark in self.pasts_written() {
            index.pasted(Some(mark), &[]);
        }
        remove_pasts(self.dir, &thin_pasts(index));
    }
}

/// Thins the checkpoints of the past that `index` knows to [`KEEP_PAST`]: forgets the ones taken
/// out and returns them, for their files to be removed ([`remove_pasts`]) once the index is
/// unlocked.
fn thin_pasts(index: &mut Index) -> Vec<Mark> {
    let mut marks = index.pasts().to_vec();
    let removed = checkpoint::thinned(&mut marks, KEEP_PAST);
    index.pasted(None, &removed);
    removed
}

fn remove_pasts(dir: &Path, removed: &[Mark]) {
    for mark in removed {
        let _ = std::fs::remove_file(checkpoint::file_for(dir, Kind::Past, mark.seq));
    }
}

impl Hub {
    /// Saves a checkpoint of the committed state on a blocking thread when `spacing.every`
    /// events have passed since the latest, and one of the past when `spacing.past_every` have,
    /// unless a save is under way. What is saved is copied under the read lock (the writer waits
    /// for the copy, not for the write), and only when the journal holds exactly that state's
    /// events, so the mark is the journal's own; otherwise it is tried after the next batch.
    pub(super) fn checkpoint_if_due(hub: &Arc<Hub>) {
        let (last, last_past) = {
            let index = hub.index.read().unwrap_or_else(PoisonError::into_inner);
            (index.last_checkpoint(), index.last_past())
        };
        let Spacing { every, past_every } = hub.checkpoints;
        let seq = *hub.seq.borrow();
        let whole = every > 0 && seq >= last + every;
        let past = past_every > 0 && seq >= last_past + past_every;
        if !(whole || past) || hub.checkpoints_saving.swap(true, Ordering::AcqRel) {
            return;
        }
        let hub = hub.clone();
        tokio::task::spawn_blocking(move || {
            let taken = {
                let state = hub.state();
                let index = hub.index.read().unwrap_or_else(PoisonError::into_inner);
                (index.last_seq() == state.seq()).then(|| {
                    (
                        index.mark(),
                        whole.then(|| state.clone()),
                        past.then(|| state.past()),
                    )
                })
            };
            let dir = checkpoint::dir_for(&hub.path);
            if let Some((mark, whole, past)) = taken {
                if let Some(state) = whole {
                    let started = Instant::now();
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
                if let Some(past) = past {
                    match checkpoint::save_past(&dir, mark, &past, true) {
                        Ok(_) => {
                            let removed = {
                                let mut index =
                                    hub.index.write().unwrap_or_else(PoisonError::into_inner);
                                index.pasted(Some(mark), &[]);
                                thin_pasts(&mut index)
                            };
                            remove_pasts(&dir, &removed);
                        }
                        Err(err) => {
                            tracing::warn!(challenge = %hub.id, seq = mark.seq, %err, "saving a checkpoint of the past failed")
                        }
                    }
                }
            }
            hub.checkpoints_saving.store(false, Ordering::Release);
        });
    }

    /// The state as it was at `seq`, handed to `then` on a blocking thread; `None` when the log
    /// has not reached `seq` yet. With `as_hidden_now`, every post hidden since is hidden in it
    /// too ([`State::hide_as_in`]: what everyone but the organizers sees of the past).
    ///
    /// The nearest good checkpoint at or below `seq` is loaded — of the past, unless one of the
    /// whole state is nearer — and the events after it folded, read through the journal's index:
    /// one small file and at most `past_every` events, found in O(log n). At most
    /// `HISTORY_READS` (one) run at once. The committed state is read (and its lock held) only to
    /// take back the older posts and the hides since, never while `then` runs.
    pub async fn at<T: Send + 'static>(
        self: &Arc<Hub>,
        seq: u64,
        as_hidden_now: bool,
        then: impl FnOnce(State) -> T + Send + 'static,
    ) -> Result<Option<T>, StoreError> {
        let _permit = self.history.acquire().await.expect("never closed");
        let hub = self.clone();
        tokio::task::spawn_blocking(move || {
            let mut nearest: Vec<(Kind, Mark)> = {
                let index = hub.index.read().unwrap_or_else(PoisonError::into_inner);
                (index.past_to(seq).map(|m| (Kind::Past, m)).into_iter())
                    .chain(
                        index
                            .checkpoints_to(seq)
                            .into_iter()
                            .map(|m| (Kind::State, m)),
                    )
                    .collect()
            };
            // Latest first; at the same seq, the past (the smaller file).
            nearest.sort_by_key(|(kind, m)| (std::cmp::Reverse(m.seq), *kind == Kind::State));
            let dir = checkpoint::dir_for(&hub.path);
            let (start, mut state) = nearest
                .iter()
                .find_map(|(kind, mark)| match kind {
                    Kind::Past => Some((
                        "past",
                        checkpoint::load_past(&dir, mark)?.restore(&hub.state())?,
                    )),
                    Kind::State => Some(("state", checkpoint::load(&dir, mark)?)),
                })
                .unwrap_or(("none", State::new()));
            let loaded = state.seq();
            journal::read_indexed_with(&hub.path, &hub.index, loaded + 1, seq, &mut |e| {
                Ok(state.apply(&e)?)
            })?;
            if state.seq() < seq {
                return Ok(None);
            }
            hub.metrics.history_read(start, seq - loaded);
            if as_hidden_now {
                state.hide_as_in(&hub.state());
            }
            Ok(Some(then(state)))
        })
        .await?
    }
}
