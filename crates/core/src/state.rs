//! The state of one challenge: the fold of its events. `apply` is the only way it changes, so
//! replaying the log always rebuilds exactly the live state.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::answers::Answers;
use crate::challenge::{Challenge, Clock, Pause, Phase};
use crate::command::Actor;
use crate::event::{Event, EventBody};
use crate::ids::{CommandId, JudgeId, TeamId, TokenHash, TrackId};
use crate::leaderboard::{Leaderboard, Tally};
use crate::milestone::{Announcement, MilestoneDef, Reached, Withdrawal, ANNOUNCEMENTS_KEPT};
use crate::posts::{Known, Posts};
use crate::progress::Post;
use crate::roster::{Judge, Subject, Team, Track};
use crate::rubric::{RankingSettings, Revision, Rubric, Scorecard};

/// A minted token, known only by its hash.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenRecord {
    /// Whom it speaks for.
    pub subject: Subject,
    /// When it was minted.
    pub issued_at: DateTime<Utc>,
    /// When it was revoked.
    pub revoked_at: Option<DateTime<Utc>>,
}

/// How far a team has come.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct TeamProgress {
    /// Milestones reached, in order.
    pub reached: Vec<Reached>,
    /// The latest percent done the team gave.
    pub percent: Option<u8>,
    /// Visible posts.
    pub posts: u32,
}

/// The answer to an accepted command, kept so a resend gets it again.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ack {
    /// The command's id.
    pub command_id: CommandId,
    /// The seq of its first event.
    pub first_seq: u64,
    /// The seq of its last event.
    pub last_seq: u64,
    #[serde(skip)]
    pub(crate) digest: String,
}

impl Ack {
    /// The answer to a command whose events, `first_seq` to `last_seq`, were found in the log.
    pub fn from_log(command: &crate::event::CommandRef, first_seq: u64, last_seq: u64) -> Ack {
        Ack {
            command_id: command.id.clone(),
            first_seq,
            last_seq,
            digest: command.digest.clone(),
        }
    }

    /// Whether `command` is the command this answers (and not another one sent with its id).
    pub fn is_for(&self, command: &crate::command::Command) -> bool {
        self.is_for_digest(&crate::decide::command_digest(command))
    }

    /// Whether the command with this digest is the command this answers.
    pub(crate) fn is_for_digest(&self, digest: &str) -> bool {
        use crate::answers::digest_key;
        digest_key(&self.digest) == digest_key(digest)
    }
}

/// The public board as it stood at the freeze, and how many scorecards arrived since per team.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FrozenBoard {
    /// The seq of the freeze.
    pub seq: u64,
    /// The published board then ([`Leaderboard::published`]).
    pub board: Leaderboard,
    /// Scorecards submitted since, per team; their values stay hidden until the reveal.
    pub pending: BTreeMap<TeamId, u32>,
}

/// One step of the reveal.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RevealEntry {
    /// The seq of the reveal event.
    pub seq: u64,
    /// The track.
    pub track: TrackId,
    /// The team.
    pub team: TeamId,
    /// Its final rank in the track.
    pub rank: Option<u32>,
    /// Its final jury score.
    pub score: Option<f64>,
}

/// An event whose seq does not follow the state's.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("event seq {got} does not follow seq {expected_after}")]
pub struct SeqError {
    /// The state's seq.
    pub expected_after: u64,
    /// The event's seq.
    pub got: u64,
}

/// The state of one challenge.
///
/// It serialises whole (for the server's checkpoints), command digests included; the derived
/// tally is left out and counted again when a state is read back, so a state read back equals the
/// one saved. `remote = "Self"` makes the derives inherent functions, wrapped by the trait
/// impls below, which add that recount.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(remote = "Self")]
pub struct State {
    pub(crate) seq: u64,
    pub(crate) challenge: Option<Challenge>,
    pub(crate) tracks: Vec<Track>,
    pub(crate) milestones: Vec<MilestoneDef>,
    pub(crate) rubric: Option<Rubric>,
    pub(crate) ranking: RankingSettings,
    pub(crate) teams: BTreeMap<TeamId, Team>,
    pub(crate) progress: BTreeMap<TeamId, TeamProgress>,
    pub(crate) judges: BTreeMap<JudgeId, Judge>,
    /// The newest posts whole, the older ones by id ([`crate::posts`]).
    pub(crate) posts: Posts,
    /// The newest milestone announcements, newest first, at most [`ANNOUNCEMENTS_KEPT`].
    pub(crate) announcements: Vec<Announcement>,
    pub(crate) scorecards: BTreeMap<(TeamId, JudgeId), Scorecard>,
    pub(crate) cheers: BTreeMap<TeamId, u64>,
    pub(crate) tokens: BTreeMap<TokenHash, TokenRecord>,
    pub(crate) answers: Answers,
    pub(crate) frozen: Option<FrozenBoard>,
    pub(crate) revealed: Vec<RevealEntry>,
    /// Photos by SHA-256, with how many visible posts show each: a photo that no visible post
    /// shows is served to nobody but the organizers.
    pub(crate) shown_photos: BTreeMap<String, u32>,
    /// Every team's row before ranking, kept current by [`State::apply`]: derived, never stored.
    #[serde(skip)]
    pub(crate) tally: Tally,
}

