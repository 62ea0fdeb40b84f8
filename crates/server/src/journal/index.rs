//! Where each event lies in a journal file, so that a read from a seq seeks there instead of
//! parsing the file from its start, and when events happened, so that the replay's time marks
//! need no read at all.
//!
//! Built while the journal is read at open and kept up by every append; never written to disk,
//! so the journal's format is unchanged. It holds the offset of every [`STRIDE`]th event (an
//! eighth of a byte per event) and the last event of each second that saw events (at most 259,200
//! marks over 72 hours). It also hashes the file as it grows, so that a checkpoint can be
//! checked against the bytes it claims to be the fold of, and lists the checkpoints found good
//! (of both kinds: `checkpoint::Kind`).

use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};

use super::checkpoint::{Kind, Mark};

/// One offset per this many events: a read from any seq skips at most `STRIDE - 1` lines, which
/// it does without parsing them.
pub const STRIDE: u64 = 64;

/// The index of one journal.
#[derive(Debug, Default, Clone)]
pub struct Index {
    /// The byte offset of the line of seq `1 + k × STRIDE`, for each k.
    offsets: Vec<u64>,
    /// The last event of each run of events within one second: the replay's finest time marks.
    seconds: Vec<(u64, DateTime<Utc>)>,
    /// The seq of the last event indexed.
    last_seq: u64,
    /// The length of the file up to the end of that event's line.
    len: u64,
    /// SHA-256 of the file's first `len` bytes, so far.
    hasher: Sha256,
    /// The checkpoints that are the fold of this journal's bytes, in seq order.
    checkpoints: Vec<Mark>,
    /// The checkpoints of the past that are the fold of this journal's bytes, in seq order.
    pasts: Vec<Mark>,
}

impl Index {
    /// Notes the event `seq` at `at`, whose `line` (newline included) starts at byte `offset`.
    /// Events are noted in order.
    pub fn note(&mut self, seq: u64, at: DateTime<Utc>, offset: u64, line: &[u8]) {
        let line_len = line.len() as u64;
        debug_assert_eq!(offset, self.len);
        self.hasher.update(line);
        if (seq - 1).is_multiple_of(STRIDE) {
            self.offsets.push(offset);
        }
        match self.seconds.last_mut() {
            Some(last) if last.1.timestamp() == at.timestamp() => *last = (seq, at),
            _ => self.seconds.push((seq, at)),
        }
        self.last_seq = seq;
        self.len = offset + line_len;
    }

    /// Where to start reading for events from `from` on: the byte offset and the seq of the
    /// line there.
    pub fn start_for(&self, from: u64) -> (u64, u64) {
        let k = (from.max(1) - 1) / STRIDE;
        match self.offsets.get(k as usize) {
            Some(&offset) => (offset, 1 + k * STRIDE),
            None => match self.offsets.last() {
                Some(&offset) => (offset, 1 + (self.offsets.len() as u64 - 1) * STRIDE),
                None => (0, 1),
            },
        }
    }

    /// The seq of the last event indexed.
    pub fn last_seq(&self) -> u64 {
        self.last_seq
    }

    /// The length of the file up to the last event indexed: a reader reads no further, so a
    /// write in progress is never half-read.
    pub fn len(&self) -> u64 {
        self.len
    }

    /// Whether no event is indexed.
    pub fn is_empty(&self) -> bool {
        self.last_seq == 0
    }

    /// The last event of each run of events within one second, up to seq `until`.
    pub fn seconds(&self, until: u64) -> impl Iterator<Item = (u64, DateTime<Utc>)> + '_ {
        self.seconds
            .iter()
            .copied()
            .take_while(move |&(seq, _)| seq <= until)
    }

    /// What a checkpoint of the state at the last event indexed covers.
    pub fn mark(&self) -> Mark {
        Mark {
            seq: self.last_seq,
            len: self.len,
            digest: self.hasher.clone().finalize().into(),
        }
    }

    /// The latest good checkpoint at or before `seq`, and those before it, latest first.
    pub fn checkpoints_to(&self, seq: u64) -> Vec<Mark> {
        self.checkpoints
            .iter()
            .rev()
            .filter(|m| m.seq <= seq)
            .copied()
            .collect()
    }

    /// The seq of the latest good checkpoint; 0 when there is none.
    pub fn last_checkpoint(&self) -> u64 {
        self.checkpoints.last().map_or(0, |m| m.seq)
    }

    /// Notes a checkpoint found good, or just written, and forgets those `removed`.
    pub fn checkpointed(&mut self, mark: Option<Mark>, removed: &[Mark]) {
        self.checkpoints.retain(|m| !removed.contains(m));
        if let Some(mark) = mark {
            self.checkpoints.retain(|m| m.seq != mark.seq);
            self.checkpoints.push(mark);
            self.checkpoints.sort_by_key(|m| m.seq);
        }
    }

    /// The latest good checkpoint of the past at or before `seq`: found in O(log n).
    pub fn past_to(&self, seq: u64) -> Option<Mark> {
        let n = self.pasts.partition_point(|m| m.seq <= seq);
        n.checked_sub(1).map(|i| self.pasts[i])
    }

    /// The good checkpoints of the past, in seq order.
    pub fn pasts(&self) -> &[Mark] {
        &self.pasts
    }

    /// The seq of the latest good checkpoint of the past; 0 when there is none.
    pub fn last_past(&self) -> u64 {
        self.pasts.last().map_or(0, |m| m.seq)
    }

    /// Notes a checkpoint of the past found good, or just written, and forgets those `removed`.
    pub fn pasted(&mut self, mark: Option<Mark>, removed: &[Mark]) {
        self.pasts.retain(|m| !removed.contains(m));
        if let Some(mark) = mark {
            self.pasts.retain(|m| m.seq != mark.seq);
            let at = self.pasts.partition_point(|m| m.seq < mark.seq);
            self.pasts.insert(at, mark);
        }
    }

    /// Notes a checkpoint of `kind` found good.
    pub fn found(&mut self, kind: Kind, mark: Mark) {
        match kind {
            Kind::State => self.checkpointed(Some(mark), &[]),
            Kind::Past => self.pasted(Some(mark), &[]),
        }
    }

    /// Entries held (offsets, second marks): for the `kept` metric.
    pub fn sizes(&self) -> (usize, usize) {
        (self.offsets.len(), self.seconds.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn a_seq_starts_at_the_stride_below_it() {
        let mut index = Index::default();
        let t = Utc.timestamp_opt(1_800_000_000, 0).unwrap();
        for seq in 1..=200u64 {
            index.note(seq, t, (seq - 1) * 10, &[b'x'; 10]);
        }
        assert_eq!(index.start_for(1), (0, 1));
        assert_eq!(index.start_for(64), (0, 1));
        assert_eq!(index.start_for(65), (640, 65));
        assert_eq!(index.start_for(200), (1920, 193));
        assert_eq!(
            index.start_for(10_000),
            (1920, 193),
            "past the end: the last stride"
        );
        assert_eq!(index.len(), 2000);
        assert_eq!(index.seconds(u64::MAX).collect::<Vec<_>>(), vec![(200, t)]);
    }
}
