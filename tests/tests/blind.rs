//! Blind judging, proven from the outside: an adversary that reads everything a non-admin can
//! read — the live socket of the audience, of a team and of each judge, `/view` and `/snapshot`,
//! `/view?at=SEQ` and `/snapshot?seq=SEQ` at every seq, `/leaderboard`, the team timeline, the
//! NDJSON and SSE feeds — must learn nothing of a judge's scores of a team before the publication
//! rule allows.
//!
//! "Learns nothing" is tested as non-interference: the same challenge is played five times on one
//! server, command for command, with different scores. Twin `x0` holds the base scores; in twin
//! `xK` (K = 1, 2, 3) judge K gave the base scores and the other two judges others; in `x4` every
//! judge gave others. Whatever an observer can read must then be the same, byte for byte (after
//! the challenge id and the wall-clock times, which differ between twins by construction), in
//! every twin where the observer's own scores are the same: if two different sets of scores look
//! the same, none of them can be reconstructed. The `live` rule, which is not blind, is played too:
//! there the same comparison must find the difference, so the test is known to catch a leak.

use std::collections::BTreeMap;
use std::time::Duration;

use makerpulse_client::LiveClient;
use makerpulse_core::protocol::ServerMessage;
use makerpulse_core::roster::{Assignment, PanelRole, Subject};
use makerpulse_core::rubric::{Publication, RankingSettings};
use makerpulse_core::{Command, CriterionId, JudgeId, Localized, TeamId, TrackId};
use makerpulse_e2e::{TestServer, ADMIN};
use serde_json::{json, Value};

const WAIT: Duration = Duration::from_secs(10);
const CRITERIA: [&str; 5] = [
    "innovation",
    "execution",
    "completeness",
    "commercial",
    "presentation",
];
const JUDGES: [&str; 3] = ["j1", "j2", "j3"];
const TWINS: usize = 5;

/// The scores of one judge's first scorecard of t1, then of its revision (j2 revises).
struct Scores {
    first: [u32; 5],
    revised: Option<[u32; 5]>,
}

fn base(judge: usize) -> Scores {
    match judge {
        0 => Scores {
            first: [7, 3, 9, 2, 5],
            revised: None,
        },
        1 => Scores {
            first: [4, 8, 1, 6, 10],
            revised: Some([5, 8, 2, 6, 10]),
        },
        _ => Scores {
            first: [6, 6, 6, 6, 6],
            revised: None,
        },
    }
}

fn other(judge: usize) -> Scores {
    match judge {
        0 => Scores {
            first: [2, 9, 4, 8, 6],
            revised: None,
        },
        1 => Scores {
            first: [9, 1, 7, 3, 2],
            revised: Some([9, 2, 7, 3, 2]),
        },
        _ => Scores {
            first: [3, 8, 5, 9, 1],
            revised: None,
        },
    }
}

/// What judge `judge` scores in twin `twin`.
fn scores_in(twin: usize, judge: usize) -> Scores {
    match twin {
        0 => base(judge),
        k @ 1..=3 if k - 1 == judge => base(judge),
        _ => other(judge),
    }
}

fn card(scores: [u32; 5], reason: &str) -> Command {
    Command::SubmitScorecard {
        team: TeamId::new("t1").unwrap(),
        scores: CRITERIA
            .iter()
            .zip(scores)
            .map(|(c, s)| (CriterionId::new(*c).unwrap(), s))
            .collect(),
        comment: "评语 / a comment".into(),
        reason: reason.into(),
    }
}

/// The total of a scorecard on 0–100 under the default rubric (weights 30, 25, 20, 15, 10).
fn total(scores: [u32; 5]) -> f64 {
    let weights = [30.0, 25.0, 20.0, 15.0, 10.0];
    let sum: f64 = scores
        .iter()
        .zip(weights)
        .map(|(&s, w)| w * f64::from(s - 1) * 100.0 / 9.0)
        .sum();
    sum / 100.0
}

/// One observer: who, and which of a twin's tokens it uses (none: the public).
#[derive(Clone)]
struct Observer {
    name: String,
    key: Option<String>,
    /// The judge (0, 1, 2) it is, if a judge.
    judge: Option<usize>,
}

