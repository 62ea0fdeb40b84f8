//! The server's shared state: the live challenges, the admin credential, metrics and the
//! shutdown signal, as one cheap-to-clone handle.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use dashmap::DashMap;
use makerpulse_core::{Actor, ChallengeId, TokenHash};
use tokio::sync::watch;

use crate::audience::AudienceRuntime;
use crate::cheers::CheerGate;
use crate::client_addr::TrustedProxies;
use crate::event_log::StoreError;
use crate::http::error::ApiError;
use crate::hub::{Hub, SharedPresence, Sharing, Spacing, CHEER_TALLY_EVERY};
use crate::journal;
use crate::limits::{AddressLimits, AUTH_FAILURES_ALLOWED};
use crate::metrics::Metrics;
use crate::photo_store::{PhotoLimits, PhotoStore};
use crate::redis_log::Redis;

/// How often presence is recounted (and, with Redis, reported).
pub const PRESENCE_EVERY: Duration = Duration::from_secs(2);

/// What the library needs to run: the operator's [`Settings`] as given, and what start-up
/// resolves. The binary builds it in one place, [`crate::config::ServeArgs::config`].
#[derive(Clone)]
pub struct Config {
    /// What the operator set.
    pub settings: Settings,
    /// SHA-256 of the admin token.
    pub admin_token_hash: TokenHash,
    /// Base URL for links.
    pub public_url: String,
    /// This instance's name in shared presence counts; unique per running instance.
    pub instance: String,
}

impl Config {
    /// A config for the embedded store alone, with the default limits.
    pub fn embedded(data_dir: PathBuf, admin_token_hash: TokenHash, public_url: String) -> Config {
        Config {
            settings: Settings::new(data_dir),
            admin_token_hash,
            public_url,
            instance: instance_name(),
        }
    }
}

/// What an operator sets for a running server, by flag or by environment variable. The binary's
/// `serve` and `demo` take these flags as they are and hand them over whole.
#[derive(Clone, clap::Args)]
pub struct Settings {
    /// Directory of the journals, uploaded photos and the admin token hash.
    #[arg(long, env = "MAKERPULSE_DATA_DIR", default_value = "data")]
    pub data_dir: PathBuf,
    /// Redis, for several instances sharing challenges: instances given the same Redis serve the
    /// same challenges, and each keeps every event in its own journal too.
    #[arg(long, env = "MAKERPULSE_REDIS_URL", hide_env_values = true)]
    pub redis_url: Option<String>,
    /// Live connections allowed per client address; 0 for no limit.
    #[arg(long, env = "MAKERPULSE_MAX_CONNECTIONS_PER_IP", default_value_t = DEFAULT_MAX_CONNECTIONS_PER_IP)]
    pub max_connections_per_ip: usize,
    /// HTTP commands per second allowed per client address (bursts of twice that); 0 for no limit.
    #[arg(long, env = "MAKERPULSE_COMMANDS_PER_IP", default_value_t = DEFAULT_COMMANDS_PER_IP)]
    pub commands_per_ip: u32,
    /// The photo quota per team, and how long an upload may wait for its post.
    #[command(flatten)]
    pub photos: PhotoLimits,
    /// Cheers counted per second per client address, over all its sockets and HTTP requests
    /// (bursts of as many); 0 for no limit.
    #[arg(long, env = "MAKERPULSE_CHEERS_PER_IP_SECOND", default_value_t = DEFAULT_CHEERS_PER_IP_SECOND)]
    pub cheers_per_ip_second: u32,
    /// Cheers counted per minute per client address (bursts of as many); 0 for no limit.
    #[arg(long, env = "MAKERPULSE_CHEERS_PER_IP_MINUTE", default_value_t = DEFAULT_CHEERS_PER_IP_MINUTE)]
    pub cheers_per_ip_minute: u32,
    /// Web origins besides this server's own whose pages may send commands and open live
    /// connections, comma-separated (e.g. `https://partner.example`).
    #[arg(long, env = "MAKERPULSE_ALLOWED_ORIGINS", value_delimiter = ',')]
    pub allowed_origins: Vec<String>,
    /// Proxies whose `X-Forwarded-For` names the client, as a comma-separated list of networks
    /// (`172.16.0.0/12,10.0.0.7`); empty: the header is ignored.
    #[arg(long, env = "MAKERPULSE_TRUSTED_PROXIES", default_value = "")]
    pub trusted_proxies: TrustedProxies,
    /// Wrong tokens one address may present in a minute before its tokens are refused for a
    /// minute; 0 for no limit. Not a flag: the operator has no reason to change it, and tests,
    /// whose clients all come from 127.0.0.1, turn it off.
    #[arg(skip = AUTH_FAILURES_ALLOWED)]
    pub auth_failures_allowed: u32,
    /// Log one line per HTTP request (method, path, status, time, client address) with
    /// anything that could be a token left out (`crate::http::access`); `on` or `off`.
    #[arg(long, env = "MAKERPULSE_ACCESS_LOG", default_value = "off", num_args = 0..=1,
        default_missing_value = "on", action = clap::ArgAction::Set,
        value_parser = clap::builder::BoolishValueParser::new())]
    pub access_log: bool,
    /// Events between two checkpoints of a challenge's state saved beside its journal, from
    /// which a restart and a read of the past fold on (`journal/checkpoint.rs`); 0 for none.
    #[arg(long, env = "MAKERPULSE_CHECKPOINT_EVERY", default_value_t = journal::checkpoint::EVERY)]
    pub checkpoint_every: u64,
    /// Events between two checkpoints of the past (the state less its answers and older posts'
    /// ids, gzipped), from which `view?at=SEQ` folds on; 0 for none.
    #[arg(long, env = "MAKERPULSE_HISTORY_EVERY", default_value_t = journal::checkpoint::PAST_EVERY)]
    pub history_every: u64,
    /// Worker threads of each of the server's two runtimes (the one for HTTP, commands and the
    /// consoles, and the audience's); unset: one per core. Instances that share a machine each
    /// get their share of its cores (two on 8 cores: 4 each): with a thread per core each, they
    /// would run twice as many threads as cores and spend the difference switching between them
    /// (bench/README.md, scenario 5).
    #[arg(long, env = "MAKERPULSE_THREADS", value_parser = clap::value_parser!(u16).range(1..=1024))]
    pub threads: Option<u16>,
}

