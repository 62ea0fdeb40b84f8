//! Redis, for several instances serving challenges together: the shared log of each challenge,
//! and the set of every shared challenge.
//!
//! The log is a stream `mp:{challenge}:log` whose entry ids are `SEQ-0`. Appends go through one
//! Lua script that checks the stream's last id is exactly the seq the instance decided against
//! before adding the entries: XADD alone refuses only ids at or below the top, and would accept a
//! gap. An append that lost a race is refused with the current top; the instance catches up and
//! decides again. Keys carry the challenge as a hash tag so a Redis Cluster keeps a challenge on
//! one shard.

use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::future::BoxFuture;
use makerpulse_core::{ChallengeId, Event};
use redis::aio::{ConnectionManager, ConnectionManagerConfig, MultiplexedConnection};
use redis::streams::StreamReadReply;
use redis::{AsyncConnectionConfig, Client, RedisError, Script, Value};

use crate::event_log::{Appended, EventLog, StoreError};
use crate::metrics::Metrics;

/// How long one Redis command may take before it counts as a failure.
const RESPONSE_TIMEOUT: Duration = Duration::from_secs(2);
/// How long a tail read blocks waiting for new entries.
pub const TAIL_BLOCK: Duration = Duration::from_secs(2);
/// The Redis set of every shared challenge id (not hash-tagged: it spans challenges).
const CHALLENGES_KEY: &str = "mp:challenges";

const APPEND: &str = r#"
local top = 0
local last = redis.call('XREVRANGE', KEYS[1], '+', '-', 'COUNT', 1)
if #last > 0 then top = tonumber(string.match(last[1][1], '^(%d+)')) end
local expected = tonumber(ARGV[1])
if top ~= expected then return {0, top} end
for i = 2, #ARGV do
  redis.call('XADD', KEYS[1], (expected + i - 1) .. '-0', 'e', ARGV[i])
