//! Commands: what actors ask the core to do. A command is a wish; only the events the core
//! decides on are facts.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::error::DomainError;
use crate::ids::{
    ChallengeId, CommandId, CriterionId, JudgeId, MilestoneId, TeamId, TokenHash, TrackId,
};
use crate::milestone::MilestoneDef;
use crate::progress::PhotoRef;
use crate::roster::{Assignment, Member, PanelRole, Subject};
use crate::rubric::{RankingSettings, Rubric};
use crate::text::Localized;
use crate::SCHEMA_VERSION;

/// Who is acting. Transports turn a token into an actor; the core decides what the actor may do.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(tag = "role", content = "id", rename_all = "snake_case")]
pub enum Actor {
    /// An organizer (管理员).
    Admin,
    /// A judge (评委).
    Judge(JudgeId),
    /// A team console (团队).
    Team(TeamId),
    /// Anyone without a token (观众).
    Audience,
    /// The server itself: the cheer tally and the end of the clock.
    System,
}

impl Actor {
    /// The role's name, for messages.
    pub fn role_name(&self) -> &'static str {
        match self {
            Actor::Admin => "admin",
            Actor::Judge(_) => "judge",
            Actor::Team(_) => "team",
            Actor::Audience => "audience",
            Actor::System => "system",
        }
    }
}

/// A command with the client-chosen id that makes resending it safe.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Envelope {
    /// Protocol version the client speaks; absent means the current one.
    #[serde(default = "current_schema")]
    #[cfg_attr(feature = "openapi", schema(minimum = 1, maximum = 2))]
    pub schema: u32,
    /// Chosen by the client, unique per actor (a UUID is ideal). Resending a command with the
    /// same id returns the first answer and changes nothing.
    pub id: CommandId,
    /// What to do.
    pub command: Command,
}

fn current_schema() -> u32 {
    SCHEMA_VERSION
}

impl Envelope {
    /// Wraps a command.
    pub fn new(id: CommandId, command: Command) -> Self {
        Self {
            schema: SCHEMA_VERSION,
            id,
            command,
        }
    }

    /// Reads an envelope from JSON; anything malformed, unknown or from a newer schema is an
    /// error, never a panic.
    pub fn from_json(raw: &str) -> Result<Self, DomainError> {
        let envelope: Envelope = serde_json::from_str(raw).map_err(|e| DomainError::Malformed {
            detail: e.to_string(),
        })?;
        envelope.check_schema()?;
        Ok(envelope)
    }

    /// Refuses an envelope of a version this core does not speak. Version 1 commands are still
    /// accepted: version 2 only added fields with defaults (`reason` of `open_scoring`), and a
    /// console that has not reloaded since the upgrade must still be able to send.
    pub fn check_schema(&self) -> Result<(), DomainError> {
        if (1..=SCHEMA_VERSION).contains(&self.schema) {
            Ok(())
        } else {
            Err(DomainError::UnsupportedSchema {
                got: self.schema,
                supported: SCHEMA_VERSION,
            })
        }
    }
}

