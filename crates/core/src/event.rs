//! Events: the facts in the log. Every change to a challenge is one of these, numbered by a
//! gapless `seq`; state is their fold, and they are never edited or deleted.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::command::Actor;
use crate::ids::{
    ChallengeId, CommandId, CriterionId, JudgeId, MilestoneId, TeamId, TokenHash, TrackId,
};
use crate::leaderboard::Leaderboard;
use crate::milestone::MilestoneDef;
use crate::progress::PhotoRef;
use crate::roster::{Judge, Subject, Team, Track};
use crate::rubric::{RankingSettings, Rubric};
use crate::text::Localized;
use crate::SCHEMA_VERSION;

/// One entry of the log.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Event {
    /// The schema version it was written with.
    pub schema: u32,
    /// Its place in the log: 1, 2, 3, … with no gap.
    pub seq: u64,
    /// When it was decided (UTC).
    pub at: DateTime<Utc>,
    /// Who caused it.
    pub actor: Actor,
    /// The command that caused it, so a resent command is recognised even after a restart.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub command: Option<CommandRef>,
    /// What happened.
    pub body: EventBody,
}

impl Event {
    /// Reads an event from JSON. An event written with a newer schema than this build knows is
    /// refused rather than half-understood.
    pub fn from_json(raw: &str) -> Result<Event, serde_json::Error> {
        let event: Event = serde_json::from_str(raw)?;
        if event.schema > SCHEMA_VERSION {
            return Err(serde::de::Error::custom(format!(
                "event schema {} is newer than this server's {SCHEMA_VERSION}",
                event.schema
            )));
        }
        Ok(event)
    }

    /// The event as one line of JSON, as the journal and the feeds write it.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("events always serialise")
    }

    pub(crate) fn new(
        seq: u64,
        at: DateTime<Utc>,
        actor: Actor,
        command: Option<CommandRef>,
        body: EventBody,
    ) -> Self {
        Self {
            schema: SCHEMA_VERSION,
            seq,
            at,
            actor,
            command,
            body,
        }
    }
}

/// The command behind an event: its id and a digest of its content, so that an id reused for a
/// different command is told apart from a resend.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CommandRef {
    /// The client's command id.
    pub id: CommandId,
    /// First 16 hex digits of the SHA-256 of the command's JSON.
    pub digest: String,
}

