//! Seeds a makerpulse challenge for a run over the HTTP API, as an organizer would: tracks,
//! teams, judges assigned to every track, minted tokens, the clock started and scoring open.

use std::net::IpAddr;

use anyhow::Context;
use makerpulse_core::milestone::MilestoneDef;
use makerpulse_core::roster::{Assignment, PanelRole, Subject};
use makerpulse_core::rubric::{Publication, RankingSettings};
use makerpulse_core::{
    ChallengeId, Command, CommandId, Envelope, JudgeId, Localized, MilestoneId, TeamId, TrackId,
};
use serde_json::Value;

/// The tracks of a seeded challenge (as in the demo: software, hardware, design).
const TRACKS: [(&str, &str, &str); 3] = [
    ("software", "软件", "Software"),
    ("hardware", "硬件", "Hardware"),
    ("design", "设计", "Design"),
];

/// What the writers need from a seeded challenge.
#[derive(Clone, Debug)]
pub struct Seeded {
    /// Team ids and tokens.
    pub teams: Vec<(TeamId, String)>,
    /// Judge tokens.
    pub judges: Vec<String>,
}

/// A reqwest client whose connections leave from `from` (so per-address limits count it apart).
pub fn http_client(from: Option<IpAddr>) -> anyhow::Result<reqwest::Client> {
    let mut builder = reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(30))
        .pool_max_idle_per_host(64);
    if let Some(ip) = from {
        builder = builder.local_address(ip);
    }
    Ok(builder.build()?)
}

/// A command id unique to this process.
pub fn command_id(prefix: &str) -> CommandId {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    let n = N.fetch_add(1, Ordering::Relaxed);
    CommandId::new(format!("lg-{prefix}-{}-{n}", std::process::id())).expect("a valid id")
}

/// Sends one command; returns the HTTP status and the JSON answer.
pub async fn command(
    client: &reqwest::Client,
    http: &str,
    challenge: &str,
    token: &str,
    envelope: &Envelope,
) -> anyhow::Result<(u16, Value)> {
    let res = client
        .post(format!("{http}/api/challenges/{challenge}/commands"))
        .bearer_auth(token)
        .header("content-type", "application/json")
        .body(serde_json::to_string(envelope)?)
        .send()
        .await?;
    let status = res.status().as_u16();
    Ok((status, res.json().await.unwrap_or(Value::Null)))
}

async fn must(
    client: &reqwest::Client,
    http: &str,
    challenge: &str,
    admin: &str,
    cmd: Command,
) -> anyhow::Result<()> {
    let envelope = Envelope::new(command_id("seed"), cmd);
    // Seeding a big challenge (200 teams) runs into the server's rate limit per address: wait
    // and resend (the same command id, so a resend never adds twice).
    let mut tries = 0;
    let (status, body) = loop {
        let (status, body) = command(client, http, challenge, admin, &envelope).await?;
        tries += 1;
        if status != 429 || tries > 120 {
            break (status, body);
        }
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    };
    anyhow::ensure!(
        status == 200,
        "seeding {challenge}: {} answered {status} {body}",
        envelope.command.name()
    );
    Ok(())
}

async fn mint(
    client: &reqwest::Client,
    http: &str,
    challenge: &str,
    admin: &str,
    subject: Subject,
) -> anyhow::Result<String> {
    let mut tries = 0;
    let res = loop {
        let res = client
            .post(format!("{http}/api/challenges/{challenge}/tokens"))
            .bearer_auth(admin)
            .json(&serde_json::json!({ "subject": subject }))
            .send()
            .await?;
        tries += 1;
        if res.status().as_u16() != 429 || tries > 120 {
            break res;
        }
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    };
    anyhow::ensure!(res.status().is_success(), "minting: {}", res.status());
    let body: Value = res.json().await?;
    Ok(body["token"].as_str().context("a token")?.to_owned())
}

/// The audience view's seq now.
pub async fn current_seq(
    client: &reqwest::Client,
    http: &str,
    challenge: &str,
) -> anyhow::Result<u64> {
    let view: Value = client
        .get(format!("{http}/api/challenges/{challenge}/view"))
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    view["seq"].as_u64().context("a view with a seq")
}

/// The tracks of a challenge seeded with `n` of them: the demo's three, or track1…trackN.
fn tracks(n: usize) -> Vec<(String, String, String)> {
    if n == TRACKS.len() {
        return TRACKS
            .iter()
            .map(|(id, zh, en)| ((*id).to_owned(), (*zh).to_owned(), (*en).to_owned()))
            .collect();
    }
    (1..=n.max(1))
        .map(|i| {
            (
                format!("track{i}"),
                format!("赛道 {i}"),
                format!("Track {i}"),
            )
        })
        .collect()
}

/// Milestones of a challenge seeded for the mixed soak: the most a challenge may have, so that
/// milestone ticks last as long as they can.
pub const SOAK_MILESTONES: usize = makerpulse_core::milestone::MAX_MILESTONES;

