//! The random steps of a session: what a step is, how proptest draws one, and which command it
//! becomes against the state it is played on.

use std::collections::{BTreeMap, BTreeSet};

use makerpulse_core::command::{Command, NewJudge, NewTeam};
use makerpulse_core::ids::{CriterionId, MilestoneId};
use makerpulse_core::milestone::{default_milestones, MilestoneDef};
use makerpulse_core::progress::{ImageType, PhotoRef};
use makerpulse_core::roster::{Assignment, Subject};
use makerpulse_core::rubric::{Criterion, Publication, RankingSettings, Rubric, Scale};
use makerpulse_core::{Actor, Localized, TeamId, TokenHash, TrackId};
use proptest::prelude::*;

use crate::session::{
    add_team, assignment, judge, name, role, t0, team, track, Session, DURATION_SECS, JUDGES,
    TEAM_TRACK, TRACKS,
};

/// A second rubric for sessions that replace the default during setup: another scale (0–5) and
/// fractional weights.
fn other_rubric() -> Rubric {
    let criteria = [("idea", 2.0), ("build", 1.5), ("pitch", 1.0)]
        .into_iter()
        .map(|(id, weight)| Criterion {
            id: CriterionId::new(id).unwrap(),
            name: name(id),
            weight,
        })
        .collect();
    Rubric {
        scale: Scale { min: 0, max: 5 },
        criteria,
    }
}

/// Every criterion id either rubric knows, and one neither does.
const CRITERIA: [&str; 9] = [
    "innovation",
    "execution",
    "completeness",
    "commercial",
    "presentation",
    "idea",
    "build",
    "pitch",
    "charisma",
];

// ---- random steps --------------------------------------------------------------------------------

/// How a judge fills in a scorecard.
#[derive(Clone, Debug)]
pub(crate) struct ScoreSpec {
    kind: u8,
    values: Vec<u32>,
    mask: u16,
}

/// A command in the abstract; turned into a real one against the state when it is played, so
/// that it can name posts and milestones that exist then.
#[derive(Clone, Debug)]
pub(crate) enum Spec {
    /// The next natural step of the challenge's life for its phase (start, open scoring, end
    /// building, freeze, close scoring, reveal), so that sessions get through every phase.
    NextStep(u8),
    /// A lifecycle command picked blindly: 0 start, 1 pause, 2 resume, 3 end building, 4 open
    /// scoring, 5 close scoring, 6 freeze, 7 reveal next.
    Lifecycle(u8, bool),
    SetRanking {
        normalize: bool,
        weights: Vec<(usize, usize)>,
        publication: u8,
    },
    UpdateJudge {
        judge: usize,
        role: usize,
        tracks: u8,
        teams: u8,
        conflicts: u8,
    },
    /// Any other organizer command (setup and housekeeping), picked by `kind`.
    Admin {
        kind: u8,
        a: usize,
        b: usize,
    },
    HidePost(usize),
    /// An organizer takes back a team's milestone: `None`, its last one; `Some(i)`, the i-th,
    /// reached or not; `reason`, whether a reason is given.
    UndoMilestone {
        team: usize,
        milestone: Option<usize>,
        reason: bool,
    },
    PostProgress {
        team: usize,
        text: usize,
        percent: Option<u8>,
        photo: Option<bool>,
        link: Option<bool>,
    },
    /// `None`: the team's next milestone; `Some(i)`: the i-th, reached or not.
    ReachMilestone {
        team: usize,
        milestone: Option<usize>,
    },
    /// With `eligible`, `team` picks among the teams the judge may score now.
    SubmitScorecard {
        judge: usize,
        team: usize,
        eligible: bool,
        scores: ScoreSpec,
    },
    DeclareConflict {
        judge: usize,
        team: usize,
    },
    Cheer(usize),
    TallyCheers {
        pending: bool,
        counts: Vec<(usize, u64)>,
    },
    /// Sends the previous envelope again, unchanged or with other content under the same id.
    Resend {
        changed: bool,
    },
}

