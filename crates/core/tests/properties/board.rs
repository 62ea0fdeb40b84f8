//! The leaderboard recounted by hand, in exact fractions, and the checks that compare the
//! board with it; and a bare bench challenge for the leaderboard's own properties.

use std::collections::{BTreeMap, BTreeSet};

use makerpulse_core::command::Command;
use makerpulse_core::ids::CriterionId;
use makerpulse_core::leaderboard::Row;
use makerpulse_core::roster::PanelRole;
use makerpulse_core::rubric::RankingSettings;
use makerpulse_core::state::State;
use makerpulse_core::{
    Actor, ChallengeId, CommandId, Envelope, JudgeId, Leaderboard, Localized, Outcome, TeamId,
};

use crate::session::{assignment, name, t0, track, TRACKS};

/// An exact fraction, so that the recount is the arithmetic on paper, with no rounding error to
/// hide behind: every input (scores, scale, criterion and role weights) is a whole or binary
/// fraction.
#[derive(Clone, Copy, Debug)]
struct Q {
    n: i128,
    d: i128,
}

impl Q {
    fn new(n: i128, d: i128) -> Q {
        fn gcd(a: i128, b: i128) -> i128 {
            if b == 0 {
                a.abs()
            } else {
                gcd(b, a % b)
            }
        }
        let g = gcd(n, d).max(1);
        Q { n: n / g, d: d / g }
    }

    /// A weight given as f64, exactly (weights are binary fractions: 0.5, 1.5, 30…).
    fn of(x: f64) -> Q {
        let mut d = 1i128;
        while (x * d as f64).fract() != 0.0 {
            d *= 2;
            assert!(d < 1 << 40, "weight {x} is not a short binary fraction");
        }
        Q::new((x * d as f64) as i128, d)
    }

    fn add(self, o: Q) -> Q {
        Q::new(self.n * o.d + o.n * self.d, self.d * o.d)
    }

    fn mul(self, o: Q) -> Q {
        Q::new(self.n * o.n, self.d * o.d)
    }

    fn div(self, o: Q) -> Q {
        Q::new(self.n * o.d, self.d * o.n)
    }

    /// Hundredths, half a cent rounding up, as a person rounds.
    fn cents(self) -> i64 {
        ((200 * self.n + self.d) / (2 * self.d)) as i64
    }
}

/// A team's jury score (in cents) and judge count, recounted by hand from the rules in
/// DESIGN.md and the leaderboard's docs, without any of its code: counted scorecards are
/// complete ones by judges assigned the team (its track or the team itself) and without a
/// conflict with it; a scorecard's total is the weighted mean of its criteria on 0–100; the
/// team's score is the mean of the totals weighted by panel role, to two decimals. Without
/// normalisation only.
fn naive_recount(state: &State) -> BTreeMap<TeamId, (Option<i64>, u32)> {
    let rubric = state.rubric().expect("set at creation");
    let span = i128::from(rubric.scale.max - rubric.scale.min);
    let mut out = BTreeMap::new();
    for team in state.teams().values() {
        let (mut sum, mut weights, mut counted) = (Q::new(0, 1), Q::new(0, 1), 0);
        for judge in state.judges().values() {
            let Some(card) = state.scorecard(&judge.id, &team.id) else {
                continue;
            };
            let assigned = judge.assignment.tracks.contains(&team.track)
                || judge.assignment.teams.contains(&team.id);
            let complete = rubric
                .criteria
                .iter()
                .all(|c| card.current.scores.contains_key(&c.id));
            if !assigned || judge.conflicts.contains(&team.id) || !complete {
                continue;
            }
            let (mut points, mut criterion_weights) = (Q::new(0, 1), Q::new(0, 1));
            for c in &rubric.criteria {
                let score = card.current.scores[&c.id];
                assert!(
                    rubric.scale.contains(score),
                    "a score off the scale was kept"
                );
                let percent = Q::new(i128::from(score - rubric.scale.min) * 100, span);
                points = points.add(Q::of(c.weight).mul(percent));
                criterion_weights = criterion_weights.add(Q::of(c.weight));
            }
            let total = points.div(criterion_weights);
            // A panel role without a weight weighs 1.
            let role_weight = state.ranking().role_weights.get(&judge.panel_role);
            let weight = Q::of(role_weight.copied().unwrap_or(1.0));
            sum = sum.add(weight.mul(total));
            weights = weights.add(weight);
            counted += 1;
        }
        let score = (counted > 0).then(|| sum.div(weights).cents());
        out.insert(team.id.clone(), (score, counted));
    }
    out
}

/// Cents, as the board ranks on them.
fn cents(score: f64) -> i64 {
    (score * 100.0).round() as i64
}

