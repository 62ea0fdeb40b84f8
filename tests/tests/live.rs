//! End-to-end tests of the live stream: views per role, freeze, resume with `since`, idempotent
//! commands, authorisation over the socket, bad input, slow readers and the NDJSON feed.

use std::time::Duration;

use makerpulse_client::{ClientError, LiveClient, Update};
use makerpulse_core::protocol::ServerMessage;
use makerpulse_core::{Command, Envelope, Part, Parts, TeamId};
use makerpulse_e2e::{cid, scorecard, TestServer, ADMIN};

const WAIT: Duration = Duration::from_secs(5);

fn score_of(view: &makerpulse_core::View, team: &str) -> Option<f64> {
    view.leaderboard
        .board
        .overall
        .iter()
        .find(|r| r.team.as_str() == team)
        .and_then(|r| r.score)
}

#[tokio::test]
async fn a_scorecard_reaches_the_audience_in_order_and_the_freeze_hides_values() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path()).await;
    let tokens = server.seed("c").await;
    let mut audience = server.live("c", None, None).await;
    let mut admin = server.live("c", Some(ADMIN), None).await;
    assert!(matches!(
        audience.next_update().await.unwrap(),
        Update::Snapshot
    ));
    assert!(matches!(
        admin.next_update().await.unwrap(),
        Update::Snapshot
    ));

    // t1's panel is j1 and j2: after j1 alone the audience sees it being scored, with no number.
    let (status, ack) = server
        .command("c", Some(tokens.judge("j1")), scorecard("t1", 8))
        .await;
    assert_eq!(status, 200, "{ack}");
    let seq = ack["last_seq"].as_u64().unwrap();
    audience.wait_for(WAIT, |v| v.seq >= seq).await.unwrap();
    assert_eq!(score_of(audience.view.as_ref().unwrap(), "t1"), None);
    let (status, ack) = server
        .command("c", Some(tokens.judge("j2")), scorecard("t1", 8))
        .await;
    assert_eq!(status, 200, "{ack}");
    let seq = ack["last_seq"].as_u64().unwrap();
    audience
        .wait_for(WAIT, |v| v.seq >= seq && score_of(v, "t1").is_some())
        .await
        .unwrap();
    // The panel is complete: 8 on a 1–10 scale is 77.78 on 0–100.
    assert_eq!(score_of(audience.view.as_ref().unwrap(), "t1"), Some(77.78));
    // The audience never sees an individual scorecard before the result is final.
    assert!(audience.view.as_ref().unwrap().scorecards.is_empty());
    assert!(
        audience.applied.windows(2).all(|w| w[0] < w[1]),
        "in order: {:?}",
        audience.applied
    );

    // Freeze: end building, freeze, then a new score.
    for command in [Command::EndBuilding, Command::Freeze] {
        let (status, body) = server.command("c", Some(ADMIN), command).await;
        assert_eq!(status, 200, "{body}");
    }
    let (status, ack) = server
        .command("c", Some(tokens.judge("j1")), scorecard("t2", 10))
        .await;
    assert_eq!(status, 200, "{ack}");
    let seq = ack["last_seq"].as_u64().unwrap();
    audience.wait_for(WAIT, |v| v.seq >= seq).await.unwrap();
    admin.wait_for(WAIT, |v| v.seq >= seq).await.unwrap();
    let public = audience.view.as_ref().unwrap();
    assert!(public.leaderboard.frozen);
    assert_eq!(
        score_of(public, "t2"),
        None,
        "the audience sees no new value"
    );
    assert_eq!(
        public.leaderboard.pending.get(&TeamId::new("t2").unwrap()),
        Some(&1)
    );
    let live = admin.view.as_ref().unwrap();
    assert_eq!(
        score_of(live, "t2"),
        Some(100.0),
        "the admin sees the live value"
    );
    assert!(!live.scorecards.is_empty());
    server.stop().await;
}

