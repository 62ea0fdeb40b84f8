//! End-to-end tests of joining with the snapshot over HTTP: the snapshot at a seq is the socket's
//! own, byte for byte, with validators and caching by seq; a socket opened from that seq gets
//! exactly what came after; and each token gets its own view, never another role's.

use makerpulse_core::protocol::ServerMessage;
use makerpulse_core::{Command, View};
use makerpulse_e2e::{scorecard, TestServer, ADMIN};

/// A GET with headers: status, the headers asked for, and the body.
async fn fetch(
    server: &TestServer,
    path: &str,
    token: Option<&str>,
    if_none_match: Option<&str>,
) -> (u16, reqwest::header::HeaderMap, String) {
    let mut req = reqwest::Client::new().get(format!("{}{path}", server.http()));
    if let Some(token) = token {
        req = req.bearer_auth(token);
    }
    if let Some(tag) = if_none_match {
        req = req.header("if-none-match", tag);
    }
    let res = req.send().await.expect("request");
    let status = res.status().as_u16();
    let headers = res.headers().clone();
    (status, headers, res.text().await.expect("body"))
}

fn header<'a>(headers: &'a reqwest::header::HeaderMap, name: &str) -> &'a str {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
}

fn post(text: &str) -> Command {
    Command::PostProgress {
        text: text.to_owned(),
        photos: vec![],
        links: vec![],
        percent: None,
    }
}

#[tokio::test]
async fn the_http_snapshot_is_the_socket_snapshot_and_a_socket_from_its_seq_gets_what_followed() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path()).await;
    let tokens = server.seed("c").await;

    // The current snapshot over HTTP, then the socket's own at the same seq: the same view.
    let (status, headers, body) = fetch(&server, "/api/challenges/c/snapshot", None, None).await;
    assert_eq!(status, 200, "{body}");
    let over_http: View = serde_json::from_str(&body).unwrap();
    let seq = over_http.seq;
    assert_eq!(header(&headers, "etag"), format!("\"{seq}-audience\""));
    assert_eq!(header(&headers, "cache-control"), "public, no-cache");
    let mut socket = server.live("c", None, None).await;
    match socket.recv().await.unwrap() {
        ServerMessage::Snapshot { view } => {
            assert_eq!(view.seq, seq);
            assert_eq!(*view, over_http);
            // Byte for byte: the HTTP body is the socket message's view.
            let message = serde_json::to_string(&ServerMessage::Snapshot { view }).unwrap();
            assert_eq!(message, format!(r#"{{"type":"snapshot","view":{body}}}"#));
        }
        other => panic!("expected a snapshot, got {other:?}"),
    }

    // Named by its seq it is cacheable, and revalidates to 304 while it is the same.
    let at = format!("/api/challenges/c/snapshot?seq={seq}");
    let (status, headers, again) = fetch(&server, &at, None, None).await;
    assert_eq!(status, 200);
    assert_eq!(again, body);
    assert_eq!(
        header(&headers, "cache-control"),
        "public, max-age=60, immutable"
    );
    let tag = header(&headers, "etag").to_owned();
    let (status, _, empty) = fetch(&server, &at, None, Some(&tag)).await;
    assert_eq!(status, 304);
    assert!(empty.is_empty());

    // Two posts later, a client that holds the snapshot opens the socket from its seq: exactly
    // the two deltas after it, in order, and folding them gives the view a fresh snapshot has.
    let mut seqs = Vec::new();
    for (team, text) in [("t1", "first"), ("t2", "second")] {
        let (status, ack) = server
            .command("c", Some(tokens.team(team)), post(text))
            .await;
        assert_eq!(status, 200, "{ack}");
        seqs.push(ack["last_seq"].as_u64().unwrap());
    }
    let mut from_seq = server.live("c", None, Some(seq)).await;
    let mut view = over_http.clone();
    for expected in &seqs {
        match from_seq.recv().await.unwrap() {
            ServerMessage::Delta(delta) => {
                assert_eq!(delta.seq, *expected);
                assert!(delta.prev_seq <= view.seq, "no gap");
                view.apply(&delta);
            }
            other => panic!("expected a delta, got {other:?}"),
        }
    }
    let fresh = server.live("c", None, None).await.recv().await.unwrap();
    match fresh {
        ServerMessage::Snapshot { view: fresh } => assert_eq!(*fresh, view),
        other => panic!("expected a snapshot, got {other:?}"),
    }
    // The current snapshot has moved on: the old tag no longer matches, and the old seq is still
    // served as it was.
    let (status, _, _) = fetch(&server, "/api/challenges/c/snapshot", None, Some(&tag)).await;
    assert_eq!(status, 200);
    let (status, _, old) = fetch(&server, &at, None, None).await;
    assert_eq!(status, 200);
    assert_eq!(serde_json::from_str::<View>(&old).unwrap(), over_http);
    // A seq from the future is not there yet; a malformed one is refused.
    let (status, _, _) = fetch(&server, "/api/challenges/c/snapshot?seq=100000", None, None).await;
    assert_eq!(status, 404);
    let (status, _, _) = fetch(&server, "/api/challenges/c/snapshot?seq=x", None, None).await;
    assert_eq!(status, 400);
    server.stop().await;
}

#[tokio::test]
async fn each_token_gets_its_own_snapshot_and_never_the_organizers() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path()).await;
    let tokens = server.seed("c").await;
    let (status, ack) = server
        .command("c", Some(tokens.judge("j1")), scorecard("t1", 9))
        .await;
    assert_eq!(status, 200, "{ack}");
    let seq = ack["last_seq"].as_u64().unwrap();
    let at = format!("/api/challenges/c/snapshot?seq={seq}");

    // The organizers read theirs first, so that any cache by seq would hold it.
    let (status, headers, admin) = fetch(&server, &at, Some(ADMIN), None).await;
    assert_eq!(status, 200, "{admin}");
    let admin: View = serde_json::from_str(&admin).unwrap();
    assert!(!admin.scorecards.is_empty(), "the organizers see j1's card");
    assert!(header(&headers, "cache-control").starts_with("private"));
    assert_eq!(header(&headers, "vary"), "authorization, accept-encoding");
    let admin_tag = header(&headers, "etag").to_owned();

    // The public, a team and the other judge each get their own view at that seq.
    for token in [None, Some(tokens.team("t1")), Some(tokens.judge("j2"))] {
        let (status, headers, body) = fetch(&server, &at, token, None).await;
        assert_eq!(status, 200, "{body}");
        let view: View = serde_json::from_str(&body).unwrap();
        assert_ne!(view.role, admin.role);
        assert!(view.scorecards.is_empty(), "j1's card leaked: {body}");
        assert!(view.tokens.is_empty());
        assert_ne!(header(&headers, "etag"), admin_tag);
        // The organizers' tag does not make a 304 for anyone else.
        let (status, _, _) = fetch(&server, &at, token, Some(&admin_tag)).await;
        assert_eq!(status, 200);
        // And it is the view the socket gives that token.
        let mut socket = server.live("c", token, None).await;
        match socket.recv().await.unwrap() {
            ServerMessage::Snapshot { view: live } => assert_eq!(*live, view),
            other => panic!("expected a snapshot, got {other:?}"),
        }
    }
    // A revoked or unknown token gets nothing.
    let (status, _, _) = fetch(&server, &at, Some("not-a-token"), None).await;
    assert_eq!(status, 401);
    server.stop().await;
}
