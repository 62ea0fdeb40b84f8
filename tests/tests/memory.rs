//! End-to-end tests of what the server no longer keeps in memory: command ids past their actor's
//! window, and scorecard revisions past the few held with the card. From the outside nothing may
//! change: a late resend is still answered with its first answer and never applied twice, and
//! history reads (the view at a past seq, the timeline, the log) still return everything.

use std::time::Duration;

use makerpulse_core::answers::IDEMPOTENCY_WINDOW;
use makerpulse_core::rubric::REVISIONS_KEPT;
use makerpulse_core::{Command, CommandId, Envelope};
use makerpulse_e2e::{scorecard, send_accepted, TestServer, ADMIN};
use serde_json::Value;

fn post(text: &str) -> Command {
    Command::PostProgress {
        text: text.to_owned(),
        photos: vec![],
        links: vec![],
        percent: None,
    }
}

/// Polls `/metrics` until the `kept` gauge of `what` for challenge `c` passes `min` (the gauges
/// are set every second), and returns it.
async fn kept(server: &TestServer, what: &str, min: f64) -> f64 {
    let line = format!("makerpulse_kept{{challenge=\"c\",what=\"{what}\"}} ");
    let mut value = f64::NAN;
    for _ in 0..50 {
        let metrics = server.metrics().await;
        value = metrics
            .lines()
            .find_map(|l| l.strip_prefix(&line))
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(f64::NAN);
        if value >= min {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    value
}

async fn seq(server: &TestServer) -> u64 {
    let (status, view) = server.get("/api/challenges/c/view", Some(ADMIN)).await;
    assert_eq!(status, 200, "{view}");
    view["seq"].as_u64().unwrap()
}

#[tokio::test]
async fn a_resend_long_after_the_window_is_answered_from_the_log_and_never_applied_twice() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path()).await;
    let tokens = server.seed("c").await;
    let team = tokens.team("t1").to_owned();
    let first = Envelope::new(
        CommandId::new("the-first-post").unwrap(),
        post("第一条 first"),
    );
    let (status, ack) = server.envelope("c", Some(&team), &first).await;
    assert_eq!(status, 200, "{ack}");
    let first_seq = ack["first_seq"].as_u64().unwrap();

    // Push it out of the team's window: more commands of the same team than the window holds,
    // from several writers at once so that they go in group commits.
    let mut writers = Vec::new();
    for w in 0..8 {
        let (base, team) = (server.http(), team.clone());
        writers.push(tokio::spawn(async move {
            let client = reqwest::Client::new();
            for i in (w..IDEMPOTENCY_WINDOW + 16).step_by(8) {
                send_accepted(&client, &base, &team, post(&format!("later {i}"))).await;
            }
        }));
    }
    for w in writers {
        w.await.unwrap();
    }
    assert!(kept(&server, "answer_fingerprints", 16.0).await >= 16.0);
    let top = seq(&server).await;

    // The resend, however late: the first answer, and nothing new in the log.
    let (status, again) = server.envelope("c", Some(&team), &first).await;
    assert_eq!(status, 200, "{again}");
    assert_eq!(again["outcome"], "repeated", "{again}");
    assert_eq!(again["first_seq"].as_u64(), Some(first_seq));
    assert_eq!(again["last_seq"].as_u64(), Some(first_seq));
    assert_eq!(seq(&server).await, top, "a late resend appended something");

    // The same old id for another command is refused, and changes nothing either.
    let reused = Envelope::new(first.id.clone(), post("另一条 another"));
    let (status, body) = server.envelope("c", Some(&team), &reused).await;
    assert_eq!(status, 409, "{body}");
    assert_eq!(body["error"]["code"], "command_id_reused", "{body}");
    assert_eq!(seq(&server).await, top);

    // Another team may use the same id: ids are per actor.
    let other = tokens.team("t2").to_owned();
    let (status, body) = server.envelope("c", Some(&other), &first).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["outcome"], "applied", "{body}");
    let top = top + 1;

    // After a restart the journal alone rebuilds the same memory, and the resend is still safe.
    server.stop().await;
    let server = TestServer::start(dir.path()).await;
    let (status, again) = server.envelope("c", Some(&team), &first).await;
    assert_eq!(status, 200, "{again}");
    assert_eq!(again["outcome"], "repeated", "{again}");
    assert_eq!(again["first_seq"].as_u64(), Some(first_seq));
    assert_eq!(seq(&server).await, top);

    let (_, timeline) = server
        .get("/api/challenges/c/teams/t1/timeline", Some(ADMIN))
        .await;
    let firsts = timeline
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["text"] == "第一条 first")
        .count();
    assert_eq!(firsts, 1, "the first post is on the timeline exactly once");
    assert_eq!(timeline.as_array().unwrap().len(), IDEMPOTENCY_WINDOW + 17);
    server.stop().await;
}