impl Settings {
    /// The defaults over `data_dir`: the embedded store alone, the default limits.
    pub fn new(data_dir: PathBuf) -> Settings {
        Settings {
            data_dir,
            redis_url: None,
            max_connections_per_ip: DEFAULT_MAX_CONNECTIONS_PER_IP,
            commands_per_ip: DEFAULT_COMMANDS_PER_IP,
            photos: PhotoLimits::default(),
            cheers_per_ip_second: DEFAULT_CHEERS_PER_IP_SECOND,
            cheers_per_ip_minute: DEFAULT_CHEERS_PER_IP_MINUTE,
            allowed_origins: Vec::new(),
            trusted_proxies: TrustedProxies::default(),
            auth_failures_allowed: AUTH_FAILURES_ALLOWED,
            access_log: false,
            checkpoint_every: journal::checkpoint::EVERY,
            history_every: journal::checkpoint::PAST_EVERY,
            threads: None,
        }
    }
}

impl std::fmt::Debug for Settings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Settings")
            .field("data_dir", &self.data_dir)
            .field("redis_url", &self.redis_url.as_ref().map(|_| "<redacted>"))
            .field("max_connections_per_ip", &self.max_connections_per_ip)
            .field("commands_per_ip", &self.commands_per_ip)
            .field("photos", &self.photos)
            .field("cheers_per_ip_second", &self.cheers_per_ip_second)
            .field("cheers_per_ip_minute", &self.cheers_per_ip_minute)
            .field("allowed_origins", &self.allowed_origins)
            .field("trusted_proxies", &self.trusted_proxies)
            .field("auth_failures_allowed", &self.auth_failures_allowed)
            .field("access_log", &self.access_log)
            .field("checkpoint_every", &self.checkpoint_every)
            .field("history_every", &self.history_every)
            .field("threads", &self.threads)
            .finish()
    }
}

/// The default limit of live connections per client address: a hall of phones behind one NAT
/// fits, a single misbehaving host does not exhaust the server's sockets.
pub const DEFAULT_MAX_CONNECTIONS_PER_IP: usize = 4096;
/// The default rate of HTTP commands per client address, per second.
pub const DEFAULT_COMMANDS_PER_IP: u32 = 50;
/// The default of cheers counted per client address, per second. A hall behind one NAT is one
/// address: 200 a second is a few hundred phones cheering a demo together, while one script
/// behind an address outcheers no more than that crowd would.
pub const DEFAULT_CHEERS_PER_IP_SECOND: u32 = 200;
/// The default of cheers counted per client address, per minute: the crowd's peaks pass, but a
/// sustained 50 a second, what a few hundred people cheer across a minute, is the most one
/// address adds.
pub const DEFAULT_CHEERS_PER_IP_MINUTE: u32 = 3000;