/// The board of `state` agrees with the recount by hand, team by team, on every track's board
/// and the overall one, and its ranks read like a podium.
pub(crate) fn check_board_against_recount(state: &State) {
    let board = Leaderboard::compute(state);
    let recount = naive_recount(state);
    assert_eq!(board.overall.len(), state.teams().len());
    for row in &board.overall {
        let (score, counted) = recount[&row.team];
        assert_eq!(row.judges_scored, counted, "judges scored of {}", row.team);
        match (row.score, score) {
            (None, None) => {}
            (Some(got), Some(exact)) => assert_eq!(
                cents(got),
                exact,
                "score of {}: board {got}, recount {exact} cents",
                row.team
            ),
            other => panic!("score of {}: {other:?}", row.team),
        }
        let in_track = board
            .track(&row.track)
            .and_then(|t| t.rows.iter().find(|r| r.team == row.team))
            .expect("every team is on its track's board");
        assert_eq!(
            (in_track.score, in_track.judges_scored),
            (row.score, counted)
        );
    }
    for rows in board.tracks.iter().map(|t| &t.rows).chain([&board.overall]) {
        check_ranks(rows);
    }
}

/// Ranks read like a podium: scored teams first, best first, from 1; a shared rank only between
/// equal scores; otherwise the rank is the place in the list.
fn check_ranks(rows: &[Row]) {
    let scored = rows.iter().take_while(|r| r.score.is_some()).count();
    assert!(rows[scored..]
        .iter()
        .all(|r| r.score.is_none() && r.rank.is_none()));
    for (i, row) in rows[..scored].iter().enumerate() {
        let place = i as u32 + 1;
        if i == 0 {
            assert_eq!(row.rank, Some(1));
            continue;
        }
        let previous = &rows[i - 1];
        assert!(cents(previous.score.unwrap()) >= cents(row.score.unwrap()));
        if row.rank != Some(place) {
            assert_eq!(row.rank, previous.rank, "rank of {}", row.team);
            assert_eq!(row.score, previous.score);
        }
    }
}

/// A bare challenge for the leaderboard's own properties: `teams` teams spread over the first
/// `tracks` tracks, one judge per entry of `panel`, each assigned every track without a
/// conflict, the clock started and scoring open.
pub(crate) struct Bench {
    pub(crate) state: State,
    commands: u64,
}

impl Bench {
    pub(crate) fn new(teams: usize, tracks: usize, panel: &[PanelRole]) -> Bench {
        let mut bench = Bench {
            state: State::new(),
            commands: 0,
        };
        bench.run(
            &Actor::Admin,
            Command::CreateChallenge {
                id: ChallengeId::new("bench").unwrap(),
                title: name("bench"),
                description: Localized::default(),
                planned_start: None,
                duration_secs: None,
            },
        );
        for (i, id) in TRACKS.iter().enumerate() {
            bench.run(
                &Actor::Admin,
                Command::AddTrack {
                    id: track(i),
                    name: name(id),
                    description: Localized::default(),
                },
            );
        }
        for i in 0..teams {
            bench.run(
                &Actor::Admin,
                Command::AddTeam {
                    id: Bench::team(i),
                    track: track(i % tracks),
                    name: name(Bench::team(i).as_str()),
                    description: Localized::default(),
                    members: vec![],
                    contact: String::new(),
                },
            );
        }
        for (i, &panel_role) in panel.iter().enumerate() {
            bench.run(
                &Actor::Admin,
                Command::AddJudge {
                    id: Bench::judge(i),
                    name: name(Bench::judge(i).as_str()),
                    panel_role,
                    affiliation: Localized::default(),
                    assignment: assignment(&[0, 1, 2], &[]),
                    conflicts: BTreeSet::new(),
                },
            );
        }
        bench.run(&Actor::Admin, Command::StartChallenge);
        bench.run(
            &Actor::Admin,
            Command::OpenScoring {
                reason: String::new(),
            },
        );
        bench
    }

    pub(crate) fn team(i: usize) -> TeamId {
        TeamId::new(format!("team{i}")).unwrap()
    }

    pub(crate) fn judge(i: usize) -> JudgeId {
        JudgeId::new(format!("judge{i}")).unwrap()
    }

    /// Runs a command that must be accepted.
    pub(crate) fn run(&mut self, actor: &Actor, command: Command) {
        self.commands += 1;
        let id = CommandId::new(format!("b{}", self.commands)).unwrap();
        let envelope = Envelope::new(id, command);
        let outcome = self.state.execute(actor, &envelope, t0());
        assert!(
            matches!(outcome, Ok(Outcome::Applied(_))),
            "{envelope:?}: {outcome:?}"
        );
    }

    pub(crate) fn score(&mut self, judge: usize, team: usize, scores: BTreeMap<CriterionId, u32>) {
        self.run(
            &Actor::Judge(Bench::judge(judge)),
            Command::SubmitScorecard {
                team: Bench::team(team),
                scores,
                comment: String::new(),
                reason: String::new(),
            },
        );
    }

    /// The board under `settings`.
    pub(crate) fn board(&mut self, settings: RankingSettings) -> Leaderboard {
        self.run(&Actor::Admin, Command::SetRanking { settings });
        Leaderboard::compute(&self.state)
    }
}
