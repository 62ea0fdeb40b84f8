//! What the state remembers of the commands it accepted, so that a resend is answered and never
//! applied twice, without keeping every command id of a 72-hour challenge in memory.
//!
//! The latest [`IDEMPOTENCY_WINDOW`] accepted commands of each actor are kept whole: a resend of
//! one of them is answered from memory with its first answer. An older command leaves behind
//! only a fingerprint of (actor, id) and the seq of its first event, 16 bytes instead of the
//! id, the digest and the map entry around them; a resend of it is found in the log on demand
//! (the server reads the events at that seq back and compares), so it is still answered with the
//! first answer, or refused as a reused id, and never applied again. Both parts are a fold of the
//! events, like everything else in the state: a replay remembers exactly what the live state did.
//!
//! The writer of a server and its readers each hold a state, so everything here is shared
//! between the two copies where it can be (`Answers::share_with`): each actor's window sits
//! behind an `Arc` (a command clones only its own actor's window, and only while the other copy
//! still shares it), and the fingerprints of older commands are kept in sorted runs behind `Arc`s
//! that both copies hold once.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::command::Actor;
use crate::ids::CommandId;
use crate::state::Ack;

/// How many of each actor's latest accepted commands are remembered whole. A console resends
/// within seconds of a dropped answer; even a judge who scores 256 times in between is far
/// beyond that.
pub const IDEMPOTENCY_WINDOW: usize = 256;

/// Fingerprints noted before they are sorted into a run.
const RUN: usize = 1024;

/// One accepted command, as remembered in its actor's window: 40 bytes and its id's text.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
struct Noted {
    id: CommandId,
    first_seq: u64,
    last_seq: u64,
    /// The command's digest ([`crate::decide::command_digest`], 16 hex digits) as a number.
    digest: u64,
}

/// Every accepted command, as remembered: the recent ones whole, the others by fingerprint.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(from = "Kept", into = "Kept")]
pub(crate) struct Answers {
    /// Each actor's latest commands, oldest first (a linear search of at most
    /// [`IDEMPOTENCY_WINDOW`] ids is cheaper than a map beside them, and half the memory).
    recent: HashMap<Actor, Arc<VecDeque<Noted>>>,
    /// Fingerprint of (actor, id) of each command that left its actor's window, to the seq of its
    /// first event, in runs sorted by fingerprint (sizes `RUN` × a power of two, largest first),
    /// then the newest ones unsorted in `tail`. Two commands may share a fingerprint (about one
    /// pair in 10¹³ at a million commands): the later one wins, and the server tells them apart
    /// by reading the log.
    runs: Vec<Arc<[(u64, u64)]>>,
    tail: Vec<(u64, u64)>,
}

/// [`Answers`] as saved: plain lists, the same runs.
#[derive(Serialize, Deserialize)]
struct Kept {
    recent: Vec<(Actor, Vec<Noted>)>,
    runs: Vec<Vec<(u64, u64)>>,
    tail: Vec<(u64, u64)>,
}

impl From<Answers> for Kept {
    fn from(a: Answers) -> Kept {
        let mut recent: Vec<(Actor, Vec<Noted>)> = a
            .recent
            .into_iter()
            .map(|(actor, window)| (actor, window.iter().cloned().collect()))
            .collect();
        recent.sort_by(|x, y| x.0.cmp(&y.0));
        Kept {
            recent,
            runs: a.runs.iter().map(|r| r.to_vec()).collect(),
            tail: a.tail,
        }
    }
}

impl From<Kept> for Answers {
    fn from(k: Kept) -> Answers {
        Answers {
            recent: k
                .recent
                .into_iter()
                .map(|(actor, window)| (actor, Arc::new(window.into())))
                .collect(),
            runs: k.runs.into_iter().map(Arc::from).collect(),
            tail: k.tail,
        }
    }
}

impl Noted {
    fn ack(&self) -> Ack {
        Ack {
            command_id: self.id.clone(),
            first_seq: self.first_seq,
            last_seq: self.last_seq,
            digest: format!("{:016x}", self.digest),
        }
    }
}

/// A digest as a number: its 16 hex digits, or (for a digest of another shape, which the core
/// never makes) a hash of it; [`Ack::is_for`] compares digests this way.
pub(crate) fn digest_key(digest: &str) -> u64 {
    match u64::from_str_radix(digest, 16) {
        Ok(n) if digest.len() == 16 => n,
        _ => {
            use sha2::{Digest, Sha256};
            let hash = Sha256::digest(digest.as_bytes());
            u64::from_le_bytes(hash[..8].try_into().expect("8 bytes"))
        }
    }
}

