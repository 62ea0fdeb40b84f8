//! End-to-end tests of the limits: live connections per address, HTTP body size, WebSocket
//! message size, and command rates over HTTP and over the socket — each refused with a clear
//! error while the server and the other clients carry on.

use makerpulse_core::protocol::ServerMessage;
use makerpulse_core::{ChallengeId, Command, Envelope, TeamId};
use makerpulse_e2e::{cid, TestServer, ADMIN};

#[tokio::test]
async fn connections_per_address_are_limited_with_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let server =
        TestServer::start_configured(dir.path(), |c| c.settings.max_connections_per_ip = 2).await;
    server.seed("c").await;
    let first = server.live("c", None, None).await;
    let _second = server.live("c", None, None).await;
    let refused =
        tokio_tungstenite::connect_async(format!("{}/api/challenges/c/live", server.ws())).await;
    match refused {
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
            assert_eq!(response.status().as_u16(), 429);
            assert_eq!(response.headers()["retry-after"], "2");
            let body: serde_json::Value =
                serde_json::from_slice(response.body().as_deref().unwrap()).unwrap();
            assert_eq!(body["error"]["code"], "too_many_connections");
            assert_eq!(body["error"]["retry_after_ms"], 2000);
            assert!(body["error"]["message_zh"]
                .as_str()
                .unwrap()
                .contains("连接"));
        }
        other => panic!("expected a 429, got {:?}", other.map(|_| ())),
    }
    // A slot frees when a connection closes.
    first.close().await.unwrap();
    let mut again = None;
    for _ in 0..50 {
        if let Ok(client) =
            makerpulse_client::LiveClient::connect(&server.ws(), "c", None, None).await
        {
            again = Some(client);
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert!(
        again.is_some(),
        "the slot of a closed connection is given back"
    );
    server.stop().await;
}

#[tokio::test]
async fn an_oversized_http_body_gets_413_with_the_error_body() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path()).await;
    let tokens = server.seed("c").await;
    let body = serde_json::to_string(&Envelope::new(
        cid(),
        Command::PostProgress {
            text: "x".repeat(100_000),
            photos: vec![],
            links: vec![],
            percent: None,
        },
    ))
    .unwrap();
    let (status, answer) = server.post_raw("c", Some(tokens.team("t1")), &body).await;
    assert_eq!(
        (status, answer["error"]["code"].as_str()),
        (413, Some("too_large"))
    );
    // Just under the limit, but over the post's own limit: a 400 that names the field.
    let body = serde_json::to_string(&Envelope::new(
        cid(),
        Command::PostProgress {
            text: "x".repeat(3_000),
            photos: vec![],
            links: vec![],
            percent: None,
        },
    ))
    .unwrap();
    let (status, answer) = server.post_raw("c", Some(tokens.team("t1")), &body).await;
    assert_eq!(
        (status, answer["error"]["code"].as_str()),
        (400, Some("text_too_long"))
    );
    server.stop().await;
}

#[tokio::test]
async fn http_commands_are_rate_limited_per_address() {
    let dir = tempfile::tempdir().unwrap();
    let server =
        TestServer::start_configured(dir.path(), |c| c.settings.commands_per_ip = 1_000).await;
    let tokens = server.seed("c").await;
    server.stop().await;
    // The same data with a tight limit: 5 a second, bursts of 10.
    let server = TestServer::start_configured(dir.path(), |c| c.settings.commands_per_ip = 5).await;
    let mut statuses = Vec::new();
    for _ in 0..15 {
        let (status, body) = server
            .command(
                "c",
                None,
                Command::Cheer {
                    team: TeamId::new("t1").unwrap(),
                },
            )
            .await;
        if status == 429 {
            assert_eq!(body["error"]["code"], "rate_limited");
            assert_eq!(
                body["error"]["retry_after_ms"], 1000,
                "the next token's wait"
            );
        }
        statuses.push(status);
    }
    let ok = statuses.iter().filter(|&&s| s == 200).count();
    assert!((10..=11).contains(&ok), "{statuses:?}");
    assert!(statuses.contains(&429));
    // Reads are not limited, and the team's own commands wait for the bucket to refill.
    let (status, _) = server.get("/api/challenges/c/view", None).await;
    assert_eq!(status, 200);
    tokio::time::sleep(std::time::Duration::from_millis(400)).await;
    let (status, _) = server
        .command(
            "c",
            Some(tokens.team("t1")),
            Command::PostProgress {
                text: "after the burst".into(),
                photos: vec![],
                links: vec![],
                percent: None,
            },
        )
        .await;
    assert_eq!(status, 200);
    server.stop().await;
}

