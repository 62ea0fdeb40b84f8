//! What the jury still owes: every scorecard an eligible judge (assigned, no conflict) has not
//! completed, by judge and by team, and the teams nobody can score. The organizers read it before
//! they close scoring, freeze the board or begin the reveal, so that a result never stands on a
//! scorecard someone forgot.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::{JudgeId, State, TeamId, TrackId};

/// The scorecards still outstanding in a challenge.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Outstanding {
    /// Scorecards the panels owe in all: one per team and eligible judge.
    pub expected: u32,
    /// Of those, the complete ones.
    pub complete: u32,
    /// Each judge who still owes a scorecard, in judge order.
    pub by_judge: Vec<JudgeOwes>,
    /// Each team still waiting for a scorecard, in team order.
    pub by_team: Vec<TeamAwaits>,
    /// Teams without a single eligible judge: nobody can score them.
    pub without_panel: Vec<TeamId>,
}

impl Outstanding {
    /// Whether every team has a panel and every panel is complete.
    pub fn is_empty(&self) -> bool {
        self.by_judge.is_empty() && self.without_panel.is_empty()
    }
}

/// What one judge still owes.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct JudgeOwes {
    /// The judge.
    pub judge: JudgeId,
    /// Teams they have not scored at all.
    pub missing: Vec<TeamId>,
    /// Teams whose scorecard lacks some criteria.
    pub incomplete: Vec<TeamId>,
}

/// What one team still waits for.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TeamAwaits {
    /// The team.
    pub team: TeamId,
    /// Its track.
    pub track: TrackId,
    /// Eligible judges who have not scored it at all.
    pub missing: Vec<JudgeId>,
    /// Eligible judges whose scorecard of it lacks some criteria.
    pub incomplete: Vec<JudgeId>,
}

/// The scorecards outstanding in `state`. Without a rubric nothing can be scored, and nothing is
/// listed but the teams without a panel.
pub fn outstanding(state: &State) -> Outstanding {
    let mut out = Outstanding::default();
    let mut by_judge: BTreeMap<&JudgeId, JudgeOwes> = BTreeMap::new();
    for team in state.teams().values() {
        let mut awaits = TeamAwaits {
            team: team.id.clone(),
            track: team.track.clone(),
            missing: Vec::new(),
            incomplete: Vec::new(),
        };
        let mut panel = 0;
        for judge in state.judges().values() {
            if !judge.eligible(&team.id, &team.track) {
                continue;
            }
            panel += 1;
            out.expected += 1;
            let card = state.scorecard(&judge.id, &team.id);
            let complete = match (card, state.rubric()) {
                (Some(card), Some(rubric)) => rubric.is_complete(&card.current.scores),
                _ => false,
            };
            if complete {
                out.complete += 1;
                continue;
            }
            let owes = by_judge.entry(&judge.id).or_insert_with(|| JudgeOwes {
                judge: judge.id.clone(),
                missing: Vec::new(),
                incomplete: Vec::new(),
            });
            if card.is_some() {
                owes.incomplete.push(team.id.clone());
                awaits.incomplete.push(judge.id.clone());
            } else {
                owes.missing.push(team.id.clone());
                awaits.missing.push(judge.id.clone());
            }
        }
        if panel == 0 {
            out.without_panel.push(team.id.clone());
        } else if !awaits.missing.is_empty() || !awaits.incomplete.is_empty() {
            out.by_team.push(awaits);
        }
    }
    out.by_judge = by_judge.into_values().collect();
    out
}
