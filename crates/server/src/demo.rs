//! `makerpulse demo`: a challenge with id `demo`, seeded and then kept busy by simulated teams and
//! judges through the same command path as real users, so a new user sees it live at once.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use makerpulse_core::progress::{ImageType, PhotoRef};
use makerpulse_core::roster::{Assignment, Discipline, Member, PanelRole};
use makerpulse_core::{
    Actor, ChallengeId, Command, CommandId, CriterionId, Envelope, JudgeId, Localized, Phase,
    TeamId, TrackId,
};

use crate::app::AppState;
use crate::hub::Hub;
use crate::photo_store::PhotoStore;

/// The demo challenge's id.
pub const DEMO_ID: &str = "demo";

const TRACKS: [(&str, &str, &str); 3] = [
    ("software", "软件", "Software"),
    ("hardware", "硬件", "Hardware"),
    ("design", "设计", "Design"),
];

/// A member: name, discipline, country or region.
type DemoMember = (&'static str, Discipline, &'static str);

/// (id, track, 中文, English, members).
const TEAMS: [(&str, &str, &str, &str, [DemoMember; 2]); 12] = [
    (
        "lantern",
        "software",
        "灯笼工作室",
        "Lantern Lab",
        [
            ("李娜", Discipline::Software, "中国"),
            ("Tom Becker", Discipline::Design, "Deutschland"),
        ],
    ),
    (
        "bytebao",
        "software",
        "字节包子",
        "Byte Bao",
        [
            ("王磊", Discipline::Software, "中国"),
            ("Aiko Tanaka", Discipline::Software, "日本"),
        ],
    ),
    (
        "openriver",
        "software",
        "开源河",
        "Open River",
        [
            ("Priya Nair", Discipline::Software, "India"),
            ("陈晨", Discipline::Business, "中国"),
        ],
    ),
    (
        "mapleleaf",
        "software",
        "枫叶代码",
        "Maple Code",
        [
            ("Chloé Martin", Discipline::Software, "Canada"),
            ("赵强", Discipline::Maker, "中国"),
        ],
    ),
    (
        "solderlab",
        "hardware",
        "焊点实验室",
        "Solder Lab",
        [
            ("刘洋", Discipline::Hardware, "中国"),
            ("Lars Berg", Discipline::Hardware, "Sverige"),
        ],
    ),
    (
        "windmill",
        "hardware",
        "风车动力",
        "Windmill Power",
        [
            ("Anna Kowalska", Discipline::Hardware, "Polska"),
            ("周杰", Discipline::Maker, "中国"),
        ],
    ),
    (
        "greenbot",
        "hardware",
        "绿芽机器人",
        "GreenBot",
        [
            ("孙丽", Discipline::Hardware, "中国"),
            ("Diego Ruiz", Discipline::Software, "México"),
        ],
    ),
    (
        "tinyforge",
        "hardware",
        "小熔炉",
        "Tiny Forge",
        [
            ("Kwame Mensah", Discipline::Maker, "Ghana"),
            ("黄敏", Discipline::Hardware, "中国"),
        ],
    ),
    (
        "inkwell",
        "design",
        "墨池设计",
        "Inkwell",
        [
            ("吴芳", Discipline::Design, "中国"),
            ("Sofia Rossi", Discipline::Design, "Italia"),
        ],
    ),
    (
        "paperboat",
        "design",
        "纸船",
        "Paper Boat",
        [
            ("Minh Tran", Discipline::Design, "Việt Nam"),
            ("郑浩", Discipline::Maker, "中国"),
        ],
    ),
    (
        "silkroad",
        "design",
        "丝路",
        "Silk Road",
        [
            ("Leila Haddad", Discipline::Design, "Maroc"),
            ("何静", Discipline::Business, "香港"),
        ],
    ),
    (
        "pixelpanda",
        "design",
        "像素熊猫",
        "Pixel Panda",
        [
            ("冯伟", Discipline::Design, "中国"),
            ("Emma Wilson", Discipline::Design, "UK"),
        ],
    ),
];

/// (id, 中文, English, role, tracks).
const JUDGES: [(&str, &str, &str, PanelRole, &[&str]); 8] = [
    (
        "maker-zhang",
        "张创客",
        "Zhang (maker)",
        PanelRole::MakerRepresentative,
        &["software", "hardware"],
    ),
    (
        "maker-lee",
        "Lee 创客",
        "Lee (maker)",
        PanelRole::MakerRepresentative,
        &["design"],
    ),
    (
        "expert-wang",
        "王教授",
        "Prof. Wang",
        PanelRole::DomainExpert,
        &["hardware"],
    ),
    (
        "expert-smith",
        "Smith 博士",
        "Dr. Smith",
        PanelRole::DomainExpert,
        &["software", "design"],
    ),
    (
        "ent-chen",
        "陈总",
        "Chen (enterprise)",
        PanelRole::EnterpriseRepresentative,
        &["software", "hardware", "design"],
    ),
    (
        "ent-garcia",
        "Garcia 经理",
        "Garcia (enterprise)",
        PanelRole::EnterpriseRepresentative,
        &["hardware", "design"],
    ),
    (
        "vc-liu",
        "刘投资人",
        "Liu (investor)",
        PanelRole::Investor,
        &["software", "hardware", "design"],
    ),
    (
        "vc-park",
        "Park 投资人",
        "Park (investor)",
        PanelRole::Investor,
        &["software"],
    ),
];