#[derive(Clone, Debug)]
pub(crate) struct Step {
    pub(crate) advance_secs: i64,
    /// How many times the command is sent, each time under a new id and re-read against the
    /// state (bursts of posts, cheers, reveal steps).
    pub(crate) times: usize,
    /// `None`: the actor the command is meant for; `Some(i)`: whoever `i` picks.
    pub(crate) stranger: Option<usize>,
    pub(crate) spec: Spec,
}

fn score_spec() -> impl Strategy<Value = ScoreSpec> {
    (
        0u8..12,
        prop::collection::vec(0u32..13, CRITERIA.len()),
        any::<u16>(),
    )
        .prop_map(|(kind, values, mask)| ScoreSpec { kind, values, mask })
}

fn spec() -> impl Strategy<Value = Spec> {
    prop_oneof![
        5 => any::<u8>().prop_map(Spec::NextStep),
        4 => (0u8..8, any::<bool>()).prop_map(|(k, system)| Spec::Lifecycle(k, system)),
        2 => (any::<bool>(), prop::collection::vec((0usize..4, 0usize..4), 0..3), 0u8..3)
            .prop_map(|(normalize, weights, publication)| Spec::SetRanking { normalize, weights, publication }),
        2 => (0usize..6, 0usize..4, any::<u8>(), any::<u8>(), any::<u8>()).prop_map(
            |(judge, role, tracks, teams, conflicts)| Spec::UpdateJudge {
                judge,
                role,
                tracks,
                teams,
                conflicts,
            }
        ),
        3 => (0u8..13, any::<usize>(), any::<usize>())
            .prop_map(|(kind, a, b)| Spec::Admin { kind, a, b }),
        2 => any::<usize>().prop_map(Spec::HidePost),
        2 => (0usize..7, prop::option::weighted(0.3, 0usize..6), prop::bool::weighted(0.9))
            .prop_map(|(team, milestone, reason)| Spec::UndoMilestone { team, milestone, reason }),
        12 => (
            0usize..7,
            0usize..5,
            prop::option::of(0u8..121),
            prop::option::of(prop::bool::weighted(0.9)),
            prop::option::of(prop::bool::weighted(0.9)),
        )
            .prop_map(|(team, text, percent, photo, link)| Spec::PostProgress {
                team,
                text,
                percent,
                photo,
                link,
            }),
        8 => (0usize..7, prop::option::weighted(0.2, 0usize..6))
            .prop_map(|(team, milestone)| Spec::ReachMilestone { team, milestone }),
        14 => (0usize..6, 0usize..7, prop::bool::weighted(0.75), score_spec()).prop_map(
            |(judge, team, eligible, scores)| Spec::SubmitScorecard {
                judge,
                team,
                eligible,
                scores,
            }
        ),
        2 => (0usize..6, 0usize..7).prop_map(|(judge, team)| Spec::DeclareConflict { judge, team }),
        4 => (0usize..7).prop_map(Spec::Cheer),
        2 => (any::<bool>(), prop::collection::vec((0usize..7, 0u64..4), 0..3))
            .prop_map(|(pending, counts)| Spec::TallyCheers { pending, counts }),
        2 => any::<bool>().prop_map(|changed| Spec::Resend { changed }),
    ]
}

fn step() -> impl Strategy<Value = Step> {
    (
        prop_oneof![4 => 0i64..900, 1 => 3600i64..4 * 3600],
        prop_oneof![9 => Just(1), 1 => 2usize..12],
        prop_oneof![6 => Just(None), 1 => any::<usize>().prop_map(Some)],
        spec(),
    )
        .prop_map(|(advance_secs, times, stranger, spec)| Step {
            advance_secs,
            times,
            stranger,
            spec,
        })
}

pub(crate) fn steps() -> impl Strategy<Value = Vec<Step>> {
    prop::collection::vec(step(), 40..80)
}

