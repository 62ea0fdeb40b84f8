//! The authorisation matrix: every actor × every HTTP endpoint and every command (over HTTP and
//! over the socket) → allowed or denied, all from one table. "Allowed" means the server did not
//! refuse the caller's rights (401/403, or a rights error on the socket); the command may still be
//! refused for its timing or content.

use makerpulse_client::LiveClient;
use makerpulse_core::protocol::ServerMessage;
use makerpulse_core::roster::Subject;
use makerpulse_core::{Command, Envelope, TeamId};
use makerpulse_e2e::{cid, TestServer, ADMIN};
use serde_json::{json, Value};

/// The actors, in the order of the table's columns.
const ACTORS: [&str; 9] = [
    "no token",
    "audience",
    "team A",
    "team B",
    "assigned judge",
    "unassigned judge",
    "conflicted judge",
    "admin",
    "revoked token",
];

/// Y = allowed, n = denied, per actor in the order of [`ACTORS`]. "audience" is a socket without
/// a token; over HTTP it is the same as "no token".
const TABLE: &[(&str, &str)] = &[
    // ---- HTTP reads ---------------------------------------------------------------------------
    ("GET /healthz", "YYYYYYYYY"),
    ("GET /readyz", "YYYYYYYYY"),
    ("GET /api/openapi.json", "YYYYYYYYY"),
    ("GET /api/challenges", "YYYYYYYYY"),
    ("GET view", "YYYYYYYYn"),
    ("GET view at seq", "YYYYYYYYn"),
    ("GET leaderboard", "YYYYYYYYn"),
    ("GET timeline", "YYYYYYYYn"),
    ("GET events", "YYYYYYYYn"),
    ("GET sse", "YYYYYYYYn"),
    ("GET log", "nnnnnnnYn"),
    ("GET photo", "YYYYYYYYn"),
    ("POST photos", "nnYYnnnYn"),
    ("POST tokens", "nnnnnnnYn"),
    // ---- commands (over HTTP and over the socket) ---------------------------------------------
    ("create_challenge", "nnnnnnnYn"),
    ("update_challenge", "nnnnnnnYn"),
    ("add_track", "nnnnnnnYn"),
    ("update_track", "nnnnnnnYn"),
    ("remove_track", "nnnnnnnYn"),
    ("set_rubric", "nnnnnnnYn"),
    ("set_milestones", "nnnnnnnYn"),
    ("set_ranking", "nnnnnnnYn"),
    ("add_team", "nnnnnnnYn"),
    ("update_team", "nnnnnnnYn"),
    ("remove_team", "nnnnnnnYn"),
    ("add_judge", "nnnnnnnYn"),
    ("update_judge", "nnnnnnnYn"),
    ("remove_judge", "nnnnnnnYn"),
    ("issue_token", "nnnnnnnYn"),
    ("revoke_tokens", "nnnnnnnYn"),
    ("start_challenge", "nnnnnnnYn"),
    ("pause_clock", "nnnnnnnYn"),
    ("resume_clock", "nnnnnnnYn"),
    ("open_scoring", "nnnnnnnYn"),
    ("close_scoring", "nnnnnnnYn"),
    ("freeze", "nnnnnnnYn"),
    ("reveal_next", "nnnnnnnYn"),
    ("hide_post", "nnnnnnnYn"),
    ("undo_milestone", "nnnnnnnYn"),
    ("end_building", "nnnnnnnYn"),
    ("post_progress", "nnYYnnnnn"),
    ("reach_milestone", "nnYYnnnnn"),
    ("submit_scorecard for team A", "nnnnYnYnn"),
    ("submit_scorecard for team B", "nnnnYnnnn"),
    ("declare_conflict", "nnnnYYYnn"),
    ("cheer", "YYnnnnnnn"),
    ("tally_cheers", "nnnnnnnnn"),
];