#[tokio::test]
async fn resuming_with_since_gets_exactly_the_missed_messages_or_a_snapshot() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path()).await;
    let tokens = server.seed("c").await;
    let mut first = server.live("c", None, None).await;
    first.next_update().await.unwrap();
    let left_at = first.last_seq;
    first.close().await.unwrap();

    let mut seqs = Vec::new();
    for (i, team) in ["t1", "t2", "t3"].iter().enumerate() {
        let token = tokens.team(team);
        let text = format!("update {i}");
        let (status, ack) = server
            .command(
                "c",
                Some(token),
                Command::PostProgress {
                    text,
                    photos: vec![],
                    links: vec![],
                    percent: None,
                },
            )
            .await;
        assert_eq!(status, 200, "{ack}");
        seqs.push(ack["last_seq"].as_u64().unwrap());
    }

    // Resume: exactly the three missed deltas, in order, no snapshot.
    let mut again = server.live("c", None, Some(left_at)).await;
    for expected in &seqs {
        match again.recv().await.unwrap() {
            ServerMessage::Delta(delta) => assert_eq!(delta.seq, *expected),
            other => panic!("expected a delta, got {other:?}"),
        }
    }

    // A since from the future (or from before the view's memory) gets a snapshot.
    let mut ahead = server.live("c", None, Some(10_000)).await;
    assert!(matches!(
        ahead.recv().await.unwrap(),
        ServerMessage::Snapshot { .. }
    ));
    server.stop().await;
}

/// The serialised size of a server message, as it went over the socket.
fn bytes_of(msg: &ServerMessage) -> usize {
    serde_json::to_string(msg).unwrap().len()
}

#[tokio::test]
async fn a_resume_whose_missed_messages_outweigh_a_snapshot_gets_the_snapshot() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path()).await;
    let tokens = server.seed("c").await;
    let mut leaving = server.live("c", None, None).await;
    leaving.next_update().await.unwrap();
    let left_at = leaving.last_seq;
    leaving.close().await.unwrap();

    // A viewer who stays sees every delta; teams post until what the one who left missed weighs
    // more than a snapshot now would (the snapshot grows with the posts too).
    let mut staying = server.live("c", None, None).await;
    staying.next_update().await.unwrap();
    let snapshot_bytes = |client: &makerpulse_client::LiveClient| {
        let view = Box::new(client.view.clone().unwrap());
        bytes_of(&ServerMessage::Snapshot { view })
    };
    let mut missed = 0;
    let mut i = 0;
    while missed <= snapshot_bytes(&staying) {
        let team = ["t1", "t2", "t3"][i % 3];
        i += 1;
        let post = Command::PostProgress {
            text: format!("进展 progress {i}: {}", "x".repeat(200)),
            photos: vec![],
            links: vec![],
            percent: Some((i % 100) as u8),
        };
        let (status, ack) = server.command("c", Some(tokens.team(team)), post).await;
        assert_eq!(status, 200, "{ack}");
        let seq = ack["last_seq"].as_u64().unwrap();
        while staying.last_seq < seq {
            let msg = staying.recv().await.unwrap();
            if matches!(msg, ServerMessage::Delta(_)) {
                missed += bytes_of(&msg);
            }
            staying.accept(msg).await.unwrap();
        }
    }

    // The one who left comes back: one snapshot at the newest seq, not the missed deltas, and
    // it holds exactly what the viewer who stayed built from them.
    let mut back = server.live("c", None, Some(left_at)).await;
    match back.recv().await.unwrap() {
        ServerMessage::Snapshot { view } => {
            assert_eq!(view.seq, staying.last_seq);
            assert_eq!(Some(&*view), staying.view.as_ref());
        }
        other => panic!("expected a snapshot, got {other:?}"),
    }

    // One who missed a single post still gets just that delta.
    let before = staying.last_seq;
    let (status, ack) = server
        .command(
            "c",
            Some(tokens.team("t1")),
            Command::PostProgress {
                text: "one more".into(),
                photos: vec![],
                links: vec![],
                percent: None,
            },
        )
        .await;
    assert_eq!(status, 200, "{ack}");
    let mut short = server.live("c", None, Some(before)).await;
    match short.recv().await.unwrap() {
        ServerMessage::Delta(delta) => assert_eq!(Some(delta.seq), ack["last_seq"].as_u64()),
        other => panic!("expected the one missed delta, got {other:?}"),
    }
    server.stop().await;
}