/// A name for this instance: host, process and a random suffix, so that a restarted instance is
/// a new one in presence counts.
pub fn instance_name() -> String {
    let host = std::fs::read_to_string("/etc/hostname").unwrap_or_default();
    let host = host.trim();
    let mut random = [0u8; 4];
    let _ = getrandom::fill(&mut random);
    format!(
        "{}-{}-{:08x}",
        if host.is_empty() { "makerpulse" } else { host },
        std::process::id(),
        u32::from_le_bytes(random)
    )
}

impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("settings", &self.settings)
            .field("admin_token_hash", &"<redacted>")
            .field("public_url", &self.public_url)
            .field("instance", &self.instance)
            .finish()
    }
}

/// The shortest admin token accepted. The admin token is the one secret an operator types in
/// (generated ones are 43 characters); 24 characters of `openssl rand -hex 24` is 96 bits.
pub const MIN_ADMIN_TOKEN: usize = 24;

/// The admin token's hash: from the given token, else from the data directory, else a new
/// token is generated, its hash stored, and the token returned so it can be printed once. A
/// given token shorter than [`MIN_ADMIN_TOKEN`] is refused.
pub fn admin_credential(
    data_dir: &Path,
    given: Option<&str>,
) -> anyhow::Result<(TokenHash, Option<String>)> {
    if let Some(token) = given.filter(|t| !t.is_empty()) {
        let length = token.chars().count();
        if length < MIN_ADMIN_TOKEN {
            anyhow::bail!(
                "MAKERPULSE_ADMIN_TOKEN is {length} characters long; it must be at least \
                 {MIN_ADMIN_TOKEN} (generate one with `openssl rand -hex 24`, or leave it unset \
                 to have one generated)"
            );
        }
        return Ok((TokenHash::of(token), None));
    }
    let path = data_dir.join("admin-token.sha256");
    if let Ok(stored) = std::fs::read_to_string(&path) {
        let hash = TokenHash::new(stored.trim())
            .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
        return Ok((hash, None));
    }
    std::fs::create_dir_all(data_dir)
        .with_context(|| format!("creating {}", data_dir.display()))?;
    let token = new_token();
    let hash = TokenHash::of(&token);
    std::fs::write(&path, format!("{}\n", hash.as_str()))
        .with_context(|| format!("writing {}", path.display()))?;
    Ok((hash, Some(token)))
}

/// A fresh bearer token: 32 random bytes, URL-safe base64 without padding.
pub fn new_token() -> String {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).expect("the OS random source works");
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::with_capacity(43);
    let mut acc = 0u32;
    let mut bits = 0;
    for b in bytes {
        acc = (acc << 8) | u32::from(b);
        bits += 8;
        while bits >= 6 {
            bits -= 6;
            out.push(ALPHABET[((acc >> bits) & 63) as usize] as char);
        }
    }
    if bits > 0 {
        out.push(ALPHABET[((acc << (6 - bits)) & 63) as usize] as char);
    }
    out
}

/// Compares two equal-length byte strings in time that does not depend on where they differ.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The handle every handler gets.
#[derive(Clone)]
pub struct AppState {
    /// Settings.
    pub config: Arc<Config>,
    /// Live challenges by id.
    pub hubs: Arc<DashMap<ChallengeId, Arc<Hub>>>,
    /// Metrics.
    pub metrics: Arc<Metrics>,
    /// Becomes `true` when the server is shutting down.
    pub shutdown: watch::Receiver<bool>,
    /// Limits per client address.
    pub limits: Arc<AddressLimits>,
    /// The uploaded photos.
    pub photos: Arc<PhotoStore>,
    /// The budgets of counted cheers per client address, and the ids of cheers counted over HTTP.
    pub cheers: Arc<CheerGate>,
    /// The runtime the audience's live connections run on (see [`crate::audience`]).
    pub audience: Arc<AudienceRuntime>,
    /// Redis, when instances share challenges: one connection manager, built at start.
    redis: Option<Redis>,
    /// Held while a challenge is being opened (see [`AppState::open_hub`]). A Tokio mutex: it is
    /// held across the awaits of opening the journal and joining Redis.
    opening: Arc<tokio::sync::Mutex<()>>,
}

