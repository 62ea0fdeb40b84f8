//! The real `makerpulse` binary as an operator runs it: `makerpulse healthcheck` (what the
//! container's HEALTHCHECK runs) against a server that is ready, one that is not, and none; and
//! `makerpulse backup` taken while writers keep writing, restored into a fresh data directory,
//! on which a new server has every command acknowledged before the backup began.

use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::process::{Child, Command as Process, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

const BIN: &str = env!("CARGO_BIN_EXE_makerpulse");

/// A `makerpulse serve` process over a data directory.
struct Server {
    child: Child,
    base: String,
    /// The admin token printed at the first start, if this was one.
    printed_token: Option<String>,
    stderr: Option<std::thread::JoinHandle<String>>,
}

impl Server {
    fn start(data_dir: &Path, env: &[(&str, &str)]) -> Server {
        let mut cmd = Process::new(BIN);
        cmd.arg("serve")
            .env("MAKERPULSE_BIND", "127.0.0.1:0")
            .env("MAKERPULSE_METRICS_BIND", "off")
            .env("MAKERPULSE_DATA_DIR", data_dir)
            .env_remove("MAKERPULSE_ADMIN_TOKEN")
            .env_remove("MAKERPULSE_REDIS_URL")
            .env_remove("RUST_LOG")
            // Every request here comes from 127.0.0.1, writers included.
            .env("MAKERPULSE_COMMANDS_PER_IP", "0")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for (k, v) in env {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().unwrap();
        let mut stdout = BufReader::new(child.stdout.take().unwrap());
        let mut first = String::new();
        stdout.read_line(&mut first).unwrap();
        let base = first.trim().rsplit(' ').next().unwrap().to_owned();
        assert!(base.starts_with("http://127.0.0.1:"), "{first}");
        let mut second = String::new();
        stdout.read_line(&mut second).unwrap();
        let printed_token = second
            .contains("shown only this once")
            .then(|| second.trim().rsplit(' ').next().unwrap().to_owned());
        // Drain the rest so the server never blocks on a full pipe.
        std::thread::spawn(move || std::io::copy(&mut stdout, &mut std::io::sink()));
        let stderr = child.stderr.take().unwrap();
        let stderr = std::thread::spawn(move || {
            let mut all = String::new();
            let _ = BufReader::new(stderr).read_to_string(&mut all);
            all
        });
        Server {
            child,
            base,
            printed_token,
            stderr: Some(stderr),
        }
    }

    fn addr(&self) -> &str {
        self.base.trim_start_matches("http://")
    }

    /// Stops it as `docker stop` would (SIGTERM) and returns what it logged.
    fn stop(mut self) -> String {
        let _ = Process::new("kill")
            .arg("-TERM")
            .arg(self.child.id().to_string())
            .status();
        let _ = self.child.wait();
        self.stderr.take().unwrap().join().unwrap()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn command(base: &str, token: &str, id: &str, command: Value) -> (u16, Value) {
    let res = reqwest::Client::new()
        .post(format!("{base}/api/challenges/c/commands"))
        .bearer_auth(token)
        .json(&json!({ "id": id, "command": command }))
        .send()
        .await
        .unwrap();
    (res.status().as_u16(), res.json().await.unwrap_or_default())
}

/// Creates challenge `c` with a track and a team, starts it; returns the team's token.
async fn seed(base: &str, admin: &str) -> String {
    for (id, cmd) in [
        (
            "s1",
            json!({"type": "create_challenge", "id": "c", "title": {"zh": "备份", "en": "Backup"}}),
        ),
        (
            "s2",
            json!({"type": "add_track", "id": "a", "name": {"en": "A"}}),
        ),
        (
            "s3",
            json!({"type": "add_team", "id": "t1", "track": "a", "name": {"en": "T1"}}),
        ),
        ("s4", json!({"type": "start_challenge"})),
    ] {
        let (status, body) = command(base, admin, id, cmd).await;
        assert_eq!(status, 200, "{id}: {body}");
    }
    let minted: Value = reqwest::Client::new()
        .post(format!("{base}/api/challenges/c/tokens"))
        .bearer_auth(admin)
        .json(&json!({"subject": {"role": "team", "id": "t1"}}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    minted["token"].as_str().unwrap().to_owned()
}

fn healthcheck(args: &[&str], bind: &str) -> (bool, Duration, String) {
    let started = Instant::now();
    let out = Process::new(BIN)
        .arg("healthcheck")
        .args(args)
        .env("MAKERPULSE_BIND", bind)
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), started.elapsed(), text)
}

#[tokio::test]
async fn the_healthcheck_passes_only_when_the_server_is_ready() {
    // Ready: asked at the bind address from the environment, as in the container.
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), &[]);
    let (ok, _, out) = healthcheck(&[], server.addr());
    assert!(ok, "{out}");
    // Bound on every interface, it is asked on loopback.
    let port = server.addr().rsplit(':').next().unwrap();
    let (ok, _, out) = healthcheck(&[], &format!("0.0.0.0:{port}"));
    assert!(ok, "{out}");
    server.stop();

    // Nothing listening.
    let free = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = free.local_addr().unwrap().to_string();
    drop(free);
    let (ok, _, out) = healthcheck(&[], &addr);
    assert!(!ok, "{out}");
    assert!(out.contains("unhealthy"), "{out}");

    // Something that accepts and never answers: the check gives up within its timeout.
    let hung = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let (ok, took, out) = healthcheck(
        &["--timeout", "0.5"],
        &hung.local_addr().unwrap().to_string(),
    );
    assert!(!ok, "{out}");
    assert!(took < Duration::from_secs(5), "{took:?}");
    assert!(out.contains("did not answer"), "{out}");

    // Up but not ready: its Redis went away, so it cannot write its log.
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let mut redis = Process::new("redis-server")
        .args([
            "--port",
            &port.to_string(),
            "--save",
            "",
            "--appendonly",
            "no",
        ])
        .stdout(Stdio::null())
        .spawn()
        .expect("redis-server (scripts/test installs it)");
    let url = format!("redis://127.0.0.1:{port}/");
    let deadline = Instant::now() + Duration::from_secs(10);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "redis-server did not start");
        std::thread::sleep(Duration::from_millis(20));
    }
    let dir = tempfile::tempdir().unwrap();
    let admin = "admin-token-for-the-healthcheck-test";
    let server = Server::start(
        dir.path(),
        &[
            ("MAKERPULSE_REDIS_URL", &url),
            ("MAKERPULSE_ADMIN_TOKEN", admin),
        ],
    );
    seed(&server.base, admin).await;
    let (ok, _, out) = healthcheck(&[], server.addr());
    assert!(ok, "ready with Redis: {out}");
    let _ = redis.kill();
    let _ = redis.wait();
    let deadline = Instant::now() + Duration::from_secs(20);
    for n in 0.. {
        // A command finds the log unavailable; readiness follows.
        let _ = command(
            &server.base,
            admin,
            &format!("u{n}"),
            json!({"type": "add_track", "id": format!("x{n}"), "name": {"en": "X"}}),
        )
        .await;
        let (ok, _, out) = healthcheck(&[], server.addr());
        if !ok {
            assert!(out.contains("503"), "{out}");
            break;
        }
        assert!(Instant::now() < deadline, "still ready without Redis");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    server.stop();
}

/// The arguments after `makerpulse` of a health check written as a JSON array, as in the
/// Dockerfile's `CMD [...]` and compose's `test: [...]`.
fn health_args(line: &str) -> Vec<String> {
    let array = &line[line.find('[').expect("an exec-form array")..=line.rfind(']').unwrap()];
    let words: Vec<String> = serde_json::from_str(array).unwrap();
    let at = words
        .iter()
        .position(|w| w == "makerpulse")
        .expect("runs makerpulse");
    assert_eq!(
        words.get(at + 1).map(String::as_str),
        Some("healthcheck"),
        "{line}"
    );
    words[at + 1..].to_vec()
}

/// The container files as written: compose is valid, uses no `version:` key, pins every image to
/// an exact version, and both health checks run `makerpulse healthcheck`, which passes against a
/// ready server and fails without one.
#[tokio::test]
async fn the_container_health_checks_run_the_healthcheck_command() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let dockerfile = std::fs::read_to_string(root.join("Dockerfile")).unwrap();
    let compose = std::fs::read_to_string(root.join("docker-compose.yml")).unwrap();
    let out = Process::new("docker-compose")
        .args(["-f", "docker-compose.yml", "config", "-q"])
        .current_dir(&root)
        .env("MAKERPULSE_ADMIN_TOKEN", "ci")
        .output()
        .expect("docker-compose (scripts/test installs it)");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!compose.lines().any(|l| l.starts_with("version:")));
    let images = dockerfile
        .lines()
        .filter_map(|l| l.strip_prefix("FROM "))
        .chain(
            compose
                .lines()
                .filter_map(|l| l.trim().strip_prefix("image: ")),
        );
    for image in images {
        let tag = image
            .split_whitespace()
            .next()
            .unwrap()
            .split(':')
            .nth(1)
            .unwrap_or("");
        let version = tag.split('-').next().unwrap();
        assert!(
            version.split('.').count() >= 2 && version.split('.').all(|p| p.parse::<u32>().is_ok()),
            "{image} is not pinned to an exact version"
        );
    }

    let docker = dockerfile
        .lines()
        .skip_while(|l| !l.starts_with("HEALTHCHECK"))
        .find(|l| l.contains("CMD"))
        .expect("a HEALTHCHECK");
    let compose_tests: Vec<&str> = compose
        .lines()
        .filter(|l| l.trim().starts_with("test:") && l.contains("makerpulse"))
        .collect();
    assert!(!compose_tests.is_empty());
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), &[]);
    for line in compose_tests.iter().chain([&docker]) {
        let args = health_args(line);
        let args: Vec<&str> = args[1..].iter().map(String::as_str).collect();
        let (ok, _, out) = healthcheck(&args, server.addr());
        assert!(ok, "{line}: {out}");
    }
    let addr = server.addr().to_owned();
    server.stop();
    let args = health_args(docker);
    let args: Vec<&str> = args[1..].iter().map(String::as_str).collect();
    let (ok, _, out) = healthcheck(&args, &addr);
    assert!(!ok, "a stopped server is unhealthy: {out}");
}

