//! What one scorecard costs the core at a real event's size: the server projects every event
//! into every connected view (the audience, each team's console, each judge's console, the
//! organizers) and serialises each distinct message once, as the server does. Sizes as in issue 12: 12 teams and 8 judges, 60 and
//! 12, 200 and 30 (one track), and 200 teams in four tracks. Every judge scores every team of
//! their track but one; the benchmarked event is a revision (all 8s, then all 6s, and back) that
//! moves a team up and down the board, so its score and some ranks change on every iteration.
//! Every iteration revises the same challenge, cloned outside the measurement.
//!
//! The second group is the same scorecard with the consoles following only the parts their pages
//! show (a team's console the ticker, a judge's none), as the web consoles ask since `parts`: what
//! is left is the board of the audience and the organizers, the scorer's scorecard and a pass per
//! console that finds nothing to send.
//!
//! `cargo bench -p makerpulse-core --bench projection`; the sizes of the audience's delta and
//! snapshot are printed once per size.

// criterion's macros generate the undocumented `main` and group function of a bench.
#![allow(missing_docs)]

use std::collections::BTreeMap;
use std::hint::black_box;
use std::sync::Arc;

use chrono::{DateTime, TimeZone, Utc};
use criterion::{criterion_group, criterion_main, BatchSize, BenchmarkId, Criterion};
use makerpulse_core::ids::CriterionId;
use makerpulse_core::parts::{Part, Parts};
use makerpulse_core::protocol::SharedMessages;
use makerpulse_core::roster::{Assignment, PanelRole};
use makerpulse_core::snapshot;
use makerpulse_core::{
    Actor, ChallengeId, Command, CommandId, Envelope, JudgeId, Localized, Outcome, Projector, Role,
    State, TeamId, TrackId, ViewStream,
};

#[derive(Clone)]
struct Challenge {
    state: State,
    n: u64,
    streams: Vec<ViewStream>,
    /// The judge who revises, the team revised, and the two cards it alternates between.
    judge: JudgeId,
    team: TeamId,
    flip: bool,
    /// The bytes of the audience's message for the last revision.
    audience_delta: usize,
}

fn now(n: u64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 5, 1, 1, 0, 0).unwrap() + chrono::Duration::milliseconds(n as i64)
}

const CRITERIA: [&str; 5] = [
    "innovation",
    "execution",
    "completeness",
    "commercial",
    "presentation",
];

fn scores(points: u32) -> BTreeMap<CriterionId, u32> {
    CRITERIA
        .iter()
        .enumerate()
        .map(|(c, id)| (CriterionId::new(*id).unwrap(), 1 + (points + c as u32) % 10))
        .collect()
}

/// A card with `points` on every criterion: 8 and 6 differ by 22 points on 0–100, which moves a
/// team a few places on boards of 30 judges' means and many places on boards of 8.
fn uniform(points: u32) -> BTreeMap<CriterionId, u32> {
    CRITERIA
        .iter()
        .map(|id| (CriterionId::new(*id).unwrap(), points))
        .collect()
}

impl Challenge {
    fn run(&mut self, actor: Actor, command: Command) -> Outcome {
        self.n += 1;
        let envelope = Envelope::new(CommandId::new(format!("c{}", self.n)).unwrap(), command);
        self.state
            .execute(&actor, &envelope, now(self.n))
            .expect("accepted")
    }

