//! Deciding: a command from an actor at a time, against the state, becomes events or a typed
//! error. Who may do what is decided here, once, for every transport.

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};

use crate::challenge::{Phase, MAX_DURATION_SECS};
use crate::command::{Actor, Command, Envelope};
use crate::error::{DomainError, REOPENING_SCORING, REVISING_A_SCORECARD};
use crate::event::{CommandRef, Event, EventBody};
use crate::ids::{hex_sha256, is_sha256_hex, JudgeId, TeamId, TrackId};
use crate::leaderboard::Leaderboard;
use crate::milestone::{MilestoneDef, MAX_MILESTONES};
use crate::progress::{MAX_LINKS, MAX_PHOTOS};
use crate::roster::{
    Assignment, Judge, Member, Subject, Team, Track, MAX_CONTACT, MAX_MEMBERS, MAX_REGION,
};
use crate::rubric::{Rubric, MAX_CRITERIA, MAX_SCALE, MAX_WEIGHT};
use crate::state::{Ack, State};
use crate::text::{self, Localized, MAX_COMMENT, MAX_DESCRIPTION, MAX_NAME, MAX_POST, MAX_REASON};

/// The most cheers one tally may add for one team: far above what people can tap in a few
/// seconds, far below what could overflow a count.
pub const MAX_TALLY: u64 = 1_000_000_000;

/// What to do with an accepted command.
#[derive(Clone, Debug, PartialEq)]
pub enum Decision {
    /// Append these events, in order, then acknowledge.
    Append(Vec<EventBody>),
    /// The command was accepted before; answer with the first answer and change nothing.
    Repeat(Ack),
    /// A cheer for this team: count it; a tally reaches the log later.
    Cheer(TeamId),
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
            return if ack.digest == digest(&envelope.command) {
                Ok(Decision::Repeat(ack.clone()))
            } else {
                Err(DomainError::CommandIdReused {
                    id: envelope.id.to_string(),
                })
            };
        }
    }
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
        }
    }
}

/// A short digest of a command's content, to tell a resend from an id reused for something else.
fn digest(command: &Command) -> String {
    let json = serde_json::to_string(command).expect("commands always serialise");
    hex_sha256(json.as_bytes())[..16].to_owned()
}

