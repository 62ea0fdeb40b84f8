//! Milestones (里程碑): the checkpoints every team passes on its way from idea to delivery.

use serde::{Deserialize, Serialize};

use crate::ids::{MilestoneId, TeamId};
use crate::text::Localized;

/// The most milestones a challenge may define.
pub const MAX_MILESTONES: usize = 20;

/// One checkpoint, in the order teams pass them.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MilestoneDef {
    /// Its id.
    pub id: MilestoneId,
    /// Its name.
    pub name: Localized,
    /// When it is due, as building time since the start (e.g. T+36 h = 129600); pauses do not count.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub due_offset_secs: Option<u64>,
}

/// The milestones of the 创客真人秀: idea 创意提出 → plan 方案设计 → prototype 原型 → demo 演示 →
/// delivery 成果交付, due at T+6 h, T+18 h, T+36 h, T+60 h and T+72 h.
pub fn default_milestones() -> Vec<MilestoneDef> {
    [
        ("idea", "创意提出", "Idea", 6),
        ("plan", "方案设计", "Plan", 18),
        ("prototype", "原型", "Prototype", 36),
        ("demo", "演示", "Demo", 60),
        ("delivery", "成果交付", "Delivery", 72),
    ]
    .into_iter()
    .map(|(id, zh, en, hours)| MilestoneDef {
        id: MilestoneId::new(id).expect("static id"),
        name: Localized::new(zh, en),
        due_offset_secs: Some(hours * 3600),
    })
    .collect()
}

/// A milestone a team has reached.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reached {
    /// Which one.
    pub milestone: MilestoneId,
    /// When, in wall time.
    pub at: chrono::DateTime<chrono::Utc>,
    /// Building time used when it was reached.
    pub elapsed_secs: u64,
    /// Whether it was reached by its due offset (`None` when it has none).
    pub on_time: Option<bool>,
    /// What the team said about it.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub note: String,
}

/// How many of the newest milestone announcements the state and every view keep.
pub const ANNOUNCEMENTS_KEPT: usize = 30;

/// A milestone reached, as the tickers announce it ("GreenBot reached Prototype"), newest first.
/// An organizer's undo does not remove it: it stays, marked withdrawn, so the hall that saw it
/// sees it taken back.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Announcement {
    /// The seq of the event that reached it; names the announcement.
    pub seq: u64,
    /// The team.
    pub team: TeamId,
    /// The milestone.
    pub milestone: MilestoneId,
    /// When, in wall time.
    pub at: chrono::DateTime<chrono::Utc>,
    /// Set once an organizer took the tick back.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub withdrawn: Option<Withdrawal>,
}

/// An organizer's undo of a milestone tick, as an announcement carries it.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Withdrawal {
    /// The seq of the undo.
    pub seq: u64,
    /// Why: in the organizers' view and the team's own only, like a hidden post's reason.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}
