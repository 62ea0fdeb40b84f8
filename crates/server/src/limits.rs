//! Limits per client address: open live connections, the rate of HTTP commands, and failed
//! authentications. The first two are configurable because a whole hall of phones may share one
//! address behind the venue's NAT.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use dashmap::DashMap;

/// A token bucket: `rate` tokens a second, at most `burst` saved up.
#[derive(Debug)]
pub struct Bucket {
    rate: f64,
    burst: f64,
    tokens: f64,
    last: Instant,
}

impl Bucket {
    /// A full bucket.
    pub fn new(rate: f64, burst: f64) -> Self {
        Self {
            rate,
            burst,
            tokens: burst,
            last: Instant::now(),
        }
    }

    /// Takes a token if there is one.
    pub fn take(&mut self) -> bool {
        let now = Instant::now();
        self.tokens =
            (self.tokens + now.duration_since(self.last).as_secs_f64() * self.rate).min(self.burst);
        self.last = now;
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }

    fn idle_for(&self) -> Duration {
        self.last.elapsed()
    }
}

/// Wrong tokens one address may present within [`AUTH_FAILURE_WINDOW`] before its tokens are
/// refused with 429 for [`AUTH_LOCKOUT`]. A person who mistyped a link does not come near it; a
/// program guessing tokens gets 20 guesses a minute, against tokens of 256 random bits (and an
/// admin token of at least 24 characters).
pub const AUTH_FAILURES_ALLOWED: u32 = 20;
/// The window in which failed authentications are counted.
pub const AUTH_FAILURE_WINDOW: Duration = Duration::from_secs(60);
/// How long an address that failed too often has its tokens refused.
pub const AUTH_LOCKOUT: Duration = Duration::from_secs(60);

/// Failed authentications of one address.
#[derive(Debug)]
struct Failures {
    since: Instant,
    count: u32,
    locked_until: Option<Instant>,
}

/// The limits per client address in force: live connections, the rate of HTTP commands, and
/// failed authentications.
#[derive(Debug)]
pub struct AddressLimits {
    max_connections: usize,
    commands_per_second: f64,
    connections: DashMap<IpAddr, usize>,
    buckets: DashMap<IpAddr, Bucket>,
    auth_failures_allowed: u32,
    failures: DashMap<IpAddr, Failures>,
}

/// One open connection, counted until dropped.
#[derive(Debug)]
pub struct Connection {
    limits: Arc<AddressLimits>,
    ip: IpAddr,
}

impl Drop for Connection {
    fn drop(&mut self) {
        if let dashmap::Entry::Occupied(mut e) = self.limits.connections.entry(self.ip) {
            *e.get_mut() -= 1;
            if *e.get() == 0 {
                e.remove();
            }
        }
    }
}

impl AddressLimits {
    /// `max_connections` live connections per address and `commands_per_second` HTTP commands
    /// per address (bursts of twice that); 0 means no limit.
    pub fn new(max_connections: usize, commands_per_second: u32) -> Self {
        Self {
            max_connections,
            commands_per_second: f64::from(commands_per_second),
            connections: DashMap::new(),
            buckets: DashMap::new(),
            auth_failures_allowed: AUTH_FAILURES_ALLOWED,
            failures: DashMap::new(),
        }
    }

    /// The same with `allowed` failed authentications per window instead of
    /// [`AUTH_FAILURES_ALLOWED`]; 0 means no limit.
    pub fn with_auth_failures(self, allowed: u32) -> Self {
        Self {
            auth_failures_allowed: allowed,
            ..self
        }
    }

    /// Counts a new connection from `ip`, or refuses it when the address has too many.
    pub fn connect(self: &Arc<Self>, ip: IpAddr) -> Option<Connection> {
        let mut count = self.connections.entry(ip).or_insert(0);
        if self.max_connections > 0 && *count >= self.max_connections {
            return None;
        }
        *count += 1;
        Some(Connection {
            limits: self.clone(),
            ip,
        })
    }

