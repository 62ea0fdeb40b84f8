//! The harness of the end-to-end tests: a real server on `127.0.0.1:0` over a temporary data
//! directory, started the way the binary starts it, with helpers to seed a challenge and talk to
//! it over HTTP and WebSocket.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use makerpulse_client::LiveClient;
use makerpulse_core::roster::{Assignment, PanelRole, Subject};
use makerpulse_core::{
    ChallengeId, Command, CommandId, CriterionId, Envelope, JudgeId, Localized, TeamId, TokenHash,
    TrackId,
};
use makerpulse_server::{AppState, Config, Listeners};
use serde_json::Value;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// The admin token every test server uses.
pub const ADMIN: &str = "test-admin-token-0123456789";

/// A server running in this process on a real socket.
pub struct TestServer {
    /// Where it listens.
    pub addr: SocketAddr,
    /// Where its `/metrics` listens.
    pub metrics_addr: SocketAddr,
    /// Its data directory.
    pub data_dir: PathBuf,
    stop: Option<oneshot::Sender<()>>,
    handle: JoinHandle<anyhow::Result<()>>,
    /// The server's state, for tests that look inside.
    pub state: AppState,
}

/// A new unique command id.
pub fn cid() -> CommandId {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    let n = N.fetch_add(1, Ordering::Relaxed);
    CommandId::new(format!("t{}-{n}", std::process::id())).expect("valid id")
}

impl TestServer {
    /// Starts a server over `data_dir` with the embedded store.
    pub async fn start(data_dir: &Path) -> TestServer {
        Self::start_with(data_dir, None).await
    }

    /// Starts a server over `data_dir`, sharing its challenges through `redis` when given.
    pub async fn start_with(data_dir: &Path, redis: Option<&str>) -> TestServer {
        Self::start_configured(data_dir, |config| {
            config.settings.redis_url = redis.map(str::to_owned)
        })
        .await
    }

    /// Starts a server over `data_dir` with settings changed by `configure`. The per-address
    /// limits (connections, command rate, failed authentications) are off unless a test sets
    /// them: every test client comes from 127.0.0.1.
    pub async fn start_configured(
        data_dir: &Path,
        configure: impl FnOnce(&mut Config),
    ) -> TestServer {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let metrics = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let metrics_addr = metrics.local_addr().expect("addr");
        let mut config = Config::embedded(
            data_dir.to_owned(),
            TokenHash::of(ADMIN),
            format!("http://{addr}"),
        );
        config.settings.max_connections_per_ip = 0;
        config.settings.commands_per_ip = 0;
        config.settings.cheers_per_ip_second = 0;
        config.settings.cheers_per_ip_minute = 0;
        config.settings.auth_failures_allowed = 0;
        configure(&mut config);
        let (state, stop_all) = AppState::open(config).await.expect("open");
        let (stop, stopped) = oneshot::channel::<()>();
        let handle = tokio::spawn(makerpulse_server::serve(
            Listeners {
                public: listener,
                metrics: Some(metrics),
            },
            state.clone(),
            stop_all,
            async {
                let _ = stopped.await;
            },
        ));
        TestServer {
            addr,
            metrics_addr,
            data_dir: data_dir.to_owned(),
            stop: Some(stop),
            handle,
            state,
        }
    }