impl Serialize for State {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        State::serialize(self, serializer)
    }
}

impl<'de> Deserialize<'de> for State {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<State, D::Error> {
        let mut state = State::deserialize(deserializer)?;
        state.tally = Tally::count(&state);
        Ok(state)
    }
}

impl State {
    /// Hides in this state, a state of the past, every post that `now` has hidden since: a
    /// replay shows everyone but the organizers a hidden post as hidden, whenever it was hidden,
    /// so hiding a post hides it in the past too.
    pub fn hide_as_in(&mut self, now: &State) {
        let hidden: Vec<(u64, String)> = now
            .posts
            .hidden_until(self.seq)
            .map(|(id, reason)| (id, reason.to_owned()))
            .collect();
        for (id, reason) in hidden {
            self.hide(id, &reason);
        }
    }

    fn hide(&mut self, post: u64, reason: &str) {
        let Some((team, photos)) = self.posts.hide(post, reason) else {
            return;
        };
        if let Some(p) = self.progress.get_mut(&team) {
            p.posts = p.posts.saturating_sub(1);
        }
        for photo in &photos {
            if let Some(n) = self.shown_photos.get_mut(&photo.sha256) {
                *n -= 1;
                if *n == 0 {
                    self.shown_photos.remove(&photo.sha256);
                }
            }
        }
    }

    /// The photos the posts of `team` name, hidden posts' too.
    pub fn photos_of(&self, team: &TeamId) -> std::collections::BTreeSet<&str> {
        self.posts.photos_of(team)
    }

    /// Whether any post, visible or hidden, names the photo with this SHA-256.
    pub fn photo_is_named(&self, sha256: &str) -> bool {
        self.posts.photo_is_named(sha256)
    }

    /// Whether a visible post shows the photo with this SHA-256.
    pub fn photo_is_shown(&self, sha256: &str) -> bool {
        self.shown_photos.contains_key(sha256)
    }

    /// The state before any event.
    pub fn new() -> Self {
        Self::default()
    }