impl AppState {
    /// Loads every challenge under the data directory (and, with Redis, every challenge the
    /// shared log knows) and starts the timers. Returns the state and the sender that starts a
    /// shutdown.
    pub async fn open(config: Config) -> anyhow::Result<(AppState, watch::Sender<bool>)> {
        let metrics = Arc::new(Metrics::new());
        let hubs = Arc::new(DashMap::new());
        let (tx, rx) = watch::channel(false);
        let limits = Arc::new(
            AddressLimits::new(
                config.settings.max_connections_per_ip,
                config.settings.commands_per_ip,
            )
            .with_auth_failures(config.settings.auth_failures_allowed),
        );
        let cheers = Arc::new(CheerGate::new(
            config.settings.cheers_per_ip_second,
            config.settings.cheers_per_ip_minute,
        ));
        let redis = match &config.settings.redis_url {
            Some(url) => Some(Redis::connect(url).await.context("connecting to Redis")?),
            None => None,
        };
        let photos = Arc::new(PhotoStore::new(
            &config.settings.data_dir,
            config.settings.photos.clone(),
        ));
        let threads = config.settings.threads;
        let state = AppState {
            config: Arc::new(config),
            hubs,
            metrics,
            shutdown: rx,
            limits,
            photos,
            cheers,
            audience: Arc::new(
                AudienceRuntime::new(threads).context("starting the audience runtime")?,
            ),
            redis,
            opening: Arc::default(),
        };
        let mut ids = journal::list(&state.config.settings.data_dir)?;
        if let Some(redis) = &state.redis {
            ids.extend(redis.challenges().await?);
            ids.sort();
            ids.dedup();
        }
        for id in ids {
            state.open_hub(&id, Shown::AtOnce).await?;
        }
        tokio::spawn(timers(state.clone()));
        Ok((state, tx))
    }

    async fn open_hub(&self, id: &ChallengeId, shown: Shown) -> Result<Arc<Hub>, StoreError> {
        // Requests race to open a challenge another instance created (the first viewers of a
        // join storm all arrive before it is open here). Two hubs over one journal would both
        // mirror the shared log into it, writing every event twice, so opening is one at a time
        // and the second finds the first's hub. Opening is rare: one lock for all challenges.
        let _opening = self.opening.lock().await;
        if let Some(hub) = self.hubs.get(id) {
            return Ok(hub.clone());
        }
        let sharing = self.redis.as_ref().map(|redis| {
            let log = redis.log(id, self.metrics.clone());
            Sharing {
                replica: Arc::new(log.apart()),
                log: Arc::new(log),
                presence: Some(SharedPresence::new(
                    redis.clone(),
                    self.config.instance.clone(),
                )),
            }
        });
        let path = journal::path_for(&self.config.settings.data_dir, id);
        let hub = Hub::open(
            id.clone(),
            &path,
            self.metrics.clone(),
            self.photos.clone(),
            sharing,
            Spacing {
                every: self.config.settings.checkpoint_every,
                past_every: self.config.settings.history_every,
            },
        )
        .await?;
        if let Some(redis) = &self.redis {
            redis.share(id).await?;
        }
        if shown == Shown::CaughtUp {
            // Still under the lock: the requests racing to open it wait, then find it caught up.
            hub.catch_up().await;
        }
        Ok(self.hubs.entry(id.clone()).or_insert(hub).clone())
    }

    /// A live challenge. With Redis, a challenge another instance created is opened on first use,
    /// and shown once this instance has read the shared log as it stood then: a viewer of the
    /// first storm on this instance gets the challenge as it is, not an empty one at seq 0.
    pub async fn hub(&self, id: &ChallengeId) -> Option<Arc<Hub>> {
        if let Some(hub) = self.hubs.get(id) {
            return Some(hub.clone());
        }
        // One question on the shared connection, whatever the answer: an unknown id (a typo, or
        // a client probing) costs Redis no new connection.
        let redis = self.redis.as_ref()?;
        if !redis.is_shared(id).await.unwrap_or(false) {
            return None;
        }
        match self.open_hub(id, Shown::CaughtUp).await {
            Ok(hub) => Some(hub),
            Err(err) => {
                tracing::warn!(challenge = %id, %err, "could not open a shared challenge");
                None
            }
        }
    }

    /// A live challenge, opened (its journal created) if it does not exist yet. Only for a
    /// create command from an admin. Opening joins the shared log whether or not another
    /// instance shared the challenge first, so Redis is not asked whether it did.
    pub async fn hub_or_create(&self, id: &ChallengeId) -> Result<Arc<Hub>, StoreError> {
        let opened = self.hubs.get(id).map(|hub| hub.clone());
        match opened {
            Some(hub) => Ok(hub),
            None => self.open_hub(id, Shown::AtOnce).await,
        }
    }

