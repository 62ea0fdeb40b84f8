//! Deciding: a command from an actor at a time, against the state, becomes events or a typed
//! error. Who may do what is decided here, once, for every transport; what each command needs is
//! checked by its concern under `decide/`: setup, roster, clock and work, with the shared checks.

use chrono::{DateTime, Utc};

use crate::challenge::Phase;
use crate::command::{Actor, Command, Envelope};
use crate::error::DomainError;
use crate::event::{CommandRef, Event, EventBody};
use crate::ids::{hex_sha256, JudgeId, TeamId, TrackId};
use crate::roster::{Judge, Subject, Team, Track};
use crate::state::{Ack, State};

mod checks;
mod clock;
mod roster;
mod setup;
mod work;

use checks::unknown;

/// The most cheers one tally may add for one team: far above what people can tap in a few
/// seconds, far below what could overflow a count.
pub const MAX_TALLY: u64 = 1_000_000_000;

/// The most rows one `import_roster` may hold: a large event's teams and judges, several times
/// over.
pub const MAX_IMPORT_ROWS: usize = 2_000;

/// What to do with an accepted command.
#[derive(Clone, Debug, PartialEq)]
pub enum Decision {
    /// Append these events, in order, then acknowledge.
    Append(Vec<EventBody>),
    /// The command was accepted before; answer with the first answer and change nothing.
    Repeat(Ack),
    /// A cheer for this team: count it; a tally reaches the log later.
    Cheer(TeamId),
    /// The id may be that of an older command of the actor, no longer remembered whole: the
    /// log's events from this seq tell (see [`crate::answers`]). Read them, answer with
    /// [`Decision::Repeat`] if they are this command's, refuse a reused id if they are another
    /// command's of the same actor with this id, and otherwise decide with [`decide_new`].
    LookUp {
        /// The seq of the first event of the command that had a matching fingerprint.
        first_seq: u64,
    },
}

/// The result of [`State::execute`].
#[derive(Clone, Debug, PartialEq)]
pub enum Outcome {
    /// New events were applied.
    Applied(Vec<Event>),
    /// A resend; nothing changed.
    Repeat(Ack),
    /// A cheer to count.
    Cheer(TeamId),
    /// An older command's id, maybe: see [`Decision::LookUp`].
    LookUp {
        /// Where in the log to look.
        first_seq: u64,
    },
}

/// Decides `envelope` from `actor` at `now`. Pure: the same inputs always give the same answer.
pub fn decide(
    state: &State,
    actor: &Actor,
    envelope: &Envelope,
    now: DateTime<Utc>,
) -> Result<Decision, DomainError> {
    if !matches!(envelope.command, Command::Cheer { .. }) {
        if let Some(ack) = state.answered(actor, &envelope.id) {
            return if ack.is_for(&envelope.command) {
                Ok(Decision::Repeat(ack))
            } else {
                Err(DomainError::CommandIdReused {
                    id: envelope.id.to_string(),
                })
            };
        }
        if let Some(first_seq) = state.answered_earlier(actor, &envelope.id) {
            return Ok(Decision::LookUp { first_seq });
        }
    }
    decide_new(state, actor, envelope, now)
}

/// Decides `envelope` as a command the state never accepted: for a server that looked up a
/// [`Decision::LookUp`] in its log and found another command there.
pub fn decide_new(
    state: &State,
    actor: &Actor,
    envelope: &Envelope,
    now: DateTime<Utc>,
) -> Result<Decision, DomainError> {
    authorize(actor, &envelope.command)?;
    let ctx = Ctx { state, actor, now };
    ctx.decide(&envelope.command)
}

/// Numbers the events of an accepted command after the state's seq, ready to append.
pub fn stamp(
    state: &State,
    actor: &Actor,
    envelope: &Envelope,
    bodies: Vec<EventBody>,
    now: DateTime<Utc>,
) -> Vec<Event> {
    let command = CommandRef {
        id: envelope.id.clone(),
        digest: digest(&envelope.command),
    };
    bodies
        .into_iter()
        .zip(state.seq() + 1..)
        .map(|(body, seq)| Event::new(seq, now, actor.clone(), Some(command.clone()), body))
        .collect()
}

impl State {
    /// Decides, stamps and applies in one go: the whole path of a command for callers that keep
    /// the log themselves afterwards (tests, replays, the demo). The server instead appends the
    /// stamped events durably before applying them.
    pub fn execute(
        &mut self,
        actor: &Actor,
        envelope: &Envelope,
        now: DateTime<Utc>,
    ) -> Result<Outcome, DomainError> {
        match decide(self, actor, envelope, now)? {
            Decision::Append(bodies) => {
                let events = stamp(self, actor, envelope, bodies, now);
                for event in &events {
                    self.apply(event).expect("stamped events follow the state");
                }
                Ok(Outcome::Applied(events))
            }
            Decision::Repeat(ack) => Ok(Outcome::Repeat(ack)),
            Decision::Cheer(team) => Ok(Outcome::Cheer(team)),
            Decision::LookUp { first_seq } => Ok(Outcome::LookUp { first_seq }),
        }
    }
}

