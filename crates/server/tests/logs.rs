//! The real `makerpulse` binary never writes a token to its log: not the admin token, not a
//! minted team or judge token, whether sent as a bearer header, in a WebSocket hello, or wrong.
//! The test runs the binary with the most verbose logging and reads everything it wrote.

use std::io::{BufRead, BufReader, Read};
use std::process::{Command as Process, Stdio};
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use tokio_tungstenite::tungstenite::Message;

const ADMIN: &str = "admin-secret-4f1d9c0be7a2";

#[tokio::test]
async fn tokens_never_reach_the_log() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = Process::new(env!("CARGO_BIN_EXE_makerpulse"))
        .arg("serve")
        .env("MAKERPULSE_BIND", "127.0.0.1:0")
        .env("MAKERPULSE_METRICS_BIND", "127.0.0.1:0")
        .env("MAKERPULSE_DATA_DIR", dir.path())
        .env("MAKERPULSE_ADMIN_TOKEN", ADMIN)
        .env("RUST_LOG", "trace")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // The first line says where it listens.
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut first = String::new();
    stdout.read_line(&mut first).unwrap();
    let base = first.trim().rsplit(' ').next().unwrap().to_owned();
    assert!(base.starts_with("http://127.0.0.1:"), "{first}");
    // The second where the metrics listen.
    let mut second = String::new();
    stdout.read_line(&mut second).unwrap();
    let metrics_url = second.trim().rsplit(' ').next().unwrap().to_owned();
    assert!(metrics_url.ends_with("/metrics"), "{second}");
    let stderr = child.stderr.take().unwrap();
    let collector = std::thread::spawn(move || {
        let mut all = String::new();
        let _ = BufReader::new(stderr).read_to_string(&mut all);
        all
    });

    let http = reqwest::Client::new();
    let post = |body: serde_json::Value, token: &str| {
        http.post(format!("{base}/api/challenges/c/commands"))
            .bearer_auth(token)
            .json(&body)
            .send()
    };
    post(serde_json::json!({"id": "c1", "command": {"type": "create_challenge", "id": "c", "title": {"en": "Logs"}}}), ADMIN).await.unwrap();
    post(serde_json::json!({"id": "c2", "command": {"type": "add_track", "id": "a", "name": {"en": "A"}}}), ADMIN).await.unwrap();
    post(serde_json::json!({"id": "c3", "command": {"type": "add_team", "id": "t1", "track": "a", "name": {"en": "T1"}}}), ADMIN).await.unwrap();
    let minted: serde_json::Value = http
        .post(format!("{base}/api/challenges/c/tokens"))
        .bearer_auth(ADMIN)
        .json(&serde_json::json!({"subject": {"role": "team", "id": "t1"}}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let team = minted["token"].as_str().unwrap().to_owned();
    post(
        serde_json::json!({"id": "c4", "command": {"type": "start_challenge"}}),
        ADMIN,
    )
    .await
    .unwrap();
    post(
        serde_json::json!({"id": "p1", "command": {"type": "post_progress", "text": "hello"}}),
        &team,
    )
    .await
    .unwrap();
    // A wrong token, and tokens over the socket.
    let wrong = "wrong-token-8a7b6c5d4e3f";
    post(
        serde_json::json!({"id": "p2", "command": {"type": "post_progress", "text": "x"}}),
        wrong,
    )
    .await
    .unwrap();
    for token in [team.as_str(), ADMIN, wrong] {
        let ws = base.replace("http://", "ws://");
        let (mut socket, _) =
            tokio_tungstenite::connect_async(format!("{ws}/api/challenges/c/live"))
                .await
                .unwrap();
        socket
            .send(Message::text(
                serde_json::json!({"type": "hello", "token": token}).to_string(),
            ))
            .await
            .unwrap();
        let _ = tokio::time::timeout(Duration::from_secs(2), socket.next()).await;
    }
    // The view of the log itself, and the metrics, for good measure.
    let log = http
        .get(format!("{base}/api/challenges/c/log"))
        .bearer_auth(ADMIN)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let metrics = http
        .get(&metrics_url)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();

    assert!(metrics.contains("makerpulse_connections"), "{metrics:.500}");
    let _ = Process::new("kill")
        .arg("-TERM")
        .arg(child.id().to_string())
        .status();
    let _ = child.wait();
    let mut out = String::new();
    let _ = stdout.read_to_string(&mut out);
    let err = collector.join().unwrap();
    let everything = format!("{first}{second}{out}{err}{log}{metrics}");
    assert!(
        err.contains("TRACE") || err.contains("DEBUG"),
        "the log was verbose:\n{err:.2000}"
    );
    for secret in [ADMIN, team.as_str(), wrong] {
        if let Some(line) = everything.lines().find(|l| l.contains(secret)) {
            panic!("{secret} appears in the output: {line:.800}");
        }
    }
}

/// With `MAKERPULSE_LOG_FORMAT=json` every line of the log is a JSON object, and with
/// `MAKERPULSE_ACCESS_LOG=on` every request has its line — with the tokens a careless client put
/// in the path, the query or a header left out.
#[tokio::test]
async fn the_json_access_log_names_every_request_and_no_token() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = Process::new(env!("CARGO_BIN_EXE_makerpulse"))
        .arg("serve")
        .env("MAKERPULSE_BIND", "127.0.0.1:0")
        .env("MAKERPULSE_METRICS_BIND", "off")
        .env("MAKERPULSE_DATA_DIR", dir.path())
        .env("MAKERPULSE_ADMIN_TOKEN", ADMIN)
        .env("MAKERPULSE_LOG_FORMAT", "json")
        .env("MAKERPULSE_ACCESS_LOG", "on")
        .env_remove("RUST_LOG")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut first = String::new();
    stdout.read_line(&mut first).unwrap();
    let base = first.trim().rsplit(' ').next().unwrap().to_owned();
    let stderr = child.stderr.take().unwrap();
    let collector = std::thread::spawn(move || {
        let mut all = String::new();
        let _ = BufReader::new(stderr).read_to_string(&mut all);
        all
    });
    let http = reqwest::Client::new();
    let minted_like = "Qk9HVVMtdG9rZW4tdGhhdC1sb29rcy1saWtlLW91cnM";
    let requests = [
        format!("{base}/api/challenges?token={ADMIN}"),
        format!("{base}/team/c/{minted_like}"),
        format!("{base}/api/challenges/c/view?at=3&access_token={minted_like}"),
        format!("{base}/static/js/main.js"),
    ];
    for url in &requests {
        http.get(url)
            .bearer_auth(ADMIN)
            .header("sec-websocket-protocol", minted_like)
            .header("cookie", format!("token={ADMIN}"))
            .send()
            .await
            .unwrap();
    }
    let _ = Process::new("kill")
        .arg("-TERM")
        .arg(child.id().to_string())
        .status();
    let _ = child.wait();
    let log = collector.join().unwrap();

    let mut access = Vec::new();
    for line in log.lines() {
        let entry: serde_json::Value =
            serde_json::from_str(line).unwrap_or_else(|e| panic!("not a JSON line ({e}): {line}"));
        assert!(
            entry["timestamp"].is_string() && entry["level"].is_string(),
            "{line}"
        );
        if entry["target"] == "makerpulse::access" {
            access.push(entry["fields"].clone());
        }
    }
    let paths: Vec<&str> = access.iter().map(|f| f["path"].as_str().unwrap()).collect();
    assert_eq!(
        paths,
        [
            "/api/challenges?token=[redacted]",
            "/team/c/[redacted]",
            "/api/challenges/c/view?at=3&access_token=[redacted]",
            "/static/js/main.js",
        ],
        "{log}"
    );
    assert_eq!(access[0]["method"], "GET");
    assert_eq!(access[0]["status"], 200);
    assert_eq!(access[1]["status"], 404);
    assert_eq!(access[0]["client"], "127.0.0.1");
    assert!(access[3]["bytes"].as_u64().unwrap() > 0);
    for secret in [ADMIN, minted_like] {
        assert!(!log.contains(secret), "{secret} in the log:\n{log}");
    }
}