    /// Whether `token` is the admin token.
    pub fn is_admin(&self, token: &str) -> bool {
        constant_time_eq(
            TokenHash::of(token).as_str().as_bytes(),
            self.config.admin_token_hash.as_str().as_bytes(),
        )
    }

    /// The actor a bearer token speaks for in challenge `hub`: admin, a minted team or judge
    /// token, or the audience when there is none. An unknown or revoked token is `None`, never
    /// silently the audience.
    pub fn actor(&self, hub: Option<&Hub>, token: Option<&str>) -> Option<Actor> {
        let Some(token) = token else {
            return Some(Actor::Audience);
        };
        if self.is_admin(token) {
            return Some(Actor::Admin);
        }
        hub.and_then(|hub| hub.state().authenticate(token))
    }

    /// [`AppState::actor`], but a token not known yet is looked up again once this instance has
    /// caught up with the shared log: it may have been minted through another instance a moment ago.
    pub async fn resolve(&self, hub: &Hub, token: Option<&str>) -> Option<Actor> {
        if let Some(actor) = self.actor(Some(hub), token) {
            return Some(actor);
        }
        hub.catch_up().await;
        self.actor(Some(hub), token)
    }

    /// [`AppState::resolve`] for a request from `client`, with wrong tokens counted against the
    /// address: one that has presented too many lately is refused before its token is looked at
    /// ([`crate::limits::AUTH_FAILURES_ALLOWED`]). Without `hub`, only the admin token is known.
    /// `Ok(None)` is a wrong token, as with `resolve`. A request without a token is the audience
    /// and never refused here.
    pub async fn authenticate(
        &self,
        hub: Option<&Hub>,
        token: Option<&str>,
        client: Option<std::net::IpAddr>,
    ) -> Result<Option<Actor>, ApiError> {
        if token.is_none() {
            return Ok(Some(Actor::Audience));
        }
        if client.is_some_and(|ip| self.limits.auth_locked(ip)) {
            return Err(ApiError::AuthLocked);
        }
        let actor = match hub {
            Some(hub) => self.resolve(hub, token).await,
            None => self.actor(None, token).filter(|a| *a == Actor::Admin),
        };
        if let (None, Some(ip)) = (&actor, client) {
            self.limits.auth_failed(ip);
        }
        Ok(actor)
    }

    /// Every live challenge.
    pub fn all_hubs(&self) -> Vec<Arc<Hub>> {
        self.hubs.iter().map(|e| e.value().clone()).collect()
    }
}

/// Completes when `shutdown` turns `true` (at once if it already has).
pub async fn stopped(shutdown: &mut watch::Receiver<bool>) {
    // The guard `wait_for` returns must not live across other awaits, so it is dropped here.
    let _ = shutdown.wait_for(|&stop| stop).await.map(|_| ());
}

/// Ends building when a clock runs out, writes counted cheers, and recounts who is online, until
/// shutdown; then writes the last cheers.
async fn timers(state: AppState) {
    let mut shutdown = state.shutdown.clone();
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    let mut tally = tokio::time::interval(CHEER_TALLY_EVERY);
    let mut presence = tokio::time::interval(PRESENCE_EVERY);
    let mut photos = tokio::time::interval(state.photos.collect_every());
    loop {
        tokio::select! {
            _ = tick.tick() => {
                for hub in state.all_hubs() {
                    hub.check_clock().await;
                    hub.report_kept();
                }
            }
            _ = tally.tick() => {
                for hub in state.all_hubs() {
                    hub.tally_cheers().await;
                }
                state.limits.prune();
                state.cheers.prune();
            }
            _ = presence.tick() => {
                for hub in state.all_hubs() {
                    hub.refresh_presence().await;
                }
            }
            _ = photos.tick() => state.photos.collect(&state.all_hubs()).await,
            () = stopped(&mut shutdown) => break,
        }
    }
    for hub in state.all_hubs() {
        hub.tally_cheers().await;
    }
}

/// When a challenge opened here is shown to the requests waiting for it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Shown {
    /// At once: opened at start from this instance's journal, or created here.
    AtOnce,
    /// Once it has read the shared log up to its top as it was at opening (at most the 5 s of
    /// [`Hub::catch_up`]): a challenge another instance created, opened on its first use here.
    CaughtUp,
}
