//! The leaderboard (排行榜): jury scores per track and overall, derived from scorecards every time
//! it is needed, never stored as truth, with the numbers that explain every score.
//!
//! ## How a score is formed
//!
//! 1. A scorecard's total is the weighted mean of its criteria, each mapped onto 0–100
//!    ([`Rubric::total`]). Only complete scorecards count, and only those of judges who are
//!    assigned the team and have no conflict of interest with it.
//! 2. With normalisation on, each judge's totals are turned into z-scores against that judge's own
//!    mean and spread, then mapped back onto the pooled mean and spread of every counted total, and
//!    clamped to 0–100. A judge with fewer than two counted scorecards, or whose totals are all
//!    equal, is only shifted by the difference between their mean and the pooled mean.
//! 3. A team's jury score is the mean of its counted totals, each weighted by the panel role of
//!    its judge ([`crate::rubric::RankingSettings::role_weights`]), rounded to two decimals (half a cent up).
//!
//! ## Ranks and ties
//!
//! Teams are ordered by, in turn:
//! 1. jury score, higher first (as shown, to two decimals);
//! 2. the mean score of each criterion, heaviest criterion first (equal weights in rubric order);
//! 3. the number of counted scorecards, more first.
//!
//! Teams equal on all three share a rank (1, 2, 2, 4) and are listed by team id. Teams without a
//! counted scorecard have no rank and come last, by team id.
//!
//! ## What is published when
//!
//! The organizers always see the board above, live, with every contribution. Everyone else (the
//! audience, the teams, the judges, the partner feeds) sees [`Leaderboard::published`] until the
//! result is final: no per-criterion means and no contributions, and jury scores and ranks only as
//! the publication rule ([`Publication`]) allows:
//!
//! - `on_complete` (the default): a team's score and rank once every judge who counts for it has
//!   a complete scorecard ("being scored: k of n" before). Its score is then the mean of a whole
//!   panel, so no single judge's total can be read off the board. With normalisation on, each new
//!   scorecard moves the normalised score of every team, so nothing is published until every
//!   panel of the challenge is complete, and then every score at once.
//! - `live`: every counted scorecard moves the board. Not blind: the difference of two boards is
//!   one judge's total.
//! - `at_reveal`: no score and no rank before the reveal, only how many judges have scored.
//!
//! Published teams are ranked among themselves. During a freeze the public board stays as it
//! was published at the freeze; the reveal then shows the final ranks team by team, and once the
//! result is final everyone sees everything, contributions included.

use std::cmp::Ordering;
use std::collections::BTreeMap;
use std::sync::Arc;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::ids::{CriterionId, JudgeId, TeamId, TrackId};
use crate::roster::PanelRole;
use crate::rubric::{Publication, Rubric};
use crate::state::State;

mod tally;
pub(crate) use tally::Tally;

/// Rounds to two decimals, the precision shown and ranked on.
pub fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

/// Rounds to six decimals; intermediate totals are kept at this precision so that arithmetic that
/// is the identity on paper (normalising judges who agree) is the identity here too.
fn round6(x: f64) -> f64 {
    (x * 1e6).round() / 1e6
}

/// Why a scorecard does not count.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Exclusion {
    /// Some criteria are still missing.
    Incomplete,
    /// The judge is no longer assigned this team.
    NotAssigned,
    /// The judge declared a conflict of interest.
    Conflicted,
}

/// One judge's part in a team's score.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Contribution {
    /// The judge.
    pub judge: JudgeId,
    /// Their seat.
    pub panel_role: PanelRole,
    /// The scorecard total on 0–100.
    pub total: f64,
    /// The total after normalisation, when it is on.
    pub normalized: Option<f64>,
    /// The weight of this scorecard in the team's mean.
    pub weight: f64,
    /// Why it does not count, if it does not.
    pub excluded: Option<Exclusion>,
}

/// The mean score a team got on one criterion, on the rubric's scale.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CriterionMean {
    /// The criterion.
    pub criterion: CriterionId,
    /// Mean of the counted scorecards, two decimals.
    pub mean: f64,
}