/// What happened. The JSON form is tagged by `type`, in snake_case.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum EventBody {
    /// The challenge was created.
    ChallengeCreated {
        /// Its id.
        id: ChallengeId,
        /// Title.
        title: Localized,
        /// Description.
        description: Localized,
        /// Planned start.
        planned_start: Option<DateTime<Utc>>,
        /// Building time.
        duration_secs: u64,
    },
    /// Titles or plans changed.
    ChallengeUpdated {
        /// Title.
        title: Localized,
        /// Description.
        description: Localized,
        /// Planned start.
        planned_start: Option<DateTime<Utc>>,
        /// Building time.
        duration_secs: u64,
    },
    /// A track was added.
    TrackAdded {
        /// The track.
        track: Track,
    },
    /// A track changed.
    TrackUpdated {
        /// The track.
        track: Track,
    },
    /// A track was removed.
    TrackRemoved {
        /// Its id.
        id: TrackId,
    },
    /// The rubric was replaced.
    RubricSet {
        /// The rubric.
        rubric: Rubric,
    },
    /// The milestones were replaced.
    MilestonesSet {
        /// The milestones.
        milestones: Vec<MilestoneDef>,
    },
    /// The ranking method changed.
    RankingSet {
        /// The settings.
        settings: RankingSettings,
    },
    /// A team was added.
    TeamAdded {
        /// The team.
        team: Team,
    },
    /// A team changed.
    TeamUpdated {
        /// The team.
        team: Team,
    },
    /// A team was removed.
    TeamRemoved {
        /// Its id.
        id: TeamId,
    },
    /// A judge was added.
    JudgeAdded {
        /// The judge.
        judge: Judge,
    },
    /// A judge changed.
    JudgeUpdated {
        /// The judge.
        judge: Judge,
    },
    /// A judge was removed.
    JudgeRemoved {
        /// Their id.
        id: JudgeId,
    },
    /// A token was minted (only its hash is kept).
    TokenIssued {
        /// Whom it speaks for.
        subject: Subject,
        /// Its SHA-256.
        token_hash: TokenHash,
    },
    /// Every token of a subject was revoked.
    TokensRevoked {
        /// Whose.
        subject: Subject,
    },
    /// The clock started.
    #[serde(deserialize_with = "crate::command::no_fields")]
    ChallengeStarted,
    /// The clock stopped.
    ClockPaused {
        /// Why.
        reason: String,
    },
    /// The clock restarted.
    #[serde(deserialize_with = "crate::command::no_fields")]
    ClockResumed,
    /// Building ended; judging began.
    #[serde(deserialize_with = "crate::command::no_fields")]
    BuildingEnded,
    /// Judges may score.
    ScoringOpened {
        /// Why, when scoring was opened again during the freeze.
        #[serde(default, skip_serializing_if = "String::is_empty")]
        reason: String,
    },
    /// Judges may no longer score.
    #[serde(deserialize_with = "crate::command::no_fields")]
    ScoringClosed,
    /// The public leaderboard froze.
    Frozen {
        /// The board as it was published at the freeze ([`Leaderboard::published`]), which the
        /// public keeps seeing until the reveal. Carried in the event so that replaying the log
        /// shows what the hall saw, whatever version of the server replays it. Absent in logs of
        /// schema 1, whose boards are recomputed as those servers did.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        board: Option<Leaderboard>,
    },
    /// One team's final place was revealed.
    TeamRevealed {
        /// Its track.
        track: TrackId,
        /// The team.
        team: TeamId,
        /// Its final rank in the track (`None`: unranked, no complete scorecard).
        rank: Option<u32>,
        /// Its final jury score.
        score: Option<f64>,
    },
    /// Every place is revealed; the result is final and public.
    #[serde(deserialize_with = "crate::command::no_fields")]
    ResultFinal,
    /// A post was hidden.
    PostHidden {
        /// The post.
        post: u64,
        /// Why.
        reason: String,
    },
    /// A team posted progress.
    ProgressPosted {
        /// The team.
        team: TeamId,
        /// Text.
        text: String,
        /// Photos.
        photos: Vec<PhotoRef>,
        /// Links.
        links: Vec<String>,
        /// Percent done.
        percent: Option<u8>,
    },
    /// A team reached a milestone.
    MilestoneReached {
        /// The team.
        team: TeamId,
        /// The milestone.
        milestone: MilestoneId,
        /// A word about it.
        note: String,
        /// Building time used when it was reached.
        elapsed_secs: u64,
    },
    /// An organizer took back a team's milestone, and every later one it had reached.
    MilestoneUndone {
        /// The team.
        team: TeamId,
        /// The first milestone taken back.
        milestone: MilestoneId,
        /// Why.
        reason: String,
    },
    /// A judge submitted or revised a scorecard.
    ScorecardSubmitted {
        /// The judge.
        judge: JudgeId,
        /// The team.
        team: TeamId,
        /// 1 for the first submission, then 2, 3, …
        revision: u32,
        /// Scores per criterion.
        scores: BTreeMap<CriterionId, u32>,
        /// Comment.
        comment: String,
        /// Why it was revised.
        reason: String,
    },
    /// A judge declared a conflict of interest.
    ConflictDeclared {
        /// The judge.
        judge: JudgeId,
        /// The team.
        team: TeamId,
        /// Why.
        reason: String,
    },
    /// Counted cheers were added.
    CheersTallied {
        /// New cheers per team.
        counts: BTreeMap<TeamId, u64>,
    },
}
