//! Cheers that count honestly. A cheer is counted in memory, not written as an event of its own
//! (see `hub.rs`), so the log's command ids cannot make a resend harmless; here a cheer resent
//! with the same command id counts once, and each client address gets a budget of counted cheers
//! across all of its sockets and HTTP requests, so one script cannot outcheer a hall.
//!
//! Both memories are bounded: the ids of recent cheers expire after [`REMEMBER_CHEERS`] and are
//! capped in number, and the budgets of addresses that went quiet are forgotten by
//! [`CheerGate::prune`]. Over 72 hours neither grows with the number of cheers or addresses ever
//! seen. With several instances each keeps its own: an address's budget is per instance.

use std::collections::HashSet;
use std::hash::Hash;
use std::net::{IpAddr, Ipv4Addr};
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use dashmap::DashMap;
use makerpulse_core::{Actor, Command, CommandId, Envelope};

use crate::http::error::ApiError;
use crate::hub::{Answer, Hub};

/// How long the id of a counted cheer is remembered at least (at most twice that): a client
/// resends after a dropped connection within seconds, not ten minutes later.
pub const REMEMBER_CHEERS: Duration = Duration::from_secs(600);
/// Cheer ids remembered per live connection, per generation (see [`RecentIds`]).
const IDS_PER_CONNECTION: usize = 256;
/// Cheer ids remembered over HTTP for all addresses together, per generation: about 5 MB at most.
const IDS_OVER_HTTP: usize = 50_000;

/// Recently seen keys, in two generations: a key is new unless the current or the previous
/// generation holds it. The current one becomes the previous one every `ttl`, or sooner when it
/// holds `capacity` keys, so at most `2 × capacity` keys are ever held and a key is forgotten
/// after `ttl` to `2 × ttl`. A flood of fresh ids can push a key out sooner; the per-address
/// budget still bounds what such a flood counts.
#[derive(Debug)]
pub struct RecentIds<K> {
    current: HashSet<K>,
    previous: HashSet<K>,
    since: Instant,
    ttl: Duration,
    capacity: usize,
}

impl<K: Eq + Hash> RecentIds<K> {
    /// An empty memory.
    pub fn new(capacity: usize, ttl: Duration) -> Self {
        Self {
            current: HashSet::new(),
            previous: HashSet::new(),
            since: Instant::now(),
            ttl,
            capacity,
        }
    }

    fn rotate(&mut self, now: Instant) {
        let age = now.duration_since(self.since);
        if age >= 2 * self.ttl {
            self.current.clear();
            self.previous.clear();
            self.since = now;
        } else if age >= self.ttl || self.current.len() >= self.capacity {
            self.previous = std::mem::take(&mut self.current);
            self.since = now;
        }
    }

    /// Remembers `key`; `false` when it was remembered already.
    pub fn insert(&mut self, key: K) -> bool {
        self.rotate(Instant::now());
        if self.previous.contains(&key) {
            return false;
        }
        self.current.insert(key)
    }

    /// Forgets `key`, for a cheer that was not counted after all.
    pub fn remove(&mut self, key: &K) {
        self.current.remove(key);
        self.previous.remove(key);
    }

    /// How many keys are held.
    pub fn len(&self) -> usize {
        self.current.len() + self.previous.len()
    }

    /// Whether none is.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// The cheer ids one live connection has had counted.
pub fn connection_memory() -> RecentIds<CommandId> {
    RecentIds::new(IDS_PER_CONNECTION, REMEMBER_CHEERS)
}

/// A token bucket that can say how long until its next token.
#[derive(Debug)]
struct Tokens {
    rate: f64,
    burst: f64,
    tokens: f64,
}

impl Tokens {
    fn full(rate: f64, burst: f64) -> Self {
        Self {
            rate,
            burst,
            tokens: burst,
        }
    }

    fn refill(&mut self, elapsed: Duration) {
        self.tokens = (self.tokens + elapsed.as_secs_f64() * self.rate).min(self.burst);
    }