/// Which roles may send which commands, before anything else is looked at.
fn authorize(actor: &Actor, command: &Command) -> Result<(), DomainError> {
    let allowed = match command {
        Command::PostProgress { .. } | Command::ReachMilestone { .. } => {
            matches!(actor, Actor::Team(_))
        }
        Command::SubmitScorecard { .. } | Command::DeclareConflict { .. } => {
            matches!(actor, Actor::Judge(_))
        }
        Command::Cheer { .. } => matches!(actor, Actor::Audience),
        Command::TallyCheers { .. } => matches!(actor, Actor::System),
        Command::EndBuilding => matches!(actor, Actor::Admin | Actor::System),
        _ => matches!(actor, Actor::Admin),
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

struct Ctx<'a> {
    state: &'a State,
    actor: &'a Actor,
    now: DateTime<Utc>,
}

fn one(body: EventBody) -> Result<Decision, DomainError> {
    Ok(Decision::Append(vec![body]))
}

impl Ctx<'_> {
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

    fn decide(&self, command: &Command) -> Result<Decision, DomainError> {
        let name = command.name();
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
                let duration_secs =
                    duration(duration_secs.unwrap_or(crate::challenge::DEFAULT_DURATION_SECS))?;
                return Ok(Decision::Append(vec![
                    EventBody::ChallengeCreated {
                        id: id.clone(),
                        title: title.clone().checked("title", MAX_NAME)?,
                        description: optional_localized(
                            "description",
                            description,
                            MAX_DESCRIPTION,
                        )?,
                        planned_start: *planned_start,
                        duration_secs,
                    },
                    EventBody::MilestonesSet {
                        milestones: crate::milestone::default_milestones(),
                    },
                    EventBody::RubricSet {
                        rubric: Rubric::default_rubric(),
                    },
                ]));
            }
            (Command::CreateChallenge { .. }, Some(_)) => return Err(DomainError::ChallengeExists),
            (_, None) => return Err(DomainError::NoChallenge),
            (_, Some(challenge)) => challenge,
        };
        use Phase::*;
        match command {
            Command::CreateChallenge { .. } => unreachable!("handled above"),
            Command::UpdateChallenge {
                title,
                description,
                planned_start,
                duration_secs,
            } => {
                let duration_secs = duration(*duration_secs)?;
                if duration_secs != challenge.clock.duration_secs {
                    self.phase_in(
                        "changing the duration",
                        &[Setup, Running],
                        "setup or running",
                    )?;
                }
                one(EventBody::ChallengeUpdated {
                    title: title.clone().checked("title", MAX_NAME)?,
                    description: optional_localized("description", description, MAX_DESCRIPTION)?,
                    planned_start: *planned_start,
                    duration_secs,
                })
            }
            Command::AddTrack {
                id,
                name: track_name,
                description,
            } => {
                self.phase_in(name, &[Setup], "setup")?;
                if self.track(id).is_ok() {
                    return Err(duplicate("track", id));
                }
                one(EventBody::TrackAdded {
                    track: checked_track(id, track_name, description)?,
                })
            }
            Command::UpdateTrack {
                id,
                name: track_name,
                description,
            } => {
                self.track(id)?;
                one(EventBody::TrackUpdated {
                    track: checked_track(id, track_name, description)?,
                })
            }
            Command::RemoveTrack { id } => {
                self.phase_in(name, &[Setup], "setup")?;
                self.track(id)?;
                if self.state.teams().values().any(|t| &t.track == id) {
                    return Err(DomainError::TrackNotEmpty {
                        track: id.to_string(),
                    });
                }
                one(EventBody::TrackRemoved { id: id.clone() })
            }
            Command::SetRubric { rubric } => {
                self.phase_in(name, &[Setup], "setup")?;
                one(EventBody::RubricSet {
                    rubric: checked_rubric(rubric)?,
                })
            }
            Command::SetMilestones { milestones } => {
                self.phase_in(name, &[Setup], "setup")?;
                one(EventBody::MilestonesSet {
                    milestones: checked_milestones(milestones)?,
                })
            }
            Command::SetRanking { settings } => {
                if matches!(challenge.phase, Frozen | Revealed) {
                    return Err(DomainError::RankingLocked);
                }
                for (role, &w) in &settings.role_weights {
                    let name = serde_json::to_value(role)
                        .ok()
                        .and_then(|v| v.as_str().map(str::to_owned))
                        .unwrap_or_default();
                    weight(&name, w)?;
                }
                one(EventBody::RankingSet {
                    settings: settings.clone(),
                })
            }
            Command::AddTeam {
                id,
                track,
                name: team_name,
                description,
                members,
                contact,
            } => {
                self.phase_in(name, &[Setup, Running], "setup or running")?;
                if self.state.team(id).is_some() {
                    return Err(duplicate("team", id));
                }
                self.track(track)?;
                let team = checked_team(id, track, team_name, description, members, contact)?;
                one(EventBody::TeamAdded { team })
            }
            Command::UpdateTeam {
                id,
                track,
                name: team_name,
                description,
                members,
                contact,
            } => {
                let existing = self.team(id)?;
                self.track(track)?;
                if &existing.track != track {
                    self.phase_in("moving a team to another track", &[Setup], "setup")?;
                }
                let team = checked_team(id, track, team_name, description, members, contact)?;
                one(EventBody::TeamUpdated { team })
            }
            Command::RemoveTeam { id } => {
                self.phase_in(name, &[Setup], "setup")?;
                self.team(id)?;
                one(EventBody::TeamRemoved { id: id.clone() })
            }
            Command::AddJudge {
                id,
                name: judge_name,
                panel_role,
                affiliation,
                assignment,
                conflicts,
            } => {
                self.phase_in(
                    name,
                    &[Setup, Running, Judging],
                    "setup, running or judging",
                )?;
                if self.state.judge(id).is_some() {
                    return Err(duplicate("judge", id));
                }
                let judge = self.checked_judge(
                    id,
                    judge_name,
                    *panel_role,
                    affiliation,
                    assignment,
                    conflicts,
                )?;
                one(EventBody::JudgeAdded { judge })
            }
            Command::UpdateJudge {
                id,
                name: judge_name,
                panel_role,
                affiliation,
                assignment,
                conflicts,
            } => {
                self.before_reveal(name)?;
                self.judge(id)?;
                let judge = self.checked_judge(
                    id,
                    judge_name,
                    *panel_role,
                    affiliation,
                    assignment,
                    conflicts,
                )?;
                one(EventBody::JudgeUpdated { judge })
            }
            Command::RemoveJudge { id } => {
                self.phase_in(name, &[Setup], "setup")?;
                self.judge(id)?;
                one(EventBody::JudgeRemoved { id: id.clone() })
            }
            Command::IssueToken {
                subject,
                token_hash,
            } => {
                self.subject(subject)?;
                if self.state.tokens().contains_key(token_hash) {
                    return Err(DomainError::DuplicateId {
                        kind: "token",
                        id: token_hash.as_str()[..8].to_owned(),
                    });
                }
                one(EventBody::TokenIssued {
                    subject: subject.clone(),
                    token_hash: token_hash.clone(),
                })
            }
            Command::RevokeTokens { subject } => {
                self.subject(subject)?;
                let live = self
                    .state
                    .tokens()
                    .values()
                    .any(|t| &t.subject == subject && t.revoked_at.is_none());
                if !live {
                    return Err(DomainError::NoLiveToken {
                        subject: subject_name(subject),
                    });
                }
                one(EventBody::TokensRevoked {
                    subject: subject.clone(),
                })
            }
            Command::StartChallenge => {
                self.phase_in(name, &[Setup], "setup")?;
                if self.state.tracks().is_empty() || self.state.teams().is_empty() {
                    return Err(DomainError::NotReady {
                        missing: "add at least one track and one team",
                    });
                }
                one(EventBody::ChallengeStarted)
            }
            Command::PauseClock { reason } => {
                self.phase_in(name, &[Running], "running")?;
                if challenge.clock.is_paused() {
                    return Err(DomainError::AlreadyPaused);
                }
                one(EventBody::ClockPaused {
                    reason: text::optional("reason", reason, MAX_REASON)?,
                })
            }
            Command::ResumeClock => {
                self.phase_in(name, &[Running], "running")?;
                if !challenge.clock.is_paused() {
                    return Err(DomainError::NotPaused);
                }
                one(EventBody::ClockResumed)
            }
            Command::EndBuilding => {
                self.phase_in(name, &[Running], "running")?;
                if *self.actor == Actor::System && !challenge.clock.expired(self.now) {
                    return Err(DomainError::ClockNotExpired);
                }
                one(EventBody::BuildingEnded)
            }
            Command::OpenScoring { reason } => {
                self.phase_in(
                    name,
                    &[Running, Judging, Frozen],
                    "running, judging or frozen",
                )?;
                // Once the first team is revealed the ranking is out: judges must not change it.
                self.before_reveal(name)?;
                if challenge.scoring_open {
                    return Err(DomainError::ScoringAlready { state: "open" });
                }
                let reason = text::optional("reason", reason, MAX_REASON)?;
                if challenge.phase == Frozen && reason.is_empty() {
                    return Err(DomainError::ReasonRequired {
                        action: REOPENING_SCORING,
                    });
                }
                one(EventBody::ScoringOpened { reason })
            }
            Command::CloseScoring => {
                if !challenge.scoring_open {
                    return Err(DomainError::ScoringAlready { state: "closed" });
                }
                one(EventBody::ScoringClosed)
            }
            Command::Freeze => {
                self.phase_in(name, &[Judging], "judging")?;
                let board = Leaderboard::compute(self.state).published(self.state);
                one(EventBody::Frozen { board: Some(board) })
            }
            Command::RevealNext => {
                self.phase_in(name, &[Frozen], "frozen")?;
                if challenge.scoring_open {
                    return Err(DomainError::RevealNeedsClosedScoring);
                }
                self.reveal_next()
            }
            Command::HidePost { post, reason } => {
                let found = self
                    .state
                    .post(*post)
                    .ok_or_else(|| unknown("post", post))?;
                if found.hidden.is_some() {
                    return Err(DomainError::AlreadyHidden { post: *post });
                }
                one(EventBody::PostHidden {
                    post: *post,
                    reason: text::optional("reason", reason, MAX_REASON)?,
                })
            }
            Command::PostProgress {
                text: body,
                photos,
                links,
                percent,
            } => {
                let team = self.acting_team()?;
                self.phase_in(name, &[Running, Judging], "running or judging")?;
                let body = text::optional("text", body, MAX_POST)?;
                if photos.len() > MAX_PHOTOS {
                    return Err(DomainError::TooMany {
                        field: "photos",
                        max: MAX_PHOTOS,
                    });
                }
                if links.len() > MAX_LINKS {
                    return Err(DomainError::TooMany {
                        field: "links",
                        max: MAX_LINKS,
                    });
                }
                if photos.iter().any(|p| !is_sha256_hex(&p.sha256)) {
                    return Err(DomainError::InvalidPhoto);
                }
                let links = links
                    .iter()
                    .map(|l| text::link(l))
                    .collect::<Result<Vec<_>, _>>()?;
                if body.is_empty() && photos.is_empty() && links.is_empty() {
                    return Err(DomainError::EmptyText { field: "text" });
                }
                if percent.is_some_and(|p| p > 100) {
                    return Err(DomainError::InvalidPercent);
                }
                one(EventBody::ProgressPosted {
                    team: team.id.clone(),
                    text: body,
                    photos: photos.clone(),
                    links,
                    percent: *percent,
                })
            }
            Command::ReachMilestone { milestone, note } => {
                let team = self.acting_team()?;
                self.phase_in(name, &[Running], "running")?;
                let index = self
                    .state
                    .milestones()
                    .iter()
                    .position(|m| &m.id == milestone)
                    .ok_or_else(|| unknown("milestone", milestone))?;
                let reached = self.state.progress(&team.id).map_or(0, |p| p.reached.len());
                if index < reached {
                    return Err(DomainError::MilestoneAlreadyReached {
                        milestone: milestone.to_string(),
                    });
                }
                if index > reached {
                    return Err(DomainError::MilestoneOutOfOrder {
                        next: self.state.milestones()[reached].id.to_string(),
                    });
                }
                let elapsed = challenge.clock.elapsed(self.now).num_seconds().max(0) as u64;
                one(EventBody::MilestoneReached {
                    team: team.id.clone(),
                    milestone: milestone.clone(),
                    note: text::optional("note", note, MAX_REASON)?,
                    elapsed_secs: elapsed,
                })
            }
            Command::SubmitScorecard {
                team,
                scores,
                comment,
                reason,
            } => {
                let judge = self.acting_judge()?;
                let team = self.team(team)?;
                // Rights before timing: a judge who may never score this team is told so, not
                // that scoring happens to be closed.
                if judge.conflicts.contains(&team.id) {
                    return Err(DomainError::Conflicted {
                        team: team.id.to_string(),
                    });
                }
                if !judge.assignment.covers(&team.id, &team.track) {
                    return Err(DomainError::NotAssigned {
                        team: team.id.to_string(),
                    });
                }
                if !challenge.scoring_open {
                    return Err(DomainError::ScoringClosed);
                }
                let rubric = self.state.rubric().ok_or(DomainError::NoChallenge)?;
                if scores.is_empty() {
                    return Err(DomainError::EmptyScorecard);
                }
                for (criterion, &score) in scores {
                    if !rubric.criteria.iter().any(|c| &c.id == criterion) {
                        return Err(unknown("criterion", criterion));
                    }
                    if !rubric.scale.contains(score) {
                        return Err(DomainError::ScoreOutOfScale {
                            criterion: criterion.to_string(),
                            score,
                            min: rubric.scale.min,
                            max: rubric.scale.max,
                        });
                    }
                }
                let revision = self
                    .state
                    .scorecard(&judge.id, &team.id)
                    .map_or(1, |c| c.current.revision + 1);
                let reason = text::optional("reason", reason, MAX_REASON)?;
                if revision > 1 && reason.is_empty() {
                    return Err(DomainError::ReasonRequired {
                        action: REVISING_A_SCORECARD,
                    });
                }
                one(EventBody::ScorecardSubmitted {
                    judge: judge.id.clone(),
                    team: team.id.clone(),
                    revision,
                    scores: scores.clone(),
                    comment: text::optional("comment", comment, MAX_COMMENT)?,
                    reason,
                })
            }
            Command::DeclareConflict { team, reason } => {
                let judge = self.acting_judge()?;
                let team = self.team(team)?;
                self.before_reveal(name)?;
                if judge.conflicts.contains(&team.id) {
                    return Err(DomainError::DuplicateId {
                        kind: "conflict of interest with team",
                        id: team.id.to_string(),
                    });
                }
                one(EventBody::ConflictDeclared {
                    judge: judge.id.clone(),
                    team: team.id.clone(),
                    reason: text::optional("reason", reason, MAX_REASON)?,
                })
            }
            Command::Cheer { team } => {
                let team = self.team(team)?;
                self.phase_in(
                    name,
                    &[Running, Judging, Frozen],
                    "running, judging or frozen",
                )?;
                Ok(Decision::Cheer(team.id.clone()))
            }
            Command::TallyCheers { counts } => {
                self.phase_in(
                    name,
                    &[Running, Judging, Frozen, Revealed],
                    "any phase after the start",
                )?;
                if counts.is_empty() || counts.values().any(|&n| n == 0 || n > MAX_TALLY) {
                    return Err(DomainError::Malformed {
                        detail: format!(
                            "a tally needs at least one count, each from 1 to {MAX_TALLY}"
                        ),
                    });
                }
                for team in counts.keys() {
                    self.team(team)?;
                }
                one(EventBody::CheersTallied {
                    counts: counts.clone(),
                })
            }
        }
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

    fn checked_judge(
        &self,
        id: &JudgeId,
        name: &Localized,
        panel_role: crate::roster::PanelRole,
        affiliation: &Localized,
        assignment: &Assignment,
        conflicts: &BTreeSet<TeamId>,
    ) -> Result<Judge, DomainError> {
        for track in &assignment.tracks {
            self.track(track)?;
        }
        for team in assignment.teams.iter().chain(conflicts) {
            self.team(team)?;
        }
        Ok(Judge {
            id: id.clone(),
            name: name.clone().checked("name", MAX_NAME)?,
            panel_role,
            affiliation: optional_localized("affiliation", affiliation, MAX_NAME)?,
            assignment: assignment.clone(),
            conflicts: conflicts.clone(),
        })
    }

    /// The next step of the reveal: per track in track order, the final board from the last
    /// place up (teams without a score first), one team a step; the last step also makes the
    /// result final. A log whose last step lost its `result_final` (a crash between the two
    /// lines) is completed by the next call rather than stuck.
    fn reveal_next(&self) -> Result<Decision, DomainError> {
        let board = Leaderboard::compute(self.state);
        let order: Vec<_> = board
            .tracks
            .iter()
            .flat_map(|t| t.rows.iter().rev())
            .collect();
        let done = self.state.revealed().len();
        let Some(row) = order.get(done) else {
            return one(EventBody::ResultFinal);
        };
        let mut events = vec![EventBody::TeamRevealed {
            track: row.track.clone(),
            team: row.team.clone(),
            rank: row.rank,
            score: row.score,
        }];
        if done + 1 == order.len() {
            events.push(EventBody::ResultFinal);
        }
        Ok(Decision::Append(events))
    }
}

