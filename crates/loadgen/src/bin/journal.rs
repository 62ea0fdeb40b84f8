//! Writes a journal of a long challenge for the history and memory benchmarks
//! (`bench/history.sh`): a challenge set up as an organizer would, then the mixed soak's stream
//! of scorecard revisions, posts with text, milestone ticks and cheer tallies, decided by the
//! core itself at simulated times spread over the 72 hours, one JSON event per line exactly as
//! the server writes them.
//!
//!   makerpulse-journal --events 1000000 --out DATA_DIR/challenges/bench.journal

use std::io::Write;
use std::path::PathBuf;

use anyhow::Context;
use chrono::{DateTime, Duration, Utc};
use clap::Parser;
use makerpulse_core::milestone::{MilestoneDef, MAX_MILESTONES};
use makerpulse_core::roster::{Assignment, PanelRole};
use makerpulse_core::rubric::{Publication, RankingSettings};
use makerpulse_core::{
    Actor, ChallengeId, Command, CommandId, CriterionId, Envelope, JudgeId, Localized, MilestoneId,
    Outcome, State, TeamId, TrackId,
};

/// Flags.
#[derive(Parser, Debug)]
struct Args {
    /// Events to write (about; the setup comes first).
    #[arg(long, default_value_t = 1_000_000)]
    events: u64,
    /// Teams.
    #[arg(long, default_value_t = 60)]
    teams: usize,
    /// Judges, assigned to every track.
    #[arg(long, default_value_t = 12)]
    judges: usize,
    /// The challenge id.
    #[arg(long, default_value = "bench")]
    challenge: String,
    /// The journal file to write (replaced).
    #[arg(long)]
    out: PathBuf,
}

const CRITERIA: [&str; 5] = [
    "innovation",
    "execution",
    "completeness",
    "commercial",
    "presentation",
];

struct Writer {
    state: State,
    out: std::io::BufWriter<std::fs::File>,
    n: u64,
}