/// One line of a board.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Row {
    /// Rank, shared by ties; `None` without a counted scorecard.
    pub rank: Option<u32>,
    /// The team.
    pub team: TeamId,
    /// Its track.
    pub track: TrackId,
    /// Jury score on 0–100, two decimals.
    pub score: Option<f64>,
    /// Judges whose complete scorecard counts.
    pub judges_scored: u32,
    /// Judges assigned without a conflict.
    pub judges_assigned: u32,
    /// Mean per criterion, heaviest tie-break first in rubric order; only for the organizers and
    /// once the result is final. Shared ([`Shared`]) between the running tally and every board
    /// made from it.
    #[serde(default, skip_serializing_if = "is_empty", with = "shared")]
    #[cfg_attr(feature = "openapi", schema(value_type = Vec<CriterionMean>))]
    pub criteria: Shared<CriterionMean>,
    /// Every scorecard behind the score; empty in views that may not see individual scorecards.
    /// Shared ([`Shared`]) between the running tally and every board made from it.
    #[serde(default, skip_serializing_if = "is_empty", with = "shared")]
    #[cfg_attr(feature = "openapi", schema(value_type = Vec<Contribution>))]
    pub contributions: Shared<Contribution>,
}

/// A list of a row that boards share instead of copying: ranking the tally, publishing the board
/// and keeping the boards that clients hold copy a row's numbers, not its 30 contributions. It is
/// written as the plain list it holds.
pub type Shared<T> = Arc<Vec<T>>;

fn is_empty<T>(list: &Shared<T>) -> bool {
    list.is_empty()
}

/// (De)serialises a [`Shared`] list as the list itself.
mod shared {
    use super::*;

    pub(super) fn serialize<T: Serialize, S: Serializer>(
        list: &Shared<T>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        list.as_slice().serialize(serializer)
    }

    pub(super) fn deserialize<'de, T: Deserialize<'de>, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Shared<T>, D::Error> {
        Vec::deserialize(deserializer).map(Arc::new)
    }
}

impl Row {
    /// Whether two rows are equal, told cheaply for rows made from the same tally row: lists
    /// that are the same allocation are not compared item by item.
    pub(crate) fn same(&self, other: &Row) -> bool {
        fn same_list<T: PartialEq>(a: &Shared<T>, b: &Shared<T>) -> bool {
            Arc::ptr_eq(a, b) || a == b
        }
        self.rank == other.rank
            && self.team == other.team
            && self.track == other.track
            && self.score == other.score
            && self.judges_scored == other.judges_scored
            && self.judges_assigned == other.judges_assigned
            && same_list(&self.criteria, &other.criteria)
            && same_list(&self.contributions, &other.contributions)
    }

    /// The row less its breakdown, as everyone but the organizers sees it: `score` in the place
    /// of the jury score, no criterion means and no contributions.
    fn public(
        &self,
        score: Option<f64>,
        criteria: Shared<CriterionMean>,
        none: &Shared<Contribution>,
    ) -> Row {
        Row {
            rank: self.rank,
            team: self.team.clone(),
            track: self.track.clone(),
            score,
            judges_scored: self.judges_scored,
            judges_assigned: self.judges_assigned,
            criteria,
            contributions: none.clone(),
        }
    }
}

/// The ranking of one track.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TrackBoard {
    /// The track.
    pub track: TrackId,
    /// Its teams, best first.
    pub rows: Vec<Row>,
}

/// Every track's ranking, and the overall one.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Leaderboard {
    /// Per track, in track order.
    pub tracks: Vec<TrackBoard>,
    /// All teams together.
    pub overall: Vec<Row>,
}

impl Leaderboard {
    /// The ranking of `state` now, with every contribution: the state's running tally, ranked.
    pub fn compute(state: &State) -> Leaderboard {
        Self::rank(state, state.tally().rows())
    }

    /// The same board counted afresh from the scorecards, without the running tally the state
    /// keeps: what [`Leaderboard::compute`] must always equal (the property tests check it after
    /// every event).
    pub fn compute_from_scratch(state: &State) -> Leaderboard {
        Self::rank(state, Tally::count(state).rows())
    }