fn unknown(kind: &'static str, id: impl ToString) -> DomainError {
    DomainError::Unknown {
        kind,
        id: id.to_string(),
    }
}

fn duplicate(kind: &'static str, id: impl ToString) -> DomainError {
    DomainError::DuplicateId {
        kind,
        id: id.to_string(),
    }
}

fn subject_name(subject: &Subject) -> String {
    match subject {
        Subject::Team(id) => format!("team {id}"),
        Subject::Judge(id) => format!("judge {id}"),
    }
}

fn duration(secs: u64) -> Result<u64, DomainError> {
    if (1..=MAX_DURATION_SECS).contains(&secs) {
        Ok(secs)
    } else {
        Err(DomainError::InvalidDuration)
    }
}

fn weight(what: &str, w: f64) -> Result<f64, DomainError> {
    if w.is_finite() && w > 0.0 && w <= MAX_WEIGHT {
        Ok(w)
    } else {
        Err(DomainError::InvalidWeight {
            what: what.to_owned(),
        })
    }
}

fn optional_localized(
    field: &'static str,
    text: &Localized,
    max: usize,
) -> Result<Localized, DomainError> {
    Ok(Localized {
        zh: text::optional(field, &text.zh, max)?,
        en: text::optional(field, &text.en, max)?,
    })
}