impl Answers {
    /// The answer to a recent command of `actor`.
    pub(crate) fn recent(&self, actor: &Actor, id: &CommandId) -> Option<Ack> {
        let window = self.recent.get(actor)?;
        window.iter().rev().find(|n| &n.id == id).map(Noted::ack)
    }

    /// The first seq of an older command of `actor` with this id, if one may have been accepted.
    pub(crate) fn earlier(&self, actor: &Actor, id: &CommandId) -> Option<u64> {
        let fp = fingerprint(actor, id);
        if let Some(&(_, seq)) = self.tail.iter().rev().find(|(f, _)| *f == fp) {
            return Some(seq);
        }
        self.runs.iter().rev().find_map(|run| {
            run.binary_search_by_key(&fp, |&(f, _)| f)
                .ok()
                .map(|i| run[i].1)
        })
    }

    /// Notes an event of an accepted command.
    pub(crate) fn note(&mut self, actor: &Actor, id: &CommandId, digest: &str, seq: u64) {
        let window = match self.recent.get_mut(actor) {
            Some(window) => window,
            None => self.recent.entry(actor.clone()).or_default(),
        };
        // The events of one command are consecutive: only the newest entry can be this one.
        if let Some(last) = window.back().filter(|n| &n.id == id) {
            if last.last_seq != seq {
                Arc::make_mut(window)
                    .back_mut()
                    .expect("not empty")
                    .last_seq = seq;
            }
            return;
        }
        let window = Arc::make_mut(window);
        // The oldest leaves before the newest comes, so a full window never grows its buffer.
        if window.len() == IDEMPOTENCY_WINDOW {
            if let Some(old) = window.pop_front() {
                self.tail.push((fingerprint(actor, &old.id), old.first_seq));
            }
        }
        window.push_back(Noted {
            id: id.clone(),
            first_seq: seq,
            last_seq: seq,
            digest: digest_key(digest),
        });
        if self.tail.len() == RUN {
            self.seal();
        }
    }

    /// Sorts the tail into a run, then merges the newest runs while two are the same size, so
    /// that a lookup searches few runs.
    fn seal(&mut self) {
        let mut run = std::mem::take(&mut self.tail);
        // Stable: of equal fingerprints the later stays last, and `dedup_newest` keeps it.
        run.sort_by_key(|&(f, _)| f);
        let mut run = dedup_newest(run);
        while let Some(last) = self.runs.last() {
            if last.len() > run.len() {
                break;
            }
            let older = self.runs.pop().expect("a run");
            run = merge(&older, &run);
        }
        self.runs.push(Arc::from(run));
    }

    /// Makes this copy share with `other` what the two hold alike: every actor's window and
    /// every run of fingerprints. Both must be at the same seq (the writer's copy after the
    /// readers' state caught up with it), when they hold exactly the same answers.
    pub(crate) fn share_with(&mut self, other: &Answers) {
        debug_assert_eq!(self, other);
        for (actor, window) in &mut self.recent {
            if let Some(theirs) = other.recent.get(actor) {
                if !Arc::ptr_eq(window, theirs) {
                    *window = theirs.clone();
                }
            }
        }
        if self.runs.len() == other.runs.len() {
            self.runs.clone_from(&other.runs);
        }
    }

    /// Commands remembered whole, and by fingerprint.
    pub(crate) fn sizes(&self) -> (usize, usize) {
        let recent = self.recent.values().map(|w| w.len()).sum();
        let earlier = self.runs.iter().map(|r| r.len()).sum::<usize>() + self.tail.len();
        (recent, earlier)
    }
}

/// A sorted run with only the last of each fingerprint.
fn dedup_newest(run: Vec<(u64, u64)>) -> Vec<(u64, u64)> {
    let mut out: Vec<(u64, u64)> = Vec::with_capacity(run.len());
    for entry in run {
        match out.last_mut() {
            Some(last) if last.0 == entry.0 => *last = entry,
            _ => out.push(entry),
        }
    }
    out
}

/// Two sorted runs as one; of a fingerprint in both, the newer run's entry.
fn merge(older: &[(u64, u64)], newer: &[(u64, u64)]) -> Vec<(u64, u64)> {
    let mut out = Vec::with_capacity(older.len() + newer.len());
    let (mut i, mut j) = (0, 0);
    while i < older.len() && j < newer.len() {
        match older[i].0.cmp(&newer[j].0) {
            std::cmp::Ordering::Less => {
                out.push(older[i]);
                i += 1;
            }
            std::cmp::Ordering::Greater => {
                out.push(newer[j]);
                j += 1;
            }
            std::cmp::Ordering::Equal => {
                out.push(newer[j]);
                i += 1;
                j += 1;
            }
        }
    }
    out.extend_from_slice(&older[i..]);
    out.extend_from_slice(&newer[j..]);
    out
}

