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

use std::collections::{HashMap, VecDeque};

use serde::{Deserialize, Serialize};

use crate::command::Actor;
use crate::ids::CommandId;
use crate::state::Ack;

/// How many of each actor's latest accepted commands are remembered whole. A console resends
/// within seconds of a dropped answer; even a judge who scores 256 times in between is far
/// beyond that.
pub const IDEMPOTENCY_WINDOW: usize = 256;

/// The answers of one actor's latest commands, oldest first in `order`.
#[derive(Clone, Debug, Default, PartialEq)]
struct Recent {
    order: VecDeque<CommandId>,
    acks: HashMap<CommandId, Ack>,
}

/// Every accepted command, as remembered: the recent ones whole, the others by fingerprint.
/// Serialised through [`Saved`], which keeps each actor's order and the digests that an [`Ack`]
/// leaves out of its own (public) form.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(from = "Saved", into = "Saved")]
pub(crate) struct Answers {
    recent: HashMap<Actor, Recent>,
    /// Fingerprint of (actor, id) of each command that left its actor's window, to the seq of its
    /// first event. Two commands may share a fingerprint (about one pair in 10¹³ at a million
    /// commands): the later one wins, and the server tells them apart by reading the log.
    earlier: HashMap<u64, u64>,
}

impl Answers {
    /// The answer to a recent command of `actor`.
    pub(crate) fn recent(&self, actor: &Actor, id: &CommandId) -> Option<&Ack> {
        self.recent.get(actor)?.acks.get(id)
    }

    /// The first seq of an older command of `actor` with this id, if one may have been accepted.
    pub(crate) fn earlier(&self, actor: &Actor, id: &CommandId) -> Option<u64> {
        self.earlier.get(&fingerprint(actor, id)).copied()
    }

    /// Notes an event of an accepted command.
    pub(crate) fn note(&mut self, actor: &Actor, id: &CommandId, digest: &str, seq: u64) {
        let recent = match self.recent.get_mut(actor) {
            Some(recent) => recent,
            None => self.recent.entry(actor.clone()).or_default(),
        };
        if let Some(ack) = recent.acks.get_mut(id) {
            ack.last_seq = seq;
            return;
        }
        recent.acks.insert(
            id.clone(),
            Ack {
                command_id: id.clone(),
                first_seq: seq,
                last_seq: seq,
                digest: digest.to_owned(),
            },
        );
        recent.order.push_back(id.clone());
        if recent.order.len() > IDEMPOTENCY_WINDOW {
            if let Some(old) = recent.order.pop_front() {
                if let Some(ack) = recent.acks.remove(&old) {
                    self.earlier.insert(fingerprint(actor, &old), ack.first_seq);
                }
            }
        }
    }

    /// Commands remembered whole, and by fingerprint.
    pub(crate) fn sizes(&self) -> (usize, usize) {
        let recent = self.recent.values().map(|r| r.acks.len()).sum();
        (recent, self.earlier.len())
    }
}

/// [`Answers`] as saved: each actor's remembered commands oldest first, as (id, first seq,
/// last seq, digest), and the fingerprints.
#[derive(Serialize, Deserialize)]
struct Saved {
    recent: Vec<(Actor, Vec<SavedAck>)>,
    earlier: Vec<(u64, u64)>,
}

/// An [`Ack`] as saved: id, first seq, last seq, digest.
type SavedAck = (CommandId, u64, u64, String);

impl From<Answers> for Saved {
    fn from(answers: Answers) -> Saved {
        let recent = answers
            .recent
            .into_iter()
            .map(|(actor, mut recent)| {
                let acks = recent
                    .order
                    .iter()
                    .filter_map(|id| recent.acks.remove(id))
                    .map(|a| (a.command_id, a.first_seq, a.last_seq, a.digest))
                    .collect();
                (actor, acks)
            })
            .collect();
        Saved {
            recent,
            earlier: answers.earlier.into_iter().collect(),
        }
    }
}

impl From<Saved> for Answers {
    fn from(saved: Saved) -> Answers {
        let recent = saved
            .recent
            .into_iter()
            .map(|(actor, acks)| {
                let mut recent = Recent::default();
                for (command_id, first_seq, last_seq, digest) in acks {
                    recent.order.push_back(command_id.clone());
                    let ack = Ack {
                        command_id: command_id.clone(),
                        first_seq,
                        last_seq,
                        digest,
                    };
                    recent.acks.insert(command_id, ack);
                }
                (actor, recent)
            })
            .collect();
        Answers {
            recent,
            earlier: saved.earlier.into_iter().collect(),
        }
    }
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
}