/// One twin challenge, with its observers' live sockets and everything they received.
struct Twin {
    id: String,
    tokens: BTreeMap<String, String>,
    sockets: Vec<(LiveClient, Vec<Value>)>,
}

async fn ok(server: &TestServer, id: &str, token: &str, command: Command) -> u64 {
    let (status, body) = server.command(id, Some(token), command).await;
    assert_eq!(status, 200, "{body}");
    body["last_seq"].as_u64().expect("a seq")
}

/// Seeds twin `id`: t1's panel is j1, j2 and j3 (j3 moved onto track a), the rule is `rule`.
async fn twin(server: &TestServer, id: &str, rule: Publication) -> BTreeMap<String, String> {
    let seeded = server.seed(id).await;
    ok(
        server,
        id,
        ADMIN,
        Command::UpdateJudge {
            id: JudgeId::new("j3").unwrap(),
            name: Localized::new("评委 j3", "Judge j3"),
            panel_role: PanelRole::MakerRepresentative,
            affiliation: Localized::default(),
            assignment: Assignment {
                tracks: ["a", "b"].map(|t| TrackId::new(t).unwrap()).into(),
                teams: Default::default(),
            },
            conflicts: Default::default(),
        },
    )
    .await;
    ok(
        server,
        id,
        ADMIN,
        Command::SetRanking {
            settings: RankingSettings {
                publication: rule,
                ..RankingSettings::default()
            },
        },
    )
    .await;
    let mut tokens = seeded.judges.clone();
    tokens.insert("t1".into(), seeded.team("t1").to_owned());
    tokens.insert(
        "t3".into(),
        server
            .mint(id, Subject::Team(TeamId::new("t3").unwrap()))
            .await,
    );
    tokens
}

fn observers() -> Vec<Observer> {
    let mut out = vec![Observer {
        name: "audience".into(),
        key: None,
        judge: None,
    }];
    for team in ["t1", "t3"] {
        out.push(Observer {
            name: format!("team {team}"),
            key: Some(team.into()),
            judge: None,
        });
    }
    for (k, judge) in JUDGES.iter().enumerate() {
        out.push(Observer {
            name: format!("judge {judge}"),
            key: Some((*judge).into()),
            judge: Some(k),
        });
    }
    out
}

/// Replaces what differs between twins by construction: the challenge id and wall-clock times.
fn normalized(value: &Value, id: &str) -> Value {
    match value {
        Value::String(s) if s == id => json!("X"),
        Value::String(s) if chrono::DateTime::parse_from_rfc3339(s).is_ok() => json!("T"),
        Value::Array(a) => Value::Array(a.iter().map(|v| normalized(v, id)).collect()),
        Value::Object(o) => Value::Object(
            o.iter()
                .map(|(k, v)| (k.clone(), normalized(v, id)))
                .collect(),
        ),
        other => other.clone(),
    }
}

/// Reads a feed (NDJSON or SSE) until it has carried the message of `seq`, and returns its JSON
/// messages.
async fn feed(server: &TestServer, path: &str, seq: u64) -> Vec<Value> {
    let mut res = reqwest::Client::new()
        .get(format!("{}{path}", server.http()))
        .send()
        .await
        .expect("feed");
    assert_eq!(res.status().as_u16(), 200, "{path}");
    let mut text = String::new();
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let messages: Vec<Value> = text
            .lines()
            .map(|l| l.strip_prefix("data:").unwrap_or(l).trim())
            .filter_map(|l| serde_json::from_str::<Value>(l).ok())
            .collect();
        let reached = messages
            .iter()
            .any(|m| m["seq"].as_u64() >= Some(seq) || m["view"]["seq"].as_u64() >= Some(seq));
        if reached {
            return messages;
        }
        let chunk = tokio::time::timeout_at(deadline, res.chunk())
            .await
            .unwrap_or_else(|_| panic!("{path} never reached seq {seq}: {text}"))
            .expect("read")
            .expect("the feed stays open");
        text.push_str(&String::from_utf8_lossy(&chunk));
    }
}