#[tokio::test]
async fn socket_commands_and_cheers_are_rate_limited_per_connection() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path()).await;
    server.seed("c").await;
    let mut fan = server.live("c", None, None).await;
    let mut codes = Vec::new();
    for _ in 0..25 {
        match fan
            .command(Envelope::new(
                cid(),
                Command::Cheer {
                    team: TeamId::new("t1").unwrap(),
                },
            ))
            .await
            .unwrap()
        {
            ServerMessage::Cheered { .. } => codes.push("cheered".to_owned()),
            ServerMessage::Error {
                code, message_zh, ..
            } => {
                assert!(!message_zh.is_empty());
                codes.push(code)
            }
            other => panic!("{other:?}"),
        }
    }
    let cheered = codes.iter().filter(|c| *c == "cheered").count();
    assert!((10..=12).contains(&cheered), "{codes:?}");
    assert!(codes.iter().any(|c| c == "rate_limited"));
    // The connection lives on, and another viewer is not affected.
    let mut other = server.live("c", None, None).await;
    assert!(matches!(
        other
            .command(Envelope::new(
                cid(),
                Command::Cheer {
                    team: TeamId::new("t2").unwrap()
                }
            ))
            .await
            .unwrap(),
        ServerMessage::Cheered { .. }
    ));
    server.stop().await;
}

/// The cheers logged for `team` once the counted ones are tallied now.
async fn cheers_of(server: &TestServer, team: &str) -> u64 {
    let hub = server
        .state
        .hub(&ChallengeId::new("c").unwrap())
        .await
        .unwrap();
    hub.tally_cheers().await;
    let state = hub.state();
    state
        .cheers()
        .get(&TeamId::new(team).unwrap())
        .copied()
        .unwrap_or(0)
}

#[tokio::test]
async fn a_resent_cheer_counts_once_on_the_socket_and_over_http() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path()).await;
    server.seed("c").await;
    let cheer = Envelope::new(
        cid(),
        Command::Cheer {
            team: TeamId::new("t1").unwrap(),
        },
    );
    let mut fan = server.live("c", None, None).await;
    for _ in 0..8 {
        let answer = fan.command(cheer.clone()).await.unwrap();
        assert!(
            matches!(answer, ServerMessage::Cheered { .. }),
            "a resend is answered as the first: {answer:?}"
        );
    }
    let over_http = Envelope::new(
        cid(),
        Command::Cheer {
            team: TeamId::new("t1").unwrap(),
        },
    );
    for _ in 0..20 {
        let (status, body) = server.envelope("c", None, &over_http).await;
        assert_eq!((status, body["outcome"].as_str()), (200, Some("cheered")));
    }
    assert_eq!(cheers_of(&server, "t1").await, 2, "one per command id");
    // Another connection's cheer with the same id is its own.
    let mut other = server.live("c", None, None).await;
    other.command(cheer).await.unwrap();
    assert_eq!(cheers_of(&server, "t1").await, 3);
    server.stop().await;
}

#[tokio::test]
async fn cheers_from_one_address_have_a_budget_across_sockets_and_http() {
    let dir = tempfile::tempdir().unwrap();
    // 10 a second, 12 a minute: the minute runs out first.
    let server = TestServer::start_configured(dir.path(), |c| {
        c.settings.cheers_per_ip_second = 10;
        c.settings.cheers_per_ip_minute = 12;
    })
    .await;
    server.seed("c").await;
    let mut counted = 0;
    let mut waits = Vec::new();
    for round in 0..5 {
        if round == 4 {
            // The second's budget refills, the minute's does not.
            assert_eq!(counted, 10, "the per-second burst");
            assert!(waits.iter().all(|&w| w <= 1_000), "{waits:?}");
            tokio::time::sleep(std::time::Duration::from_millis(400)).await;
        }
        let mut fan = server.live("c", None, None).await;
        for _ in 0..8 {
            let cheer = Envelope::new(
                cid(),
                Command::Cheer {
                    team: TeamId::new("t2").unwrap(),
                },
            );
            match fan.command(cheer).await.unwrap() {
                ServerMessage::Cheered { .. } => counted += 1,
                ServerMessage::Error {
                    code,
                    message,
                    message_zh,
                    retry_after_ms,
                    ..
                } => {
                    assert_eq!(code, "rate_limited");
                    assert!(message.contains("retry in") && message_zh.contains("秒后再试"));
                    waits.push(retry_after_ms.expect("advice on when to retry"));
                }
                other => panic!("{other:?}"),
            }
        }
    }
    assert!((12..=13).contains(&counted), "{counted} counted");
    assert!(!waits.is_empty() && waits.iter().all(|&w| w > 0));
    assert!(
        waits.iter().any(|&w| w > 3_000),
        "once the minute is spent, the advice is to wait seconds: {waits:?}"
    );
    // Over HTTP from the same address: 429 with Retry-After, and not counted.
    let res = reqwest::Client::new()
        .post(format!("{}/api/challenges/c/commands", server.http()))
        .header("content-type", "application/json")
        .body(
            serde_json::to_string(&Envelope::new(
                cid(),
                Command::Cheer {
                    team: TeamId::new("t2").unwrap(),
                },
            ))
            .unwrap(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 429);
    let retry: u64 = res.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&retry), "{retry}");
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["error"]["code"], "rate_limited");
    assert!(body["error"]["retry_after_ms"].as_u64().unwrap() > 0);
    assert_eq!(cheers_of(&server, "t2").await, counted);
    server.stop().await;
}