/// A short digest of a command's content, to tell a resend from an id reused for something else.
pub fn command_digest(command: &Command) -> String {
    digest(command)
}

fn digest(command: &Command) -> String {
    let json = serde_json::to_string(command).expect("commands always serialise");
    hex_sha256(json.as_bytes())[..16].to_owned()
}

/// Which roles may send which commands, before anything else is looked at. One arm per command
/// and no catch-all: a new command does not compile until someone decides who may send it.
fn authorize(actor: &Actor, command: &Command) -> Result<(), DomainError> {
    let admin = matches!(actor, Actor::Admin);
    let team = matches!(actor, Actor::Team(_));
    let judge = matches!(actor, Actor::Judge(_));
    let audience = matches!(actor, Actor::Audience);
    let system = matches!(actor, Actor::System);
    let allowed = match command {
        Command::CreateChallenge { .. } => admin,
        Command::UpdateChallenge { .. } => admin,
        Command::AddTrack { .. } => admin,
        Command::UpdateTrack { .. } => admin,
        Command::RemoveTrack { .. } => admin,
        Command::SetRubric { .. } => admin,
        Command::SetMilestones { .. } => admin,
        Command::SetRanking { .. } => admin,
        Command::AddTeam { .. } => admin,
        Command::UpdateTeam { .. } => admin,
        Command::RemoveTeam { .. } => admin,
        Command::AddJudge { .. } => admin,
        Command::UpdateJudge { .. } => admin,
        Command::RemoveJudge { .. } => admin,
        Command::ImportRoster { .. } => admin,
        Command::IssueToken { .. } => admin,
        Command::RevokeTokens { .. } => admin,
        Command::StartChallenge => admin,
        Command::PauseClock { .. } => admin,
        Command::ResumeClock => admin,
        // The system ends building when the clock runs out; an organizer may end it early.
        Command::EndBuilding => admin || system,
        Command::OpenScoring { .. } => admin,
        Command::CloseScoring => admin,
        Command::Freeze => admin,
        Command::RevealNext => admin,
        Command::HidePost { .. } => admin,
        Command::UndoMilestone { .. } => admin,
        Command::PostProgress { .. } => team,
        Command::ReachMilestone { .. } => team,
        Command::SubmitScorecard { .. } => judge,
        Command::DeclareConflict { .. } => judge,
        Command::Cheer { .. } => audience,
        Command::TallyCheers { .. } => system,
    };
    if allowed {
        Ok(())
    } else {
        Err(DomainError::Forbidden {
            action: command.name(),
            role: actor.role_name(),
        })
    }
}

/// A command's surroundings while it is decided: the state it meets, who sent it, and when. The
/// concerns under `decide/` add one method per command (or per small group) to it.
struct Ctx<'a> {
    state: &'a State,
    actor: &'a Actor,
    now: DateTime<Utc>,
}

fn one(body: EventBody) -> Result<Decision, DomainError> {
    Ok(Decision::Append(vec![body]))
}