/// Everything `observer` can read of twin `id` at `seq`, normalised.
async fn everything(
    server: &TestServer,
    twin: &mut Twin,
    index: usize,
    observer: &Observer,
    from: u64,
    seq: u64,
) -> Value {
    let id = twin.id.clone();
    let token = observer.key.as_ref().map(|k| twin.tokens[k].clone());
    let token = token.as_deref();
    let (socket, received) = &mut twin.sockets[index];
    while received
        .last()
        .and_then(|m| m["seq"].as_u64().or(m["view"]["seq"].as_u64()))
        < Some(seq)
    {
        let Ok(msg) = tokio::time::timeout(WAIT, socket.recv()).await else {
            panic!("{}'s socket never reached seq {seq}", observer.name);
        };
        let msg = msg.expect("a message");
        if matches!(msg, ServerMessage::Presence { .. }) {
            continue;
        }
        received.push(serde_json::to_value(&msg).unwrap());
    }
    let mut out = BTreeMap::new();
    out.insert("socket".to_owned(), json!(received));
    for path in [
        format!("/api/challenges/{id}/view"),
        format!("/api/challenges/{id}/snapshot"),
        format!("/api/challenges/{id}/leaderboard"),
        format!("/api/challenges/{id}/teams/t1/timeline"),
    ] {
        let (status, body) = server.get(&path, token).await;
        assert_eq!(status, 200, "{path}");
        out.insert(path.replace(&id, "X"), body);
    }
    for at in from..=seq {
        let path = format!("/api/challenges/{id}/view?at={at}");
        let (status, body) = server.get(&path, token).await;
        assert_eq!(status, 200, "{path}");
        out.insert(format!("view?at={at}"), body);
        let path = format!("/api/challenges/{id}/snapshot?seq={at}");
        let (status, body) = server.get(&path, token).await;
        assert_eq!(status, 200, "{path}");
        out.insert(format!("snapshot?seq={at}"), body);
    }
    if token.is_none() {
        out.insert(
            "ndjson".into(),
            json!(feed(server, &format!("/api/challenges/{id}/events?since=0"), seq).await),
        );
        out.insert(
            "sse".into(),
            json!(feed(server, &format!("/api/challenges/{id}/sse"), seq).await),
        );
    }
    normalized(&json!(out), &id)
}

/// The twins whose observations `observer` must not tell apart: those where its own scores are
/// the base ones.
fn comparable(observer: &Observer) -> Vec<usize> {
    match observer.judge {
        Some(k) => vec![k + 1],
        None => (1..TWINS).collect(),
    }
}

/// Compares what each observer reads in twin 0 with what it reads in every comparable twin.
/// Returns the observers that could tell some twin apart.
async fn leaks(
    server: &TestServer,
    twins: &mut [Twin],
    observers: &[Observer],
    from: u64,
) -> Vec<String> {
    // A view skips events that change nothing it may see, so a socket is read up to a marker
    // every view receives in every phase: the organizers touching up the challenge's title, the
    // same in every twin.
    let mut seq = 0;
    for twin in twins.iter() {
        seq = ok(
            server,
            &twin.id,
            ADMIN,
            Command::UpdateChallenge {
                title: Localized::new("测试挑战赛", "Test challenge"),
                description: Localized::new("检查点", "checkpoint"),
                planned_start: None,
                duration_secs: 72 * 3600,
            },
        )
        .await;
    }
    let mut found = Vec::new();
    for (i, observer) in observers.iter().enumerate() {
        let mut seen = Vec::new();
        for twin in twins.iter_mut() {
            seen.push(everything(server, twin, i, observer, from, seq).await);
        }
        for k in comparable(observer) {
            if seen[0] != seen[k] {
                found.push(format!("{} tells x0 from x{k}", observer.name));
            }
        }
    }
    found
}

/// Plays j1 and j2 (who revises) on t1 in every twin; returns the seq of the first scorecard.
async fn score_panel_but_j3(server: &TestServer, twins: &[Twin]) -> u64 {
    let mut first = 0;
    for (t, twin) in twins.iter().enumerate() {
        let s1 = ok(
            server,
            &twin.id,
            &twin.tokens["j1"],
            card(scores_in(t, 0).first, ""),
        )
        .await;
        ok(
            server,
            &twin.id,
            &twin.tokens["j2"],
            card(scores_in(t, 1).first, ""),
        )
        .await;
        // A revision without a reason is refused with a clear error, and changes nothing.
        let revised = scores_in(t, 1).revised.unwrap();
        let (status, body) = server
            .command(&twin.id, Some(&twin.tokens["j2"]), card(revised, "  "))
            .await;
        assert_eq!(status, 400, "{body}");
        assert_eq!(body["error"]["code"], "reason_required", "{body}");
        assert!(body["error"]["message_zh"]
            .as_str()
            .unwrap()
            .contains("理由"));
        ok(
            server,
            &twin.id,
            &twin.tokens["j2"],
            card(revised, "看了第二遍演示 / Watched the demo again"),
        )
        .await;
        first = s1;
    }
    first
}

