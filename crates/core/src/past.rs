//! A state of the past as the server's history checkpoints keep it: what a read of the past
//! (`view?at=SEQ`) folds on, small enough to be saved every few thousand events and loaded in a
//! few milliseconds, whatever the length of the challenge.
//!
//! It is the state less the two things that grow with the challenge, neither of which a reader
//! of the past needs to keep:
//! - the command answers ([`crate::answers`]): a state of the past answers no command, and no view
//!   shows them;
//! - the older posts' ids and photos ([`crate::posts`]): a post is never removed and its id is
//!   its seq, so the older posts of the state at seq S are exactly the live state's posts older
//!   than the oldest post S kept whole. [`Past::restore`] takes them back from the live state.
//!
//! What the past holds of its older posts that a later state cannot tell (which of them were
//! hidden by then, and why) stays in it. Everything else is the state as it was, so a view of a
//! restored past, or of it folded on, is the view of the fold of the log up to there.

use serde::{Deserialize, Serialize};

use crate::answers::Answers;
use crate::state::State;

/// A state of the past without its answers and its older posts ([`State::past`]).
#[derive(Clone, Debug, PartialEq)]
pub struct Past(State);

impl Serialize for Past {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        Serialize::serialize(&self.0, serializer)
    }
}

impl<'de> Deserialize<'de> for Past {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Past, D::Error> {
        // The trait's, which counts the tally again (the derived one is inherent, `remote`).
        <State as Deserialize>::deserialize(deserializer).map(Past)
    }
}

impl State {
    /// This state as a history checkpoint keeps it: without the answers and the older posts'
    /// ids and photos. Costs a copy of what every view shows (the roster, the scorecards, the
    /// newest posts), not of what grows with the challenge.
    pub fn past(&self) -> Past {
        Past(State {
            seq: self.seq,
            challenge: self.challenge.clone(),
            tracks: self.tracks.clone(),
            milestones: self.milestones.clone(),
            rubric: self.rubric.clone(),
            ranking: self.ranking.clone(),
            teams: self.teams.clone(),
            progress: self.progress.clone(),
            judges: self.judges.clone(),
            posts: self.posts.past(),
            announcements: self.announcements.clone(),
            scorecards: self.scorecards.clone(),
            cheers: self.cheers.clone(),
            tokens: self.tokens.clone(),
            answers: Answers::default(),
            frozen: self.frozen.clone(),
            revealed: self.revealed.clone(),
            shown_photos: self.shown_photos.clone(),
            tally: self.tally.clone(),
        })
    }
}

impl Past {
    /// The seq of the state kept.
    pub fn seq(&self) -> u64 {
        self.0.seq
    }

    /// The state this was taken of, its older posts taken back from `now`, a state of the same
    /// log at or after it; it remembers no answer. `None` when `now` cannot be a later state of
    /// that log (it is behind, or does not know the oldest post kept whole here, or not as that
    /// team's).
    pub fn restore(self, now: &State) -> Option<State> {
        if now.seq < self.0.seq {
            return None;
        }
        let mut state = self.0;
        state.posts.restore_older(&now.posts)?;
        Some(state)
    }
}

#[cfg(test)]
mod tests {
    use chrono::{Duration, TimeZone, Utc};

    use super::*;
    use crate::command::{Actor, Command, Envelope};
    use crate::decide::Outcome;
    use crate::event::Event;
    use crate::ids::{ChallengeId, CommandId, TeamId, TrackId};
    use crate::progress::{ImageType, PhotoRef};
    use crate::text::Localized;

