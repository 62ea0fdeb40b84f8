//! The running tally behind the leaderboard: every team's row before ranking (counted judges,
//! un-normalised score, criterion means, contributions), kept current event by event so that a
//! scorecard costs a recount of its own team, not of the whole challenge.
//!
//! The tally is derived, never stored as truth: [`Tally::count`] builds it from the state alone,
//! and [`crate::Leaderboard::compute_from_scratch`] ranks that fresh count, which the property
//! tests compare with the running one after every event.

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::event::EventBody;
use crate::ids::{CriterionId, TeamId};
use crate::rubric::Rubric;
use crate::state::State;

use super::{round2, round6, score_of, Contribution, CriterionMean, Exclusion, Row};

/// Every team's unranked row, by team.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct Tally {
    rows: BTreeMap<TeamId, Row>,
}

impl Tally {
    /// The tally of `state`, counted from its scorecards.
    pub(crate) fn count(state: &State) -> Tally {
        let mut tally = Tally::default();
        tally.recount_all(state);
        tally
    }

    /// Every team's row, in team order, unranked and un-normalised.
    pub(crate) fn rows(&self) -> impl Iterator<Item = &Row> {
        self.rows.values()
    }

    /// Brings the tally up to date with `body`, already applied to `state`. Only what the event
    /// can change is recounted: a scorecard, its team's row; a team, its own row; anything that
    /// moves who counts for whom or how (judges, conflicts, tracks, the rubric, the ranking
    /// method), every row. Events that touch no score are named one by one, so that a new event
    /// does not compile until someone decides what it recounts.
    pub(crate) fn follow(&mut self, state: &State, body: &EventBody) {
        match body {
            EventBody::ScorecardSubmitted { team, .. } => self.recount(state, team),
            EventBody::TeamAdded { team } | EventBody::TeamUpdated { team } => {
                self.recount(state, &team.id)
            }
            EventBody::TeamRemoved { .. }
            | EventBody::JudgeAdded { .. }
            | EventBody::JudgeUpdated { .. }
            | EventBody::JudgeRemoved { .. }
            | EventBody::ConflictDeclared { .. }
            | EventBody::TrackAdded { .. }
            | EventBody::TrackUpdated { .. }
            | EventBody::TrackRemoved { .. }
            | EventBody::RubricSet { .. }
            | EventBody::RankingSet { .. }
            | EventBody::ChallengeCreated { .. } => self.recount_all(state),
            EventBody::ChallengeUpdated { .. }
            | EventBody::MilestonesSet { .. }
            | EventBody::TokenIssued { .. }
            | EventBody::TokensRevoked { .. }
            | EventBody::ChallengeStarted
            | EventBody::ClockPaused { .. }
            | EventBody::ClockResumed
            | EventBody::BuildingEnded
            | EventBody::ScoringOpened { .. }
            | EventBody::ScoringClosed
            | EventBody::Frozen { .. }
            | EventBody::TeamRevealed { .. }
            | EventBody::ResultFinal
            | EventBody::ProgressPosted { .. }
            | EventBody::PostHidden { .. }
            | EventBody::MilestoneReached { .. }
            | EventBody::MilestoneUndone { .. }
            | EventBody::CheersTallied { .. } => {}
        }
    }

    fn recount_all(&mut self, state: &State) {
        self.rows.clear();
        for team in state.teams().keys() {
            self.recount(state, team);
        }
    }

    fn recount(&mut self, state: &State, team: &TeamId) {
        match (state.rubric(), state.team(team)) {
            (Some(rubric), Some(_)) => {
                self.rows
                    .insert(team.clone(), team_row(state, rubric, team));
            }
            _ => {
                self.rows.remove(team);
            }
        }
    }
}

/// One team's row from its scorecards: every judge's card as a contribution (counted or not), the
/// score of the counted ones (un-normalised), their mean per criterion.
fn team_row(state: &State, rubric: &Rubric, id: &TeamId) -> Row {
    let team = state.team(id).expect("the caller checked");
    let settings = state.ranking();
    let mut contributions = Vec::new();
    let mut counted: Vec<&BTreeMap<CriterionId, u32>> = Vec::new();
    let mut judges_assigned = 0;
    for judge in state.judges().values() {
        if judge.eligible(&team.id, &team.track) {
            judges_assigned += 1;
        }
        let Some(card) = state.scorecard(&judge.id, &team.id) else {
            continue;
        };
        let excluded = if judge.conflicts.contains(&team.id) {
            Some(Exclusion::Conflicted)
        } else if !judge.assignment.covers(&team.id, &team.track) {
            Some(Exclusion::NotAssigned)
        } else if !rubric.is_complete(&card.current.scores) {
            Some(Exclusion::Incomplete)
        } else {
            None
        };
        if excluded.is_none() {
            counted.push(&card.current.scores);
        }
        contributions.push(Contribution {
            judge: judge.id.clone(),
            panel_role: judge.panel_role,
            total: round6(rubric.total(&card.current.scores)),
            normalized: None,
            weight: settings.weight_of(judge.panel_role),
            excluded,
        });
    }
    let criteria: Vec<CriterionMean> = rubric
        .criteria
        .iter()
        .map(|criterion| {
            let scores: Vec<f64> = counted
                .iter()
                .filter_map(|scores| scores.get(&criterion.id))
                .map(|&s| f64::from(s))
                .collect();
            let mean = if scores.is_empty() {
                0.0
            } else {
                round2(scores.iter().sum::<f64>() / scores.len() as f64)
            };
            CriterionMean {
                criterion: criterion.id.clone(),
                mean,
            }
        })
        .collect();
    Row {
        rank: None,
        team: team.id.clone(),
        track: team.track.clone(),
        score: score_of(&contributions),
        judges_scored: counted.len() as u32,
        judges_assigned,
        criteria: Arc::new(criteria),
        contributions: Arc::new(contributions),
    }
}