/// Everything an actor can ask for. The JSON form is tagged by `type`, in snake_case.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum Command {
    // ---- organizers: setting up -------------------------------------------------------------
    /// Creates the challenge with the default milestones and rubric.
    CreateChallenge {
        /// Its id; the transport checks it names the log the command was sent to.
        id: ChallengeId,
        /// Title.
        title: Localized,
        /// Description.
        #[serde(default)]
        description: Localized,
        /// Planned start.
        #[serde(default)]
        planned_start: Option<DateTime<Utc>>,
        /// Building time; 72 hours when absent.
        #[serde(default)]
        duration_secs: Option<u64>,
    },
    /// Changes titles and plans; the duration only during setup and while the clock runs (an
    /// organizer may add an hour mid-challenge).
    UpdateChallenge {
        /// Title.
        title: Localized,
        /// Description.
        #[serde(default)]
        description: Localized,
        /// Planned start.
        #[serde(default)]
        planned_start: Option<DateTime<Utc>>,
        /// Building time.
        duration_secs: u64,
    },
    /// Adds a track.
    AddTrack {
        /// Its id.
        id: TrackId,
        /// Its name.
        name: Localized,
        /// What belongs in it.
        #[serde(default)]
        description: Localized,
    },
    /// Renames a track.
    UpdateTrack {
        /// Its id.
        id: TrackId,
        /// Its name.
        name: Localized,
        /// What belongs in it.
        #[serde(default)]
        description: Localized,
    },
    /// Removes an empty track, during setup.
    RemoveTrack {
        /// Its id.
        id: TrackId,
    },
    /// Replaces the rubric, during setup.
    SetRubric {
        /// The new rubric.
        rubric: Rubric,
    },
    /// Replaces the milestones, during setup.
    SetMilestones {
        /// The new milestones, in order.
        milestones: Vec<MilestoneDef>,
    },
    /// Changes how jury scores are formed; locked at the freeze.
    SetRanking {
        /// The new settings.
        settings: RankingSettings,
    },
    /// Adds a team.
    AddTeam {
        /// Its id.
        id: TeamId,
        /// Its track.
        track: TrackId,
        /// Its name.
        name: Localized,
        /// Its project.
        #[serde(default)]
        description: Localized,
        /// Its members.
        #[serde(default)]
        members: Vec<Member>,
        /// Private contact line.
        #[serde(default)]
        contact: String,
    },
    /// Changes a team; its track only during setup.
    UpdateTeam {
        /// Its id.
        id: TeamId,
        /// Its track.
        track: TrackId,
        /// Its name.
        name: Localized,
        /// Its project.
        #[serde(default)]
        description: Localized,
        /// Its members.
        #[serde(default)]
        members: Vec<Member>,
        /// Private contact line.
        #[serde(default)]
        contact: String,
    },
    /// Removes a team, during setup.
    RemoveTeam {
        /// Its id.
        id: TeamId,
    },
    /// Adds a judge.
    AddJudge {
        /// Their id.
        id: JudgeId,
        /// Their name.
        name: Localized,
        /// Their seat.
        panel_role: PanelRole,
        /// Affiliation or title.
        #[serde(default)]
        affiliation: Localized,
        /// Whom they score.
        #[serde(default)]
        assignment: Assignment,
        /// Conflicts of interest.
        #[serde(default)]
        conflicts: BTreeSet<TeamId>,
    },
    /// Changes a judge's details, assignment or conflicts.
    UpdateJudge {
        /// Their id.
        id: JudgeId,
        /// Their name.
        name: Localized,
        /// Their seat.
        panel_role: PanelRole,
        /// Affiliation or title.
        #[serde(default)]
        affiliation: Localized,
        /// Whom they score.
        #[serde(default)]
        assignment: Assignment,
        /// Conflicts of interest.
        #[serde(default)]
        conflicts: BTreeSet<TeamId>,
    },
    /// Removes a judge, during setup.
    RemoveJudge {
        /// Their id.
        id: JudgeId,
    },
    /// Adds many teams and judges at once (a CSV import), all or none: every row is checked as
    /// if the rows before it were added, and one bad row refuses the whole import with every
    /// row's error ([`DomainError::ImportRefused`]).
    ImportRoster {
        /// Teams, added first, in order.
        #[serde(default)]
        teams: Vec<NewTeam>,
        /// Judges, added after the teams (so that they may name them), in order.
        #[serde(default)]
        judges: Vec<NewJudge>,
    },
    /// Records a token minted by the server (only its hash).
    IssueToken {
        /// Whom it speaks for.
        subject: Subject,
        /// Its SHA-256.
        token_hash: TokenHash,
    },
    /// Revokes every token of a subject.
    RevokeTokens {
        /// Whose.
        subject: Subject,
    },
    // ---- organizers: running ------------------------------------------------------------------
    /// Starts the clock.
    #[serde(deserialize_with = "no_fields")]
    StartChallenge,
    /// Stops the clock.
    PauseClock {
        /// Why, as told to the audience.
        #[serde(default)]
        reason: String,
    },
    /// Restarts the clock.
    #[serde(deserialize_with = "no_fields")]
    ResumeClock,
    /// Ends building and moves to judging (the server sends it when the clock runs out).
    #[serde(deserialize_with = "no_fields")]
    EndBuilding,
    /// Lets judges submit scorecards.
    OpenScoring {
        /// Why: required when scoring is opened again during the freeze, for the audit trail.
        /// Left out of the JSON when empty, so the command's digest is what it was in schema 1.
        #[serde(default, skip_serializing_if = "String::is_empty")]
        reason: String,
    },
    /// Stops judges submitting scorecards.
    #[serde(deserialize_with = "no_fields")]
    CloseScoring,
    /// Freezes the public leaderboard.
    #[serde(deserialize_with = "no_fields")]
    Freeze,
    /// Reveals the next team of the final result.
    #[serde(deserialize_with = "no_fields")]
    RevealNext,
    /// Hides a post from every screen but the admins'.
    HidePost {
        /// The post.
        post: u64,
        /// Why.
        #[serde(default)]
        reason: String,
    },
    /// Takes back a team's milestone tick made by mistake, with every later one (milestones are
    /// reached in order).
    UndoMilestone {
        /// The team.
        team: TeamId,
        /// The first milestone taken back.
        milestone: MilestoneId,
        /// Why: required, for the audit trail and the team.
        reason: String,
    },
    // ---- teams ----------------------------------------------------------------------------------
    /// Posts on the team's own timeline.
    PostProgress {
        /// What happened.
        text: String,
        /// Uploaded photos.
        #[serde(default)]
        photos: Vec<PhotoRef>,
        /// Links.
        #[serde(default)]
        links: Vec<String>,
        /// Percent done.
        #[serde(default)]
        #[cfg_attr(feature = "openapi", schema(minimum = 0, maximum = 100))]
        percent: Option<u8>,
    },
    /// Ticks off the team's next milestone.
    ReachMilestone {
        /// Which.
        milestone: MilestoneId,
        /// A word about it.
        #[serde(default)]
        note: String,
    },
    // ---- judges -----------------------------------------------------------------------------------
    /// Submits or revises the judge's scorecard of a team.
    SubmitScorecard {
        /// The team.
        team: TeamId,
        /// Scores per criterion; a scorecard missing criteria is saved but does not count yet.
        scores: BTreeMap<CriterionId, u32>,
        /// A comment for the team and the organizers.
        #[serde(default)]
        comment: String,
        /// Why a revision was made: required for every revision, for the audit trail.
        #[serde(default)]
        reason: String,
    },
    /// Declares a conflict of interest with a team.
    DeclareConflict {
        /// The team.
        team: TeamId,
        /// Why.
        #[serde(default)]
        reason: String,
    },
    // ---- audience -------------------------------------------------------------------------------
    /// Cheers for a team. Counted, not logged one by one.
    Cheer {
        /// The team.
        team: TeamId,
    },
    // ---- the server itself -----------------------------------------------------------------------
    /// Adds counted cheers to the log.
    TallyCheers {
        /// New cheers per team since the last tally.
        counts: BTreeMap<TeamId, u64>,
    },
}