    /// Stops it gracefully and waits until it has.
    pub async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        let _ = (&mut self.handle).await;
    }

    /// Ends it abruptly, as a crash would: no graceful shutdown, no last cheer tally, open
    /// connections dropped. Acknowledged commands must already be on disk.
    pub async fn abort(self) {
        self.handle.abort();
        let _ = self.handle.await;
    }

    /// The HTTP base URL.
    pub fn http(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The text of `/metrics`, from the metrics listener.
    pub async fn metrics(&self) -> String {
        reqwest::get(format!("http://{}/metrics", self.metrics_addr))
            .await
            .expect("metrics")
            .text()
            .await
            .expect("metrics text")
    }

    /// The WebSocket base URL.
    pub fn ws(&self) -> String {
        format!("ws://{}", self.addr)
    }

    /// Sends a command over HTTP; returns the status and the JSON body.
    pub async fn command(
        &self,
        challenge: &str,
        token: Option<&str>,
        command: Command,
    ) -> (u16, Value) {
        self.envelope(challenge, token, &Envelope::new(cid(), command))
            .await
    }

    /// Sends an envelope over HTTP.
    pub async fn envelope(
        &self,
        challenge: &str,
        token: Option<&str>,
        envelope: &Envelope,
    ) -> (u16, Value) {
        self.post_raw(
            challenge,
            token,
            &serde_json::to_string(envelope).expect("json"),
        )
        .await
    }

    /// Posts any body to the command endpoint.
    pub async fn post_raw(&self, challenge: &str, token: Option<&str>, body: &str) -> (u16, Value) {
        let mut req = reqwest::Client::new()
            .post(format!(
                "{}/api/challenges/{challenge}/commands",
                self.http()
            ))
            .header("content-type", "application/json")
            .body(body.to_owned());
        if let Some(token) = token {
            req = req.bearer_auth(token);
        }
        let res = req.send().await.expect("request");
        let status = res.status().as_u16();
        let body = res.json().await.unwrap_or(Value::Null);
        (status, body)
    }

    /// GETs a JSON resource.
    pub async fn get(&self, path: &str, token: Option<&str>) -> (u16, Value) {
        let mut req = reqwest::Client::new().get(format!("{}{path}", self.http()));
        if let Some(token) = token {
            req = req.bearer_auth(token);
        }
        let res = req.send().await.expect("request");
        let status = res.status().as_u16();
        (status, res.json().await.unwrap_or(Value::Null))
    }

    /// Connects a live client.
    pub async fn live(
        &self,
        challenge: &str,
        token: Option<&str>,
        since: Option<u64>,
    ) -> LiveClient {
        LiveClient::connect(&self.ws(), challenge, token, since)
            .await
            .expect("connect")
    }

    /// Mints a token for `subject`.
    pub async fn mint(&self, challenge: &str, subject: Subject) -> String {
        let res = reqwest::Client::new()
            .post(format!("{}/api/challenges/{challenge}/tokens", self.http()))
            .bearer_auth(ADMIN)
            .json(&serde_json::json!({ "subject": subject }))
            .send()
            .await
            .expect("mint");
        assert_eq!(res.status().as_u16(), 200, "mint");
        let body: Value = res.json().await.expect("json");
        body["token"].as_str().expect("token").to_owned()
    }

    /// Creates challenge `id` with two tracks, four teams (`t1`–`t4`, two per track), three
    /// judges (`j1` on track `a`, `j2` on both tracks with a conflict with `t2`, `j3` on track `b`),
    /// starts it and opens scoring. Returns the tokens.
    pub async fn seed(&self, id: &str) -> Seeded {
        let admin = Some(ADMIN);
        let ok = |(status, body): (u16, Value)| assert_eq!(status, 200, "{body}");
        ok(self
            .command(
                id,
                admin,
                Command::CreateChallenge {
                    id: ChallengeId::new(id).unwrap(),
                    title: Localized::new("测试挑战赛", "Test challenge"),
                    description: Localized::default(),
                    planned_start: None,
                    duration_secs: None,
                },
            )
            .await);
        for track in ["a", "b"] {
            ok(self
                .command(
                    id,
                    admin,
                    Command::AddTrack {
                        id: TrackId::new(track).unwrap(),
                        name: Localized::new(format!("赛道 {track}"), format!("Track {track}")),
                        description: Localized::default(),
                    },
                )
                .await);
        }
        for (team, track) in [("t1", "a"), ("t2", "a"), ("t3", "b"), ("t4", "b")] {
            ok(self
                .command(
                    id,
                    admin,
                    Command::AddTeam {
                        id: TeamId::new(team).unwrap(),
                        track: TrackId::new(track).unwrap(),
                        name: Localized::new(format!("团队 {team}"), format!("Team {team}")),
                        description: Localized::default(),
                        members: vec![],
                        contact: format!("{team}@example.org"),
                    },
                )
                .await);
        }
        for (judge, role, tracks, conflicts) in [
            ("j1", PanelRole::DomainExpert, vec!["a"], vec![]),
            ("j2", PanelRole::Investor, vec!["a", "b"], vec!["t2"]),
            ("j3", PanelRole::MakerRepresentative, vec!["b"], vec![]),
        ] {
            ok(self
                .command(
                    id,
                    admin,
                    Command::AddJudge {
                        id: JudgeId::new(judge).unwrap(),
                        name: Localized::new(format!("评委 {judge}"), format!("Judge {judge}")),
                        panel_role: role,
                        affiliation: Localized::default(),
                        assignment: Assignment {
                            tracks: tracks
                                .into_iter()
                                .map(|t| TrackId::new(t).unwrap())
                                .collect(),
                            teams: Default::default(),
                        },
                        conflicts: conflicts
                            .into_iter()
                            .map(|t| TeamId::new(t).unwrap())
                            .collect(),
                    },
                )
                .await);
        }
        let mut teams = BTreeMap::new();
        for team in ["t1", "t2", "t3", "t4"] {
            teams.insert(
                team.to_owned(),
                self.mint(id, Subject::Team(TeamId::new(team).unwrap()))
                    .await,
            );
        }
        let mut judges = BTreeMap::new();
        for judge in ["j1", "j2", "j3"] {
            judges.insert(
                judge.to_owned(),
                self.mint(id, Subject::Judge(JudgeId::new(judge).unwrap()))
                    .await,
            );
        }
        ok(self.command(id, admin, Command::StartChallenge).await);
        ok(self
            .command(
                id,
                admin,
                Command::OpenScoring {
                    reason: String::new(),
                },
            )
            .await);
        Seeded { teams, judges }
    }
}