impl Session {
    /// The command a spec names now, and the actor it is meant for.
    pub(crate) fn materialize(&self, spec: &Spec) -> (Actor, Command) {
        let s = &self.state;
        let challenge = s.challenge().expect("created in setup");
        let admin = |command| (Actor::Admin, command);
        match spec {
            Spec::NextStep(sel) => {
                use makerpulse_core::Phase::*;
                let open = challenge.scoring_open;
                let command = match challenge.phase {
                    Setup => Command::StartChallenge,
                    Running if challenge.clock.is_paused() => Command::ResumeClock,
                    Running if !open && sel % 4 != 0 => Command::OpenScoring {
                        reason: String::new(),
                    },
                    Running if sel % 3 == 0 => Command::PauseClock {
                        reason: "fire drill".into(),
                    },
                    Running => Command::EndBuilding,
                    Judging if !open => Command::OpenScoring {
                        reason: String::new(),
                    },
                    Judging => Command::Freeze,
                    Frozen if open => Command::CloseScoring,
                    Frozen | Revealed => Command::RevealNext,
                };
                admin(command)
            }
            Spec::Lifecycle(k, system) => {
                let command = match k {
                    0 => Command::StartChallenge,
                    1 => Command::PauseClock {
                        reason: "power cut".into(),
                    },
                    2 => Command::ResumeClock,
                    3 => Command::EndBuilding,
                    4 => Command::OpenScoring {
                        reason: if *system {
                            String::new()
                        } else {
                            "recount".into()
                        },
                    },
                    5 => Command::CloseScoring,
                    6 => Command::Freeze,
                    _ => Command::RevealNext,
                };
                let actor = if *k == 3 && *system {
                    Actor::System
                } else {
                    Actor::Admin
                };
                (actor, command)
            }
            Spec::SetRanking {
                normalize,
                weights,
                publication,
            } => {
                let choices = [0.5, 1.0, 2.0, 0.0];
                admin(Command::SetRanking {
                    settings: RankingSettings {
                        role_weights: weights
                            .iter()
                            .map(|&(r, w)| (role(r), choices[w % choices.len()]))
                            .collect(),
                        normalize: *normalize,
                        publication: [
                            Publication::OnComplete,
                            Publication::Live,
                            Publication::AtReveal,
                        ][usize::from(*publication)],
                    },
                })
            }
            Spec::UpdateJudge {
                judge: j,
                role: r,
                tracks,
                teams,
                conflicts,
            } => {
                let pick = |mask: u8, n: usize| (0..n).filter(move |i| mask & (1 << i) != 0);
                admin(Command::UpdateJudge {
                    id: judge(*j),
                    name: name(JUDGES[*j % JUDGES.len()]),
                    panel_role: role(*r),
                    affiliation: name("makerspace"),
                    assignment: Assignment {
                        tracks: pick(*tracks, TRACKS.len()).map(track).collect(),
                        // Mostly real teams; bit 6 names the team that never exists.
                        teams: pick((*teams & 0b0011_1111) | ((*teams & 0b1000_0000) >> 1), 7)
                            .map(team)
                            .collect(),
                    },
                    conflicts: pick(*conflicts & 0b0001_1111, 5).map(team).collect(),
                })
            }
            Spec::Admin { kind, a, b } => admin(self.admin_command(*kind, *a, *b)),
            Spec::HidePost(i) => {
                let ids: Vec<u64> = s
                    .teams()
                    .keys()
                    .flat_map(|t| s.posts_of(t).map(|p| p.id()))
                    .collect();
                let post = ids.get(i % (ids.len() + 1)).copied().unwrap_or(9999);
                admin(Command::HidePost {
                    post,
                    reason: "off topic".into(),
                })
            }
            Spec::UndoMilestone {
                team: t,
                milestone,
                reason,
            } => {
                let last = s
                    .progress(&team(*t))
                    .map_or(0, |p| p.reached.len())
                    .saturating_sub(1);
                let milestone = s.milestones().get(milestone.unwrap_or(last)).map_or_else(
                    || MilestoneId::new("moon-landing").unwrap(),
                    |m| m.id.clone(),
                );
                admin(Command::UndoMilestone {
                    team: team(*t),
                    milestone,
                    reason: if *reason { "ticked by mistake" } else { " " }.into(),
                })
            }
            Spec::PostProgress {
                team: t,
                text,
                percent,
                photo,
                link,
            } => {
                let texts = [
                    "焊好了主板 / soldered the board",
                    "第二版外壳 / case v2",
                    "  ",
                    "demo ready",
                    "bell\u{7}",
                ];
                let photos = photo.map_or(vec![], |valid| {
                    vec![PhotoRef {
                        sha256: if valid {
                            "ab".repeat(32)
                        } else {
                            "not-a-hash".into()
                        },
                        content_type: ImageType::Jpeg,
                    }]
                });
                let links = link.map_or(vec![], |valid| {
                    vec![if valid {
                        "https://example.org/build-log".into()
                    } else {
                        "javascript:alert(1)".into()
                    }]
                });
                (
                    Actor::Team(team(*t)),
                    Command::PostProgress {
                        text: texts[text % texts.len()].into(),
                        photos,
                        links,
                        percent: *percent,
                    },
                )
            }
            Spec::ReachMilestone { team: t, milestone } => {
                let next = s.progress(&team(*t)).map_or(0, |p| p.reached.len());
                let milestone = s.milestones().get(milestone.unwrap_or(next)).map_or_else(
                    || MilestoneId::new("moon-landing").unwrap(),
                    |m| m.id.clone(),
                );
                (
                    Actor::Team(team(*t)),
                    Command::ReachMilestone {
                        milestone,
                        note: "done".into(),
                    },
                )
            }
            Spec::SubmitScorecard {
                judge: j,
                team: t,
                eligible,
                scores,
            } => {
                let mine: Vec<&TeamId> = match s.judge(&judge(*j)) {
                    Some(me) if *eligible => s
                        .teams()
                        .values()
                        .filter(|team| me.eligible(&team.id, &team.track))
                        .map(|team| &team.id)
                        .collect(),
                    _ => vec![],
                };
                let team = mine
                    .get(*t % mine.len().max(1))
                    .map_or_else(|| team(*t), |&id| id.clone());
                (
                    Actor::Judge(judge(*j)),
                    Command::SubmitScorecard {
                        team,
                        scores: self.scores(scores),
                        comment: "nice work".into(),
                        // Now and then a revision without a reason, which is refused.
                        reason: if *t % 4 == 0 {
                            String::new()
                        } else {
                            "second look".into()
                        },
                    },
                )
            }
            Spec::DeclareConflict { judge: j, team: t } => (
                Actor::Judge(judge(*j)),
                Command::DeclareConflict {
                    team: team(*t),
                    reason: "former colleague".into(),
                },
            ),
            Spec::Cheer(t) => (Actor::Audience, Command::Cheer { team: team(*t) }),
            Spec::TallyCheers { pending, counts } => {
                let counts = if *pending {
                    self.cheers.clone()
                } else {
                    counts.iter().map(|&(t, n)| (team(t), n)).collect()
                };
                (Actor::System, Command::TallyCheers { counts })
            }
            Spec::Resend { .. } => unreachable!("handled by play"),
        }
    }

