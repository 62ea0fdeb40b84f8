//! The server's shared state: the live challenges, the admin credential, metrics and the
//! shutdown signal, as one cheap-to-clone handle.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use dashmap::DashMap;
use makerpulse_core::{Actor, ChallengeId, TokenHash};
use tokio::sync::watch;

use crate::hub::{Hub, CHEER_TALLY_EVERY};
use crate::journal;
use crate::metrics::Metrics;

/// What the library needs to run; the binary builds it from [`crate::config::ServeArgs`].
#[derive(Clone)]
pub struct Config {
    /// Directory of journals and photos.
    pub data_dir: PathBuf,
    /// SHA-256 of the admin token.
    pub admin_token_hash: TokenHash,
    /// Base URL for links.
    pub public_url: String,
}

impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("data_dir", &self.data_dir)
            .field("admin_token_hash", &"<redacted>")
            .field("public_url", &self.public_url)
            .finish()
    }
}

/// The admin token's hash: from the given token, else from the data directory, else a new
/// token is generated, its hash stored, and the token returned so it can be printed once.
pub fn admin_credential(
    data_dir: &Path,
    given: Option<&str>,
) -> anyhow::Result<(TokenHash, Option<String>)> {
    if let Some(token) = given.filter(|t| !t.is_empty()) {
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
}

impl AppState {
    /// Loads every challenge under the data directory and starts the timers. Returns the state
    /// and the sender that starts a shutdown.
    pub fn open(config: Config) -> anyhow::Result<(AppState, watch::Sender<bool>)> {
        let metrics = Arc::new(Metrics::new());
        let hubs = Arc::new(DashMap::new());
        for id in journal::list(&config.data_dir)? {
            let hub = Hub::open(
                id.clone(),
                &journal::path_for(&config.data_dir, &id),
                metrics.clone(),
            )?;
            hubs.insert(id, hub);
        }
        let (tx, rx) = watch::channel(false);
        let state = AppState {
            config: Arc::new(config),
            hubs,
            metrics,
            shutdown: rx,
        };
        tokio::spawn(timers(state.clone()));
        Ok((state, tx))
    }

    /// A live challenge.
    pub fn hub(&self, id: &ChallengeId) -> Option<Arc<Hub>> {
        self.hubs.get(id).map(|h| h.clone())
    }

    /// A live challenge, opened (its journal created) if it does not exist yet. Only for a
    /// create command from an admin.
    pub fn hub_or_create(&self, id: &ChallengeId) -> anyhow::Result<Arc<Hub>> {
        if let Some(hub) = self.hub(id) {
            return Ok(hub);
        }
        let entry = self.hubs.entry(id.clone());
        let hub = match entry {
            dashmap::Entry::Occupied(e) => e.get().clone(),
            dashmap::Entry::Vacant(e) => {
                let hub = Hub::open(
                    id.clone(),
                    &journal::path_for(&self.config.data_dir, id),
                    self.metrics.clone(),
                )?;
                e.insert(hub.clone());
                hub
            }
        };
        Ok(hub)
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

/// Ends building when a clock runs out, and writes counted cheers, until shutdown; then writes
/// the last cheers.
async fn timers(state: AppState) {
    let mut shutdown = state.shutdown.clone();
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    let mut tally = tokio::time::interval(CHEER_TALLY_EVERY);
    loop {
        tokio::select! {
            _ = tick.tick() => {
                for hub in state.all_hubs() {
                    hub.check_clock().await;
                }
            }
            _ = tally.tick() => {
                for hub in state.all_hubs() {
                    hub.tally_cheers().await;
                }
            }
            () = stopped(&mut shutdown) => break,
        }
    }
    for hub in state.all_hubs() {
        hub.tally_cheers().await;
    }
}