fn card<'a>(view: &'a Value, team: &str, judge: &str) -> &'a Value {
    view["scorecards"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["team"] == team && c["judge"] == judge)
        .unwrap_or_else(|| panic!("no scorecard of {judge} for {team} in {view}"))
}

#[tokio::test]
async fn history_reads_stay_right_when_only_the_latest_revisions_are_held() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path()).await;
    let tokens = server.seed("c").await;
    let client = reqwest::Client::new();
    let judge = tokens.judge("j1");
    let revisions = REVISIONS_KEPT + 6;
    let mut seqs = Vec::new();
    for r in 1..=revisions {
        let score = 1 + (r as u32 % 10);
        seqs.push(send_accepted(&client, &server.http(), judge, scorecard("t1", score)).await);
    }

    // Live: the latest revision, the few before it, and how many more the log has.
    let (_, live) = server.get("/api/challenges/c/view", Some(ADMIN)).await;
    let live_card = card(&live, "t1", "j1");
    assert_eq!(live_card["current"]["revision"], revisions as u64);
    assert_eq!(
        live_card["history"].as_array().unwrap().len(),
        REVISIONS_KEPT
    );
    assert_eq!(
        live_card["earlier"],
        (revisions - 1 - REVISIONS_KEPT) as u64
    );
    assert_eq!(
        live_card["history"][0]["revision"],
        (revisions - REVISIONS_KEPT) as u64
    );

    // At every past seq the view is the one of that moment, revision by revision.
    for (i, seq) in seqs.iter().enumerate() {
        let (status, past) = server
            .get(&format!("/api/challenges/c/view?at={seq}"), Some(ADMIN))
            .await;
        assert_eq!(status, 200, "{past}");
        assert_eq!(past["seq"].as_u64(), Some(*seq));
        let past_card = card(&past, "t1", "j1");
        assert_eq!(past_card["current"]["revision"], (i + 1) as u64);
        let held = i.min(REVISIONS_KEPT);
        assert_eq!(past_card["history"].as_array().unwrap().len(), held);
        assert_eq!(
            past_card["earlier"].as_u64().unwrap_or(0),
            (i - held) as u64
        );
    }

    // The judge sees its own card the same way.
    let (_, mine) = server.get("/api/challenges/c/view", Some(judge)).await;
    assert_eq!(card(&mine, "t1", "j1"), live_card);

    // And the log still has every revision, for the organizers' audit.
    let res = client
        .get(format!("{}/api/challenges/c/log", server.http()))
        .bearer_auth(ADMIN)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 200);
    let text = res.text().await.unwrap();
    let submitted: Vec<u64> = text
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .map(|e| e["body"].clone())
        .filter(|b| b["type"] == "scorecard_submitted" && b["judge"] == "j1" && b["team"] == "t1")
        .map(|b| b["revision"].as_u64().unwrap())
        .collect();
    assert_eq!(submitted, (1..=revisions as u64).collect::<Vec<_>>());
    assert!(kept(&server, "revisions", 1.0).await <= (REVISIONS_KEPT + 1) as f64);
    server.stop().await;
}
