//! The cast of the scenario (tracks, teams, judges, the rubric) and a small driver that plays
//! commands into the core as the server would and reads views and boards back.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, TimeZone, Utc};
use makerpulse_core::command::Command;
use makerpulse_core::leaderboard::Row;
use makerpulse_core::roster::PanelRole;
use makerpulse_core::rubric::{Criterion, Rubric, Scale};
use makerpulse_core::state::State;
use makerpulse_core::view::View;
use makerpulse_core::{
    Actor, CommandId, CriterionId, DomainError, Envelope, Event, JudgeId, Leaderboard, MilestoneId,
    Outcome, Projector, Role, TeamId, TrackId, ViewStream,
};

// ---- the cast ------------------------------------------------------------------------------------

/// Track ids with their names, in track order (which is also the order of the reveal).
pub(crate) const TRACKS: [(&str, &str, &str); 3] = [
    ("software", "软件", "Software"),
    ("hardware", "硬件", "Hardware"),
    ("design", "设计", "Design"),
];

/// Ten teams per track, `{prefix}01`…`{prefix}10`.
pub(crate) const TEAM_NAMES: [[(&str, &str); 10]; 3] = [
    [
        ("智慧农业助手", "Smart Farm Assistant"),
        ("无障碍导航", "Barrier-free Navigation"),
        ("社区互助平台", "Neighbour Help"),
        ("方言翻译机", "Dialect Translator"),
        ("校园二手市集", "Campus Swap"),
        ("志愿者调度", "Volunteer Dispatch"),
        ("老年健康提醒", "Elder Care Reminders"),
        ("垃圾分类识别", "Waste Sorter"),
        ("共享工具箱", "Tool Library"),
        ("夜跑伙伴", "Night Run Buddy"),
    ],
    [
        ("太阳能净水器", "Solar Water Purifier"),
        ("开源义肢", "Open Prosthetic Hand"),
        ("智能花盆", "Smart Planter"),
        ("空气质量哨兵", "Air Sentinel"),
        ("盲文打印机", "Braille Printer"),
        ("电动滑板", "E-Board"),
        ("桌面机械臂", "Desk Robot Arm"),
        ("节能灯控", "Light Saver"),
        ("水培柜", "Hydro Cabinet"),
        ("蓝牙防丢器", "Tag Finder"),
    ],
    [
        ("非遗新造", "Heritage Remade"),
        ("城市记忆地图", "City Memory Map"),
        ("可持续包装", "Green Packaging"),
        ("儿童绘本应用", "Picture Book App"),
        ("适老化界面", "Age-friendly UI"),
        ("共享单车座椅", "Bike Seat Redesign"),
        ("茶文化品牌", "Tea Brand"),
        ("社区标识系统", "Wayfinding Signs"),
        ("再生布艺", "Upcycled Fabric"),
        ("节气海报", "Solar Term Posters"),
    ],
];

pub(crate) const PREFIX: [&str; 3] = ["sw", "hw", "ds"];

/// The four seats of each track's panel, with the judge id suffix.
pub(crate) const SEATS: [(&str, PanelRole); 4] = [
    ("maker", PanelRole::MakerRepresentative),
    ("expert", PanelRole::DomainExpert),
    ("enterprise", PanelRole::EnterpriseRepresentative),
    ("investor", PanelRole::Investor),
];

pub(crate) fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 6, 12, 1, 0, 0).unwrap()
}

pub(crate) fn team(id: &str) -> TeamId {
    TeamId::new(id).unwrap()
}

pub(crate) fn judge(id: &str) -> JudgeId {
    JudgeId::new(id).unwrap()
}

pub(crate) fn track(id: &str) -> TrackId {
    TrackId::new(id).unwrap()
}

pub(crate) fn team_id(track: usize, n: usize) -> TeamId {
    team(&format!("{}{n:02}", PREFIX[track]))
}

/// The rubric of this edition: the default criteria and weights (30/25/20/15/10, summing to
/// 100) on a 0–10 scale, so that a score `s` is `10·s` on 0–100 and a scorecard's total is
/// `(30·innovation + 25·execution + 20·completeness + 15·commercial + 10·presentation) / 10`.
pub(crate) fn rubric() -> Rubric {
    let default = Rubric::default_rubric();
    assert_eq!(
        default
            .criteria
            .iter()
            .map(|c| c.weight)
            .collect::<Vec<_>>(),
        [30.0, 25.0, 20.0, 15.0, 10.0]
    );
    Rubric {
        scale: Scale { min: 0, max: 10 },
        criteria: default.criteria,
    }
}

pub(crate) fn criteria() -> Vec<Criterion> {
    rubric().criteria
}

/// A complete scorecard: innovation, execution, completeness, commercial value, presentation.
pub(crate) fn card(scores: [u32; 5]) -> BTreeMap<CriterionId, u32> {
    criteria()
        .into_iter()
        .zip(scores)
        .map(|(c, s)| (c.id, s))
        .collect()
}

pub(crate) fn even(s: u32) -> [u32; 5] {
    [s; 5]
}

// ---- driving the core ----------------------------------------------------------------------------

/// The challenge as the server would hold it: the state, its log, and the time.
pub(crate) struct Show {
    pub(crate) state: State,
    pub(crate) log: Vec<Event>,
    pub(crate) now: DateTime<Utc>,
    next_id: u64,
}

impl Show {
    pub(crate) fn new() -> Self {
        Show {
            state: State::new(),
            log: Vec::new(),
            now: t0() - Duration::days(2),
            next_id: 0,
        }
    }

    /// Sets the clock on the wall to `hours:minutes` after the planned start.
    pub(crate) fn at(&mut self, hours: i64, minutes: i64) {
        self.now = t0() + Duration::hours(hours) + Duration::minutes(minutes);
    }

