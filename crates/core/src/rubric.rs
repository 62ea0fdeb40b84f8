//! The rubric (评分标准), scorecards (评分表) and how a scorecard becomes a total.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::ids::{CriterionId, JudgeId, TeamId};
use crate::roster::PanelRole;
use crate::text::Localized;

/// The most criteria a rubric may have.
pub const MAX_CRITERIA: usize = 20;
/// The largest weight, and the largest top of a scale.
pub const MAX_WEIGHT: f64 = 1_000.0;
/// The largest top of a scale.
pub const MAX_SCALE: u32 = 1_000;

/// The points a judge gives on every criterion: whole numbers from `min` to `max`.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scale {
    /// Lowest score.
    pub min: u32,
    /// Highest score.
    pub max: u32,
}

impl Scale {
    /// Whether `score` lies on the scale.
    pub fn contains(self, score: u32) -> bool {
        (self.min..=self.max).contains(&score)
    }

    /// `score` mapped onto 0–100.
    pub fn percent(self, score: u32) -> f64 {
        f64::from(score.saturating_sub(self.min)) * 100.0 / f64::from(self.max - self.min)
    }
}

/// One weighted criterion (评分项).
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Criterion {
    /// Its id.
    pub id: CriterionId,
    /// Its name.
    pub name: Localized,
    /// Its weight, greater than zero; weights need not sum to anything.
    pub weight: f64,
}

/// The weighted criteria every scorecard fills in.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rubric {
    /// The points per criterion.
    pub scale: Scale,
    /// The criteria, in the order the judge form lists them; this order also breaks ties (see
    /// [`crate::leaderboard`]).
    pub criteria: Vec<Criterion>,
}

impl Rubric {
    /// The rubric of the 创客真人秀 on a 1–10 scale: innovation 30, execution 25, completeness 20,
    /// commercial value 15, presentation 10.
    pub fn default_rubric() -> Rubric {
        let criteria = [
            ("innovation", "创新性", "Innovation", 30.0),
            ("execution", "技术实现", "Execution", 25.0),
            ("completeness", "完成度", "Completeness", 20.0),
            ("commercial", "商业价值", "Commercial value", 15.0),
            ("presentation", "展示", "Presentation", 10.0),
        ]
        .into_iter()
        .map(|(id, zh, en, weight)| Criterion {
            id: CriterionId::new(id).expect("static id"),
            name: Localized::new(zh, en),
            weight,
        })
        .collect();
        Rubric {
            scale: Scale { min: 1, max: 10 },
            criteria,
        }
    }

    /// Whether `scores` has a score for every criterion.
    pub fn is_complete(&self, scores: &BTreeMap<CriterionId, u32>) -> bool {
        self.criteria.iter().all(|c| scores.contains_key(&c.id))
    }

    /// The weighted mean of `scores` on 0–100, over the criteria scored. For a complete scorecard
    /// that is the scorecard's total.
    pub fn total(&self, scores: &BTreeMap<CriterionId, u32>) -> f64 {
        let (sum, weights) = self
            .criteria
            .iter()
            .filter_map(|c| {
                scores
                    .get(&c.id)
                    .map(|&s| (c.weight, self.scale.percent(s)))
            })
            .fold((0.0, 0.0), |(sum, weights), (w, p)| {
                (sum + w * p, weights + w)
            });
        if weights > 0.0 {
            sum / weights
        } else {
            0.0
        }
    }
}

/// How the jury score of a team is formed from its scorecards.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RankingSettings {
    /// Weight of each panel role's scorecards in a team's mean; a missing role weighs 1.
    #[serde(default)]
    pub role_weights: BTreeMap<PanelRole, f64>,
    /// Whether each judge's totals are normalised (z-score, mapped back onto the pooled mean and
    /// spread) before averaging, to cancel lenient and harsh judges.
    #[serde(default)]
    pub normalize: bool,
    /// When jury scores reach the public, the teams and the judges (see [`Publication`]).
    #[serde(default)]
    pub publication: Publication,
}