const POSTS: [(&str, &str); 10] = [
    (
        "白板上画满了草图，方向定了！",
        "The whiteboard is full of sketches: we have a direction!",
    ),
    ("第一版原型通电成功 ⚡", "First prototype powered on ⚡"),
    (
        "用户访谈做完了三场，收获很多。",
        "Three user interviews done, lots learned.",
    ),
    (
        "凌晨三点，修好了最难的那个 bug。",
        "3 a.m.: fixed the nastiest bug.",
    ),
    (
        "外壳 3D 打印中，预计两小时。",
        "Enclosure is 3D printing, two hours to go.",
    ),
    (
        "配色方案定稿，大家投票选了第二套。",
        "Colour scheme final: the team voted for option two.",
    ),
    ("演示视频剪辑完成。", "Demo video edited."),
    (
        "和评委聊了聊，得到了很好的建议。",
        "Chatted with a judge, got great advice.",
    ),
    (
        "传感器数据终于稳定了。",
        "Sensor readings are finally stable.",
    ),
    ("睡了四小时，继续冲！", "Four hours of sleep, back at it!"),
];

/// A small xorshift generator: the demo needs variety, not cryptography.
struct Rng(u64);

impl Rng {
    fn new() -> Self {
        let mut seed = [0u8; 8];
        let _ = getrandom::fill(&mut seed);
        Rng(u64::from_le_bytes(seed) | 1)
    }

    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

fn id<T>(make: fn(String) -> Result<T, makerpulse_core::DomainError>, raw: &str) -> T {
    make(raw.to_owned()).expect("static demo ids are valid")
}

struct Sender {
    hub: Arc<Hub>,
    n: u64,
    prefix: String,
    photos: Arc<PhotoStore>,
    /// Photos the demo has posted so far; it stops at [`DEMO_PHOTOS`].
    photos_posted: usize,
}

/// How many of the demo's posts carry a generated photo (so the photo ticker is seen), in all: a
/// demo left running for days keeps its disk use to a few megabytes.
const DEMO_PHOTOS: usize = 40;

impl Sender {
    async fn send(&mut self, actor: Actor, command: Command) -> bool {
        self.n += 1;
        let cid = CommandId::new(format!("{}-{}", self.prefix, self.n)).expect("valid id");
        match self.hub.command(actor, Envelope::new(cid, command)).await {
            Ok(_) => true,
            Err(err) => {
                tracing::debug!(%err, "demo command refused");
                false
            }
        }
    }
}

impl Sender {
    /// A generated photo uploaded for `team`, while the demo has photos left to post; none when
    /// the store refuses it (the team's quota, a full disk): the post goes without.
    async fn photo(&mut self, team: &TeamId, variant: u32) -> Vec<PhotoRef> {
        if self.photos_posted >= DEMO_PHOTOS {
            return vec![];
        }
        let challenge = ChallengeId::new(DEMO_ID).expect("valid id");
        let png = crate::picture::circuit(480, 300, variant);
        match self
            .photos
            .store(&challenge, Some(team), &[], &png, ImageType::Png)
            .await
        {
            Ok(photo) => {
                self.photos_posted += 1;
                vec![photo]
            }
            Err(err) => {
                tracing::debug!(%err, "demo photo refused");
                vec![]
            }
        }
    }
}

/// Seeds the demo challenge if it does not exist, then starts the simulation.
pub async fn start(state: AppState, speed: f64) -> anyhow::Result<()> {
    let challenge = ChallengeId::new(DEMO_ID).expect("valid id");
    let hub = state.hub_or_create(&challenge).await?;
    let stamp = chrono::Utc::now().timestamp_millis();
    let mut sender = Sender {
        hub: hub.clone(),
        n: 0,
        prefix: format!("demo-{stamp:x}"),
        photos: state.photos.clone(),
        photos_posted: 0,
    };
    if hub.state().challenge().is_none() {
        seed(&mut sender, &challenge).await;
        tracing::info!("demo challenge seeded");
    }
    let speed = if speed.is_finite() && speed > 0.0 {
        speed
    } else {
        1.0
    };
    tokio::spawn(simulate(sender, speed, state.shutdown.clone()));
    Ok(())
}

async fn seed(s: &mut Sender, challenge: &ChallengeId) {
    s.send(
        Actor::Admin,
        Command::CreateChallenge {
            id: challenge.clone(),
            title: Localized::new("创客真人秀 · 演示", "Maker Reality Show · demo"),
            description: Localized::new(
                "中外创客团队 72 小时分类项目开发挑战赛（模拟数据）",
                "International maker teams build projects in 72 hours (simulated data)",
            ),
            planned_start: None,
            duration_secs: None,
        },
    )
    .await;
    for (track, zh, en) in TRACKS {
        s.send(
            Actor::Admin,
            Command::AddTrack {
                id: id(TrackId::new, track),
                name: Localized::new(zh, en),
                description: Localized::default(),
            },
        )
        .await;
    }
    for (team, track, zh, en, members) in TEAMS {
        s.send(
            Actor::Admin,
            Command::AddTeam {
                id: id(TeamId::new, team),
                track: id(TrackId::new, track),
                name: Localized::new(zh, en),
                description: Localized::default(),
                members: members
                    .iter()
                    .map(|(name, discipline, region)| Member {
                        name: (*name).to_owned(),
                        discipline: *discipline,
                        region: (*region).to_owned(),
                    })
                    .collect(),
                contact: String::new(),
            },
        )
        .await;
    }
    for (judge, zh, en, role, tracks) in JUDGES {
        s.send(
            Actor::Admin,
            Command::AddJudge {
                id: id(JudgeId::new, judge),
                name: Localized::new(zh, en),
                panel_role: role,
                affiliation: Localized::default(),
                assignment: Assignment {
                    tracks: tracks.iter().map(|t| id(TrackId::new, t)).collect(),
                    teams: Default::default(),
                },
                conflicts: if judge == "ent-chen" {
                    [id(TeamId::new, "bytebao")].into()
                } else {
                    Default::default()
                },
            },
        )
        .await;
    }
    s.send(Actor::Admin, Command::StartChallenge).await;
    s.send(
        Actor::Admin,
        Command::OpenScoring {
            reason: String::new(),
        },
    )
    .await;
}

async fn simulate(mut s: Sender, speed: f64, mut shutdown: tokio::sync::watch::Receiver<bool>) {
    let mut rng = Rng::new();
    let pause = Duration::from_secs_f64(1.5 / speed);
    loop {
        tokio::select! {
            _ = tokio::time::sleep(pause) => {}
            () = crate::app::stopped(&mut shutdown) => return,
        }
        if s.hub.state().phase() != Phase::Running {
            continue;
        }
        let (team, _, _, _, _) = TEAMS[rng.below(TEAMS.len())];
        let team = id(TeamId::new, team);
        match rng.below(20) {
            0..=7 => {
                let (zh, en) = POSTS[rng.below(POSTS.len())];
                let percent = s
                    .hub
                    .state()
                    .progress(&team)
                    .and_then(|p| p.percent)
                    .unwrap_or(0);
                let text = format!("{zh}\n{en}");
                let percent = Some((percent + 3 + rng.below(8) as u8).min(100));
                let photos = if rng.below(3) == 0 {
                    s.photo(&team, rng.below(1000) as u32).await
                } else {
                    vec![]
                };
                s.send(
                    Actor::Team(team),
                    Command::PostProgress {
                        text,
                        photos,
                        links: vec![],
                        percent,
                    },
                )
                .await;
            }
            8..=11 => {
                let next = {
                    let state = s.hub.state();
                    let reached = state.progress(&team).map_or(0, |p| p.reached.len());
                    state.milestones().get(reached).map(|m| m.id.clone())
                };
                if let Some(milestone) = next {
                    s.send(
                        Actor::Team(team),
                        Command::ReachMilestone {
                            milestone,
                            note: String::new(),
                        },
                    )
                    .await;
                }
            }
            12..=18 => {
                let (judge, scores, revising) = {
                    let state = s.hub.state();
                    let judges: Vec<_> = state
                        .judges()
                        .values()
                        .filter(|j| {
                            state
                                .team(&team)
                                .is_some_and(|t| j.eligible(&t.id, &t.track))
                        })
                        .map(|j| j.id.clone())
                        .collect();
                    if judges.is_empty() {
                        continue;
                    }
                    let judge = judges[rng.below(judges.len())].clone();
                    // Each team has a quality of its own so that the board means something.
                    let quality = 4 + (team.as_str().len() % 5) as u32;
                    let scores: BTreeMap<CriterionId, u32> = state
                        .rubric()
                        .map(|r| {
                            r.criteria
                                .iter()
                                .map(|c| {
                                    (
                                        c.id.clone(),
                                        (quality + rng.below(4) as u32).min(r.scale.max),
                                    )
                                })
                                .collect()
                        })
                        .unwrap_or_default();
                    let revising = state.scorecard(&judge, &team).is_some();
                    (judge, scores, revising)
                };
                // A revision needs a reason, in the demo as at the real event.
                let reason = if revising {
                    "看了第二遍演示 / Watched the demo again".to_owned()
                } else {
                    String::new()
                };
                let command = Command::SubmitScorecard {
                    team,
                    scores,
                    comment: String::new(),
                    reason,
                };
                s.send(Actor::Judge(judge), command).await;
            }
            _ => {
                for _ in 0..(1 + rng.below(20)) {
                    s.send(Actor::Audience, Command::Cheer { team: team.clone() })
                        .await;
                }
            }
        }
    }
}