fn checked_track(
    id: &TrackId,
    name: &Localized,
    description: &Localized,
) -> Result<Track, DomainError> {
    Ok(Track {
        id: id.clone(),
        name: name.clone().checked("name", MAX_NAME)?,
        description: optional_localized("description", description, MAX_DESCRIPTION)?,
    })
}

fn checked_team(
    id: &TeamId,
    track: &TrackId,
    name: &Localized,
    description: &Localized,
    members: &[Member],
    contact: &str,
) -> Result<Team, DomainError> {
    if members.len() > MAX_MEMBERS {
        return Err(DomainError::TooMany {
            field: "members",
            max: MAX_MEMBERS,
        });
    }
    let members = members
        .iter()
        .map(|m| {
            Ok(Member {
                name: text::required("member name", &m.name, MAX_NAME)?,
                discipline: m.discipline,
                region: text::optional("region", &m.region, MAX_REGION)?,
            })
        })
        .collect::<Result<Vec<_>, DomainError>>()?;
    Ok(Team {
        id: id.clone(),
        track: track.clone(),
        name: name.clone().checked("name", MAX_NAME)?,
        description: optional_localized("description", description, MAX_DESCRIPTION)?,
        members,
        contact: text::optional("contact", contact, MAX_CONTACT)?,
    })
}