/// Tokens of a seeded challenge.
pub struct Seeded {
    /// Team tokens by team id.
    pub teams: BTreeMap<String, String>,
    /// Judge tokens by judge id.
    pub judges: BTreeMap<String, String>,
}

impl Seeded {
    /// A team's token.
    pub fn team(&self, id: &str) -> &str {
        &self.teams[id]
    }

    /// A judge's token.
    pub fn judge(&self, id: &str) -> &str {
        &self.judges[id]
    }
}

/// Sends `command` as `token` to challenge `c` of the server at `base`, asserts it was accepted,
/// and returns the last seq of its events. For writer tasks, which cannot borrow a [`TestServer`].
pub async fn send_accepted(
    client: &reqwest::Client,
    base: &str,
    token: &str,
    command: Command,
) -> u64 {
    let res = send_envelope(client, base, token, &Envelope::new(cid(), command)).await;
    assert_eq!(res.status().as_u16(), 200);
    last_seq(res).await
}

/// Sends `command` until it is accepted, as a team's console does: a `503` is no
/// acknowledgement ("send it again": two instances racing for the top of the log may lose the
/// race more often than the writer retries, or the tailer may not have read the append back in
/// time), and the resend carries the same command id, so it is applied at most once and answered
/// with the first answer if the first send did land.
pub async fn send_until_accepted(
    client: &reqwest::Client,
    base: &str,
    token: &str,
    command: Command,
) -> u64 {
    let envelope = Envelope::new(cid(), command);
    for _ in 0..20 {
        let res = send_envelope(client, base, token, &envelope).await;
        match res.status().as_u16() {
            200 => return last_seq(res).await,
            503 => tokio::time::sleep(std::time::Duration::from_millis(50)).await,
            other => panic!("{other}: {}", res.text().await.unwrap_or_default()),
        }
    }
    panic!("still unavailable after 20 sends");
}

async fn send_envelope(
    client: &reqwest::Client,
    base: &str,
    token: &str,
    envelope: &Envelope,
) -> reqwest::Response {
    client
        .post(format!("{base}/api/challenges/c/commands"))
        .bearer_auth(token)
        .json(envelope)
        .send()
        .await
        .expect("request")
}

async fn last_seq(res: reqwest::Response) -> u64 {
    let body: Value = res.json().await.expect("json");
    body["last_seq"]
        .as_u64()
        .expect("an accepted command has a seq")
}

/// A complete scorecard with every criterion of the default rubric at `score`. It carries a
/// reason, so that tests may send it again as a revision (which needs one).
pub fn scorecard(team: &str, score: u32) -> Command {
    let scores = [
        "innovation",
        "execution",
        "completeness",
        "commercial",
        "presentation",
    ]
    .into_iter()
    .map(|c| (CriterionId::new(c).unwrap(), score))
    .collect();
    Command::SubmitScorecard {
        team: TeamId::new(team).unwrap(),
        scores,
        comment: String::new(),
        reason: "scored again in a test".into(),
    }
}

/// A real `redis-server` on a free port of 127.0.0.1, with append-only persistence in a
/// temporary directory so that a restart keeps the data (as in production); stopped on drop.
pub struct RedisServer {
    /// Its port.
    pub port: u16,
    dir: tempfile::TempDir,
    child: Option<std::process::Child>,
}