/// A stable 64-bit fingerprint of a command id of an actor (SHA-256, so that it is the same in
/// every process that replays the log).
fn fingerprint(actor: &Actor, id: &CommandId) -> u64 {
    use sha2::{Digest, Sha256};
    let actor = serde_json::to_string(actor).expect("actors always serialise");
    let mut hasher = Sha256::new();
    hasher.update(actor.as_bytes());
    hasher.update([0]);
    hasher.update(id.as_str().as_bytes());
    let digest = hasher.finalize();
    let mut bytes = [0u8; 8];
    bytes.copy_from_slice(&digest[..8]);
    u64::from_le_bytes(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::TeamId;

    #[test]
    fn the_window_keeps_the_latest_and_fingerprints_the_rest() {
        let team = Actor::Team(TeamId::new("t1").unwrap());
        let other = Actor::Team(TeamId::new("t2").unwrap());
        let id = |i: usize| CommandId::new(format!("c{i}")).unwrap();
        let mut answers = Answers::default();
        let n = IDEMPOTENCY_WINDOW + 10;
        for i in 0..n {
            // Each command of two events.
            answers.note(&team, &id(i), "d", 2 * i as u64 + 1);
            answers.note(&team, &id(i), "d", 2 * i as u64 + 2);
        }
        assert_eq!(answers.sizes(), (IDEMPOTENCY_WINDOW, 10));
        let last = answers.recent(&team, &id(n - 1)).unwrap();
        assert_eq!(
            (last.first_seq, last.last_seq),
            (2 * n as u64 - 1, 2 * n as u64)
        );
        assert!(answers.recent(&team, &id(0)).is_none());
        assert_eq!(answers.earlier(&team, &id(0)), Some(1));
        assert_eq!(answers.earlier(&team, &id(9)), Some(19));
        assert_eq!(answers.earlier(&team, &id(10)), None, "still in the window");
        assert_eq!(answers.earlier(&other, &id(0)), None, "another actor's id");
    }

    #[test]
    fn fingerprints_in_runs_find_every_older_command_and_two_copies_share_them() {
        let actors: Vec<Actor> = (0..3)
            .map(|t| Actor::Team(TeamId::new(format!("t{t}")).unwrap()))
            .collect();
        let id = |i: usize| CommandId::new(format!("c{i}")).unwrap();
        let mut answers = Answers::default();
        let n = IDEMPOTENCY_WINDOW + 5 * RUN + 7;
        let mut seq = 0;
        for i in 0..n {
            for actor in &actors {
                seq += 1;
                answers.note(actor, &id(i), "00000000000000ff", seq);
            }
        }
        let older = (n - IDEMPOTENCY_WINDOW) * actors.len();
        assert_eq!(answers.sizes(), (IDEMPOTENCY_WINDOW * 3, older));
        // 15 runs sealed, merged by size into 4 (8 + 4 + 2 + 1), and a tail.
        let sizes: Vec<usize> = answers.runs.iter().map(|r| r.len()).collect();
        assert_eq!(sizes, [8 * RUN, 4 * RUN, 2 * RUN, RUN]);
        for i in (0..n - IDEMPOTENCY_WINDOW).step_by(97) {
            for (a, actor) in actors.iter().enumerate() {
                let first = (i * actors.len() + a + 1) as u64;
                assert_eq!(answers.earlier(actor, &id(i)), Some(first), "c{i}");
            }
        }
        assert_eq!(answers.earlier(&actors[0], &id(n)), None);
        let recent = answers.recent(&actors[1], &id(n - 1)).unwrap();
        assert!(recent.is_for_digest("00000000000000ff"));

        // A copy that noted the same commands holds the same answers; sharing makes it point to
        // the same windows and runs, and it stays equal.
        let mut copy = Answers::default();
        let mut seq = 0;
        for i in 0..n {
            for actor in &actors {
                seq += 1;
                copy.note(actor, &id(i), "00000000000000ff", seq);
            }
        }
        assert_eq!(copy, answers);
        copy.share_with(&answers);
        assert!(Arc::ptr_eq(&copy.runs[0], &answers.runs[0]));
        assert!(Arc::ptr_eq(
            &copy.recent[&actors[0]],
            &answers.recent[&actors[0]]
        ));
        // A later note in one copy leaves the other as it was.
        copy.note(&actors[0], &id(n), "00000000000000ff", seq + 1);
        assert_eq!(answers.recent(&actors[0], &id(n)), None);
        assert!(copy.recent(&actors[0], &id(n)).is_some());

        // Saved and loaded, it is the same.
        let json = serde_json::to_string(&answers).unwrap();
        let back: Answers = serde_json::from_str(&json).unwrap();
        assert_eq!(back, answers);
    }
}