/// Reads the rest of the object of a variant without fields, refusing any field in it: serde lets
/// an internally tagged unit variant ignore everything beside its tag (`{"type": "freeze",
/// "x": 1}` would be accepted), which would break the promise that unknown fields are refused.
pub(crate) fn no_fields<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<(), D::Error> {
    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    struct NoFields {}
    NoFields::deserialize(deserializer).map(drop)
}

impl Command {
    /// The command's `type` tag, for messages and metrics.
    pub fn name(&self) -> &'static str {
        match self {
            Command::CreateChallenge { .. } => "create_challenge",
            Command::UpdateChallenge { .. } => "update_challenge",
            Command::AddTrack { .. } => "add_track",
            Command::UpdateTrack { .. } => "update_track",
            Command::RemoveTrack { .. } => "remove_track",
            Command::SetRubric { .. } => "set_rubric",
            Command::SetMilestones { .. } => "set_milestones",
            Command::SetRanking { .. } => "set_ranking",
            Command::AddTeam { .. } => "add_team",
            Command::UpdateTeam { .. } => "update_team",
            Command::RemoveTeam { .. } => "remove_team",
            Command::AddJudge { .. } => "add_judge",
            Command::UpdateJudge { .. } => "update_judge",
            Command::RemoveJudge { .. } => "remove_judge",
            Command::ImportRoster { .. } => "import_roster",
            Command::IssueToken { .. } => "issue_token",
            Command::RevokeTokens { .. } => "revoke_tokens",
            Command::StartChallenge => "start_challenge",
            Command::PauseClock { .. } => "pause_clock",
            Command::ResumeClock => "resume_clock",
            Command::EndBuilding => "end_building",
            Command::OpenScoring { .. } => "open_scoring",
            Command::CloseScoring => "close_scoring",
            Command::Freeze => "freeze",
            Command::RevealNext => "reveal_next",
            Command::HidePost { .. } => "hide_post",
            Command::UndoMilestone { .. } => "undo_milestone",
            Command::PostProgress { .. } => "post_progress",
            Command::ReachMilestone { .. } => "reach_milestone",
            Command::SubmitScorecard { .. } => "submit_scorecard",
            Command::DeclareConflict { .. } => "declare_conflict",
            Command::Cheer { .. } => "cheer",
            Command::TallyCheers { .. } => "tally_cheers",
        }
    }
}

/// A team of [`Command::ImportRoster`]: the fields of [`Command::AddTeam`].
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NewTeam {
    /// Its id.
    pub id: TeamId,
    /// Its track.
    pub track: TrackId,
    /// Its name.
    pub name: Localized,
    /// Its project.
    #[serde(default)]
    pub description: Localized,
    /// Its members.
    #[serde(default)]
    pub members: Vec<Member>,
    /// Private contact line.
    #[serde(default)]
    pub contact: String,
}

/// A judge of [`Command::ImportRoster`]: the fields of [`Command::AddJudge`].
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NewJudge {
    /// Their id.
    pub id: JudgeId,
    /// Their name.
    pub name: Localized,
    /// Their seat.
    pub panel_role: PanelRole,
    /// Affiliation or title.
    #[serde(default)]
    pub affiliation: Localized,
    /// Whom they score.
    #[serde(default)]
    pub assignment: Assignment,
    /// Conflicts of interest.
    #[serde(default)]
    pub conflicts: BTreeSet<TeamId>,
}