fn checked_rubric(rubric: &Rubric) -> Result<Rubric, DomainError> {
    let scale = rubric.scale;
    if scale.min >= scale.max || scale.max > MAX_SCALE {
        return Err(DomainError::InvalidScale {
            min: scale.min,
            max: scale.max,
        });
    }
    if rubric.criteria.is_empty() {
        return Err(DomainError::EmptyText { field: "criteria" });
    }
    if rubric.criteria.len() > MAX_CRITERIA {
        return Err(DomainError::TooMany {
            field: "criteria",
            max: MAX_CRITERIA,
        });
    }
    let mut seen = BTreeSet::new();
    let mut criteria = Vec::with_capacity(rubric.criteria.len());
    for c in &rubric.criteria {
        if !seen.insert(&c.id) {
            return Err(duplicate("criterion", &c.id));
        }
        let mut c = c.clone();
        c.weight = weight(c.id.as_str(), c.weight)?;
        c.name = c.name.checked("criterion name", MAX_NAME)?;
        criteria.push(c);
    }
    Ok(Rubric { scale, criteria })
}

fn checked_milestones(milestones: &[MilestoneDef]) -> Result<Vec<MilestoneDef>, DomainError> {
    if milestones.len() > MAX_MILESTONES {
        return Err(DomainError::TooMany {
            field: "milestones",
            max: MAX_MILESTONES,
        });
    }
    let mut seen = BTreeSet::new();
    milestones
        .iter()
        .map(|m| {
            if !seen.insert(&m.id) {
                return Err(duplicate("milestone", &m.id));
            }
            if m.due_offset_secs.is_some_and(|d| d > MAX_DURATION_SECS) {
                return Err(DomainError::InvalidDuration);
            }
            Ok(MilestoneDef {
                id: m.id.clone(),
                name: m.name.clone().checked("milestone name", MAX_NAME)?,
                due_offset_secs: m.due_offset_secs,
            })
        })
        .collect()
}