    fn admin_command(&self, kind: u8, a: usize, b: usize) -> Command {
        let s = &self.state;
        let subject = |i: usize| {
            if i.is_multiple_of(2) {
                Subject::Team(team(i / 2))
            } else {
                Subject::Judge(judge(i / 2))
            }
        };
        match kind {
            0 => add_team(5, TEAM_TRACK[5] + a % 2),
            1 => Command::AddJudge {
                id: judge(4),
                name: name("late judge"),
                panel_role: role(a),
                affiliation: Localized::default(),
                assignment: assignment(&[b % 3], &[]),
                conflicts: BTreeSet::new(),
            },
            2 => {
                let Command::AddTeam {
                    id,
                    name,
                    description,
                    members,
                    contact,
                    ..
                } = add_team(a % 7, 0)
                else {
                    unreachable!()
                };
                // Keeps the team's track mostly; moving it is only allowed during setup.
                let track = match s.team(&id) {
                    Some(t) if !b.is_multiple_of(3) => t.track.clone(),
                    _ => track(b),
                };
                Command::UpdateTeam {
                    id,
                    track,
                    name,
                    description,
                    members,
                    contact: format!("{contact} / +86 10 0000 {b:04}", b = b % 10_000),
                }
            }
            3 => Command::UpdateChallenge {
                title: name("Maker show, renamed"),
                description: name("72 hours"),
                planned_start: Some(t0()),
                duration_secs: [DURATION_SECS, DURATION_SECS + 3600, 0][a % 3],
            },
            4 => Command::UpdateTrack {
                id: TrackId::new(["software", "hardware", "design", "space"][a % 4]).unwrap(),
                name: name("renamed"),
                description: Localized::default(),
            },
            5 => Command::IssueToken {
                subject: subject(a % 12),
                token_hash: TokenHash::of(&format!("minted-{}", b % 4)),
            },
            6 => Command::RevokeTokens {
                subject: subject(a % 12),
            },
            7 => Command::RemoveTeam { id: team(a) },
            8 => Command::RemoveJudge { id: judge(a) },
            9 => Command::RemoveTrack {
                id: TrackId::new(["software", "hardware", "design", "space"][a % 4]).unwrap(),
            },
            10 => Command::SetRubric {
                rubric: match a % 3 {
                    0 => Rubric::default_rubric(),
                    1 => other_rubric(),
                    _ => Rubric {
                        scale: Scale { min: 5, max: 5 },
                        criteria: other_rubric().criteria,
                    },
                },
            },
            // The late team and the late judge in one import, the judge now and then in conflict
            // with the team: all or nothing, against whatever the session holds.
            12 => {
                let Command::AddTeam {
                    id,
                    track,
                    name: team_name,
                    description,
                    members,
                    contact,
                } = add_team(5, TEAM_TRACK[5] + a % 2)
                else {
                    unreachable!()
                };
                Command::ImportRoster {
                    teams: vec![NewTeam {
                        id: id.clone(),
                        track,
                        name: team_name,
                        description,
                        members,
                        contact,
                    }],
                    judges: vec![NewJudge {
                        id: judge(4),
                        name: name("late judge"),
                        panel_role: role(a),
                        affiliation: Localized::default(),
                        assignment: assignment(&[b % 3], &[]),
                        conflicts: if b.is_multiple_of(2) {
                            [id].into()
                        } else {
                            BTreeSet::new()
                        },
                    }],
                }
            }
            _ => Command::SetMilestones {
                milestones: if a.is_multiple_of(2) {
                    default_milestones()
                } else {
                    vec![MilestoneDef {
                        id: MilestoneId::new("demo").unwrap(),
                        name: name("demo"),
                        due_offset_secs: Some(3 * 3600),
                    }]
                },
            },
        }
    }