/// Creates `challenge` with `teams` teams dealt round `tracks` tracks and `judges` judges
/// assigned to every track (and, with `many_milestones`, [`SOAK_MILESTONES`] milestones), or, if
/// it exists already (seeded by an earlier run), mints fresh tokens for them.
pub async fn seed(
    http: &str,
    challenge: &str,
    admin: &str,
    (teams, judges, tracks): (usize, usize, usize),
    many_milestones: bool,
) -> anyhow::Result<Seeded> {
    let client = http_client(None)?;
    let tracks = self::tracks(tracks);
    let team_ids: Vec<TeamId> = (1..=teams)
        .map(|i| TeamId::new(format!("t{i}")).expect("a valid id"))
        .collect();
    let judge_ids: Vec<JudgeId> = (1..=judges)
        .map(|i| JudgeId::new(format!("j{i}")).expect("a valid id"))
        .collect();
    let create = Envelope::new(
        command_id("seed"),
        Command::CreateChallenge {
            id: ChallengeId::new(challenge).context("a valid challenge id")?,
            title: Localized::new("压测挑战赛", "Load test challenge"),
            description: Localized::new("负载生成器创建", "Created by the load generator"),
            planned_start: None,
            duration_secs: None,
        },
    );
    let (status, _) = command(&client, http, challenge, admin, &create).await?;
    let fresh = status == 200;
    if fresh {
        for (id, zh, en) in &tracks {
            let cmd = Command::AddTrack {
                id: TrackId::new(id.as_str()).expect("a valid id"),
                name: Localized::new(zh, en),
                description: Localized::default(),
            };
            must(&client, http, challenge, admin, cmd).await?;
        }
        for (i, id) in team_ids.iter().enumerate() {
            let (track, _, _) = &tracks[i % tracks.len()];
            let cmd = Command::AddTeam {
                id: id.clone(),
                track: TrackId::new(track.as_str()).expect("a valid id"),
                name: Localized::new(format!("团队 {}", i + 1), format!("Team {}", i + 1)),
                description: Localized::new("一个创客项目", "A maker project"),
                members: vec![],
                contact: format!("{id}@example.org"),
            };
            must(&client, http, challenge, admin, cmd).await?;
        }
        let roles = [
            PanelRole::MakerRepresentative,
            PanelRole::DomainExpert,
            PanelRole::EnterpriseRepresentative,
            PanelRole::Investor,
        ];
        for (i, id) in judge_ids.iter().enumerate() {
            let cmd = Command::AddJudge {
                id: id.clone(),
                name: Localized::new(format!("评委 {}", i + 1), format!("Judge {}", i + 1)),
                panel_role: roles[i % roles.len()],
                affiliation: Localized::default(),
                assignment: Assignment {
                    tracks: tracks
                        .iter()
                        .map(|(t, _, _)| TrackId::new(t.as_str()).expect("a valid id"))
                        .collect(),
                    teams: Default::default(),
                },
                conflicts: Default::default(),
            };
            must(&client, http, challenge, admin, cmd).await?;
        }
        // The benchmark measures fan-out: every scorecard must be a message to the audience, as
        // it is with the `live` rule. Under the default (blind until a team's whole panel has
        // scored) most scorecards change nothing the audience may see, and no message is sent.
        let cmd = Command::SetRanking {
            settings: RankingSettings {
                publication: Publication::Live,
                ..RankingSettings::default()
            },
        };
        must(&client, http, challenge, admin, cmd).await?;
        if many_milestones {
            let milestones = (1..=SOAK_MILESTONES)
                .map(|i| MilestoneDef {
                    id: MilestoneId::new(format!("m{i}")).expect("a valid id"),
                    name: Localized::new(format!("里程碑 {i}"), format!("Milestone {i}")),
                    due_offset_secs: None,
                })
                .collect();
            let cmd = Command::SetMilestones { milestones };
            must(&client, http, challenge, admin, cmd).await?;
        }
    } else {
        anyhow::ensure!(
            status == 409,
            "creating challenge {challenge} answered {status}"
        );
    }
    let mut seeded = Seeded {
        teams: Vec::new(),
        judges: Vec::new(),
    };
    for id in &team_ids {
        let token = mint(&client, http, challenge, admin, Subject::Team(id.clone())).await?;
        seeded.teams.push((id.clone(), token));
    }
    for id in &judge_ids {
        seeded
            .judges
            .push(mint(&client, http, challenge, admin, Subject::Judge(id.clone())).await?);
    }
    if fresh {
        must(&client, http, challenge, admin, Command::StartChallenge).await?;
        must(
            &client,
            http,
            challenge,
            admin,
            Command::OpenScoring {
                reason: String::new(),
            },
        )
        .await?;
    }
    Ok(seeded)
}
