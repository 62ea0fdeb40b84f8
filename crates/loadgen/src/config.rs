//! The settings of one run, from flags (and the admin token from the environment).

use std::path::PathBuf;

use crate::target::Kind;

/// How a makerpulse viewer gets its first snapshot.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Join {
    /// In the socket's first message.
    Socket,
    /// Over HTTP (`GET …/snapshot` on keep-alive connections the viewers share, as a page
    /// that was loaded from the server holds one), then the socket on a connection of its own
    /// from the snapshot's seq, as a browser opens it.
    Http,
    /// Over HTTP on the viewer's own new connection, then the WebSocket upgrade as the next
    /// request on that same connection: one TCP handshake per viewer, as with `socket`.
    #[value(name = "http-one")]
    #[serde(rename = "http-one")]
    HttpOne,
}

/// Which parts of their views the consoles follow (`--consoles`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ConsoleParts {
    /// What each page shows, as the web consoles ask: a team's console the ticker, a judge's
    /// none of the parts that may be left out.
    Pages,
    /// Everything: the `hello` of a client that names no parts.
    All,
}

/// One run of the load generator.
#[derive(Clone, Debug, clap::Parser)]
#[command(
    name = "makerpulse-loadgen",
    about = "Opens many audience sockets against makerpulse or a broadcast peer, writes events at \
             set rates, and reports delivery latency, throughput, gaps and the server's cost."
)]
pub struct Config {
    /// The protocol of the target.
    #[arg(long, value_enum, default_value = "makerpulse")]
    pub target: Kind,
    /// WebSocket base URL of the target (repeat for several instances; viewers are split
    /// between them, commands go to the first).
    #[arg(long = "url", default_value = "ws://127.0.0.1:8080")]
    pub urls: Vec<String>,
    /// HTTP base URL for commands (makerpulse) or the events API (Pusher); defaults to the first
    /// URL with http://.
    #[arg(long)]
    pub http: Option<String>,
    /// A name for this run in the report.
    #[arg(long, default_value = "run")]
    pub label: String,
    /// The makerpulse challenge (created and seeded when it does not exist).
    #[arg(long, default_value = "bench")]
    pub challenge: String,
    /// The makerpulse admin token, for seeding.
    #[arg(long, env = "MAKERPULSE_ADMIN_TOKEN", hide_env_values = true)]
    pub admin_token: Option<String>,
    /// Audience sockets to open.
    #[arg(long, default_value_t = 1000)]
    pub viewers: usize,
    /// Teams in the seeded challenge.
    #[arg(long, default_value_t = 12)]
    pub teams: usize,
    /// Judges in the seeded challenge (each scores in turn), assigned to every track.
    #[arg(long, default_value_t = 8)]
    pub judges: usize,
    /// Tracks in the seeded challenge, the teams dealt round them (3: software, hardware and
    /// design, as in the demo; otherwise track1…trackN).
    #[arg(long, default_value_t = 3)]
    pub tracks: usize,
    /// Connect every team's and every judge's console too, each a socket with its token (the
    /// server then keeps one view per console); they are not counted as viewers.
    #[arg(long)]
    pub consoles: bool,
    /// Which parts of their views the consoles follow.
    #[arg(long, value_enum, default_value = "pages")]
    pub console_parts: ConsoleParts,
    /// Every Nth event is a team's progress post instead of a scorecard (0: scorecards only).
    #[arg(long, default_value_t = 0)]
    pub post_every: u64,
    /// The memory soak's mix instead of scorecards alone: of every ten commands four scorecard
    /// revisions, three posts with a paragraph of text, one milestone tick (a post once every
    /// team has reached every milestone) and two cheers. Seeds twenty milestones.
    #[arg(long)]
    pub mixed: bool,
    /// Events per second, one step per value (comma-separated); none: hold the connections idle
    /// for one step (memory).
    #[arg(long = "rate", value_delimiter = ',')]
    pub rates: Vec<f64>,
    /// Seconds each step lasts.
    #[arg(long, default_value_t = 10.0)]
    pub duration: f64,
    /// Seconds to wait after a step for its last messages.
    #[arg(long, default_value_t = 10.0)]
    pub drain: f64,
    /// End the ramp after the first step whose p99 passes this many milliseconds.
    #[arg(long)]
    pub stop_p99_ms: Option<f64>,
    /// How a makerpulse viewer joins: `socket`, the snapshot as the socket's first message;
    /// `http`, the snapshot from `GET …/snapshot` (asking for `gzip, br` as a browser does;
    /// cached by seq on the server), then the socket from its seq (`hello` with `since`); or
    /// `http-one`, the same GET and the socket's upgrade on one connection.
    #[arg(long, value_enum, default_value = "socket")]
    pub join: Join,
    /// Connections opened at once at most.
    #[arg(long, default_value_t = 256)]
    pub connect_concurrency: usize,
    /// Seconds into the first step at which every viewer drops its connection and resumes with
    /// `since` (reconnect storm).
    #[arg(long)]
    pub reconnect_at: Option<f64>,
    /// Viewers per source address (127.0.0.1, .2, …): under the ephemeral-port range of one
    /// address and under a server's per-address connection limit.
    #[arg(long, default_value_t = 4000)]
    pub per_address: usize,
    /// Size of each broadcast payload in bytes (peers; use makerpulse's delta size).
    #[arg(long, default_value_t = 1024)]
    pub payload_bytes: usize,
    /// Commands or publishes in flight at most; past it a tick is skipped and counted.
    #[arg(long, default_value_t = 256)]
    pub max_in_flight: usize,
    /// The server's process id(s), for its memory and CPU time.
    #[arg(long = "server-pid")]
    pub server_pids: Vec<u32>,
    /// Pusher app id (Sockudo).
    #[arg(long, default_value = "app-id")]
    pub pusher_app_id: String,
    /// Pusher app key.
    #[arg(long, default_value = "app-key")]
    pub pusher_key: String,
    /// Pusher app secret.
    #[arg(long, default_value = "app-secret")]
    pub pusher_secret: String,
    /// Worker threads of the load generator.
    #[arg(long, default_value_t = 2)]
    pub threads: usize,
    /// Where to write the JSON report.
    #[arg(long)]
    pub json: Option<PathBuf>,
}

impl Config {
    /// The HTTP base URL.
    pub fn http_base(&self) -> String {
        self.http.clone().unwrap_or_else(|| {
            let first = self.urls.first().map(String::as_str).unwrap_or_default();
            first.replacen("ws://", "http://", 1)
        })
    }

    /// A run of `viewers` against makerpulse at `url` with defaults elsewhere (for tests).
    pub fn makerpulse(url: &str, admin: &str, viewers: usize) -> Config {
        use clap::Parser;
        let mut config = Config::parse_from(["makerpulse-loadgen"]);
        config.urls = vec![url.to_owned()];
        config.admin_token = Some(admin.to_owned());
        config.viewers = viewers;
        config
    }
}