#[tokio::test]
async fn a_client_that_sees_a_gap_asks_for_and_gets_a_snapshot() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path()).await;
    let tokens = server.seed("c").await;
    let mut client = server.live("c", None, None).await;
    client.next_update().await.unwrap();
    // Pretend the client lost a message: it believes it is one behind.
    client.last_seq -= 1;
    let before = client.last_seq;
    server
        .command(
            "c",
            Some(tokens.team("t1")),
            Command::PostProgress {
                text: "hi".into(),
                photos: vec![],
                links: vec![],
                percent: None,
            },
        )
        .await;
    match client.next_update().await.unwrap() {
        Update::Gap { last, prev_seq } => assert!(prev_seq > last && last == before),
        other => panic!("expected a gap, got {other:?}"),
    }
    assert!(matches!(
        client.next_update().await.unwrap(),
        Update::Snapshot
    ));
    server.stop().await;
}

#[tokio::test]
async fn the_same_command_id_twice_changes_the_state_once() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path()).await;
    let tokens = server.seed("c").await;
    let envelope = Envelope::new(
        cid(),
        Command::PostProgress {
            text: "double tap".into(),
            photos: vec![],
            links: vec![],
            percent: Some(10),
        },
    );
    let (s1, a1) = server
        .envelope("c", Some(tokens.team("t1")), &envelope)
        .await;
    let (s2, a2) = server
        .envelope("c", Some(tokens.team("t1")), &envelope)
        .await;
    assert_eq!((s1, s2), (200, 200));
    assert_eq!(a1["outcome"], "applied");
    assert_eq!(a2["outcome"], "repeated");
    assert_eq!(a1["last_seq"], a2["last_seq"]);

    // The same over the socket, resent after the HTTP answers.
    let mut team = server.live("c", Some(tokens.team("t1")), None).await;
    match team.command(envelope.clone()).await.unwrap() {
        ServerMessage::Ack {
            repeated, last_seq, ..
        } => {
            assert!(repeated);
            assert_eq!(Some(last_seq), a1["last_seq"].as_u64());
        }
        other => panic!("{other:?}"),
    }
    let (_, timeline) = server
        .get("/api/challenges/c/teams/t1/timeline", None)
        .await;
    assert_eq!(timeline.as_array().unwrap().len(), 1, "{timeline}");
    server.stop().await;
}

#[tokio::test]
async fn teams_and_judges_are_held_to_their_rights_over_http_and_the_socket() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path()).await;
    let tokens = server.seed("c").await;

    // A team's post lands on its own timeline only; it cannot change another team.
    let (status, _) = server
        .command(
            "c",
            Some(tokens.team("t1")),
            Command::PostProgress {
                text: "ours".into(),
                photos: vec![],
                links: vec![],
                percent: None,
            },
        )
        .await;
    assert_eq!(status, 200);
    let (_, t2) = server
        .get("/api/challenges/c/teams/t2/timeline", None)
        .await;
    assert!(t2.as_array().unwrap().is_empty());
    let rename = Command::UpdateTeam {
        id: TeamId::new("t2").unwrap(),
        track: makerpulse_core::TrackId::new("a").unwrap(),
        name: makerpulse_core::Localized::new("", "Hijacked"),
        description: Default::default(),
        members: vec![],
        contact: String::new(),
    };
    let (status, body) = server
        .command("c", Some(tokens.team("t1")), rename.clone())
        .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (403, Some("forbidden"))
    );

    // j2 declared a conflict with t2: refused over HTTP …
    let (status, body) = server
        .command("c", Some(tokens.judge("j2")), scorecard("t2", 9))
        .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (403, Some("conflict_of_interest"))
    );
    assert!(body["error"]["message_zh"]
        .as_str()
        .unwrap()
        .contains("利益冲突"));
    // … and over the socket.
    let mut judge = server.live("c", Some(tokens.judge("j2")), None).await;
    match judge
        .command(Envelope::new(cid(), scorecard("t2", 9)))
        .await
        .unwrap()
    {
        ServerMessage::Error { code, .. } => assert_eq!(code, "conflict_of_interest"),
        other => panic!("{other:?}"),
    }
    // j3 is not assigned track a.
    match server
        .live("c", Some(tokens.judge("j3")), None)
        .await
        .command(Envelope::new(cid(), scorecard("t1", 9)))
        .await
        .unwrap()
    {
        ServerMessage::Error { code, .. } => assert_eq!(code, "not_assigned"),
        other => panic!("{other:?}"),
    }
    // A made-up token is refused, not treated as the audience.
    let (status, _) = server
        .command("c", Some("not-a-token"), scorecard("t1", 9))
        .await;
    assert_eq!(status, 401);
    let refused = LiveClient::connect(&server.ws(), "c", Some("not-a-token"), None).await;
    assert!(
        matches!(
            refused,
            Err(ClientError::Handshake(_)) | Err(ClientError::Closed { code: 4001, .. })
        ),
        "{:?}",
        refused.err()
    );
    server.stop().await;
}