    /// The connection limit per address (0: none).
    pub fn max_connections(&self) -> usize {
        self.max_connections
    }

    /// Whether `ip` may send another HTTP command now.
    pub fn allow_command(&self, ip: IpAddr) -> bool {
        if self.commands_per_second <= 0.0 {
            return true;
        }
        let rate = self.commands_per_second;
        self.buckets
            .entry(ip)
            .or_insert_with(|| Bucket::new(rate, 2.0 * rate))
            .take()
    }

    /// Whether `ip` has failed to authenticate too often lately, and its tokens are refused.
    pub fn auth_locked(&self, ip: IpAddr) -> bool {
        self.failures
            .get(&ip)
            .and_then(|f| f.locked_until)
            .is_some_and(|until| Instant::now() < until)
    }

    /// Counts a failed authentication from `ip`; the one that reaches the allowed number
    /// ([`AUTH_FAILURES_ALLOWED`]) within the window locks the address out.
    pub fn auth_failed(&self, ip: IpAddr) {
        if self.auth_failures_allowed == 0 {
            return;
        }
        let now = Instant::now();
        let mut f = self.failures.entry(ip).or_insert(Failures {
            since: now,
            count: 0,
            locked_until: None,
        });
        if f.locked_until.is_some_and(|until| now < until) {
            return;
        }
        if now.duration_since(f.since) >= AUTH_FAILURE_WINDOW || f.locked_until.is_some() {
            *f = Failures {
                since: now,
                count: 0,
                locked_until: None,
            };
        }
        f.count += 1;
        if f.count >= self.auth_failures_allowed {
            f.locked_until = Some(now + AUTH_LOCKOUT);
        }
    }

    /// Forgets buckets idle long enough to be full again, and failures past their window and
    /// lockout, so the maps do not grow with every address ever seen.
    pub fn prune(&self) {
        let full_after = Duration::from_secs_f64(2.0 + 2.0 / self.commands_per_second.max(0.1));
        self.buckets.retain(|_, b| b.idle_for() < full_after);
        let now = Instant::now();
        self.failures.retain(|_, f| {
            now.duration_since(f.since) < AUTH_FAILURE_WINDOW
                || f.locked_until.is_some_and(|until| now < until)
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connections_are_counted_per_address_and_released() {
        let limits = Arc::new(AddressLimits::new(2, 0));
        let ip: IpAddr = "10.0.0.1".parse().unwrap();
        let a = limits.connect(ip).unwrap();
        let _b = limits.connect(ip).unwrap();
        assert!(limits.connect(ip).is_none());
        assert!(limits.connect("10.0.0.2".parse().unwrap()).is_some());
        drop(a);
        assert!(limits.connect(ip).is_some());
    }

    #[test]
    fn commands_are_rate_limited_per_address() {
        let limits = AddressLimits::new(0, 5);
        let ip: IpAddr = "10.0.0.1".parse().unwrap();
        let allowed = (0..20).filter(|_| limits.allow_command(ip)).count();
        assert_eq!(allowed, 10, "a burst of twice the rate");
        assert!(limits.allow_command("10.0.0.2".parse().unwrap()));
    }

    #[test]
    fn failed_authentications_lock_an_address_out_and_no_other() {
        let limits = AddressLimits::new(0, 0);
        let ip: IpAddr = "10.0.0.1".parse().unwrap();
        for _ in 1..AUTH_FAILURES_ALLOWED {
            limits.auth_failed(ip);
        }
        assert!(!limits.auth_locked(ip), "one short of the limit");
        limits.auth_failed(ip);
        assert!(limits.auth_locked(ip));
        assert!(!limits.auth_locked("10.0.0.2".parse().unwrap()));
        limits.prune();
        assert!(limits.auth_locked(ip), "a lockout outlives pruning");
    }
}
