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

/// One HTTP/1.1 response read off `stream`, exactly to its end: status, headers (names in lower
/// case), body.
async fn read_response(
    stream: &mut tokio::net::TcpStream,
) -> (u16, Vec<(String, String)>, Vec<u8>) {
    use tokio::io::AsyncReadExt;
    let mut buf = Vec::new();
    let head_end = loop {
        let mut chunk = [0u8; 4096];
        let n = stream.read(&mut chunk).await.expect("read");
        assert!(n > 0, "closed before the response's head");
        buf.extend_from_slice(&chunk[..n]);
        if let Some(at) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break at + 4;
        }
    };
    let head = String::from_utf8(buf[..head_end].to_vec()).expect("an ASCII head");
    let mut lines = head.split("\r\n");
    let status = lines.next().unwrap()[9..12].parse().expect("a status");
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    let length: usize = headers
        .iter()
        .find(|(n, _)| n == "content-length")
        .map_or(0, |(_, v)| v.parse().expect("a length"));
    let mut body = buf.split_off(head_end);
    let had = body.len();
    assert!(
        had <= length,
        "nothing past the body before the next request"
    );
    body.resize(length, 0);
    stream.read_exact(&mut body[had..]).await.expect("body");
    (status, headers, body)
}

fn value<'a>(headers: &'a [(String, String)], name: &str) -> &'a str {
    headers
        .iter()
        .find(|(n, _)| n == name)
        .map_or("", |(_, v)| v.as_str())
}

#[tokio::test]
async fn the_compressed_snapshot_decodes_to_the_plain_one_and_the_same_connection_goes_on_to_the_socket(
) {
    use futures_util::{SinkExt, StreamExt};
    use std::io::Read;
    use tokio::io::AsyncWriteExt;
    use tokio_tungstenite::tungstenite::Message;

    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path()).await;
    let tokens = server.seed("c").await;
    let (status, _, plain) = fetch(&server, "/api/challenges/c/snapshot", None, None).await;
    assert_eq!(status, 200);
    let seq = serde_json::from_str::<View>(&plain).unwrap().seq;

    // One connection, as a page's: the snapshot asked for in each coding a browser accepts, twice
    // each (the second from the cache of that seq), then the socket's upgrade on it.
    let addr = server.http().trim_start_matches("http://").to_owned();
    let mut stream = tokio::net::TcpStream::connect(&addr).await.unwrap();
    for coding in ["br", "gzip", "br", "gzip"] {
        let request = format!(
            "GET /api/challenges/c/snapshot HTTP/1.1\r\nHost: {addr}\r\nAccept-Encoding: {coding}\r\n\r\n"
        );
        stream.write_all(request.as_bytes()).await.unwrap();
        let (status, headers, body) = read_response(&mut stream).await;
        assert_eq!(status, 200);
        assert_eq!(value(&headers, "content-encoding"), coding);
        assert_eq!(
            value(&headers, "etag"),
            format!("\"{seq}-audience-{coding}\"")
        );
        assert_eq!(value(&headers, "vary"), "authorization, accept-encoding");
        assert!(
            body.len() * 2 < plain.len(),
            "{} of {}",
            body.len(),
            plain.len()
        );
        let mut decoded = String::new();
        match coding {
            "br" => brotli::Decompressor::new(&body[..], 4096).read_to_string(&mut decoded),
            _ => flate2::read::GzDecoder::new(&body[..]).read_to_string(&mut decoded),
        }
        .expect("decodes");
        assert_eq!(decoded, plain, "the socket's view, byte for byte");
    }
    let url = format!("{}/api/challenges/c/live", server.ws());
    let (mut socket, response) = tokio_tungstenite::client_async(url, stream)
        .await
        .expect("the upgrade as the connection's next request");
    assert_eq!(response.status().as_u16(), 101);
    let hello = format!(r#"{{"type":"hello","since":{seq}}}"#);
    socket.send(Message::text(hello)).await.unwrap();
    let (status, ack) = server
        .command("c", Some(tokens.team("t1")), post("after the snapshot"))
        .await;
    assert_eq!(status, 200, "{ack}");
    let posted = ack["last_seq"].as_u64().unwrap();
    let mut welcomed = false;
    loop {
        let frame = tokio::time::timeout(std::time::Duration::from_secs(5), socket.next())
            .await
            .expect("in time")
            .expect("open")
            .expect("a frame");
        let Message::Text(text) = frame else { continue };
        match serde_json::from_str::<ServerMessage>(text.as_str()).unwrap() {
            ServerMessage::Welcome { seq: at, .. } => {
                assert!(at >= seq, "welcomed at {at}, before the snapshot's {seq}");
                welcomed = true;
            }
            ServerMessage::Delta(delta) => {
                assert!(welcomed, "the welcome first");
                assert_eq!(delta.seq, posted, "only what followed");
                assert!(delta.prev_seq <= seq, "no gap");
                break;
            }
            ServerMessage::Snapshot { .. } => panic!("a snapshot to a client that holds one"),
            _ => {}
        }
    }
    server.stop().await;
}