#[tokio::test]
async fn bad_messages_get_clear_errors_and_the_connection_lives_on() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path()).await;
    let tokens = server.seed("c").await;
    let mut client = server.live("c", Some(tokens.team("t1")), None).await;
    client.next_update().await.unwrap();

    let cases: Vec<(String, &str)> = vec![
        ("{not json".into(), "malformed"),
        (r#"{"type":"launch_rockets"}"#.into(), "malformed"),
        (r#"{"type":"command","id":"x1","command":{"type":"post_progress","text":"hi","extra":true}}"#.into(), "malformed"),
        (r#"{"type":"command","id":"bad id!","command":{"type":"freeze"}}"#.into(), "malformed"),
        (format!(r#"{{"type":"command","id":"big","command":{{"type":"post_progress","text":"{}"}}}}"#, "x".repeat(70_000)), "too_large"),
        (r#"{"type":"hello"}"#.into(), "already_hello"),
    ];
    for (raw, code) in cases {
        client.send_raw(&raw).await.unwrap();
        match client.recv().await.unwrap() {
            ServerMessage::Error {
                code: got,
                message,
                message_zh,
                ..
            } => {
                assert_eq!(got, code, "{raw:.80}");
                assert!(!message.is_empty() && !message_zh.is_empty());
            }
            other => panic!("{raw:.80}: {other:?}"),
        }
    }
    client.send_binary(vec![0, 1, 2]).await.unwrap();
    assert!(
        matches!(client.recv().await.unwrap(), ServerMessage::Error { code, .. } if code == "binary_unsupported")
    );
    // Still alive: a good command works on the same connection.
    match client
        .command(Envelope::new(
            cid(),
            Command::PostProgress {
                text: "still here".into(),
                photos: vec![],
                links: vec![],
                percent: None,
            },
        ))
        .await
        .unwrap()
    {
        ServerMessage::Ack { .. } => {}
        other => panic!("{other:?}"),
    }
    // And a connection that does not start with hello is told so and closed.
    let (mut raw, _) =
        tokio_tungstenite::connect_async(format!("{}/api/challenges/c/live", server.ws()))
            .await
            .unwrap();
    use futures_util::{SinkExt, StreamExt};
    raw.send(tokio_tungstenite::tungstenite::Message::text(
        "{\"type\":\"snapshot\"}",
    ))
    .await
    .unwrap();
    let first = raw.next().await.unwrap().unwrap();
    assert!(first.to_text().unwrap().contains("expected_hello"));
    server.stop().await;
}

#[tokio::test]
async fn a_client_that_never_reads_does_not_delay_the_others() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path()).await;
    let tokens = server.seed("c").await;
    // A viewer that says hello and then never reads its socket, with a small receive buffer so
    // that the server's writes to it stall soon.
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.set_recv_buffer_size(4096).unwrap();
    let stream = socket.connect(server.addr).await.unwrap();
    let (mut stuck, _) =
        tokio_tungstenite::client_async(format!("{}/api/challenges/c/live", server.ws()), stream)
            .await
            .unwrap();
    use futures_util::SinkExt;
    stuck
        .send(tokio_tungstenite::tungstenite::Message::text(
            r#"{"type":"hello"}"#,
        ))
        .await
        .unwrap();
    let mut reader = server.live("c", None, None).await;
    reader.next_update().await.unwrap();

    // About 6 MB of view messages: more than the kernel buffers of the stuck socket (4 MiB).
    let text = "长".repeat(1_900);
    let mut last = 0;
    for _ in 0..1_000 {
        let (status, ack) = server
            .command(
                "c",
                Some(tokens.team("t1")),
                Command::PostProgress {
                    text: text.clone(),
                    photos: vec![],
                    links: vec![],
                    percent: None,
                },
            )
            .await;
        assert_eq!(status, 200, "{ack}");
        last = ack["last_seq"].as_u64().unwrap();
    }
    // The reading client has everything promptly despite the stuck one.
    reader.wait_for(WAIT, |v| v.seq >= last).await.unwrap();
    // And the stuck one is dealt with: its queue is bounded (a shared ring), and once a write
    // has stalled for the write timeout it is closed rather than buffered without bound.
    let counter = |metrics: &str, name: &str| -> u64 {
        metrics
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|n| n.parse().ok())
            .unwrap_or(0)
    };
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        let metrics = server.metrics().await;
        if counter(&metrics, "makerpulse_slow_closes_total")
            + counter(&metrics, "makerpulse_queue_resyncs_total")
            >= 1
        {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the stuck viewer was never closed or resynced:\n{metrics}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    drop(stuck);
    server.stop().await;
}

#[tokio::test]
async fn the_ndjson_feed_and_the_socket_agree_event_for_event() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path()).await;
    let tokens = server.seed("c").await;
    let start = server
        .state
        .hub(&makerpulse_core::ChallengeId::new("c").unwrap())
        .await
        .unwrap()
        .state()
        .seq();
    let mut socket = server.live("c", None, Some(start)).await;
    let mut feed = reqwest::get(format!(
        "{}/api/challenges/c/events?since={start}",
        server.http()
    ))
    .await
    .unwrap();
    assert_eq!(feed.headers()["content-type"], "application/x-ndjson");

    let mut last = 0;
    for (i, team) in ["t1", "t3"].iter().enumerate() {
        let (_, ack) = server
            .command(
                "c",
                Some(tokens.team(team)),
                Command::PostProgress {
                    text: format!("p{i}"),
                    photos: vec![],
                    links: vec![],
                    percent: None,
                },
            )
            .await;
        let (_, ack2) = server
            .command(
                "c",
                Some(tokens.judge("j2")),
                scorecard(if *team == "t1" { "t1" } else { "t3" }, 7),
            )
            .await;
        assert_eq!(ack2["outcome"], "applied", "{ack2}");
        last = ack["last_seq"]
            .as_u64()
            .unwrap()
            .max(ack2["last_seq"].as_u64().unwrap());
    }
    let mut from_socket = Vec::new();
    while from_socket.last().is_none_or(|(seq, _)| *seq < last) {
        match socket.recv().await.unwrap() {
            ServerMessage::Delta(delta) => from_socket.push((
                delta.seq,
                serde_json::to_value(ServerMessage::Delta(delta)).unwrap(),
            )),
            other => panic!("{other:?}"),
        }
    }
    let mut from_feed: Vec<(u64, serde_json::Value)> = Vec::new();
    let mut buffer = Vec::new();
    while from_feed.last().is_none_or(|(seq, _)| *seq < last) {
        let chunk = tokio::time::timeout(WAIT, feed.chunk())
            .await
            .unwrap()
            .unwrap()
            .unwrap();
        buffer.extend_from_slice(&chunk);
        while let Some(pos) = buffer.iter().position(|&b| b == b'\n') {
            let line: Vec<u8> = buffer.drain(..=pos).collect();
            if line.len() > 1 {
                let value: serde_json::Value = serde_json::from_slice(&line).unwrap();
                from_feed.push((value["seq"].as_u64().unwrap(), value));
            }
        }
    }
    assert_eq!(from_feed, from_socket);
    server.stop().await;
}

/// A milestone ticked by mistake: neither the team nor a judge may take it back; the organizers
/// may, with a reason. Every audience socket sees the dot go and the announcement marked
/// withdrawn without the reason; the team's own socket reads the reason; the log keeps it; a
/// socket joining afterwards gets the same view from its snapshot.
#[tokio::test]
async fn an_organizer_undoes_a_milestone_and_every_screen_sees_it_withdrawn() {
    use makerpulse_core::MilestoneId;
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path()).await;
    let tokens = server.seed("c").await;
    let mut audience = server.live("c", None, None).await;
    let mut team = server.live("c", Some(tokens.team("t1")), None).await;
    audience.next_update().await.unwrap();
    team.next_update().await.unwrap();
    let idea = || MilestoneId::new("idea").unwrap();
    let (status, ack) = server
        .command(
            "c",
            Some(tokens.team("t1")),
            Command::ReachMilestone {
                milestone: idea(),
                note: String::new(),
            },
        )
        .await;
    assert_eq!(status, 200, "{ack}");
    let ticked = ack["last_seq"].as_u64().unwrap();
    let dots = |view: &makerpulse_core::View| {
        view.teams[&TeamId::new("t1").unwrap()]
            .progress
            .reached
            .len()
    };
    audience
        .wait_for(WAIT, |v| {
            dots(v) == 1 && v.announcements.first().is_some_and(|a| a.seq == ticked)
        })
        .await
        .unwrap();

    let undo = |reason: &str| Command::UndoMilestone {
        team: TeamId::new("t1").unwrap(),
        milestone: idea(),
        reason: reason.into(),
    };
    let reason = "误点 / ticked by mistake";
    for token in [tokens.team("t1"), tokens.team("t2"), tokens.judge("j1")] {
        let (status, body) = server.command("c", Some(token), undo(reason)).await;
        assert_eq!(status, 403, "{body}");
        assert_eq!(body["error"]["code"], "forbidden");
    }
    let (status, body) = server.command("c", Some(ADMIN), undo("  ")).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (400, Some("empty_text")),
        "{body}"
    );
    let (status, body) = server
        .command("c", Some(ADMIN), undo(&"x".repeat(501)))
        .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (400, Some("text_too_long")),
        "{body}"
    );
    let (_, view) = server.get("/api/challenges/c/view", None).await;
    assert_eq!(
        view["teams"]["t1"]["progress"]["reached"]
            .as_array()
            .unwrap()
            .len(),
        1
    );

    let (status, ack) = server.command("c", Some(ADMIN), undo(reason)).await;
    assert_eq!(status, 200, "{ack}");
    let undone = ack["last_seq"].as_u64().unwrap();
    let withdrawn = |v: &makerpulse_core::View| {
        v.announcements
            .iter()
            .find(|a| a.seq == ticked)
            .and_then(|a| a.withdrawn.clone())
            .filter(|_| v.seq >= undone)
    };
    audience
        .wait_for(WAIT, |v| withdrawn(v).is_some())
        .await
        .unwrap();
    let seen = audience.view.as_ref().unwrap();
    assert_eq!(dots(seen), 0, "the dot is gone");
    assert_eq!(
        withdrawn(seen).unwrap().reason,
        None,
        "the audience is not told why"
    );
    team.wait_for(WAIT, |v| withdrawn(v).is_some())
        .await
        .unwrap();
    assert_eq!(
        withdrawn(team.view.as_ref().unwrap())
            .unwrap()
            .reason
            .as_deref(),
        Some(reason)
    );

    // A second undo finds nothing to take back.
    let (status, body) = server.command("c", Some(ADMIN), undo(reason)).await;
    assert_eq!(
        body["error"]["code"], "milestone_not_reached",
        "{status} {body}"
    );
    // A late joiner and the HTTP view agree with the stream; the log keeps the reason.
    let mut late = server.live("c", None, None).await;
    late.next_update().await.unwrap();
    assert_eq!(late.view.as_ref(), audience.view.as_ref());
    let (_, view) = server.get("/api/challenges/c/view", None).await;
    assert!(!view.to_string().contains("ticked by mistake"), "{view}");
    let res = reqwest::Client::new()
        .get(format!(
            "{}/api/challenges/c/log?since={}",
            server.http(),
            undone - 1
        ))
        .bearer_auth(ADMIN)
        .send()
        .await
        .unwrap();
    let log = res.text().await.unwrap();
    assert!(
        log.contains("\"milestone_undone\"") && log.contains("ticked by mistake"),
        "{log}"
    );
    server.stop().await;
}