    /// Folds a whole log.
    pub fn replay<'a>(events: impl IntoIterator<Item = &'a Event>) -> Result<State, SeqError> {
        let mut state = State::new();
        for event in events {
            state.apply(event)?;
        }
        Ok(state)
    }

    /// The seq of the last event applied; 0 before any.
    pub fn seq(&self) -> u64 {
        self.seq
    }

    /// The challenge, once created.
    pub fn challenge(&self) -> Option<&Challenge> {
        self.challenge.as_ref()
    }

    /// The phase; `Setup` before the challenge exists.
    pub fn phase(&self) -> Phase {
        self.challenge.as_ref().map_or(Phase::Setup, |c| c.phase)
    }

    /// Tracks in order.
    pub fn tracks(&self) -> &[Track] {
        &self.tracks
    }

    /// Milestones in order.
    pub fn milestones(&self) -> &[MilestoneDef] {
        &self.milestones
    }

    /// The rubric, once set.
    pub fn rubric(&self) -> Option<&Rubric> {
        self.rubric.as_ref()
    }

    /// How jury scores are formed.
    pub fn ranking(&self) -> &RankingSettings {
        &self.ranking
    }

    /// Teams by id.
    pub fn teams(&self) -> &BTreeMap<TeamId, Team> {
        &self.teams
    }

    /// One team.
    pub fn team(&self, id: &TeamId) -> Option<&Team> {
        self.teams.get(id)
    }

    /// A team's milestones and percent done.
    pub fn progress(&self, id: &TeamId) -> Option<&TeamProgress> {
        self.progress.get(id)
    }

    /// Judges by id.
    pub fn judges(&self) -> &BTreeMap<JudgeId, Judge> {
        &self.judges
    }

    /// One judge.
    pub fn judge(&self, id: &JudgeId) -> Option<&Judge> {
        self.judges.get(id)
    }

    /// The newest posts, kept whole ([`crate::posts::POSTS_KEPT`] visible ones and the hidden
    /// ones among them), hidden ones included, oldest first.
    pub fn recent_posts(&self) -> impl DoubleEndedIterator<Item = &Post> {
        self.posts.recent()
    }

    /// One post: whole if it is one of the newest, else known by id (its text is in the log).
    pub fn post(&self, id: u64) -> Option<Known<'_>> {
        self.posts.get(id)
    }

    /// The posts of `team`, hidden ones included, oldest first: whole or by id.
    pub fn posts_of<'a>(&'a self, team: &TeamId) -> impl Iterator<Item = Known<'a>> {
        self.posts.of_team(team)
    }

    /// How many posts are remembered, and how many of them whole.
    pub fn post_counts(&self) -> (usize, usize) {
        (self.posts.len(), self.posts.whole())
    }

    /// The newest milestone announcements, newest first, withdrawn ones marked with the reason.
    pub fn announcements(&self) -> &[Announcement] {
        &self.announcements
    }

    /// Scorecards by (team, judge).
    pub fn scorecards(&self) -> &BTreeMap<(TeamId, JudgeId), Scorecard> {
        &self.scorecards
    }

    /// One judge's scorecard of one team.
    pub fn scorecard(&self, judge: &JudgeId, team: &TeamId) -> Option<&Scorecard> {
        self.scorecards.get(&(team.clone(), judge.clone()))
    }

    /// Logged cheers per team.
    pub fn cheers(&self) -> &BTreeMap<TeamId, u64> {
        &self.cheers
    }

    /// Minted tokens by hash.
    pub fn tokens(&self) -> &BTreeMap<TokenHash, TokenRecord> {
        &self.tokens
    }

    /// The actor a presented token speaks for, if it was minted and not revoked. The lookup is by
    /// hash, so the comparison never touches the secret itself.
    pub fn authenticate(&self, token: &str) -> Option<Actor> {
        let record = self.tokens.get(&TokenHash::of(token))?;
        if record.revoked_at.is_some() {
            return None;
        }
        Some(match &record.subject {
            Subject::Team(id) => Actor::Team(id.clone()),
            Subject::Judge(id) => Actor::Judge(id.clone()),
        })
    }

    /// The answer already given to a command, if it is one of the actor's latest
    /// ([`crate::answers::IDEMPOTENCY_WINDOW`]) accepted commands.
    pub fn answered(&self, actor: &Actor, id: &CommandId) -> Option<Ack> {
        self.answers.recent(actor, id)
    }

    /// The seq of the first event of an older accepted command of `actor` that may have had this
    /// id: the log at that seq tells whether it did, and what was answered.
    pub fn answered_earlier(&self, actor: &Actor, id: &CommandId) -> Option<u64> {
        self.answers.earlier(actor, id)
    }

    /// How many accepted commands are remembered whole (the actors' windows), and how many by
    /// fingerprint only.
    pub fn remembered_commands(&self) -> (usize, usize) {
        self.answers.sizes()
    }

    /// Makes this state share with `committed`, a state at the same seq, what the two hold alike
    /// and what grows with the challenge (the answers remembered), so that a server's writer
    /// and its readers do not each keep their own copy. Nothing observable changes.
    pub fn share_with(&mut self, committed: &State) {
        if self.seq == committed.seq {
            self.answers.share_with(&committed.answers);
        }
    }

    /// The frozen public board, during a freeze and after.
    pub fn frozen(&self) -> Option<&FrozenBoard> {
        self.frozen.as_ref()
    }

    /// Every team's row before ranking, as the state's events left it.
    pub(crate) fn tally(&self) -> &Tally {
        &self.tally
    }

    /// Reveal steps so far.
    pub fn revealed(&self) -> &[RevealEntry] {
        &self.revealed
    }

    /// Applies one event. Events come from the core's own decisions, so `apply` trusts their
    /// content; it only refuses an event out of sequence.
    pub fn apply(&mut self, event: &Event) -> Result<(), SeqError> {
        if event.seq != self.seq + 1 {
            return Err(SeqError {
                expected_after: self.seq,
                got: event.seq,
            });
        }
        self.seq = event.seq;
        if let Some(command) = &event.command {
            self.answers
                .note(&event.actor, &command.id, &command.digest, event.seq);
        }
        self.apply_body(event);
        let mut tally = std::mem::take(&mut self.tally);
        tally.follow(self, &event.body);
        self.tally = tally;
        Ok(())
    }

    /// Revokes every live token of `subject`: on request, and when a team or judge is removed,
    /// so that a later team or judge with the same id is not reachable with an old token.
    fn revoke(&mut self, subject: &Subject, at: DateTime<Utc>) {
        for record in self.tokens.values_mut() {
            if &record.subject == subject && record.revoked_at.is_none() {
                record.revoked_at = Some(at);
            }
        }
    }

    fn challenge_mut(&mut self) -> Option<&mut Challenge> {
        self.challenge.as_mut()
    }

    fn apply_body(&mut self, event: &Event) {
        let at = event.at;
        match &event.body {
            EventBody::ChallengeCreated {
                id,
                title,
                description,
                planned_start,
                duration_secs,
            } => {
                self.challenge = Some(Challenge {
                    id: id.clone(),
                    title: title.clone(),
                    description: description.clone(),
                    planned_start: *planned_start,
                    phase: Phase::Setup,
                    clock: Clock::new(*duration_secs),
                    scoring_open: false,
                });
            }
            EventBody::ChallengeUpdated {
                title,
                description,
                planned_start,
                duration_secs,
            } => {
                if let Some(c) = self.challenge_mut() {
                    c.title = title.clone();
                    c.description = description.clone();
                    c.planned_start = *planned_start;
                    c.clock.duration_secs = *duration_secs;
                }
            }
            EventBody::TrackAdded { track } => self.tracks.push(track.clone()),
            EventBody::TrackUpdated { track } => {
                if let Some(t) = self.tracks.iter_mut().find(|t| t.id == track.id) {
                    *t = track.clone();
                }
            }
            EventBody::TrackRemoved { id } => {
                self.tracks.retain(|t| &t.id != id);
                for judge in self.judges.values_mut() {
                    judge.assignment.tracks.remove(id);
                }
            }
            EventBody::RubricSet { rubric } => self.rubric = Some(rubric.clone()),
            EventBody::MilestonesSet { milestones } => self.milestones = milestones.clone(),
            EventBody::RankingSet { settings } => self.ranking = settings.clone(),
            EventBody::TeamAdded { team } | EventBody::TeamUpdated { team } => {
                self.progress.entry(team.id.clone()).or_default();
                self.teams.insert(team.id.clone(), team.clone());
            }
            EventBody::TeamRemoved { id } => {
                self.revoke(&Subject::Team(id.clone()), at);
                self.teams.remove(id);
                self.progress.remove(id);
                self.cheers.remove(id);
                for judge in self.judges.values_mut() {
                    judge.assignment.teams.remove(id);
                    judge.conflicts.remove(id);
                }
            }
            EventBody::JudgeAdded { judge } | EventBody::JudgeUpdated { judge } => {
                self.judges.insert(judge.id.clone(), judge.clone());
            }
            EventBody::JudgeRemoved { id } => {
                self.revoke(&Subject::Judge(id.clone()), at);
                self.judges.remove(id);
            }
            EventBody::TokenIssued {
                subject,
                token_hash,
            } => {
                self.tokens.insert(
                    token_hash.clone(),
                    TokenRecord {
                        subject: subject.clone(),
                        issued_at: at,
                        revoked_at: None,
                    },
                );
            }
            EventBody::TokensRevoked { subject } => self.revoke(subject, at),
            EventBody::ChallengeStarted => {
                if let Some(c) = self.challenge_mut() {
                    c.phase = Phase::Running;
                    c.clock.started_at = Some(at);
                }
            }
            EventBody::ClockPaused { reason } => {
                if let Some(c) = self.challenge_mut() {
                    c.clock.pauses.push(Pause {
                        from: at,
                        until: None,
                        reason: reason.clone(),
                    });
                }
            }
            EventBody::ClockResumed => {
                if let Some(pause) = self.challenge_mut().and_then(|c| c.clock.pauses.last_mut()) {
                    pause.until = Some(at);
                }
            }
            EventBody::BuildingEnded => {
                if let Some(c) = self.challenge_mut() {
                    c.phase = Phase::Judging;
                    c.clock.ended_at = Some(at);
                    if let Some(pause) = c.clock.pauses.last_mut().filter(|p| p.until.is_none()) {
                        pause.until = Some(at);
                    }
                }
            }
            EventBody::ScoringOpened { .. } => {
                if let Some(c) = self.challenge_mut() {
                    c.scoring_open = true;
                }
            }
            EventBody::ScoringClosed => {
                if let Some(c) = self.challenge_mut() {
                    c.scoring_open = false;
                }
            }
            EventBody::Frozen { board } => {
                let board = match board {
                    Some(board) => board.clone(),
                    // A log of schema 1 froze the live board less its contributions; recomputed
                    // the way those servers did, so that an old log replays as it was shown.
                    None => Leaderboard::compute(self).schema1_public(),
                };
                self.frozen = Some(FrozenBoard {
                    seq: event.seq,
                    board,
                    pending: BTreeMap::new(),
                });
                if let Some(c) = self.challenge_mut() {
                    c.phase = Phase::Frozen;
                }
            }
            EventBody::TeamRevealed {
                track,
                team,
                rank,
                score,
            } => self.revealed.push(RevealEntry {
                seq: event.seq,
                track: track.clone(),
                team: team.clone(),
                rank: *rank,
                score: *score,
            }),
            EventBody::ResultFinal => {
                if let Some(c) = self.challenge_mut() {
                    c.phase = Phase::Revealed;
                    c.scoring_open = false;
                }
            }
            EventBody::PostHidden { post, reason } => self.hide(*post, reason),
            EventBody::ProgressPosted {
                team,
                photos,
                percent,
                ..
            } => {
                let progress = self.progress.entry(team.clone()).or_default();
                progress.posts += 1;
                for photo in photos {
                    *self.shown_photos.entry(photo.sha256.clone()).or_default() += 1;
                }
                if percent.is_some() {
                    progress.percent = *percent;
                }
                self.posts
                    .push(Post::from_event(event).expect("a post's event"));
            }
            EventBody::MilestoneReached {
                team,
                milestone,
                note,
                elapsed_secs,
            } => {
                let due = self
                    .milestones
                    .iter()
                    .find(|m| &m.id == milestone)
                    .and_then(|m| m.due_offset_secs);
                self.progress
                    .entry(team.clone())
                    .or_default()
                    .reached
                    .push(Reached {
                        milestone: milestone.clone(),
                        at,
                        elapsed_secs: *elapsed_secs,
                        on_time: due.map(|due| *elapsed_secs <= due),
                        note: note.clone(),
                    });
                self.announcements.insert(
                    0,
                    Announcement {
                        seq: event.seq,
                        team: team.clone(),
                        milestone: milestone.clone(),
                        at,
                        withdrawn: None,
                    },
                );
                self.announcements.truncate(ANNOUNCEMENTS_KEPT);
            }
            EventBody::MilestoneUndone {
                team,
                milestone,
                reason,
            } => {
                let Some(progress) = self.progress.get_mut(team) else {
                    return;
                };
                let Some(i) = progress
                    .reached
                    .iter()
                    .position(|r| &r.milestone == milestone)
                else {
                    return;
                };
                let taken_back: Vec<_> = progress.reached.drain(i..).map(|r| r.milestone).collect();
                // Only the announcements still standing: one withdrawn before and ticked again
                // since has a newer announcement, which this undo withdraws instead.
                for a in self.announcements.iter_mut().filter(|a| {
                    &a.team == team && a.withdrawn.is_none() && taken_back.contains(&a.milestone)
                }) {
                    a.withdrawn = Some(Withdrawal {
                        seq: event.seq,
                        reason: Some(reason.clone()),
                    });
                }
            }
            EventBody::ScorecardSubmitted {
                judge,
                team,
                revision,
                scores,
                comment,
                reason,
            } => {
                let current = Revision {
                    revision: *revision,
                    seq: event.seq,
                    at,
                    scores: scores.clone(),
                    comment: comment.clone(),
                    reason: reason.clone(),
                };
                let key = (team.clone(), judge.clone());
                match self.scorecards.get_mut(&key) {
                    Some(card) => {
                        let previous = std::mem::replace(&mut card.current, current);
                        card.history.push(previous);
                        if card.history.len() > crate::rubric::REVISIONS_KEPT {
                            card.history.remove(0);
                            card.earlier += 1;
                        }
                    }
                    None => {
                        self.scorecards.insert(
                            key,
                            Scorecard {
                                judge: judge.clone(),
                                team: team.clone(),
                                current,
                                history: Vec::new(),
                                earlier: 0,
                            },
                        );
                    }
                }
                if let Some(frozen) = &mut self.frozen {
                    *frozen.pending.entry(team.clone()).or_default() += 1;
                }
            }
            EventBody::ConflictDeclared { judge, team, .. } => {
                if let Some(j) = self.judges.get_mut(judge) {
                    j.conflicts.insert(team.clone());
                }
            }
            EventBody::CheersTallied { counts } => {
                for (team, n) in counts {
                    let count = self.cheers.entry(team.clone()).or_default();
                    *count = count.saturating_add(*n);
                }
            }
        }
    }
}