    pub(crate) fn execute(
        &mut self,
        actor: &Actor,
        command: Command,
    ) -> Result<Outcome, DomainError> {
        self.next_id += 1;
        let envelope = Envelope::new(
            CommandId::new(format!("cmd-{}", self.next_id)).unwrap(),
            command,
        );
        let outcome = self.state.execute(actor, &envelope, self.now);
        if let Ok(Outcome::Applied(events)) = &outcome {
            self.log.extend(events.iter().cloned());
        }
        outcome
    }

    /// Runs a command that must be accepted and returns its events.
    pub(crate) fn run(&mut self, actor: &Actor, command: Command) -> Vec<Event> {
        let name = command.name();
        match self.execute(actor, command) {
            Ok(Outcome::Applied(events)) => events,
            other => panic!("{name} from {actor:?} was not applied: {other:?}"),
        }
    }

    pub(crate) fn admin(&mut self, command: Command) -> Vec<Event> {
        self.run(&Actor::Admin, command)
    }

    /// Runs a command that must be refused, and returns why.
    pub(crate) fn refused(&mut self, actor: &Actor, command: Command) -> DomainError {
        let seq = self.state.seq();
        let error = self
            .execute(actor, command)
            .expect_err("the command should have been refused");
        assert_eq!(self.state.seq(), seq);
        error
    }

    pub(crate) fn score(&mut self, judge_id: &str, team_id: &str, scores: [u32; 5]) {
        self.run(
            &Actor::Judge(judge(judge_id)),
            Command::SubmitScorecard {
                team: team(team_id),
                scores: card(scores),
                comment: "完成度很高 / well finished".into(),
                reason: String::new(),
            },
        );
    }

    pub(crate) fn post(&mut self, team_id: &str, text: &str) -> u64 {
        let events = self.run(
            &Actor::Team(team(team_id)),
            Command::PostProgress {
                text: text.into(),
                photos: vec![],
                links: vec![],
                percent: None,
            },
        );
        events[0].seq
    }

    pub(crate) fn reach(&mut self, team_id: &str, milestone: &str) -> (u64, Option<bool>) {
        self.run(
            &Actor::Team(team(team_id)),
            Command::ReachMilestone {
                milestone: MilestoneId::new(milestone).unwrap(),
                note: String::new(),
            },
        );
        let reached = self.state.progress(&team(team_id)).unwrap().reached.last();
        let reached = reached.unwrap();
        (reached.elapsed_secs, reached.on_time)
    }

    pub(crate) fn view(&self, role: &Role) -> View {
        Projector::new(&self.state).snapshot(role)
    }

    pub(crate) fn live(&self) -> Leaderboard {
        Leaderboard::compute(&self.state)
    }
}

pub(crate) fn row<'a>(board: &'a Leaderboard, team_id: &str) -> &'a Row {
    board
        .overall
        .iter()
        .find(|r| r.team.as_str() == team_id)
        .unwrap_or_else(|| panic!("{team_id} is not on the board"))
}

/// (rank, score, judges scored) of a team.
pub(crate) fn standing(board: &Leaderboard, team_id: &str) -> (Option<u32>, Option<f64>, u32) {
    let track = &row(board, team_id).track;
    let r = board
        .track(track)
        .unwrap()
        .rows
        .iter()
        .find(|r| r.team.as_str() == team_id)
        .unwrap();
    (r.rank, r.score, r.judges_scored)
}

/// The order of a track's board, best first.
pub(crate) fn order(board: &Leaderboard, track_id: &str) -> Vec<String> {
    board
        .track(&track(track_id))
        .unwrap()
        .rows
        .iter()
        .map(|r| r.team.to_string())
        .collect()
}

/// Nothing a judge wrote, not even inside the board, is in this view.
pub(crate) fn assert_no_scorecards(view: &View) {
    assert!(
        view.scorecards.is_empty(),
        "{:?} sees scorecards",
        view.role
    );
    let board = &view.leaderboard.board;
    for r in board
        .tracks
        .iter()
        .flat_map(|t| &t.rows)
        .chain(&board.overall)
    {
        assert!(
            r.contributions.is_empty(),
            "{:?} sees contributions",
            view.role
        );
    }
}

/// Every view the show was watched through, followed along the whole log: the deltas folded onto
/// the first snapshot give the snapshot at every seq, and each names the view's previous message.
pub(crate) fn check_streams(log: &[Event]) {
    let roles = [
        Role::Audience,
        Role::Admin,
        Role::Team(team("sw01")),
        Role::Team(team("hw07")),
        Role::Judge(judge("hw-enterprise")),
        Role::Judge(judge("ds-maker")),
        Role::Judge(judge("ds-investor")),
    ];
    let mut state = State::new();
    let mut views: Vec<View> = {
        let projector = Projector::new(&state);
        roles.iter().map(|r| projector.snapshot(r)).collect()
    };
    let mut streams: Vec<ViewStream> = roles
        .iter()
        .map(|r| ViewStream::new(r.clone(), 0))
        .collect();
    for event in log {
        state.apply(event).unwrap();
        let projector = Projector::new(&state);
        for (i, role) in roles.iter().enumerate() {
            let before = streams[i].last();
            if let Some(delta) = streams[i].next(&projector, event) {
                assert_eq!(delta.prev_seq, before);
                views[i].apply(&delta);
            }
            let mut folded = views[i].clone();
            folded.seq = event.seq;
            assert!(
                folded == projector.snapshot(role),
                "the view of {role:?} went astray at seq {} ({:?})",
                event.seq,
                event.body
            );
        }
    }
}
