//! Who takes part: tracks, teams with their members, and the judging panel.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use crate::ids::{JudgeId, TeamId, TrackId};
use crate::text::Localized;

/// The most members one team may list.
pub const MAX_MEMBERS: usize = 12;
/// Longest country or region name, in characters.
pub const MAX_REGION: usize = 56;
/// Longest private contact line, in characters.
pub const MAX_CONTACT: usize = 200;

/// A track (赛道): a category of projects with its own ranking.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Track {
    /// Its id.
    pub id: TrackId,
    /// Its name, e.g. 硬件 / Hardware.
    pub name: Localized,
    /// What belongs in it.
    pub description: Localized,
}

/// What a member does.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Discipline {
    /// 软件工程师
    Software,
    /// 硬件工程师
    Hardware,
    /// 设计师
    Design,
    /// 创客 / 创意达人
    Maker,
    /// 商业与运营
    Business,
    /// 其他
    Other,
}

impl Discipline {
    /// The discipline's name in both languages.
    pub fn label(self) -> Localized {
        let (zh, en) = match self {
            Discipline::Software => ("软件工程师", "Software engineer"),
            Discipline::Hardware => ("硬件工程师", "Hardware engineer"),
            Discipline::Design => ("设计师", "Designer"),
            Discipline::Maker => ("创意达人", "Maker"),
            Discipline::Business => ("商业", "Business"),
            Discipline::Other => ("其他", "Other"),
        };
        Localized::new(zh, en)
    }
}

/// A team member (成员).
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Member {
    /// Name as the member wants it shown.
    pub name: String,
    /// What they do.
    pub discipline: Discipline,
    /// Country or region, as written by the member (e.g. 中国, Deutschland, 香港).
    pub region: String,
}

/// A team (团队).
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Team {
    /// Its id.
    pub id: TeamId,
    /// The track it competes in.
    pub track: TrackId,
    /// Its name.
    pub name: Localized,
    /// Its project in a few lines.
    pub description: Localized,
    /// Its members.
    pub members: Vec<Member>,
    /// How organizers reach the team; private to the team and the admins.
    pub contact: String,
}

/// A judge's seat on the panel.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PanelRole {
    /// 创客代表
    MakerRepresentative,
    /// 领域专家
    DomainExpert,
    /// 企业代表
    EnterpriseRepresentative,
    /// 投资人
    Investor,
}

impl PanelRole {
    /// Every panel role, in the order they are listed.
    pub const ALL: [PanelRole; 4] = [
        PanelRole::MakerRepresentative,
        PanelRole::DomainExpert,
        PanelRole::EnterpriseRepresentative,
        PanelRole::Investor,
    ];

    /// The role's name in both languages.
    pub fn label(self) -> Localized {
        let (zh, en) = match self {
            PanelRole::MakerRepresentative => ("创客代表", "Maker representative"),
            PanelRole::DomainExpert => ("领域专家", "Domain expert"),
            PanelRole::EnterpriseRepresentative => ("企业代表", "Enterprise representative"),
            PanelRole::Investor => ("投资人", "Investor"),
        };
        Localized::new(zh, en)
    }
}

/// Which teams a judge scores: every team of the listed tracks, plus the listed teams.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Assignment {
    /// Whole tracks.
    #[serde(default)]
    pub tracks: BTreeSet<TrackId>,
    /// Single teams, in any track.
    #[serde(default)]
    pub teams: BTreeSet<TeamId>,
}

impl Assignment {
    /// Whether a team of `track` with id `team` is assigned.
    pub fn covers(&self, team: &TeamId, track: &TrackId) -> bool {
        self.tracks.contains(track) || self.teams.contains(team)
    }
}

/// A judge (评委).
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Judge {
    /// Their id.
    pub id: JudgeId,
    /// Their name.
    pub name: Localized,
    /// Their seat on the panel.
    pub panel_role: PanelRole,
    /// Affiliation or title shown beside the name.
    pub affiliation: Localized,
    /// The teams they score.
    pub assignment: Assignment,
    /// Teams they declared a conflict of interest with; never scored by them.
    pub conflicts: BTreeSet<TeamId>,
}

impl Judge {
    /// Whether this judge may score `team` of `track`: assigned and not conflicted.
    pub fn eligible(&self, team: &TeamId, track: &TrackId) -> bool {
        self.assignment.covers(team, track) && !self.conflicts.contains(team)
    }
}

/// Whom a minted token speaks for.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(tag = "role", content = "id", rename_all = "snake_case")]
pub enum Subject {
    /// A team console.
    Team(TeamId),
    /// A judge console.
    Judge(JudgeId),
}