impl Writer {
    fn run(&mut self, actor: &Actor, command: Command, now: DateTime<Utc>) -> anyhow::Result<()> {
        self.n += 1;
        let id = CommandId::new(format!("gen-{}", self.n)).expect("a valid id");
        let name = command.name();
        match self
            .state
            .execute(actor, &Envelope::new(id, command), now)
            .with_context(|| format!("{name} refused"))?
        {
            Outcome::Applied(events) => {
                for event in events {
                    self.out.write_all(event.to_json().as_bytes())?;
                    self.out.write_all(b"\n")?;
                }
                Ok(())
            }
            other => anyhow::bail!("{name}: {other:?}"),
        }
    }
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    if let Some(dir) = args.out.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let file = std::fs::File::create(&args.out)?;
    let mut w = Writer {
        state: State::new(),
        out: std::io::BufWriter::with_capacity(1 << 20, file),
        n: 0,
    };
    let start = Utc::now() - Duration::hours(72);
    let admin = Actor::Admin;
    let tracks = ["software", "hardware", "design"];
    w.run(
        &admin,
        Command::CreateChallenge {
            id: ChallengeId::new(&args.challenge)?,
            title: Localized::new("七十二小时", "Seventy-two hours"),
            description: Localized::default(),
            planned_start: None,
            duration_secs: None,
        },
        start,
    )?;
    for t in tracks {
        w.run(
            &admin,
            Command::AddTrack {
                id: TrackId::new(t)?,
                name: Localized::new(t, t),
                description: Localized::default(),
            },
            start,
        )?;
    }
    let teams: Vec<TeamId> = (1..=args.teams)
        .map(|i| TeamId::new(format!("t{i}")).expect("a valid id"))
        .collect();
    for (i, id) in teams.iter().enumerate() {
        w.run(
            &admin,
            Command::AddTeam {
                id: id.clone(),
                track: TrackId::new(tracks[i % 3])?,
                name: Localized::new(format!("团队 {i}"), format!("Team {i}")),
                description: Localized::default(),
                members: vec![],
                contact: String::new(),
            },
            start,
        )?;
    }
    let judges: Vec<JudgeId> = (1..=args.judges)
        .map(|i| JudgeId::new(format!("j{i}")).expect("a valid id"))
        .collect();
    for id in &judges {
        w.run(
            &admin,
            Command::AddJudge {
                id: id.clone(),
                name: Localized::new(id.as_str(), id.as_str()),
                panel_role: PanelRole::DomainExpert,
                affiliation: Localized::default(),
                assignment: Assignment {
                    tracks: tracks.iter().map(|t| TrackId::new(*t).unwrap()).collect(),
                    teams: Default::default(),
                },
                conflicts: Default::default(),
            },
            start,
        )?;
    }
    let milestones = (1..=MAX_MILESTONES)
        .map(|i| MilestoneDef {
            id: MilestoneId::new(format!("m{i}")).expect("a valid id"),
            name: Localized::new(format!("里程碑 {i}"), format!("Milestone {i}")),
            due_offset_secs: None,
        })
        .collect();
    w.run(&admin, Command::SetMilestones { milestones }, start)?;
    let settings = RankingSettings {
        publication: Publication::Live,
        ..RankingSettings::default()
    };
    w.run(&admin, Command::SetRanking { settings }, start)?;
    w.run(&admin, Command::StartChallenge, start)?;
    w.run(
        &admin,
        Command::OpenScoring {
            reason: String::new(),
        },
        start,
    )?;
    // Spread the events over 71 hours of the 72.
    let step_ns = 71 * 3600 * 1_000_000_000 / args.events.max(1) as i64;
    let mut ticks = 0u64;
    for i in 0..args.events {
        let now = start + Duration::nanoseconds(step_ns * i as i64);
        let team = &teams[(i % teams.len() as u64) as usize];
        let kind = match i % 10 {
            0 | 2 | 5 | 7 => 0,
            1 | 4 | 8 => 1,
            3 if ticks / (teams.len() as u64) < MAX_MILESTONES as u64 => 2,
            3 => 1,
            _ => 3,
        };
        match kind {
            0 => {
                let n = i / 10;
                let judge = &judges[(n % judges.len() as u64) as usize];
                let team = &teams[((n / judges.len() as u64) % teams.len() as u64) as usize];
                let points = 1 + (n % 10) as u32;
                let scores = CRITERIA
                    .iter()
                    .map(|c| (CriterionId::new(*c).expect("a valid id"), points))
                    .collect();
                let command = Command::SubmitScorecard {
                    team: team.clone(),
                    scores,
                    comment: format!("第 {i} 次修改 revision {i}"),
                    reason: "复核 re-checked".to_owned(),
                };
                w.run(&Actor::Judge(judge.clone()), command, now)?;
            }
            1 => {
                let command = Command::PostProgress {
                    text: format!(
                        "进展 #{i}：今天完成了原型的外壳和电源板，传感器校准还差两项，明天上午演示。\
                         Progress #{i}: finished the prototype's case and power board; two \
                         sensor calibrations left, demo tomorrow morning."
                    ),
                    photos: vec![],
                    links: vec![],
                    percent: Some((i % 101) as u8),
                };
                w.run(&Actor::Team(team.clone()), command, now)?;
            }
            2 => {
                let team = &teams[(ticks % teams.len() as u64) as usize];
                let milestone = MilestoneId::new(format!("m{}", 1 + ticks / teams.len() as u64))?;
                ticks += 1;
                let command = Command::ReachMilestone {
                    milestone,
                    note: "完成 done".to_owned(),
                };
                w.run(&Actor::Team(team.clone()), command, now)?;
            }
            _ => {
                let counts = [(team.clone(), 1 + i % 7)].into_iter().collect();
                w.run(&Actor::System, Command::TallyCheers { counts }, now)?;
            }
        }
    }
    w.out.flush()?;
    eprintln!("wrote {} events to {}", w.state.seq(), args.out.display());
    Ok(())
}