fn command(op: &str) -> Option<Value> {
    let rubric = json!({"scale": {"min": 1, "max": 10}, "criteria": [{"id": "x", "name": {"en": "X"}, "weight": 1.0}]});
    let scores = json!({"innovation": 5, "execution": 5, "completeness": 5, "commercial": 5, "presentation": 5});
    Some(match op {
        "create_challenge" => json!({"type": op, "id": "c", "title": {"en": "again"}}),
        "update_challenge" => {
            json!({"type": op, "title": {"en": "Test challenge"}, "duration_secs": 259200})
        }
        "add_track" => json!({"type": op, "id": format!("z{}", cid()), "name": {"en": "Z"}}),
        "update_track" => json!({"type": op, "id": "a", "name": {"en": "Track a"}}),
        "remove_track" => json!({"type": op, "id": "b"}),
        "set_rubric" => json!({"type": op, "rubric": rubric}),
        "set_milestones" => json!({"type": op, "milestones": []}),
        "set_ranking" => json!({"type": op, "settings": {}}),
        "add_team" => {
            json!({"type": op, "id": format!("n{}", cid()), "track": "a", "name": {"en": "New"}})
        }
        "update_team" => json!({"type": op, "id": "t4", "track": "b", "name": {"en": "Team t4"}}),
        "remove_team" => json!({"type": op, "id": "t4"}),
        "add_judge" => {
            json!({"type": op, "id": format!("n{}", cid()), "name": {"en": "New"}, "panel_role": "investor"})
        }
        "update_judge" => {
            json!({"type": op, "id": "j3", "name": {"en": "Judge j3"}, "panel_role": "maker_representative", "assignment": {"tracks": ["b"]}})
        }
        "remove_judge" => json!({"type": op, "id": "j3"}),
        "issue_token" => {
            let hash = makerpulse_core::TokenHash::of(&cid().to_string());
            json!({"type": op, "subject": {"role": "team", "id": "t4"}, "token_hash": hash})
        }
        "revoke_tokens" => json!({"type": op, "subject": {"role": "judge", "id": "nobody"}}),
        "start_challenge" | "resume_clock" | "open_scoring" | "close_scoring" | "freeze"
        | "reveal_next" | "end_building" => {
            json!({"type": op})
        }
        "pause_clock" => json!({"type": op, "reason": "a break"}),
        "hide_post" => json!({"type": op, "post": 999999}),
        "undo_milestone" => {
            json!({"type": op, "team": "t1", "milestone": "delivery", "reason": "by mistake"})
        }
        "post_progress" => json!({"type": op, "text": "progress"}),
        "reach_milestone" => json!({"type": op, "milestone": "idea"}),
        "submit_scorecard for team A" => {
            json!({"type": "submit_scorecard", "team": "t1", "scores": scores})
        }
        "submit_scorecard for team B" => {
            json!({"type": "submit_scorecard", "team": "t2", "scores": scores})
        }
        "declare_conflict" => json!({"type": op, "team": "t4"}),
        "cheer" => json!({"type": op, "team": "t1"}),
        "tally_cheers" => json!({"type": op, "counts": {"t1": 1}}),
        _ => return None,
    })
}

/// What one actor presents.
struct Who {
    token: Option<String>,
}

async fn http(server: &TestServer, op: &str, token: Option<&str>, photo: &str, seq: u64) -> u16 {
    let client = reqwest::Client::new();
    let base = server.http();
    let request = if let Some(body) = command(op) {
        let envelope = json!({"id": cid(), "command": body});
        client
            .post(format!("{base}/api/challenges/c/commands"))
            .json(&envelope)
    } else {
        match op {
            "GET /healthz" => client.get(format!("{base}/healthz")),
            "GET /readyz" => client.get(format!("{base}/readyz")),
            "GET /api/openapi.json" => client.get(format!("{base}/api/openapi.json")),
            "GET /api/challenges" => client.get(format!("{base}/api/challenges")),
            "GET view" => client.get(format!("{base}/api/challenges/c/view")),
            "GET view at seq" => client.get(format!("{base}/api/challenges/c/view?at={seq}")),
            "GET leaderboard" => client.get(format!("{base}/api/challenges/c/leaderboard")),
            "GET timeline" => client.get(format!("{base}/api/challenges/c/teams/t1/timeline")),
            "GET events" => client.get(format!("{base}/api/challenges/c/events")),
            "GET sse" => client.get(format!("{base}/api/challenges/c/sse")),
            "GET log" => client.get(format!("{base}/api/challenges/c/log")),
            "GET photo" => client.get(format!("{base}/api/challenges/c/photos/{photo}")),
            "POST photos" => client
                .post(format!("{base}/api/challenges/c/photos"))
                .header("content-type", "image/png")
                .body(b"\x89PNG\r\n\x1a\n0000".to_vec()),
            "POST tokens" => client
                .post(format!("{base}/api/challenges/c/tokens"))
                .json(&json!({"subject": {"role": "team", "id": "t4"}})),
            other => panic!("no request for {other}"),
        }
    };
    let request = match token {
        Some(token) => request.bearer_auth(token),
        None => request,
    };
    // Streams answer with their headers at once; the status is all this test reads.
    let response = request.send().await.unwrap();
    response.status().as_u16()
}

/// Whether a socket answer refuses the actor's rights.
fn socket_denied(msg: &ServerMessage) -> bool {
    matches!(msg, ServerMessage::Error { code, .. } if ["forbidden", "not_assigned", "conflict_of_interest", "unauthorized"].contains(&code.as_str()))
}

