//! Presence: who is online, counted per role on this instance and, with Redis, summed over every
//! live instance. Transient, never logged.

use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::time::Duration;

use axum::extract::ws::Utf8Bytes;
use makerpulse_core::protocol::{Online, ServerMessage};
use makerpulse_core::{ChallengeId, Role};
use tokio::sync::watch;

use super::Hub;
use crate::redis_log::{key, Redis};

/// Where the instances sharing a challenge report and sum who is online: a hash per instance
/// that expires unless renewed, and the set of instances, in Redis.
pub struct SharedPresence {
    redis: Redis,
    instance: String,
}

impl SharedPresence {
    /// Reports as `instance`, which must be unique per running instance.
    pub fn new(redis: Redis, instance: String) -> SharedPresence {
        SharedPresence { redis, instance }
    }
}

impl Hub {
    /// Counts a live connection of `role` in or out.
    pub fn connected(&self, role: &Role, delta: i64) {
        let i = match role {
            Role::Audience => 0,
            Role::Team(_) => 1,
            Role::Judge(_) => 2,
            Role::Admin => 3,
        };
        self.local[i].fetch_add(delta, Ordering::Relaxed);
    }

    fn local_online(&self) -> Online {
        let n = |i: usize| self.local[i].load(Ordering::Relaxed).max(0) as u64;
        Online {
            audience: n(0),
            team: n(1),
            judge: n(2),
            admin: n(3),
        }
    }

    /// The latest presence message, and a way to hear of the next.
    pub fn presence(&self) -> watch::Receiver<Utf8Bytes> {
        self.presence.subscribe()
    }

    /// Recounts who is online: this instance's connections, plus, with Redis, those every other
    /// live instance reported in the last [`PRESENCE_TTL`].
    pub async fn refresh_presence(&self) -> Online {
        let local = self.local_online();
        let online = match &self.shared_presence {
            None => local,
            Some(shared) => match shared.sum(&self.id, local).await {
                Ok(total) => total,
                Err(err) => {
                    tracing::debug!(challenge = %self.id, %err, "presence not shared");
                    local
                }
            },
        };
        let text = Utf8Bytes::from(ServerMessage::Presence { online }.to_json());
        self.presence.send_if_modified(|current| {
            if *current == text {
                false
            } else {
                *current = text;
                true
            }
        });
        online
    }
}

/// How long an instance's presence report lives in Redis without being renewed.
pub const PRESENCE_TTL: Duration = Duration::from_secs(6);

impl SharedPresence {
    /// Reports this instance's counts and sums every live instance's.
    async fn sum(
        &self,
        challenge: &ChallengeId,
        local: Online,
    ) -> Result<Online, redis::RedisError> {
        let mut conn = self.redis.connection();
        let instances = key(challenge, "instances");
        let mine = key(challenge, &format!("online:{}", self.instance));
        redis::pipe()
            .cmd("HSET")
            .arg(&mine)
            .arg("audience")
            .arg(local.audience)
            .arg("team")
            .arg(local.team)
            .arg("judge")
            .arg(local.judge)
            .arg("admin")
            .arg(local.admin)
            .ignore()
            .cmd("EXPIRE")
            .arg(&mine)
            .arg(PRESENCE_TTL.as_secs())
            .ignore()
            .cmd("SADD")
            .arg(&instances)
            .arg(&self.instance)
            .ignore()
            .query_async::<()>(&mut conn)
            .await?;
        let members: Vec<String> = redis::cmd("SMEMBERS")
            .arg(&instances)
            .query_async(&mut conn)
            .await?;
        let mut total = Online::default();
        for member in members {
            let key = key(challenge, &format!("online:{member}"));
            let counts: HashMap<String, u64> = redis::cmd("HGETALL")
                .arg(&key)
                .query_async(&mut conn)
                .await?;
            if counts.is_empty() {
                // Its report expired: the instance is gone.
                let _: i64 = redis::cmd("SREM")
                    .arg(&instances)
                    .arg(&member)
                    .query_async(&mut conn)
                    .await?;
                continue;
            }
            let get = |role: &str| counts.get(role).copied().unwrap_or(0);
            total.audience += get("audience");
            total.team += get("team");
            total.judge += get("judge");
            total.admin += get("admin");
        }
        Ok(total)
    }
}