end
return {1, expected + #ARGV - 1}
"#;

/// The key of a challenge's log.
pub fn log_key(challenge: &ChallengeId) -> String {
    format!("mp:{{{challenge}}}:log")
}

/// The key prefix of a challenge's transient state.
pub fn key(challenge: &ChallengeId, rest: &str) -> String {
    format!("mp:{{{challenge}}}:{rest}")
}

/// This instance's way to Redis: one connection manager for every command but tail reads,
/// built once at start and shared by every challenge and request.
#[derive(Clone)]
pub struct Redis {
    client: Client,
    conn: ConnectionManager,
}

impl Redis {
    /// Connects to `url`. A command that takes longer than two seconds counts as failed, so a
    /// Redis that is down is answered with `unavailable` at once rather than after a long wait.
    pub async fn connect(url: &str) -> Result<Redis, RedisError> {
        let client = Client::open(url)?;
        let conn = manager(&client).await?;
        Ok(Redis { client, conn })
    }

    /// A handle on the shared connection.
    pub fn connection(&self) -> ConnectionManager {
        self.conn.clone()
    }

    /// The log of `challenge`; `metrics` counts its append latency.
    pub fn log(&self, challenge: &ChallengeId, metrics: Arc<Metrics>) -> RedisLog {
        RedisLog {
            redis: self.clone(),
            key: log_key(challenge),
            script: Script::new(APPEND),
            own: None,
            tail: Arc::new(tokio::sync::Mutex::new(None)),
            metrics,
        }
    }

    /// Every challenge some instance has shared.
    pub async fn challenges(&self) -> Result<Vec<ChallengeId>, RedisError> {
        let ids: Vec<String> = redis::cmd("SMEMBERS")
            .arg(CHALLENGES_KEY)
            .query_async(&mut self.connection())
            .await?;
        Ok(ids
            .into_iter()
            .filter_map(|id| ChallengeId::new(id).ok())
            .collect())
    }

    /// Whether some instance has shared `challenge`.
    pub async fn is_shared(&self, challenge: &ChallengeId) -> Result<bool, RedisError> {
        redis::cmd("SISMEMBER")
            .arg(CHALLENGES_KEY)
            .arg(challenge.as_str())
            .query_async(&mut self.connection())
            .await
    }

    /// Records that `challenge` is shared, so other instances open it on first use.
    pub async fn share(&self, challenge: &ChallengeId) -> Result<(), RedisError> {
        redis::cmd("SADD")
            .arg(CHALLENGES_KEY)
            .arg(challenge.as_str())
            .query_async::<i64>(&mut self.connection())
            .await
            .map(drop)
    }
}

/// A connection manager with the timeouts of every command but tail reads. Its connection is
/// driven, and remade after a failure, by a task on the runtime that calls this.
async fn manager(client: &Client) -> Result<ConnectionManager, RedisError> {
    let config = ConnectionManagerConfig::new()
        .set_response_timeout(RESPONSE_TIMEOUT)
        .set_connection_timeout(RESPONSE_TIMEOUT)
        .set_number_of_retries(1)
        .set_max_delay(500);
    ConnectionManager::new_with_config(client.clone(), config).await
}

/// A challenge's log in Redis.
#[derive(Clone)]
pub struct RedisLog {
    redis: Redis,
    key: String,
    script: Script,
    /// The connection of appends and other short commands when this handle has one of its own
    /// ([`RedisLog::apart`]), opened on first use; `None`: the instance's shared one.
    own: Option<Arc<tokio::sync::OnceCell<ConnectionManager>>>,
    /// The connection of blocking tail reads, opened on first use and again after a failure. A
    /// blocking `XREAD` holds up every later command on its connection, so it never shares the
    /// manager's; a Tokio mutex, because it is held across the read.
    tail: Arc<tokio::sync::Mutex<Option<MultiplexedConnection>>>,
    metrics: Arc<Metrics>,
}

impl RedisLog {
    /// Connects to `url` for `challenge` alone, with metrics of its own: for tools and tests.
    pub async fn connect(url: &str, challenge: &ChallengeId) -> Result<RedisLog, RedisError> {
        Ok(Redis::connect(url)
            .await?
            .log(challenge, Arc::new(Metrics::new())))
    }

    /// The same log through connections of its own, each opened where it is first used: for
    /// the thread that writes and tails a challenge (`hub/replica.rs`). A connection's replies
    /// are read by a task on the runtime that opened it; through the instance's shared
    /// connection, opened on the main runtime, every append and every check of the top waited
    /// for a thread of that runtime to read its reply and then for the writer's thread to be
    /// woken, two hand-overs between threads on each command on the path of every event.
    pub fn apart(&self) -> RedisLog {
        RedisLog {
            own: Some(Arc::new(tokio::sync::OnceCell::new())),
            tail: Arc::new(tokio::sync::Mutex::new(None)),
            ..self.clone()
        }
    }

    /// The connection for appends and other short commands (see [`RedisLog::apart`]).
    async fn commands(&self) -> Result<ConnectionManager, RedisError> {
        match &self.own {
            None => Ok(self.redis.connection()),
            Some(own) => own
                .get_or_try_init(|| manager(&self.redis.client))
                .await
                .cloned(),
        }
    }

    /// A dedicated connection for blocking tail reads, whose timeout allows for the block.
    async fn tail_connection(&self) -> Result<MultiplexedConnection, RedisError> {
        let config = AsyncConnectionConfig::new()
            .set_connection_timeout(RESPONSE_TIMEOUT)
            .set_response_timeout(TAIL_BLOCK + RESPONSE_TIMEOUT);
        self.redis
            .client
            .get_multiplexed_async_connection_with_config(&config)
            .await
    }

    /// Appends `events` if the stream's top is exactly `expected_top` (see the module docs).
    pub async fn append(
        &self,
        expected_top: u64,
        events: &[Event],
    ) -> Result<Appended, RedisError> {
        let started = Instant::now();
        let mut invocation = self.script.key(&self.key);
        invocation.arg(expected_top);
        for event in events {
            invocation.arg(event.to_json());
        }
        let mut conn = self.commands().await?;
        let (ok, top): (i64, u64) = invocation.invoke_async(&mut conn).await?;
        self.metrics.redis(started.elapsed());
        Ok(if ok == 1 {
            Appended::Done(top)
        } else {
            Appended::Conflict { top }
        })
    }

    /// The seq at the top of the stream (0 when empty or missing).
    pub async fn top(&self) -> Result<u64, RedisError> {
        let mut conn = self.commands().await?;
        let entries: Vec<(String, Value)> = redis::cmd("XREVRANGE")
            .arg(&self.key)
            .arg("+")
            .arg("-")
            .arg("COUNT")
            .arg(1)
            .query_async(&mut conn)
            .await?;
        Ok(entries.first().map_or(0, |(id, _)| seq_of(id)))
    }

    /// The entry at `seq`, if the stream has it.
    pub async fn get(&self, seq: u64) -> Result<Option<Event>, RedisError> {
        let mut conn = self.commands().await?;
        let id = format!("{seq}-0");
        let reply: redis::streams::StreamRangeReply = redis::cmd("XRANGE")
            .arg(&self.key)
            .arg(&id)
            .arg(&id)
            .query_async(&mut conn)
            .await?;
        Ok(reply.ids.first().and_then(parse_entry))
    }

    /// Reads up to `count` entries after `after`, blocking up to [`TAIL_BLOCK`] for new ones, on
    /// the tail connection. A failed read drops that connection; the next read opens another.
    pub async fn read_after(&self, after: u64, count: usize) -> Result<Vec<Event>, RedisError> {
        let mut tail = self.tail.lock().await;
        let conn = match &mut *tail {
            Some(conn) => conn,
            None => tail.insert(self.tail_connection().await?),
        };
        let read: Result<Option<StreamReadReply>, RedisError> = redis::cmd("XREAD")
            .arg("COUNT")
            .arg(count)
            .arg("BLOCK")
            .arg(TAIL_BLOCK.as_millis() as u64)
            .arg("STREAMS")
            .arg(&self.key)
            .arg(format!("{after}-0"))
            .query_async(conn)
            .await;
        let reply = match read {
            Ok(reply) => reply,
            Err(err) => {
                *tail = None;
                return Err(err);
            }
        };
        let Some(reply) = reply else {
            return Ok(Vec::new());
        };
        let mut events = Vec::new();
        for key in reply.keys {
            for entry in &key.ids {
                match parse_entry(entry) {
                    Some(event) => events.push(event),
                    None => {
                        tracing::error!(id = %entry.id, "unreadable entry in the Redis log; skipped")
                    }
                }
            }
        }
        Ok(events)
    }
}

impl EventLog for RedisLog {
    fn append<'a>(
        &'a self,
        expected_top: u64,
        events: &'a [Event],
    ) -> BoxFuture<'a, Result<Appended, StoreError>> {
        Box::pin(async move { Ok(RedisLog::append(self, expected_top, events).await?) })
    }

    fn top(&self) -> BoxFuture<'_, Result<u64, StoreError>> {
        Box::pin(async move { Ok(RedisLog::top(self).await?) })
    }

    fn read_after(
        &self,
        after: u64,
        count: usize,
    ) -> BoxFuture<'_, Result<Vec<Event>, StoreError>> {
        Box::pin(async move { Ok(RedisLog::read_after(self, after, count).await?) })
    }
}

fn seq_of(id: &str) -> u64 {
    id.split('-')
        .next()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0)
}

fn parse_entry(entry: &redis::streams::StreamId) -> Option<Event> {
    let json: String = entry.get("e")?;
    let event = Event::from_json(&json).ok()?;
    (event.seq == seq_of(&entry.id)).then_some(event)
}