    /// Scores as a spec asks: mostly complete and on the scale, sometimes partial, sometimes off
    /// the scale or naming criteria the rubric does not have.
    fn scores(&self, spec: &ScoreSpec) -> BTreeMap<CriterionId, u32> {
        let rubric = self.state.rubric().expect("set at creation");
        let (min, max) = (rubric.scale.min, rubric.scale.max);
        let on_scale = |v: u32| min + v % (max - min + 1);
        let mut scores: BTreeMap<CriterionId, u32> = BTreeMap::new();
        match spec.kind {
            // Complete, on the scale.
            0..=6 => {
                for (i, c) in rubric.criteria.iter().enumerate() {
                    scores.insert(c.id.clone(), on_scale(spec.values[i]));
                }
            }
            // Some criteria only (possibly none).
            7..=8 => {
                for (i, c) in rubric.criteria.iter().enumerate() {
                    if spec.mask & (1 << i) != 0 {
                        scores.insert(c.id.clone(), on_scale(spec.values[i]));
                    }
                }
            }
            // Complete, one score off the scale.
            9 => {
                for (i, c) in rubric.criteria.iter().enumerate() {
                    scores.insert(c.id.clone(), on_scale(spec.values[i]));
                }
                let c = &rubric.criteria[spec.mask as usize % rubric.criteria.len()];
                scores.insert(c.id.clone(), max + 1 + spec.values[0]);
            }
            // Anything: any criterion id, any value.
            _ => {
                for (i, id) in CRITERIA.iter().enumerate() {
                    if spec.mask & (1 << i) != 0 {
                        scores.insert(CriterionId::new(*id).unwrap(), spec.values[i]);
                    }
                }
            }
        }
        scores
    }
}
