//! Blind judging as non-interference: whatever one judge scored a team whose result may not be
//! published yet, nobody but the organizers and that judge can tell. The same log is played
//! twice, once with that judge's scores of that team changed (every revision, every criterion,
//! each to another point on the scale); every other role's snapshot and every delta it receives
//! must be the same in both, at every seq, until the reveal begins.

use makerpulse_core::rubric::Publication;
use makerpulse_core::state::State;
use makerpulse_core::{Event, EventBody, JudgeId, Projector, Role, TeamId, ViewStream};

use crate::session::roles;

/// Whether the publication rule of `state` promises that nothing of `judge`'s scorecard of `team`
/// reaches a non-admin now: written from the rule's words, not from the leaderboard's code.
pub(crate) fn must_stay_hidden(state: &State, team: &TeamId) -> bool {
    let settings = state.ranking();
    let incomplete = |t: &TeamId| {
        let Some(team) = state.team(t) else {
            return true;
        };
        let rubric = state.rubric();
        let panel: Vec<_> = state
            .judges()
            .values()
            .filter(|j| j.eligible(&team.id, &team.track))
            .collect();
        panel.is_empty()
            || panel.iter().any(|j| {
                !state
                    .scorecard(&j.id, t)
                    .zip(rubric)
                    .is_some_and(|(card, rubric)| rubric.is_complete(&card.current.scores))
            })
    };
    match settings.publication {
        Publication::Live => false,
        Publication::AtReveal => true,
        Publication::OnComplete if settings.normalize => {
            state
                .teams()
                .keys()
                .any(|t| incomplete(t) && !no_panel(state, t))
                || incomplete(team)
        }
        Publication::OnComplete => incomplete(team),
    }
}

fn no_panel(state: &State, team: &TeamId) -> bool {
    state
        .team(team)
        .is_none_or(|t| !state.judges().values().any(|j| j.eligible(&t.id, &t.track)))
}

/// `log` with every score `judge` gave `team` moved to another point of the scale.
pub(crate) fn perturbed(
    log: &[Event],
    judge: &JudgeId,
    team: &TeamId,
    state: &State,
) -> Vec<Event> {
    let Some(scale) = state.rubric().map(|r| r.scale) else {
        return log.to_vec();
    };
    log.iter()
        .cloned()
        .map(|mut e| {
            if let EventBody::ScorecardSubmitted {
                judge: j,
                team: t,
                scores,
                ..
            } = &mut e.body
            {
                if j == judge && t == team {
                    for s in scores.values_mut() {
                        *s = if *s >= scale.max { scale.min } else { *s + 1 };
                    }
                }
            }
            e
        })
        .collect()
}

/// Plays `log` and its perturbed twin side by side; returns `false` when the case says nothing
/// (the rule allowed publishing at some point before the reveal), else checks every role but
/// the organizers' and the judge's own, and panics on the first difference.
pub(crate) fn check_blind(log: &[Event], judge: &JudgeId, team: &TeamId) -> bool {
    let final_state = State::replay(log).unwrap();
    let twin_log = perturbed(log, judge, team, &final_state);
    let roles: Vec<Role> = roles()
        .into_iter()
        .filter(|r| !matches!(r, Role::Admin) && r != &Role::Judge(judge.clone()))
        .collect();
    let mut a = State::new();
    let mut b = State::new();
    let mut streams_a: Vec<_> = roles
        .iter()
        .map(|r| ViewStream::new(r.clone(), 0))
        .collect();
    let mut streams_b = streams_a.clone();
    let mut checked = false;
    for (ea, eb) in log.iter().zip(&twin_log) {
        a.apply(ea).unwrap();
        b.apply(eb).unwrap();
        if !a.revealed().is_empty() {
            break;
        }
        if !must_stay_hidden(&a, team) {
            return false;
        }
        let (pa, pb) = (Projector::new(&a), Projector::new(&b));
        for (i, role) in roles.iter().enumerate() {
            let (da, db) = (streams_a[i].next(&pa, ea), streams_b[i].next(&pb, eb));
            assert_eq!(
                da, db,
                "{role:?}'s delta at seq {} tells {judge}'s scores of {team}",
                ea.seq
            );
            let (va, vb) = (pa.snapshot(role), pb.snapshot(role));
            assert!(
                va == vb,
                "{role:?}'s view at seq {} tells {judge}'s scores of {team}",
                ea.seq
            );
        }
        checked = true;
    }
    checked
}