#[tokio::test]
async fn snapshot_requests_count_in_the_socket_rate_limit() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path()).await;
    server.seed("c").await;
    let mut viewer = server.live("c", None, None).await;
    assert!(matches!(
        viewer.recv().await.unwrap(),
        ServerMessage::Snapshot { .. }
    ));
    for _ in 0..40 {
        viewer
            .send(&makerpulse_core::protocol::ClientMessage::Snapshot)
            .await
            .unwrap();
    }
    // A cheer after them, on its own budget, marks the end of their answers.
    let marker = cid();
    viewer
        .send(&makerpulse_core::protocol::ClientMessage::Command(
            Envelope::new(
                marker.clone(),
                Command::Cheer {
                    team: TeamId::new("t1").unwrap(),
                },
            ),
        ))
        .await
        .unwrap();
    let (mut snapshots, mut limited) = (0, 0);
    loop {
        match viewer.recv().await.unwrap() {
            ServerMessage::Snapshot { .. } => snapshots += 1,
            ServerMessage::Error {
                code, message_zh, ..
            } => {
                assert_eq!(code, "rate_limited");
                assert!(!message_zh.is_empty());
                limited += 1;
            }
            ServerMessage::Cheered { id, .. } if id == marker => break,
            _ => {}
        }
    }
    assert_eq!(snapshots + limited, 40);
    assert!((20..=22).contains(&snapshots), "{snapshots} snapshots sent");
    server.stop().await;
}

/// Opens the NDJSON feed of `c` and returns the status; the response (and so the connection) is
/// kept while `hold` is.
async fn open_feed(server: &TestServer, path: &str) -> (u16, reqwest::Response) {
    let res = reqwest::get(format!("{}/api/challenges/c/{path}", server.http()))
        .await
        .unwrap();
    (res.status().as_u16(), res)
}