    /// A log with more posts than the state keeps whole, some with photos, some hidden while
    /// whole, some hidden long after they became older posts, and teams that post unevenly.
    fn log() -> Vec<Event> {
        let mut state = State::new();
        let mut log = Vec::new();
        let start = Utc.timestamp_opt(1_800_000_000, 0).unwrap();
        let mut n = 0u64;
        let mut run = |state: &mut State, actor: &Actor, command: Command| {
            n += 1;
            let at = start + Duration::seconds(n as i64);
            let envelope = Envelope::new(CommandId::new(format!("c{n}")).unwrap(), command);
            match state.execute(actor, &envelope, at).unwrap() {
                Outcome::Applied(events) => log.extend(events),
                other => panic!("{other:?}"),
            }
        };
        let admin = Actor::Admin;
        let setup = [
            Command::CreateChallenge {
                id: ChallengeId::new("c").unwrap(),
                title: Localized::new("过去", "Past"),
                description: Localized::default(),
                planned_start: None,
                duration_secs: None,
            },
            Command::AddTrack {
                id: TrackId::new("s").unwrap(),
                name: Localized::new("s", "s"),
                description: Localized::default(),
            },
        ];
        for command in setup {
            run(&mut state, &admin, command);
        }
        let teams: Vec<TeamId> = (1..=3)
            .map(|i| TeamId::new(format!("t{i}")).unwrap())
            .collect();
        for team in &teams {
            run(
                &mut state,
                &admin,
                Command::AddTeam {
                    id: team.clone(),
                    track: TrackId::new("s").unwrap(),
                    name: Localized::new(team.as_str(), team.as_str()),
                    description: Localized::default(),
                    members: vec![],
                    contact: String::new(),
                },
            );
        }
        run(&mut state, &admin, Command::StartChallenge);
        let mut posted = Vec::new();
        for i in 0..200usize {
            let team = &teams[[0, 0, 1, 2, 0][i % 5]];
            let photos = if i % 7 == 0 {
                vec![PhotoRef {
                    sha256: format!("{:064x}", i),
                    content_type: ImageType::Png,
                }]
            } else {
                vec![]
            };
            let post = Command::PostProgress {
                text: format!("post {i}"),
                photos,
                links: vec![],
                percent: Some((i % 100) as u8),
            };
            run(&mut state, &Actor::Team(team.clone()), post);
            posted.push(state.seq());
            // Now and then an organizer hides a post: a recent one, or one long older.
            if i % 23 == 22 {
                let post = posted[if i % 2 == 0 { i } else { i / 3 }];
                run(
                    &mut state,
                    &admin,
                    Command::HidePost {
                        post,
                        reason: format!("hidden {i}"),
                    },
                );
            }
        }
        log
    }

    /// What a read of the past never looks at: the answers.
    fn less_answers(state: &State) -> State {
        State {
            answers: Answers::default(),
            ..state.clone()
        }
    }

    #[test]
    fn a_past_restored_from_any_later_state_is_the_fold_and_folds_on() {
        let log = log();
        let mut states = vec![State::new()];
        for event in &log {
            let mut next = states.last().unwrap().clone();
            next.apply(event).unwrap();
            states.push(next);
        }
        let now = states.last().unwrap();
        assert!(
            now.post_counts().0 > now.post_counts().1,
            "older posts exist"
        );
        for (seq, state) in states.iter().enumerate().step_by(3) {
            // Saved and read back as a checkpoint would be.
            let mut bytes = Vec::new();
            ciborium::into_writer(&state.past(), &mut bytes).unwrap();
            let past: Past = ciborium::from_reader(&bytes[..]).unwrap();
            assert_eq!(past.seq(), seq as u64);
            for later in [seq, (seq + 40).min(log.len()), log.len()] {
                let mut restored = past.clone().restore(&states[later]).unwrap();
                assert_eq!(
                    restored,
                    less_answers(state),
                    "seq {seq} restored from {later}"
                );
                for event in &log[seq..later] {
                    restored.apply(event).unwrap();
                }
                assert_eq!(
                    less_answers(&restored),
                    less_answers(&states[later]),
                    "seq {seq} folded on to {later}"
                );
            }
        }
    }

    #[test]
    fn a_past_is_not_restored_from_a_state_behind_it_or_of_another_log() {
        let log = log();
        let now = State::replay(&log).unwrap();
        let past = now.past();
        let behind = State::replay(&log[..log.len() - 1]).unwrap();
        assert!(past.clone().restore(&behind).is_none(), "behind");
        let other = State::replay(&log[..5]).unwrap();
        let mut other = other;
        // A state at the same seq or later whose posts are not these.
        for event in &log[5..] {
            let mut e = event.clone();
            if let crate::event::EventBody::ProgressPosted { .. } = e.body {
                e.body = crate::event::EventBody::CheersTallied {
                    counts: Default::default(),
                };
            }
            other.apply(&e).unwrap();
        }
        assert!(past.restore(&other).is_none(), "another log");
    }
}