    /// A challenge with every console connected; `pages`: each following the parts its page shows.
    fn new(teams: usize, judges: usize, tracks: usize, pages: bool) -> Self {
        let mut c = Challenge {
            state: State::new(),
            n: 0,
            streams: Vec::new(),
            judge: JudgeId::new("j0").unwrap(),
            team: TeamId::new("t000").unwrap(),
            flip: false,
            audience_delta: 0,
        };
        c.run(
            Actor::Admin,
            Command::CreateChallenge {
                id: ChallengeId::new("bench").unwrap(),
                title: Localized::new("基准", "Bench"),
                description: Localized::default(),
                planned_start: None,
                duration_secs: None,
            },
        );
        let track = |t: usize| TrackId::new(format!("track{t}")).unwrap();
        let team = |i: usize| TeamId::new(format!("t{i:03}")).unwrap();
        let judge = |j: usize| JudgeId::new(format!("j{j}")).unwrap();
        for t in 0..tracks {
            c.run(
                Actor::Admin,
                Command::AddTrack {
                    id: track(t),
                    name: Localized::new("赛道", "Track"),
                    description: Localized::default(),
                },
            );
        }
        for i in 0..teams {
            c.run(
                Actor::Admin,
                Command::AddTeam {
                    id: team(i),
                    track: track(i % tracks),
                    name: Localized::new(format!("团队 {i}"), format!("Team {i}")),
                    description: Localized::new("一个项目", "A project"),
                    members: vec![],
                    contact: String::new(),
                },
            );
        }
        for j in 0..judges {
            c.run(
                Actor::Admin,
                Command::AddJudge {
                    id: judge(j),
                    name: Localized::new(format!("评委 {j}"), format!("Judge {j}")),
                    panel_role: PanelRole::ALL[j % PanelRole::ALL.len()],
                    affiliation: Localized::default(),
                    assignment: Assignment {
                        tracks: [track(j % tracks)].into(),
                        teams: Default::default(),
                    },
                    conflicts: Default::default(),
                },
            );
        }
        c.run(Actor::Admin, Command::StartChallenge);
        c.run(
            Actor::Admin,
            Command::OpenScoring {
                reason: String::new(),
            },
        );
        // Every judge scores every team of their track, but the last judge skips the last team:
        // most panels complete and published, one still being scored.
        for j in 0..judges {
            for i in (0..teams).filter(|i| i % tracks == j % tracks) {
                if j == judges - 1 && i + tracks >= teams {
                    continue;
                }
                c.run(
                    Actor::Judge(judge(j)),
                    Command::SubmitScorecard {
                        team: team(i),
                        scores: scores((i * 7 + j * 3) as u32),
                        comment: String::new(),
                        reason: String::new(),
                    },
                );
            }
        }
        let (team_parts, judge_parts) = if pages {
            ([Part::Ticker].into_iter().collect(), Parts::NONE)
        } else {
            (Parts::ALL, Parts::ALL)
        };
        let mut roles = vec![(Role::Audience, Parts::ALL), (Role::Admin, Parts::ALL)];
        roles.extend((0..teams).map(|i| (Role::Team(team(i)), team_parts)));
        roles.extend((0..judges).map(|j| (Role::Judge(judge(j)), judge_parts)));
        let seq = c.state.seq();
        c.streams = roles
            .into_iter()
            .map(|(role, parts)| ViewStream::of_parts(role, parts, seq))
            .collect();
        // One event first, so that every stream holds a board, as a running server's do.
        c.revise();
        c
    }

    /// j0 revises t000, alternating a high and a low card; returns the bytes of every message.
    fn revise(&mut self) -> usize {
        self.flip = !self.flip;
        let command = Command::SubmitScorecard {
            team: self.team.clone(),
            scores: uniform(if self.flip { 8 } else { 6 }),
            comment: String::new(),
            reason: "bench".into(),
        };
        let Outcome::Applied(events) = self.run(Actor::Judge(self.judge.clone()), command) else {
            panic!("a revision appends an event");
        };
        let projector = Projector::new(&self.state);
        let mut bytes = 0;
        for event in &events {
            // As the server's fan-out does: views with the same message share its text.
            let mut shared = SharedMessages::default();
            for (i, stream) in self.streams.iter_mut().enumerate() {
                if let Some(delta) = stream.next(&projector, event) {
                    let len = shared.text(delta, Arc::<str>::from).len();
                    if i == 0 {
                        self.audience_delta = len;
                    }
                    bytes += len;
                }
            }
        }
        bytes
    }
}

fn projection(c: &mut Criterion) {
    for (name, pages) in [
        ("one scorecard to every view", false),
        ("one scorecard, consoles following their pages", true),
    ] {
        let mut group = c.benchmark_group(name);
        group.sample_size(20);
        for (teams, judges, tracks) in [(12, 8, 1), (60, 12, 1), (200, 30, 1), (200, 32, 4)] {
            let mut challenge = Challenge::new(teams, judges, tracks, pages);
            let snapshot = serde_json::to_string(&snapshot(&challenge.state, &Role::Audience))
                .unwrap()
                .len();
            let all = challenge.revise();
            eprintln!(
                "{name}: {teams} teams, {judges} judges, {tracks} track(s): {} views; audience \
                 snapshot {snapshot} B, audience delta {} B, every view's messages together {all} B",
                challenge.streams.len(),
                challenge.audience_delta,
            );
            group.bench_with_input(
                BenchmarkId::from_parameter(format!("{teams}t-{judges}j-{tracks}tr")),
                &(),
                // Each measured revision starts from the same challenge, cloned outside the clock:
                // revising one card over and over would grow its history (which the organizers'
                // and the judge's scorecard patch carry) with every iteration, and measure that
                // instead.
                |b, _| {
                    b.iter_batched(
                        || challenge.clone(),
                        |mut c| {
                            let bytes = c.revise();
                            (c, black_box(bytes))
                        },
                        BatchSize::LargeInput,
                    )
                },
            );
        }
        group.finish();
    }
}

criterion_group!(benches, projection);
criterion_main!(benches);