/// When jury numbers appear on every surface but the organizers' (公布方式). Whatever the rule,
/// per-criterion means and individual scorecards stay with the organizers until the result is
/// final, and a judge sees only their own scorecards until then.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Publication {
    /// A team's score and rank appear once every judge who counts for it has a complete
    /// scorecard; until then it shows only how many have scored. With normalisation on, every
    /// new scorecard moves every normalised score, so scores appear all at once, when every
    /// panel is complete.
    #[default]
    OnComplete,
    /// Every complete scorecard moves the public board at once. Not blind: the difference of two
    /// boards is one judge's total. For informal events.
    Live,
    /// No jury numbers before the reveal: the boards show scoring progress only.
    AtReveal,
}

impl Publication {
    /// The rule's JSON name.
    pub fn as_str(self) -> &'static str {
        match self {
            Publication::OnComplete => "on_complete",
            Publication::Live => "live",
            Publication::AtReveal => "at_reveal",
        }
    }
}

impl RankingSettings {
    /// The weight of a scorecard by a judge in `role`.
    pub fn weight_of(&self, role: PanelRole) -> f64 {
        self.role_weights.get(&role).copied().unwrap_or(1.0)
    }
}

/// One earlier version of a scorecard, kept for the audit trail.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Revision {
    /// 1 for the first submission.
    pub revision: u32,
    /// The seq of the event that recorded it.
    pub seq: u64,
    /// When.
    pub at: DateTime<Utc>,
    /// The scores then.
    pub scores: BTreeMap<CriterionId, u32>,
    /// The comment then.
    pub comment: String,
    /// Why the judge revised it (empty for the first).
    pub reason: String,
}

/// One judge's scorecard (评分表) of one team: the latest revision, with every earlier one.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Scorecard {
    /// Who scored.
    pub judge: JudgeId,
    /// Whom.
    pub team: TeamId,
    /// The latest revision.
    pub current: Revision,
    /// The revisions before the latest that are held in memory ([`REVISIONS_KEPT`] at most),
    /// oldest first.
    pub history: Vec<Revision>,
    /// How many revisions came before those in `history`: they are in the log, and the server
    /// reads them back when asked (`/scorecards/{team}/{judge}/revisions`). Left out of the JSON
    /// when none.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub earlier: u32,
}

/// The earlier revisions of a scorecard held in memory with it: a judge who revises a card a
/// hundred times over three days must not make the state, and every message carrying the card,
/// grow with each revision. The rest are read from the log.
pub const REVISIONS_KEPT: usize = 4;

fn is_zero(n: &u32) -> bool {
    *n == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scores(pairs: &[(&str, u32)]) -> BTreeMap<CriterionId, u32> {
        pairs
            .iter()
            .map(|(id, s)| (CriterionId::new(*id).unwrap(), *s))
            .collect()
    }

    #[test]
    fn total_is_the_weighted_mean_on_0_to_100() {
        let rubric = Rubric::default_rubric();
        let all_top = scores(&[
            ("innovation", 10),
            ("execution", 10),
            ("completeness", 10),
            ("commercial", 10),
            ("presentation", 10),
        ]);
        assert!(rubric.is_complete(&all_top));
        assert_eq!(rubric.total(&all_top), 100.0);
        // innovation 10 → 100, execution 1 → 0, others 4 → 33.33…:
        // (30·100 + 25·0 + 45·33.33…) / 100 = 45.
        let mixed = scores(&[
            ("innovation", 10),
            ("execution", 1),
            ("completeness", 4),
            ("commercial", 4),
            ("presentation", 4),
        ]);
        assert!((rubric.total(&mixed) - 45.0).abs() < 1e-9);
        assert!(!rubric.is_complete(&scores(&[("innovation", 3)])));
    }
}