/// A 1×1 PNG.
const PNG: &[u8] = &[
    0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44, 0x52,
    0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1f, 0x15, 0xc4,
    0x89, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9c, 0x63, 0xf8, 0xcf, 0xc0, 0xf0,
    0x1f, 0x00, 0x05, 0x00, 0x01, 0xff, 0x89, 0x99, 0x3d, 0x1d, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45,
    0x4e, 0x44, 0xae, 0x42, 0x60, 0x82,
];

#[tokio::test]
async fn a_backup_taken_under_writers_restores_every_command_acknowledged_before_it() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let server = Server::start(&data, &[]);
    let admin = server
        .printed_token
        .clone()
        .expect("a first start prints the token");
    let team = seed(&server.base, &admin).await;

    // A photo, posted.
    let photo: Value = reqwest::Client::new()
        .post(format!("{}/api/challenges/c/photos", server.base))
        .bearer_auth(&team)
        .header("content-type", "image/png")
        .body(PNG.to_vec())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let sha = photo["sha256"].as_str().unwrap().to_owned();
    let (status, body) = command(
        &server.base,
        &team,
        "photo-post",
        json!({"type": "post_progress", "text": "with a photo", "photos": [photo]}),
    )
    .await;
    assert_eq!(status, 200, "{body}");

    // Writers that never stop until told, each acknowledged post noted with when it was.
    let (stop, mut stopped) = tokio::sync::watch::channel(false);
    let base = server.base.clone();
    let team_token = team.clone();
    let writer = tokio::spawn(async move {
        let mut acked = Vec::new();
        for i in 0.. {
            if *stopped.borrow_and_update() {
                break;
            }
            let text = format!("post {i}");
            let (status, body) = command(
                &base,
                &team_token,
                &format!("p{i}"),
                json!({"type": "post_progress", "text": text}),
            )
            .await;
            assert_eq!(status, 200, "{body}");
            acked.push((text, Instant::now()));
        }
        acked
    });
    tokio::time::sleep(Duration::from_millis(300)).await;

    let backup = dir.path().join("backup");
    let began = Instant::now();
    let out = tokio::process::Command::new(BIN)
        .arg("backup")
        .arg(&backup)
        .env("MAKERPULSE_DATA_DIR", &data)
        .output()
        .await
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // The writers go on a little after it, too.
    tokio::time::sleep(Duration::from_millis(200)).await;
    stop.send(true).unwrap();
    let acked = writer.await.unwrap();
    let before: Vec<&String> = acked
        .iter()
        .filter(|(_, at)| *at < began)
        .map(|(text, _)| text)
        .collect();
    let after = acked.len() - before.len();
    assert!(
        before.len() >= 5 && after >= 1,
        "{} before, {after} after",
        before.len()
    );
    let original_log = reqwest::Client::new()
        .get(format!("{}/api/challenges/c/log", server.base))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    server.stop();

    // Into a fresh data directory; the server starts on it with the same admin token and the
    // same team token, and serves the photo.
    let fresh = dir.path().join("fresh");
    let out = Process::new(BIN)
        .arg("restore")
        .arg(&backup)
        .env("MAKERPULSE_DATA_DIR", &fresh)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let restored = Server::start(&fresh, &[]);
    assert_eq!(
        restored.printed_token, None,
        "the admin token's hash came back"
    );
    let log = reqwest::Client::new()
        .get(format!("{}/api/challenges/c/log", restored.base))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let lines: Vec<&str> = log.lines().collect();
    assert!(
        original_log.starts_with(&log),
        "the restored log is a prefix of the original, byte for byte"
    );
    for text in &before {
        assert!(
            lines
                .iter()
                .any(|l| l.contains(&format!("\"text\":\"{text}\""))),
            "{text}, acknowledged before the backup, is missing"
        );
    }
    let (status, body) = command(
        &restored.base,
        &team,
        "after-restore",
        json!({"type": "post_progress", "text": "after the restore"}),
    )
    .await;
    assert_eq!(status, 200, "the team's token works: {body}");
    assert_eq!(
        body["first_seq"].as_u64().unwrap(),
        lines.len() as u64 + 1,
        "seq goes on without a gap"
    );
    let served = reqwest::get(format!("{}/api/challenges/c/photos/{sha}", restored.base))
        .await
        .unwrap();
    assert_eq!(served.status().as_u16(), 200);
    assert_eq!(served.bytes().await.unwrap().as_ref(), PNG);
    restored.stop();

    // A second restore over it overwrites nothing.
    let out = Process::new(BIN)
        .arg("restore")
        .arg(&backup)
        .env("MAKERPULSE_DATA_DIR", &fresh)
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("not overwriting"));
}