    fn wait(&self) -> Duration {
        if self.tokens >= 1.0 {
            Duration::ZERO
        } else {
            Duration::from_secs_f64((1.0 - self.tokens) / self.rate)
        }
    }
}

/// One address's budget: a per-second and a per-minute bucket, both of which a cheer must pass.
#[derive(Debug)]
struct Budget {
    second: Option<Tokens>,
    minute: Option<Tokens>,
    last: Instant,
}

impl Budget {
    fn take(&mut self, now: Instant) -> Result<(), Duration> {
        let elapsed = now.duration_since(self.last);
        self.last = now;
        let buckets = [self.second.as_mut(), self.minute.as_mut()];
        let mut wait = Duration::ZERO;
        for bucket in buckets.into_iter().flatten() {
            bucket.refill(elapsed);
            wait = wait.max(bucket.wait());
        }
        if wait > Duration::ZERO {
            return Err(wait);
        }
        for bucket in [self.second.as_mut(), self.minute.as_mut()]
            .into_iter()
            .flatten()
        {
            bucket.tokens -= 1.0;
        }
        Ok(())
    }

    fn refund(&mut self) {
        for bucket in [self.second.as_mut(), self.minute.as_mut()]
            .into_iter()
            .flatten()
        {
            bucket.tokens = (bucket.tokens + 1.0).min(bucket.burst);
        }
    }
}

/// The per-address budgets of counted cheers and the memory of cheer ids counted over HTTP.
#[derive(Debug)]
pub struct CheerGate {
    per_second: u32,
    per_minute: u32,
    budgets: DashMap<IpAddr, Budget>,
    over_http: Mutex<RecentIds<(IpAddr, CommandId)>>,
}

impl CheerGate {
    /// At most `per_second` counted cheers a second (in bursts of as many) and `per_minute` a
    /// minute (in bursts of as many) per client address; 0 turns either off.
    pub fn new(per_second: u32, per_minute: u32) -> Self {
        Self {
            per_second,
            per_minute,
            budgets: DashMap::new(),
            over_http: Mutex::new(RecentIds::new(IDS_OVER_HTTP, REMEMBER_CHEERS)),
        }
    }

    /// Takes one cheer from `ip`'s budget, or says how long until there is one.
    pub fn take(&self, ip: IpAddr) -> Result<(), Duration> {
        if self.per_second == 0 && self.per_minute == 0 {
            return Ok(());
        }
        let bucket = |n: u32, per: f64| (n > 0).then(|| Tokens::full(f64::from(n) / per, n.into()));
        let now = Instant::now();
        self.budgets
            .entry(ip)
            .or_insert_with(|| Budget {
                second: bucket(self.per_second, 1.0),
                minute: bucket(self.per_minute, 60.0),
                last: now,
            })
            .take(now)
    }

    /// Gives back a cheer taken for one that was then refused.
    fn refund(&self, ip: IpAddr) {
        if let Some(mut budget) = self.budgets.get_mut(&ip) {
            budget.refund();
        }
    }

    /// Forgets the budgets of addresses quiet for a minute (full again by then), and lets the
    /// memory of ids over HTTP expire even when no cheer arrives.
    pub fn prune(&self) {
        let full_after = Duration::from_secs(61);
        self.budgets.retain(|_, b| b.last.elapsed() < full_after);
        self.http_ids().rotate(Instant::now());
    }

    fn http_ids(&self) -> std::sync::MutexGuard<'_, RecentIds<(IpAddr, CommandId)>> {
        self.over_http
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }
}

/// Where a cheer's id is remembered: per live connection, or per client address over HTTP.
pub enum Memory<'a> {
    /// The connection's own memory.
    Connection(&'a mut RecentIds<CommandId>),
    /// The gate's memory of `(address, id)`.
    Http,
}

