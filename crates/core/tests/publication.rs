//! The publication rule at a real event's size: 120 teams in four tracks of 30, a panel of three
//! judges per track, every team scored one scorecard at a time in an interleaved order. After
//! every scorecard the public board is checked against the rule's words, computed here from the
//! organizers' live board: which rows show a number, that they show the live number, and that
//! published teams are ranked among themselves exactly as the live board orders them.

use std::collections::BTreeMap;

use chrono::{DateTime, TimeZone, Utc};
use makerpulse_core::ids::CriterionId;
use makerpulse_core::leaderboard::Row;
use makerpulse_core::roster::{Assignment, PanelRole};
use makerpulse_core::rubric::{Publication, RankingSettings};
use makerpulse_core::{
    Actor, ChallengeId, Command, CommandId, Envelope, JudgeId, Leaderboard, Localized, Projector,
    Role, State, TeamId, TrackId,
};

const TRACKS: usize = 4;
const TEAMS_PER_TRACK: usize = 30;
const PANEL: usize = 3;

struct Event120 {
    state: State,
    n: u64,
}

impl Event120 {
    fn now(&self) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 5, 1, 1, 0, 0).unwrap()
            + chrono::Duration::seconds(self.n as i64)
    }

    fn run(&mut self, actor: Actor, command: Command) {
        self.n += 1;
        let envelope = Envelope::new(CommandId::new(format!("c{}", self.n)).unwrap(), command);
        let now = self.now();
        self.state
            .execute(&actor, &envelope, now)
            .unwrap_or_else(|e| panic!("refused: {e}"));
    }

    fn new(settings: RankingSettings) -> Self {
        let mut e = Event120 {
            state: State::new(),
            n: 0,
        };
        e.run(
            Actor::Admin,
            Command::CreateChallenge {
                id: ChallengeId::new("big").unwrap(),
                title: Localized::new("大赛", "Big"),
                description: Localized::default(),
                planned_start: None,
                duration_secs: None,
            },
        );
        for t in 0..TRACKS {
            e.run(
                Actor::Admin,
                Command::AddTrack {
                    id: track(t),
                    name: Localized::new(format!("赛道{t}"), format!("Track {t}")),
                    description: Localized::default(),
                },
            );
            for i in 0..TEAMS_PER_TRACK {
                e.run(
                    Actor::Admin,
                    Command::AddTeam {
                        id: team(t, i),
                        track: track(t),
                        name: Localized::new(format!("团队{t}-{i}"), format!("Team {t}-{i}")),
                        description: Localized::default(),
                        members: vec![],
                        contact: String::new(),
                    },
                );
            }
            for j in 0..PANEL {
                e.run(
                    Actor::Admin,
                    Command::AddJudge {
                        id: judge(t, j),
                        name: Localized::new(format!("评委{t}-{j}"), format!("Judge {t}-{j}")),
                        panel_role: PanelRole::ALL[j % PanelRole::ALL.len()],
                        affiliation: Localized::default(),
                        assignment: Assignment {
                            tracks: [track(t)].into(),
                            teams: Default::default(),
                        },
                        conflicts: Default::default(),
                    },
                );
            }
        }
        e.run(Actor::Admin, Command::SetRanking { settings });
        e.run(Actor::Admin, Command::StartChallenge);
        e.run(
            Actor::Admin,
            Command::OpenScoring {
                reason: String::new(),
            },
        );
        e
    }

    fn score(&mut self, t: usize, i: usize, j: usize) {
        // Deterministic, varied scores; some teams tie on purpose (i % 7 == 0 and i % 7 == 3 give
        // the same card from the same judge).
        let base = ((i % 7) * 3 % 7 + j + t) as u32;
        let scores = [
            "innovation",
            "execution",
            "completeness",
            "commercial",
            "presentation",
        ]
        .iter()
        .enumerate()
        .map(|(c, id)| {
            (
                CriterionId::new(*id).unwrap(),
                1 + (base + c as u32 * 2) % 10,
            )
        })
        .collect();
        self.run(
            Actor::Judge(judge(t, j)),
            Command::SubmitScorecard {
                team: team(t, i),
                scores,
                comment: String::new(),
                reason: String::new(),
            },
        );
    }
}

fn track(t: usize) -> TrackId {
    TrackId::new(format!("track{t}")).unwrap()
}
fn team(t: usize, i: usize) -> TeamId {
    TeamId::new(format!("t{t}-{i:02}")).unwrap()
}
fn judge(t: usize, j: usize) -> JudgeId {
    JudgeId::new(format!("j{t}-{j}")).unwrap()
}