    /// Normalises (when on) and ranks every track's rows and the overall ones.
    fn rank<'r>(state: &State, rows: impl Iterator<Item = &'r Row>) -> Leaderboard {
        let Some(rubric) = state.rubric() else {
            return Leaderboard::default();
        };
        let mut rows: Vec<Row> = rows.cloned().collect();
        if state.ranking().normalize {
            normalize(&mut rows);
        }
        let order = tie_break_order(rubric);
        let tracks = state
            .tracks()
            .iter()
            .map(|t| TrackBoard {
                track: t.id.clone(),
                rows: ranked(
                    rows.iter().filter(|r| r.track == t.id).cloned().collect(),
                    &order,
                ),
            })
            .collect();
        Leaderboard {
            tracks,
            overall: ranked(rows, &order),
        }
    }

    /// The board as everyone but the organizers sees it before the result is final: the
    /// publication rule of `state` applied (see the module docs), and no breakdown — no
    /// per-criterion means, no individual scorecards. Ranks are given among the published rows
    /// alone (still broken by the hidden means), so an unpublished team moves no published rank.
    pub fn published(&self, state: &State) -> Leaderboard {
        let Some(rubric) = state.rubric() else {
            return Leaderboard::default();
        };
        let settings = state.ranking();
        let every_panel_complete = self
            .overall
            .iter()
            .all(|r| panel_complete(r) || r.judges_assigned == 0);
        let shows = |row: &Row| match settings.publication {
            Publication::Live => true,
            Publication::AtReveal => false,
            Publication::OnComplete if settings.normalize => every_panel_complete,
            Publication::OnComplete => panel_complete(row),
        };
        let order = tie_break_order(rubric);
        let (no_criteria, no_contributions) = (Shared::default(), Shared::default());
        let publish = |rows: &[Row]| -> Vec<Row> {
            let rows = rows
                .iter()
                .map(|r| {
                    let score = r.score.filter(|_| shows(r));
                    r.public(score, r.criteria.clone(), &no_contributions)
                })
                .collect();
            ranked(rows, &order)
                .into_iter()
                .map(|r| Row {
                    criteria: no_criteria.clone(),
                    ..r
                })
                .collect()
        };
        self.map_lists(publish)
    }

    /// The public board of schema 1 (every score live, criterion means included, contributions
    /// stripped): only to replay the freezes of logs written before the publication rule.
    pub(crate) fn schema1_public(&self) -> Leaderboard {
        let none = Shared::default();
        self.map_lists(|rows| {
            rows.iter()
                .map(|r| r.public(r.score, r.criteria.clone(), &none))
                .collect()
        })
    }

    /// The same board with each list of rows (every track's, and the overall one) made anew.
    fn map_lists(&self, rows: impl Fn(&[Row]) -> Vec<Row>) -> Leaderboard {
        Leaderboard {
            tracks: self
                .tracks
                .iter()
                .map(|t| TrackBoard {
                    track: t.track.clone(),
                    rows: rows(&t.rows),
                })
                .collect(),
            overall: rows(&self.overall),
        }
    }

    /// The board of one track.
    pub fn track(&self, track: &TrackId) -> Option<&TrackBoard> {
        self.tracks.iter().find(|t| &t.track == track)
    }
}

/// Whether every judge who counts for the row's team (assigned, no conflict) has a complete
/// scorecard of it.
fn panel_complete(row: &Row) -> bool {
    row.judges_assigned > 0 && row.judges_scored == row.judges_assigned
}

fn mean_sd(values: &[f64]) -> (f64, f64) {
    let n = values.len() as f64;
    let mean = values.iter().sum::<f64>() / n;
    let var = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n;
    (mean, var.sqrt())
}