#[tokio::test]
async fn every_actor_against_every_endpoint_and_command() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path()).await;
    let tokens = server.seed("c").await;
    let revoked = server
        .mint("c", Subject::Team(TeamId::new("t3").unwrap()))
        .await;
    let (status, _) = server
        .command(
            "c",
            Some(ADMIN),
            Command::RevokeTokens {
                subject: Subject::Team(TeamId::new("t3").unwrap()),
            },
        )
        .await;
    assert_eq!(status, 200);
    // A photo to read back.
    let png: Vec<u8> = b"\x89PNG\r\n\x1a\n0000".to_vec();
    let res = reqwest::Client::new()
        .post(format!("{}/api/challenges/c/photos", server.http()))
        .bearer_auth(ADMIN)
        .header("content-type", "image/png")
        .body(png)
        .send()
        .await
        .unwrap();
    let photo: Value = res.json().await.unwrap();
    // Shown by a visible post, so every reader of the challenge may get it.
    let (status, _) = server
        .command(
            "c",
            Some(tokens.team("t1")),
            makerpulse_core::Command::PostProgress {
                text: "a photo".into(),
                photos: vec![serde_json::from_value(photo.clone()).unwrap()],
                links: vec![],
                percent: None,
            },
        )
        .await;
    assert_eq!(status, 200);
    let photo = photo["sha256"].as_str().unwrap().to_owned();
    let (_, view) = server.get("/api/challenges/c/view", None).await;
    let seq = view["seq"].as_u64().unwrap();

    let who = [
        Who { token: None },
        Who { token: None },
        Who {
            token: Some(tokens.team("t1").to_owned()),
        },
        Who {
            token: Some(tokens.team("t2").to_owned()),
        },
        // j1 scores track a (teams A and B); j3 scores track b only; j2 scores both tracks but
        // declared a conflict with team B.
        Who {
            token: Some(tokens.judge("j1").to_owned()),
        },
        Who {
            token: Some(tokens.judge("j3").to_owned()),
        },
        Who {
            token: Some(tokens.judge("j2").to_owned()),
        },
        Who {
            token: Some(ADMIN.to_owned()),
        },
        Who {
            token: Some(revoked.clone()),
        },
    ];

    let mut mismatches = Vec::new();
    // The admin goes last: its commands move the phase, which must not hide anyone's rights.
    let order = [0, 1, 2, 3, 4, 5, 6, 8, 7];
    for &a in &order {
        let actor = ACTORS[a];
        let token = who[a].token.as_deref();
        // Over HTTP ("audience" is a socket notion; its HTTP column repeats "no token").
        for (op, row) in TABLE {
            let expected = row.as_bytes()[a] == b'Y';
            let status = http(&server, op, token, &photo, seq).await;
            let allowed = status != 401 && status != 403;
            if allowed != expected {
                mismatches.push(format!(
                    "HTTP {op} as {actor}: status {status}, expected {}",
                    if expected { "allowed" } else { "denied" }
                ));
            }
        }
        // Over the socket.
        let client = LiveClient::connect(&server.ws(), "c", token, None).await;
        let mut client = match client {
            Ok(client) => client,
            Err(_) => {
                // Only a refused token may fail to connect, and then every command is denied.
                if actor != "revoked token" {
                    mismatches.push(format!("socket as {actor}: could not connect"));
                }
                continue;
            }
        };
        assert_ne!(
            actor, "revoked token",
            "a revoked token must not open a live connection"
        );
        for (n, (op, row)) in TABLE
            .iter()
            .filter(|(op, _)| command(op).is_some())
            .enumerate()
        {
            let body = command(op).unwrap();
            if n > 0 && n % 15 == 0 {
                // A fresh connection now and then keeps clear of the per-connection rate limit.
                client = LiveClient::connect(&server.ws(), "c", token, None)
                    .await
                    .unwrap();
            }
            let expected = row.as_bytes()[a] == b'Y';
            let envelope: Envelope =
                serde_json::from_value(json!({"id": cid(), "command": body})).unwrap();
            let answer = client.command(envelope).await.unwrap();
            let allowed = !socket_denied(&answer);
            if allowed != expected {
                mismatches.push(format!(
                    "socket {op} as {actor}: {answer:?}, expected {}",
                    if expected { "allowed" } else { "denied" }
                ));
            }
        }
    }
    assert!(
        mismatches.is_empty(),
        "{} mismatches:\n{}",
        mismatches.len(),
        mismatches.join("\n")
    );
    server.stop().await;
}