#[tokio::test]
async fn feed_readers_count_against_the_connection_limit() {
    let dir = tempfile::tempdir().unwrap();
    let server =
        TestServer::start_configured(dir.path(), |c| c.settings.max_connections_per_ip = 2).await;
    server.seed("c").await;
    let (status, ndjson) = open_feed(&server, "events").await;
    assert_eq!(status, 200);
    let (status, sse) = open_feed(&server, "sse").await;
    assert_eq!(status, 200);
    // Both slots are taken: a third feed and a socket are refused alike.
    let (status, refused) = open_feed(&server, "events").await;
    assert_eq!(status, 429);
    assert_eq!(refused.headers()["retry-after"], "2");
    let body: serde_json::Value = refused.json().await.unwrap();
    assert_eq!(body["error"]["code"], "too_many_connections");
    assert!(
        tokio_tungstenite::connect_async(format!("{}/api/challenges/c/live", server.ws()))
            .await
            .is_err()
    );
    // A reader who goes away gives its slot back.
    drop(ndjson);
    let mut freed = false;
    for _ in 0..100 {
        if open_feed(&server, "sse").await.0 == 200 {
            freed = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert!(freed, "the slot of a closed feed is given back");
    drop(sse);
    server.stop().await;
}

#[tokio::test]
async fn a_feed_reader_that_never_reads_is_closed_after_the_write_timeout() {
    use tokio::io::AsyncWriteExt;
    let dir = tempfile::tempdir().unwrap();
    let server =
        TestServer::start_configured(dir.path(), |c| c.settings.max_connections_per_ip = 1).await;
    let tokens = server.seed("c").await;

    // A reader that sends its request and then never reads, with a small receive buffer.
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.set_recv_buffer_size(4096).unwrap();
    let mut stuck = socket.connect(server.addr).await.unwrap();
    stuck
        .write_all(b"GET /api/challenges/c/events HTTP/1.1\r\nHost: test\r\n\r\n")
        .await
        .unwrap();
    // Its one slot is taken.
    let mut taken = false;
    for _ in 0..100 {
        if open_feed(&server, "events").await.0 == 429 {
            taken = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert!(taken, "the stuck reader holds the address's one slot");

    // About 1.7 MB of feed lines: more than the server's send buffer and the reader's receive
    // buffer together, so the server's writes stall.
    let text = "长".repeat(1_900);
    for _ in 0..300 {
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
    }
    let stalled = tokio::time::Instant::now();
    // Within the write timeout (10 s) and some slack, the server has closed it and the slot is
    // free again.
    loop {
        let (status, _feed) = open_feed(&server, "events").await;
        if status == 200 {
            break;
        }
        assert!(
            stalled.elapsed() < std::time::Duration::from_secs(25),
            "the stuck feed reader was never closed"
        );
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    drop(stuck);
    server.stop().await;
}

/// The code of the answer to a `hello` with `token` on a fresh socket.
async fn hello_answer(server: &TestServer, token: &str) -> String {
    use futures_util::{SinkExt, StreamExt};
    use tokio_tungstenite::tungstenite::Message;
    let (mut ws, _) =
        tokio_tungstenite::connect_async(format!("{}/api/challenges/c/live", server.ws()))
            .await
            .unwrap();
    let hello = serde_json::json!({ "type": "hello", "token": token });
    ws.send(Message::text(hello.to_string())).await.unwrap();
    loop {
        match ws.next().await.expect("an answer").unwrap() {
            Message::Text(text) => {
                let msg: serde_json::Value = serde_json::from_str(text.as_str()).unwrap();
                return match msg["type"].as_str() {
                    Some("error") => msg["code"].as_str().unwrap().to_owned(),
                    other => other.unwrap().to_owned(),
                };
            }
            _ => continue,
        }
    }
}

#[tokio::test]
async fn repeated_wrong_tokens_lock_the_address_out_and_no_other() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start_configured(dir.path(), |c| {
        c.settings.auth_failures_allowed = makerpulse_server::limits::AUTH_FAILURES_ALLOWED
    })
    .await;
    server.seed("c").await;
    let view = format!("{}/api/challenges/c/view", server.http());
    // Thirty wrong tokens from 127.0.0.1, over HTTP and in socket hellos by turns: the first
    // twenty are unauthorized, the rest refused before the token is even looked at.
    for i in 0..30 {
        let wrong = format!("wrong-token-{i}");
        let code = if i % 2 == 0 {
            let res = reqwest::Client::new()
                .get(&view)
                .bearer_auth(&wrong)
                .send()
                .await
                .unwrap();
            let status = res.status().as_u16();
            let body: serde_json::Value = res.json().await.unwrap();
            assert_eq!(
                status,
                if i < 20 { 401 } else { 429 },
                "attempt {i}: {body}"
            );
            body["error"]["code"].as_str().unwrap().to_owned()
        } else {
            hello_answer(&server, &wrong).await
        };
        let expected = if i < 20 {
            "unauthorized"
        } else {
            "too_many_failures"
        };
        assert_eq!(code, expected, "attempt {i}");
    }
    // For a while even the right token is refused from there; the audience still watches.
    let res = reqwest::Client::new()
        .get(&view)
        .bearer_auth(ADMIN)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 429);
    assert_eq!(res.headers()["retry-after"], "60", "the lockout's length");
    assert_eq!(hello_answer(&server, ADMIN).await, "too_many_failures");
    assert_eq!(server.get("/api/challenges/c/view", None).await.0, 200);
    // Another address is unaffected.
    let other = reqwest::Client::builder()
        .local_address("127.0.0.2".parse::<std::net::IpAddr>().unwrap())
        .build()
        .unwrap();
    let res = other.get(&view).bearer_auth(ADMIN).send().await.unwrap();
    assert_eq!(res.status().as_u16(), 200);
    let res = other.get(&view).bearer_auth("wrong").send().await.unwrap();
    assert_eq!(res.status().as_u16(), 401);
    server.stop().await;
}