impl Memory<'_> {
    fn insert(&mut self, gate: &CheerGate, ip: IpAddr, id: &CommandId) -> bool {
        match self {
            Memory::Connection(ids) => ids.insert(id.clone()),
            Memory::Http => gate.http_ids().insert((ip, id.clone())),
        }
    }

    fn remove(&mut self, gate: &CheerGate, ip: IpAddr, id: &CommandId) {
        match self {
            Memory::Connection(ids) => ids.remove(id),
            Memory::Http => gate.http_ids().remove(&(ip, id.clone())),
        }
    }
}

/// Counts a cheer once per id and within `ip`'s budget. A resend of a counted cheer is answered
/// as the first was and not counted again; a cheer over the budget is `rate_limited` with the
/// time to wait, and not counted. `ip` is `None` only where the server runs without connection
/// info (router tests): then the budget does not apply.
pub async fn cheer(
    gate: &CheerGate,
    hub: &Hub,
    actor: Actor,
    envelope: Envelope,
    ip: Option<IpAddr>,
    mut memory: Memory<'_>,
) -> Result<Answer, ApiError> {
    let Command::Cheer { team } = &envelope.command else {
        unreachable!("only cheers come here");
    };
    let team = team.clone();
    let id = envelope.id.clone();
    let key = ip.unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED));
    if !memory.insert(gate, key, &id) {
        return Ok(Answer::Cheered(team));
    }
    if let Some(ip) = ip {
        if let Err(wait) = gate.take(ip) {
            memory.remove(gate, key, &id);
            return Err(ApiError::CheersLimited(wait));
        }
    }
    match hub.command(actor, envelope).await {
        Ok(answer) => Ok(answer),
        Err(err) => {
            memory.remove(gate, key, &id);
            if let Some(ip) = ip {
                gate.refund(ip);
            }
            Err(err.into())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_id_is_new_once_and_the_memory_stays_bounded() {
        let mut ids = RecentIds::new(3, Duration::from_secs(600));
        assert!(ids.insert("a"));
        assert!(!ids.insert("a"));
        for key in ["b", "c", "d", "e", "f", "g", "h"] {
            assert!(ids.insert(key));
            assert!(ids.len() <= 6, "{}", ids.len());
        }
        ids.remove(&"h");
        assert!(ids.insert("h"), "a forgotten id counts again");
    }

    #[test]
    fn ids_expire() {
        let mut ids = RecentIds::new(100, Duration::from_millis(1));
        assert!(ids.insert(1));
        std::thread::sleep(Duration::from_millis(3));
        assert!(ids.insert(1), "remembered for at most twice the ttl");
        assert_eq!(ids.len(), 1);
    }

    #[test]
    fn the_budget_is_per_address_and_says_when_to_retry() {
        let gate = CheerGate::new(5, 8);
        let ip: IpAddr = "10.0.0.1".parse().unwrap();
        let allowed = (0..20).filter(|_| gate.take(ip).is_ok()).count();
        assert_eq!(allowed, 5, "the per-second burst");
        let wait = gate.take(ip).unwrap_err();
        assert!(
            wait > Duration::ZERO && wait <= Duration::from_millis(200),
            "{wait:?}"
        );
        assert!(gate.take("10.0.0.2".parse().unwrap()).is_ok());
        // After a second the per-second bucket is full, but the minute has only 3 left.
        gate.budgets.get_mut(&ip).unwrap().last -= Duration::from_secs(1);
        let allowed = (0..20).filter(|_| gate.take(ip).is_ok()).count();
        assert_eq!(allowed, 3, "the per-minute budget");
        let wait = gate.take(ip).unwrap_err();
        assert!(wait > Duration::from_secs(5), "{wait:?}");
    }

    #[test]
    fn no_budget_when_both_are_off() {
        let gate = CheerGate::new(0, 0);
        let ip: IpAddr = "10.0.0.1".parse().unwrap();
        assert!((0..1000).all(|_| gate.take(ip).is_ok()));
    }
}