/// Fills `normalized` of every counted contribution (step 2 of the module docs) and scores each
/// row on the normalised totals.
fn normalize(rows: &mut [Row]) {
    let counted = |rows: &[Row]| -> Vec<(JudgeId, f64)> {
        rows.iter()
            .flat_map(|r| r.contributions.iter())
            .filter(|c| c.excluded.is_none())
            .map(|c| (c.judge.clone(), c.total))
            .collect()
    };
    let all = counted(rows);
    if all.is_empty() {
        return;
    }
    let pooled: Vec<f64> = all.iter().map(|(_, t)| *t).collect();
    let (pooled_mean, pooled_sd) = mean_sd(&pooled);
    let mut per_judge: BTreeMap<JudgeId, Vec<f64>> = BTreeMap::new();
    for (judge, total) in all {
        per_judge.entry(judge).or_default().push(total);
    }
    let stats: BTreeMap<JudgeId, (usize, f64, f64)> = per_judge
        .into_iter()
        .map(|(j, totals)| {
            let (mean, sd) = mean_sd(&totals);
            (j, (totals.len(), mean, sd))
        })
        .collect();
    for row in rows.iter_mut() {
        for c in Arc::make_mut(&mut row.contributions)
            .iter_mut()
            .filter(|c| c.excluded.is_none())
        {
            let (n, mean, sd) = stats[&c.judge];
            let value = if n >= 2 && sd > 1e-9 {
                pooled_mean + (c.total - mean) / sd * pooled_sd
            } else {
                c.total - mean + pooled_mean
            };
            c.normalized = Some(round6(value.clamp(0.0, 100.0)));
        }
        row.score = score_of(&row.contributions);
    }
}

/// A team's jury score from its contributions: the weighted mean of the counted ones (normalised
/// when they are), two decimals; `None` with nothing counted.
fn score_of(contributions: &[Contribution]) -> Option<f64> {
    let counted = || contributions.iter().filter(|c| c.excluded.is_none());
    let weights: f64 = counted().map(|c| c.weight).sum();
    (counted().next().is_some() && weights > 0.0).then(|| {
        let sum: f64 = counted()
            .map(|c| c.weight * c.normalized.unwrap_or(c.total))
            .sum();
        // The mean is taken back to the totals' six decimals before it is rounded for show: a
        // mean that is exactly on a half cent on paper (35.625) lands a hair below or above it
        // depending on which totals made it, and rounding that directly would show and rank two
        // teams that are tied on paper apart.
        round2(round6(sum / weights))
    })
}

/// The order every board keeps: by rank, ties by team id, rows without a rank last by team id.
/// It is the order [`Leaderboard::compute`] and [`Leaderboard::published`] give, written so that a
/// client that replaces a few rows can restore it without the breakdown ranks were made from.
pub fn board_order(a: &Row, b: &Row) -> Ordering {
    (a.rank.is_none(), a.rank, &a.team).cmp(&(b.rank.is_none(), b.rank, &b.team))
}

/// Indexes into `Row::criteria` in tie-break order: heaviest first, equal weights in rubric order.
fn tie_break_order(rubric: &Rubric) -> Vec<usize> {
    let mut order: Vec<usize> = (0..rubric.criteria.len()).collect();
    order.sort_by(|&a, &b| {
        rubric.criteria[b]
            .weight
            .total_cmp(&rubric.criteria[a].weight)
            .then(a.cmp(&b))
    });
    order
}

/// Compares two scored rows by the tie-break rules; `Equal` means they share a rank.
fn compare(a: &Row, b: &Row, order: &[usize]) -> Ordering {
    let key = |x: f64| (x * 100.0).round() as i64;
    let by_score = key(b.score.unwrap_or(0.0)).cmp(&key(a.score.unwrap_or(0.0)));
    let by_criteria = order.iter().fold(Ordering::Equal, |acc, &i| {
        acc.then_with(|| key(b.criteria[i].mean).cmp(&key(a.criteria[i].mean)))
    });
    by_score
        .then(by_criteria)
        .then(b.judges_scored.cmp(&a.judges_scored))
}

/// Sorts rows best first and gives ranks, shared by rows that compare equal.
fn ranked(mut rows: Vec<Row>, order: &[usize]) -> Vec<Row> {
    rows.sort_by(|a, b| match (a.score.is_some(), b.score.is_some()) {
        (true, true) => compare(a, b, order).then_with(|| a.team.cmp(&b.team)),
        (true, false) => Ordering::Less,
        (false, true) => Ordering::Greater,
        (false, false) => a.team.cmp(&b.team),
    });
    let mut previous: Option<usize> = None;
    for i in 0..rows.len() {
        if rows[i].score.is_none() {
            rows[i].rank = None;
            continue;
        }
        let rank = match previous {
            Some(p) if compare(&rows[p], &rows[i], order) == Ordering::Equal => rows[p].rank,
            _ => Some(i as u32 + 1),
        };
        rows[i].rank = rank;
        previous = Some(i);
    }
    rows
}