impl RedisServer {
    /// Starts one and waits until it answers.
    pub async fn start() -> RedisServer {
        let port = {
            let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("free port");
            listener.local_addr().expect("addr").port()
        };
        let mut server = RedisServer {
            port,
            dir: tempfile::tempdir().expect("tempdir"),
            child: None,
        };
        server.restart().await;
        server
    }

    /// The URL to give makerpulse.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/", self.port)
    }

    /// Stops it (SIGKILL: as abrupt as a crash).
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts it again on the same port and data, and waits until it answers.
    pub async fn restart(&mut self) {
        self.kill();
        let child = std::process::Command::new("redis-server")
            .args([
                "--port",
                &self.port.to_string(),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "yes",
            ])
            .arg("--dir")
            .arg(self.dir.path())
            .stdout(std::process::Stdio::null())
            .spawn()
            .expect("redis-server is installed (scripts/test installs it)");
        self.child = Some(child);
        for _ in 0..200 {
            if self.query(&["PING"]).await.is_ok() {
                return;
            }
            tokio::time::sleep(std::time::Duration::from_millis(25)).await;
        }
        panic!("redis-server did not start on port {}", self.port);
    }

    /// Runs one command.
    pub async fn query(&self, args: &[&str]) -> redis::RedisResult<redis::Value> {
        let client = redis::Client::open(self.url())?;
        let mut conn = client.get_multiplexed_async_connection().await?;
        let mut cmd = redis::cmd(args[0]);
        for arg in &args[1..] {
            cmd.arg(*arg);
        }
        cmd.query_async(&mut conn).await
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.kill();
    }
}

/// A free port on 127.0.0.1.
fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("free port");
    listener.local_addr().expect("addr").port()
}

/// A real `nginx` on a free port of 127.0.0.1, proxying HTTP and WebSocket upgrades to one
/// upstream the way `deploy/nginx.conf` does; stopped on drop. It connects to the upstream from
/// [`Nginx::SOURCE`], so a test can trust exactly that address and nothing else on loopback.
pub struct Nginx {
    /// Its port.
    pub port: u16,
    dir: tempfile::TempDir,
    child: std::process::Child,
}

impl Nginx {
    /// The address nginx connects to the upstream from (`proxy_bind`).
    pub const SOURCE: &'static str = "127.0.0.9";

    /// Starts one in front of `upstream` and waits until it accepts connections.
    pub async fn start(upstream: SocketAddr) -> Nginx {
        let port = free_port();
        let dir = tempfile::tempdir().expect("tempdir");
        let d = dir.path().display();
        let source = Self::SOURCE;
        let conf = format!(
            r#"daemon off;
master_process off;
worker_processes 1;
pid {d}/nginx.pid;
error_log {d}/error.log warn;
events {{ worker_connections 512; }}
http {{
    access_log off;
    client_body_temp_path {d}/body;
    proxy_temp_path {d}/proxy;
    fastcgi_temp_path {d}/fastcgi;
    uwsgi_temp_path {d}/uwsgi;
    scgi_temp_path {d}/scgi;
    map $http_upgrade $connection_upgrade {{
        default upgrade;
        ''      close;
    }}
    server {{
        listen 127.0.0.1:{port};
        location / {{
            proxy_pass http://{upstream};
            proxy_bind {source};
            proxy_http_version 1.1;
            proxy_set_header Host $host;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_set_header Upgrade $http_upgrade;
            proxy_set_header Connection $connection_upgrade;
            proxy_buffering off;
        }}
    }}
}}
"#
        );
        let path = dir.path().join("nginx.conf");
        std::fs::write(&path, conf).expect("write nginx.conf");
        let child = std::process::Command::new("nginx")
            .arg("-e")
            .arg(dir.path().join("error.log"))
            .arg("-p")
            .arg(dir.path())
            .arg("-c")
            .arg(&path)
            .stdout(std::process::Stdio::null())
            .spawn()
            .expect("nginx is installed (scripts/test installs it)");
        let nginx = Nginx { port, dir, child };
        for _ in 0..200 {
            if tokio::net::TcpStream::connect(("127.0.0.1", port))
                .await
                .is_ok()
            {
                return nginx;
            }
            tokio::time::sleep(std::time::Duration::from_millis(25)).await;
        }
        let log = std::fs::read_to_string(nginx.dir.path().join("error.log")).unwrap_or_default();
        panic!("nginx did not start on port {port}:\n{log}");
    }

    /// The HTTP base URL.
    pub fn http(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