impl Ctx<'_> {
    /// Sends each command to its concern. Every command but `create_challenge` needs the
    /// challenge to exist, so that is settled here once.
    fn decide(&self, command: &Command) -> Result<Decision, DomainError> {
        let challenge = match (command, self.state.challenge()) {
            (
                Command::CreateChallenge {
                    id,
                    title,
                    description,
                    planned_start,
                    duration_secs,
                },
                None,
            ) => {
                return self.create_challenge(
                    id,
                    title,
                    description,
                    *planned_start,
                    *duration_secs,
                )
            }
            (Command::CreateChallenge { .. }, Some(_)) => return Err(DomainError::ChallengeExists),
            (_, None) => return Err(DomainError::NoChallenge),
            (_, Some(challenge)) => challenge,
        };
        match command {
            Command::CreateChallenge { .. } => unreachable!("handled above"),
            // setup.rs
            Command::UpdateChallenge {
                title,
                description,
                planned_start,
                duration_secs,
            } => self.update_challenge(
                challenge,
                title,
                description,
                *planned_start,
                *duration_secs,
            ),
            Command::AddTrack {
                id,
                name,
                description,
            } => self.add_track(id, name, description),
            Command::UpdateTrack {
                id,
                name,
                description,
            } => self.update_track(id, name, description),
            Command::RemoveTrack { id } => self.remove_track(id),
            Command::SetRubric { rubric } => self.set_rubric(rubric),
            Command::SetMilestones { milestones } => self.set_milestones(milestones),
            Command::SetRanking { settings } => self.set_ranking(challenge, settings),
            // roster.rs
            Command::AddTeam {
                id,
                track,
                name,
                description,
                members,
                contact,
            } => self.add_team(id, track, name, description, members, contact),
            Command::UpdateTeam {
                id,
                track,
                name,
                description,
                members,
                contact,
            } => self.update_team(id, track, name, description, members, contact),
            Command::RemoveTeam { id } => self.remove_team(id),
            Command::AddJudge {
                id,
                name,
                panel_role,
                affiliation,
                assignment,
                conflicts,
            } => self.add_judge(id, name, *panel_role, affiliation, assignment, conflicts),
            Command::UpdateJudge {
                id,
                name,
                panel_role,
                affiliation,
                assignment,
                conflicts,
            } => self.update_judge(id, name, *panel_role, affiliation, assignment, conflicts),
            Command::RemoveJudge { id } => self.remove_judge(id),
            Command::ImportRoster { teams, judges } => self.import_roster(teams, judges),
            Command::IssueToken {
                subject,
                token_hash,
            } => self.issue_token(subject, token_hash),
            Command::RevokeTokens { subject } => self.revoke_tokens(subject),
            // clock.rs
            Command::StartChallenge => self.start_challenge(),
            Command::PauseClock { reason } => self.pause_clock(challenge, reason),
            Command::ResumeClock => self.resume_clock(challenge),
            Command::EndBuilding => self.end_building(challenge),
            Command::OpenScoring { reason } => self.open_scoring(challenge, reason),
            Command::CloseScoring => self.close_scoring(challenge),
            Command::Freeze => self.freeze(),
            Command::RevealNext => self.reveal_next(challenge),
            // work.rs
            Command::HidePost { post, reason } => self.hide_post(*post, reason),
            Command::UndoMilestone {
                team,
                milestone,
                reason,
            } => self.undo_milestone(team, milestone, reason),
            Command::PostProgress {
                text,
                photos,
                links,
                percent,
            } => self.post_progress(text, photos, links, *percent),
            Command::ReachMilestone { milestone, note } => {
                self.reach_milestone(challenge, milestone, note)
            }
            Command::SubmitScorecard {
                team,
                scores,
                comment,
                reason,
            } => self.submit_scorecard(challenge, team, scores, comment, reason),
            Command::DeclareConflict { team, reason } => self.declare_conflict(team, reason),
            Command::Cheer { team } => self.cheer(team),
            Command::TallyCheers { counts } => self.tally_cheers(counts),
        }
    }

    fn phase_in(
        &self,
        action: &'static str,
        allowed: &[Phase],
        names: &'static str,
    ) -> Result<(), DomainError> {
        let phase = self.state.phase();
        if allowed.contains(&phase) {
            Ok(())
        } else {
            Err(DomainError::WrongPhase {
                action,
                phase,
                allowed: names,
            })
        }
    }

    /// Judges' eligibility and scorecards feed the result; once the reveal has begun they are fixed.
    fn before_reveal(&self, action: &'static str) -> Result<(), DomainError> {
        if self.state.revealed().is_empty() {
            self.phase_in(
                action,
                &[Phase::Setup, Phase::Running, Phase::Judging, Phase::Frozen],
                "any phase before the reveal begins",
            )
        } else {
            Err(DomainError::WrongPhase {
                action,
                phase: self.state.phase(),
                allowed: "any phase before the reveal begins",
            })
        }
    }

    fn track(&self, id: &TrackId) -> Result<&Track, DomainError> {
        self.state
            .tracks()
            .iter()
            .find(|t| &t.id == id)
            .ok_or_else(|| unknown("track", id))
    }

    fn team(&self, id: &TeamId) -> Result<&Team, DomainError> {
        self.state.team(id).ok_or_else(|| unknown("team", id))
    }

    fn judge(&self, id: &JudgeId) -> Result<&Judge, DomainError> {
        self.state.judge(id).ok_or_else(|| unknown("judge", id))
    }

    fn acting_team(&self) -> Result<&Team, DomainError> {
        match self.actor {
            Actor::Team(id) => self.team(id),
            _ => unreachable!("authorize lets only teams through"),
        }
    }

    fn acting_judge(&self) -> Result<&Judge, DomainError> {
        match self.actor {
            Actor::Judge(id) => self.judge(id),
            _ => unreachable!("authorize lets only judges through"),
        }
    }

    fn subject(&self, subject: &Subject) -> Result<(), DomainError> {
        match subject {
            Subject::Team(id) => self.team(id).map(drop),
            Subject::Judge(id) => self.judge(id).map(drop),
        }
    }
}
