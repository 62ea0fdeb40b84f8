//! End-to-end tests of what operators and venue networks rely on: pages, static files and JSON
//! reads go out compressed (gzip or Brotli, as asked) and static files revalidate with their
//! ETag, while the live streams — the NDJSON feed, Server-Sent Events and the WebSocket — are
//! never compressed nor held back.

use std::io::Read;
use std::time::Duration;

use makerpulse_core::Command;
use makerpulse_e2e::TestServer;

/// GETs `path` asking for `encoding`; returns the response with its raw (undecoded) body.
async fn fetch(
    server: &TestServer,
    path: &str,
    encoding: &str,
) -> (reqwest::header::HeaderMap, Vec<u8>) {
    let res = reqwest::Client::new()
        .get(format!("{}{path}", server.http()))
        .header("accept-encoding", encoding)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 200, "{path}");
    let headers = res.headers().clone();
    (headers, res.bytes().await.unwrap().to_vec())
}

fn decode(encoding: &str, body: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    match encoding {
        "gzip" => flate2::read::GzDecoder::new(body).read_to_end(&mut out),
        "br" => brotli::Decompressor::new(body, 4096).read_to_end(&mut out),
        other => panic!("{other}"),
    }
    .unwrap_or_else(|e| panic!("not {encoding}: {e}"));
    out
}

#[tokio::test]
async fn pages_static_files_and_json_reads_are_compressed_as_asked() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path()).await;
    server.seed("c").await;
    for path in [
        "/screen/c",
        "/static/js/i18n.js",
        "/static/css/app.css",
        "/api/challenges/c/view",
        "/api/challenges/c/snapshot",
        "/api/challenges/c/leaderboard",
        "/api/openapi.json",
    ] {
        let (plain_headers, plain) = fetch(&server, path, "identity").await;
        assert!(plain_headers.get("content-encoding").is_none(), "{path}");
        for encoding in ["gzip", "br"] {
            let (headers, body) = fetch(&server, path, encoding).await;
            assert_eq!(headers["content-encoding"], encoding, "{path}");
            assert!(
                headers["vary"]
                    .to_str()
                    .unwrap()
                    .to_ascii_lowercase()
                    .contains("accept-encoding"),
                "{path}: a cache must keep the encodings apart"
            );
            assert!(
                body.len() < plain.len(),
                "{path}: {} ≥ {}",
                body.len(),
                plain.len()
            );
            assert_eq!(decode(encoding, &body), plain, "{path} in {encoding}");
        }
    }
    // Brotli when the client prefers it, as browsers list it.
    let (headers, _) = fetch(&server, "/static/js/i18n.js", "gzip, deflate, br").await;
    assert_eq!(headers["content-encoding"], "br");
    server.stop().await;
}

#[tokio::test]
async fn static_files_revalidate_with_their_etag() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path()).await;
    let client = reqwest::Client::new();
    let url = format!("{}/static/js/main.js", server.http());
    let first = client
        .get(&url)
        .header("accept-encoding", "gzip")
        .send()
        .await
        .unwrap();
    let etag = first.headers()["etag"].clone();
    assert_eq!(first.headers()["cache-control"], "no-cache");
    let again = client
        .get(&url)
        .header("accept-encoding", "gzip")
        .header("if-none-match", etag.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(again.status().as_u16(), 304);
    assert!(again.bytes().await.unwrap().is_empty());
    let stale = client
        .get(&url)
        .header("if-none-match", "\"not-this-one\"")
        .send()
        .await
        .unwrap();
    assert_eq!(stale.status().as_u16(), 200);
    server.stop().await;
}

/// Reads `res` until `wanted` is in what arrived, within a few seconds: a stream held back by a
/// compressor (or anything else) would not show the line in time.
async fn read_until(res: &mut reqwest::Response, wanted: &str) -> String {
    let mut text = String::new();
    while !text.contains(wanted) {
        let chunk = tokio::time::timeout(Duration::from_secs(5), res.chunk())
            .await
            .unwrap_or_else(|_| panic!("{wanted:?} never came; had {text:.300}"))
            .unwrap()
            .expect("the stream went on");
        text.push_str(std::str::from_utf8(&chunk).expect("plain text, not compressed bytes"));
    }
    text
}

#[tokio::test]
async fn live_feeds_and_sockets_are_never_compressed_nor_held_back() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path()).await;
    let tokens = server.seed("c").await;
    let client = reqwest::Client::new();
    let open = |path: &'static str| {
        client
            .get(format!("{}/api/challenges/c/{path}", server.http()))
            .header("accept-encoding", "br, gzip")
            .send()
    };
    let mut ndjson = open("events").await.unwrap();
    let mut sse = open("sse").await.unwrap();
    for res in [&ndjson, &sse] {
        assert_eq!(res.status().as_u16(), 200);
        assert!(
            res.headers().get("content-encoding").is_none(),
            "{:?}",
            res.headers()
        );
    }
    // The snapshot arrives at once.
    read_until(&mut ndjson, "\n").await;
    read_until(&mut sse, "\n\n").await;
    // A socket asking for compression in its upgrade still speaks plain frames.
    let mut request =
        tokio_tungstenite::tungstenite::client::IntoClientRequest::into_client_request(format!(
            "{}/api/challenges/c/live",
            server.ws()
        ))
        .unwrap();
    request
        .headers_mut()
        .insert("accept-encoding", "gzip, br".parse().unwrap());
    let (mut socket, response) = tokio_tungstenite::connect_async(request).await.unwrap();
    assert!(response.headers().get("content-encoding").is_none());
    use futures_util::{SinkExt, StreamExt};
    socket
        .send(tokio_tungstenite::tungstenite::Message::text(
            r#"{"type":"hello"}"#,
        ))
        .await
        .unwrap();

    // One small delta goes through each stream as soon as it is made.
    let (_, ack) = server
        .command(
            "c",
            Some(tokens.team("t1")),
            Command::PostProgress {
                text: "right away".into(),
                photos: vec![],
                links: vec![],
                percent: None,
            },
        )
        .await;
    let seq = ack["last_seq"].as_u64().unwrap();
    read_until(&mut ndjson, "right away").await;
    read_until(&mut sse, &format!("id: {seq}\n")).await;
    let mut seen = false;
    while !seen {
        let frame = tokio::time::timeout(Duration::from_secs(5), socket.next())
            .await
            .expect("the socket's delta in time")
            .unwrap()
            .unwrap();
        seen = frame.to_text().unwrap().contains("right away");
    }
    server.stop().await;
}