async fn start(
    rule: Publication,
    tag: &str,
) -> (TestServer, Vec<Twin>, Vec<Observer>, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path()).await;
    let mut twins = Vec::new();
    let observers = observers();
    for t in 0..TWINS {
        let id = format!("{tag}{t}");
        let tokens = twin(&server, &id, rule).await;
        let mut sockets = Vec::new();
        for o in &observers {
            let token = o.key.as_ref().map(|k| tokens[k].as_str());
            sockets.push((server.live(&id, token, None).await, Vec::new()));
        }
        twins.push(Twin {
            id,
            tokens,
            sockets,
        });
    }
    (server, twins, observers, dir)
}

/// The rows of t1 on a board JSON: overall and in its track.
fn t1_rows(board: &Value) -> Vec<Value> {
    let mut rows: Vec<Value> = board["overall"].as_array().unwrap().clone();
    for track in board["tracks"].as_array().unwrap() {
        rows.extend(track["rows"].as_array().unwrap().iter().cloned());
    }
    rows.into_iter().filter(|r| r["team"] == "t1").collect()
}

#[tokio::test]
async fn on_complete_publishes_a_team_only_once_its_whole_panel_has_scored() {
    let (server, mut twins, observers, _dir) = start(Publication::OnComplete, "oc").await;
    let from = score_panel_but_j3(&server, &twins).await;

    // Two of three judges have scored: nobody can tell what they gave.
    let found = leaks(&server, &mut twins, &observers, from).await;
    assert!(found.is_empty(), "before the panel is complete: {found:?}");
    let (_, board) = server.get("/api/challenges/oc0/leaderboard", None).await;
    for row in t1_rows(&board["board"]) {
        assert_eq!(row["score"], Value::Null, "{row}");
        assert_eq!(row["rank"], Value::Null, "{row}");
        assert!(row.get("criteria").is_none(), "{row}");
        assert_eq!(
            (row["judges_scored"].clone(), row["judges_assigned"].clone()),
            (json!(2), json!(3))
        );
    }

    // j3 completes the panel: now the score appears, the mean of the three totals; still no
    // breakdown, and a judge still sees only their own scorecards.
    for (t, twin) in twins.iter().enumerate() {
        ok(
            &server,
            &twin.id,
            &twin.tokens["j3"],
            card(scores_in(t, 2).first, ""),
        )
        .await;
    }
    let b = base(1).revised.unwrap();
    let expected = (total(base(0).first) + total(b) + total(base(2).first)) / 3.0;
    let (_, board) = server.get("/api/challenges/oc0/leaderboard", None).await;
    for row in t1_rows(&board["board"]) {
        let score = row["score"].as_f64().expect("published");
        assert!((score - expected).abs() < 0.006, "{score} vs {expected}");
        assert!(row.get("criteria").is_none(), "{row}");
        assert!(row.get("contributions").is_none(), "{row}");
    }
    for judge in JUDGES {
        let (_, view) = server
            .get("/api/challenges/oc0/view", Some(&twins[0].tokens[judge]))
            .await;
        let cards = view["scorecards"].as_array().unwrap();
        assert!(
            !cards.is_empty() && cards.iter().all(|c| c["judge"] == judge),
            "{judge}: {cards:?}"
        );
    }
    server.stop().await;
}