/// The next message of `client` but presence (transient, not part of the view), which must be a
/// delta: its seq and previous seq, and its patches as their types.
async fn next_delta(client: &mut LiveClient) -> (u64, u64, Vec<String>) {
    let msg = loop {
        let msg = tokio::time::timeout(WAIT, client.recv())
            .await
            .expect("a message in time")
            .unwrap();
        if !matches!(msg, ServerMessage::Presence { .. }) {
            break msg;
        }
    };
    let ServerMessage::Delta(delta) = &msg else {
        panic!("expected a delta, got {msg:?}")
    };
    let kinds = serde_json::to_value(&delta.patches).unwrap();
    let kinds = kinds
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["type"].as_str().unwrap().to_owned())
        .collect();
    let (seq, prev_seq) = (delta.seq, delta.prev_seq);
    client.accept(msg).await.unwrap();
    (seq, prev_seq, kinds)
}

#[tokio::test]
async fn a_console_that_names_its_parts_gets_only_their_changes_and_an_old_hello_gets_all() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path()).await;
    let tokens = server.seed("c").await;
    let ticker: Parts = [Part::Ticker].into_iter().collect();
    let ws = server.ws();
    // As the consoles ask: t1's the ticker, j3's none of the three; t3's and the audience's
    // the old hello, which names no parts.
    let mut team = LiveClient::connect_to_parts(&ws, "c", Some(tokens.team("t1")), None, ticker)
        .await
        .unwrap();
    let mut judge =
        LiveClient::connect_to_parts(&ws, "c", Some(tokens.judge("j3")), None, Parts::NONE)
            .await
            .unwrap();
    let mut old_team = server.live("c", Some(tokens.team("t3")), None).await;
    let mut audience = server.live("c", None, None).await;
    for client in [&mut team, &mut judge, &mut old_team, &mut audience] {
        assert_eq!(client.next_update().await.unwrap(), Update::Snapshot);
    }
    let start = team.last_seq;
    {
        // The parts left out are empty, and the view says which it follows.
        let view = team.view.as_ref().unwrap();
        assert!(view.leaderboard.board.overall.is_empty() && view.peoples_choice.is_empty());
        assert_eq!(view.parts, ticker);
        assert_eq!(view.teams.len(), 4);
        assert!(
            view.teams[&TeamId::new("t1").unwrap()].contact.is_some(),
            "its own contact line"
        );
        let old = old_team.view.as_ref().unwrap();
        assert_eq!(old.leaderboard.board.overall.len(), 4);
        assert_eq!(old.peoples_choice.len(), 4);
        assert!(old.parts.is_all());
    }

    // Another team's scorecard by another judge: the board moves ("being scored: 1 of 2").
    let (status, ack) = server
        .command("c", Some(tokens.judge("j1")), scorecard("t2", 7))
        .await;
    assert_eq!(status, 200, "{ack}");
    let scored = ack["last_seq"].as_u64().unwrap();
    for client in [&mut old_team, &mut audience] {
        let (seq, prev, kinds) = next_delta(client).await;
        assert_eq!((seq, prev), (scored, start));
        // A view's first board change comes whole, the later ones as rows.
        assert!(
            kinds == ["board_rows"] || kinds == ["leaderboard"],
            "{kinds:?}"
        );
    }

    // t1 posts: its console's next message is the post, not the scorecard before it, and names
    // the snapshot as the previous message (a skip, not a gap); j3's console gets the team's
    // progress (teams always come) but not the ticker.
    let (status, ack) = server
        .command(
            "c",
            Some(tokens.team("t1")),
            Command::PostProgress {
                text: "first prototype".into(),
                photos: vec![],
                links: vec![],
                percent: Some(20),
            },
        )
        .await;
    assert_eq!(status, 200, "{ack}");
    let posted = ack["last_seq"].as_u64().unwrap();
    let (seq, prev, kinds) = next_delta(&mut team).await;
    assert_eq!((seq, prev), (posted, start));
    assert_eq!(kinds, ["post", "progress"]);
    assert_eq!(
        team.view.as_ref().unwrap().ticker[0].text,
        "first prototype"
    );
    let (seq, prev, kinds) = next_delta(&mut judge).await;
    assert_eq!((seq, prev), (posted, start));
    assert_eq!(kinds, ["progress"]);
    for client in [&mut old_team, &mut audience] {
        let (seq, prev, kinds) = next_delta(client).await;
        assert_eq!((seq, prev), (posted, scored));
        assert_eq!(kinds, ["post", "progress"]);
    }

    // j3's own scorecard reaches its console (the card, no board); t1's console gets nothing.
    let (status, ack) = server
        .command("c", Some(tokens.judge("j3")), scorecard("t3", 9))
        .await;
    assert_eq!(status, 200, "{ack}");
    let own = ack["last_seq"].as_u64().unwrap();
    let (seq, prev, kinds) = next_delta(&mut judge).await;
    assert_eq!((seq, prev), (own, posted));
    assert_eq!(kinds, ["scorecard"]);
    assert_eq!(judge.view.as_ref().unwrap().scorecards.len(), 1);
    for client in [&mut old_team, &mut audience] {
        let (seq, prev, kinds) = next_delta(client).await;
        assert_eq!((seq, prev), (own, posted));
        // A view's first board change comes whole, the later ones as rows.
        assert!(
            kinds == ["board_rows"] || kinds == ["leaderboard"],
            "{kinds:?}"
        );
    }
    // A cheer tally moves only the people's choice: nobody of the two consoles hears of it,
    // the whole views do. Then t1's milestone reaches every console, each from its own last
    // message.
    for _ in 0..3 {
        let (status, _) = server
            .command(
                "c",
                None,
                Command::Cheer {
                    team: TeamId::new("t4").unwrap(),
                },
            )
            .await;
        assert_eq!(status, 200);
    }
    let (status, ack) = server
        .command(
            "c",
            Some(tokens.team("t1")),
            Command::ReachMilestone {
                milestone: makerpulse_core::MilestoneId::new("idea").unwrap(),
                note: String::new(),
            },
        )
        .await;
    assert_eq!(status, 200, "{ack}");
    let reached = ack["last_seq"].as_u64().unwrap();
    let (seq, prev, kinds) = next_delta(&mut team).await;
    assert_eq!(
        (seq, prev, kinds.as_slice()),
        // The team follows the ticker, where the milestone is announced.
        (
            reached,
            posted,
            &["progress".to_owned(), "announced".to_owned()][..]
        )
    );
    let (seq, prev, _) = next_delta(&mut judge).await;
    assert_eq!((seq, prev), (reached, own));
    let tallied = loop {
        let (seq, _, kinds) = next_delta(&mut audience).await;
        if kinds == ["peoples_choice"] {
            break seq;
        }
    };
    assert!(tallied > own);

    // Each folded view is the snapshot a fresh connection with the same parts gets.
    for (client, token, parts) in [
        (&team, tokens.team("t1"), ticker),
        (&judge, tokens.judge("j3"), Parts::NONE),
    ] {
        let mut fresh = LiveClient::connect_to_parts(&ws, "c", Some(token), None, parts)
            .await
            .unwrap();
        assert_eq!(fresh.next_update().await.unwrap(), Update::Snapshot);
        let mut folded = client.view.clone().unwrap();
        folded.seq = fresh.last_seq;
        assert_eq!(&folded, fresh.view.as_ref().unwrap());
    }
    server.stop().await;
}

#[tokio::test]
async fn a_hello_with_an_unknown_part_is_refused_clearly() {
    use futures_util::{SinkExt, StreamExt};
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path()).await;
    server.seed("c").await;
    let (mut raw, _) =
        tokio_tungstenite::connect_async(format!("{}/api/challenges/c/live", server.ws()))
            .await
            .unwrap();
    raw.send(tokio_tungstenite::tungstenite::Message::text(
        r#"{"type":"hello","parts":["leaderboard","scores"]}"#,
    ))
    .await
    .unwrap();
    let first = raw.next().await.unwrap().unwrap();
    let error: serde_json::Value = serde_json::from_str(first.to_text().unwrap()).unwrap();
    assert_eq!(error["code"], "expected_hello");
    assert!(error["message"].as_str().unwrap().contains("parts"));
    match raw.next().await.unwrap().unwrap() {
        tokio_tungstenite::tungstenite::Message::Close(Some(frame)) => {
            assert_eq!(u16::from(frame.code), 4003)
        }
        other => panic!("{other:?}"),
    }
    server.stop().await;
}