/// Checks one list of public rows against the same list of the live board.
fn check_rows(public: &[Row], live: &[Row], shown: &dyn Fn(&Row) -> bool) {
    assert_eq!(public.len(), live.len());
    let live_by_team: BTreeMap<&TeamId, &Row> = live.iter().map(|r| (&r.team, r)).collect();
    let published: Vec<&Row> = live
        .iter()
        .filter(|r| r.score.is_some() && shown(r))
        .collect();
    for row in public {
        let truth = live_by_team[&row.team];
        assert!(
            row.criteria.is_empty() && row.contributions.is_empty(),
            "{row:?}"
        );
        assert_eq!(
            (row.judges_scored, row.judges_assigned),
            (truth.judges_scored, truth.judges_assigned)
        );
        if truth.score.is_some() && shown(truth) {
            assert_eq!(row.score, truth.score, "{}", row.team);
            // Ranked among the published alone: one more than the published rows the live
            // board puts strictly ahead of it.
            let ahead = published.iter().filter(|p| p.rank < truth.rank).count() as u32;
            assert_eq!(row.rank, Some(ahead + 1), "{}", row.team);
        } else {
            assert_eq!((row.score, row.rank), (None, None), "{}", row.team);
        }
    }
    // Listed by rank, then team id; the unpublished last, by team id.
    let key = |r: &Row| (r.rank.is_none(), r.rank, r.team.clone());
    assert!(public.windows(2).all(|w| key(&w[0]) <= key(&w[1])));
}

fn check(e: &Event120) {
    let s = &e.state;
    let settings = s.ranking();
    let projector = Projector::new(s);
    let live: &Leaderboard = projector.live();
    let public = projector.board(&Role::Audience).board;
    let every_panel = live
        .overall
        .iter()
        .all(|r| r.judges_scored == r.judges_assigned);
    let shown = |r: &Row| match settings.publication {
        Publication::Live => true,
        Publication::AtReveal => false,
        Publication::OnComplete if settings.normalize => every_panel,
        Publication::OnComplete => r.judges_scored == r.judges_assigned,
    };
    check_rows(&public.overall, &live.overall, &shown);
    for (p, l) in public.tracks.iter().zip(&live.tracks) {
        check_rows(&p.rows, &l.rows, &shown);
    }
    // Teams and judges see the audience's board; a judge only their own scorecards.
    assert_eq!(projector.board(&Role::Team(team(1, 1))).board, public);
    let j = judge(2, 1);
    let view = projector.snapshot(&Role::Judge(j.clone()));
    assert_eq!(view.leaderboard.board, public);
    assert!(view.scorecards.iter().all(|c| c.judge == j));
}

/// Plays every scorecard, checking the public board as it goes; returns how many teams the
/// public sees a score for once every panel is complete.
fn play(settings: RankingSettings) -> usize {
    let mut e = Event120::new(settings);
    // Panels finish one after another: judge 0 scores everything of a track, then judge 1, …,
    // tracks interleaved, so there is a long stretch of incomplete panels and then completions.
    for j in 0..PANEL {
        for i in 0..TEAMS_PER_TRACK {
            for t in 0..TRACKS {
                e.score(t, i, j);
                if (i + t) % 5 == 0 || j == PANEL - 1 {
                    check(&e);
                }
            }
        }
    }
    let public = Projector::new(&e.state).board(&Role::Audience).board;
    public.overall.iter().filter(|r| r.score.is_some()).count()
}

#[test]
fn on_complete_publishes_each_team_with_its_whole_panel_at_120_teams() {
    let published = play(RankingSettings::default());
    assert_eq!(published, TRACKS * TEAMS_PER_TRACK);
}

#[test]
fn on_complete_with_normalisation_publishes_everything_at_once_at_120_teams() {
    let published = play(RankingSettings {
        normalize: true,
        ..RankingSettings::default()
    });
    assert_eq!(published, TRACKS * TEAMS_PER_TRACK);
}

#[test]
fn at_reveal_publishes_nothing_and_live_everything_at_120_teams() {
    assert_eq!(
        play(RankingSettings {
            publication: Publication::AtReveal,
            ..RankingSettings::default()
        }),
        0
    );
    assert_eq!(
        play(RankingSettings {
            publication: Publication::Live,
            ..RankingSettings::default()
        }),
        TRACKS * TEAMS_PER_TRACK
    );
}