#[tokio::test]
async fn at_reveal_publishes_nothing_before_the_reveal_and_judges_stay_blind_after_scoring_closes()
{
    let (server, mut twins, observers, _dir) = start(Publication::AtReveal, "ar").await;
    score_panel_but_j3(&server, &twins).await;
    for (t, twin) in twins.iter().enumerate() {
        ok(
            &server,
            &twin.id,
            &twin.tokens["j3"],
            card(scores_in(t, 2).first, ""),
        )
        .await;
        for command in [Command::EndBuilding, Command::CloseScoring, Command::Freeze] {
            ok(&server, &twin.id, ADMIN, command).await;
        }
        // Reopening during the freeze needs a reason, and is then in the log.
        let (status, body) = server
            .command(
                &twin.id,
                Some(ADMIN),
                Command::OpenScoring { reason: " ".into() },
            )
            .await;
        assert_eq!(
            (status, body["error"]["code"].as_str()),
            (400, Some("reason_required")),
            "{body}"
        );
        ok(
            &server,
            &twin.id,
            ADMIN,
            Command::OpenScoring {
                reason: "复核 / recount".into(),
            },
        )
        .await;
        ok(&server, &twin.id, ADMIN, Command::CloseScoring).await;
    }
    // The whole panel has scored, scoring closed and the board froze: still, before the reveal,
    // neither the public nor any judge can tell the twins apart.
    let found = leaks(&server, &mut twins, &observers, 1).await;
    assert!(found.is_empty(), "before the reveal: {found:?}");
    let (_, board) = server.get("/api/challenges/ar0/leaderboard", None).await;
    for row in t1_rows(&board["board"]) {
        assert_eq!(
            (row["score"].clone(), row["rank"].clone()),
            (Value::Null, Value::Null),
            "{row}"
        );
    }

    // The reveal begins: scoring can no longer be reopened; at the end everyone sees everything.
    let twin = &twins[0];
    ok(&server, &twin.id, ADMIN, Command::RevealNext).await;
    let (status, body) = server
        .command(
            &twin.id,
            Some(ADMIN),
            Command::OpenScoring {
                reason: "once more".into(),
            },
        )
        .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (409, Some("wrong_phase")),
        "{body}"
    );
    loop {
        let (status, body) = server
            .command(&twin.id, Some(ADMIN), Command::RevealNext)
            .await;
        if status != 200 {
            assert_eq!(body["error"]["code"], "wrong_phase", "{body}");
            break;
        }
    }
    let (_, view) = server.get("/api/challenges/ar0/view", None).await;
    assert_eq!(view["challenge"]["phase"], "revealed");
    let judges_of_t1: Vec<&Value> = view["scorecards"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["team"] == "t1")
        .map(|c| &c["judge"])
        .collect();
    assert_eq!(judges_of_t1, ["j1", "j2", "j3"]);
    assert!(t1_rows(&view["leaderboard"]["board"])
        .iter()
        .all(|r| r.get("criteria").is_some()));
    server.stop().await;
}

/// The control: under `live`, which the console labels as not blind, the same adversary does
/// tell the twins apart — so the comparison above is able to find a leak — and differencing two
/// consecutive public boards gives j2's exact total.
#[tokio::test]
async fn live_is_not_blind_and_the_adversary_sees_it() {
    let (server, mut twins, observers, _dir) = start(Publication::Live, "lv").await;
    let mut audience = server.live("lv0", None, None).await;
    let from = score_panel_but_j3(&server, &twins).await;
    let found = leaks(&server, &mut twins, &observers, from).await;
    assert!(
        found.iter().any(|f| f.starts_with("audience")),
        "the live rule must be visible to the adversary: {found:?}"
    );
    // Differencing: the board after j1, then after j2's first scorecard.
    let mut boards = Vec::new();
    while boards.len() < 2 {
        let update = tokio::time::timeout(WAIT, audience.next_update())
            .await
            .unwrap()
            .unwrap();
        let view = audience.view.as_ref().unwrap();
        let row = view
            .leaderboard
            .board
            .overall
            .iter()
            .find(|r| r.team.as_str() == "t1")
            .unwrap();
        if let (Some(score), n) = (row.score, row.judges_scored) {
            if boards.last().map(|&(_, m)| m) != Some(n) {
                boards.push((score, n));
            }
        }
        let _ = update;
    }
    let recovered = boards[1].0 * 2.0 - boards[0].0;
    assert!(
        (recovered - total(base(1).first)).abs() < 0.02,
        "{boards:?}"
    );
    server.stop().await;
}
