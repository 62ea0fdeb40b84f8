//! The shared log of a challenge in Redis, for several instances serving it together.
//!
//! The log is a stream `mp:{challenge}:log` whose entry ids are `SEQ-0`. Appends go through one
//! Lua script that checks the stream's last id is exactly the seq the instance decided against
//! before adding the entries: XADD alone refuses only ids at or below the top, and would accept a
//! gap. An append that lost a race is refused with the current top; the instance catches up and
//! decides again. Keys carry the challenge as a hash tag so a Redis Cluster keeps a challenge on
//! one shard.

use std::time::Duration;

use makerpulse_core::{ChallengeId, Event};
use redis::aio::{ConnectionManager, ConnectionManagerConfig, MultiplexedConnection};
use redis::streams::StreamReadReply;
use redis::{AsyncConnectionConfig, Client, RedisError, Script, Value};

/// How long one Redis command may take before it counts as a failure.
const RESPONSE_TIMEOUT: Duration = Duration::from_secs(2);
/// How long a tail read blocks waiting for new entries.
pub const TAIL_BLOCK: Duration = Duration::from_secs(2);

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

/// What an append did.
#[derive(Debug, PartialEq, Eq)]
pub enum Appended {
    /// The entries are in the stream; the top is now this seq.
    Done(u64),
    /// The stream's top was not the expected seq; nothing was added.
    Conflict {
        /// The top found.
        top: u64,
    },
}

/// A challenge's log in Redis.
#[derive(Clone)]
pub struct RedisLog {
    client: Client,
    conn: ConnectionManager,
    key: String,
    script: Script,
}

impl RedisLog {
    /// Connects to `url` for `challenge`.
    pub async fn connect(url: &str, challenge: &ChallengeId) -> anyhow::Result<RedisLog> {
        let client = Client::open(url)?;
        let config = ConnectionManagerConfig::new()
            .set_response_timeout(RESPONSE_TIMEOUT)
            .set_connection_timeout(RESPONSE_TIMEOUT)
            .set_number_of_retries(1)
            .set_max_delay(500);
        let conn = ConnectionManager::new_with_config(client.clone(), config).await?;
        Ok(RedisLog {
            client,
            conn,
            key: log_key(challenge),
            script: Script::new(APPEND),
        })
    }

    /// A handle for other commands on the same connection manager.
    pub fn connection(&self) -> ConnectionManager {
        self.conn.clone()
    }

    /// A dedicated connection for blocking tail reads, whose timeout allows for the block.
    pub async fn tail_connection(&self) -> Result<MultiplexedConnection, RedisError> {
        let config = AsyncConnectionConfig::new()
            .set_connection_timeout(RESPONSE_TIMEOUT)
            .set_response_timeout(TAIL_BLOCK + RESPONSE_TIMEOUT);
        self.client
            .get_multiplexed_async_connection_with_config(&config)
            .await
    }

    /// Appends `events` if the stream's top is exactly `expected_top` (see the module docs).
    pub async fn append(
        &self,
        expected_top: u64,
        events: &[Event],
    ) -> Result<Appended, RedisError> {
        let mut invocation = self.script.key(&self.key);
        invocation.arg(expected_top);
        for event in events {
            invocation.arg(event.to_json());
        }
        let mut conn = self.conn.clone();
        let (ok, top): (i64, u64) = invocation.invoke_async(&mut conn).await?;
        Ok(if ok == 1 {
            Appended::Done(top)
        } else {
            Appended::Conflict { top }
        })
    }

    /// The seq at the top of the stream (0 when empty or missing).
    pub async fn top(&self) -> Result<u64, RedisError> {
        let mut conn = self.conn.clone();
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
        let mut conn = self.conn.clone();
        let id = format!("{seq}-0");
        let reply: redis::streams::StreamRangeReply = redis::cmd("XRANGE")
            .arg(&self.key)
            .arg(&id)
            .arg(&id)
            .query_async(&mut conn)
            .await?;
        Ok(reply.ids.first().and_then(parse_entry))
    }

    /// Reads up to `count` entries after `after`, blocking up to [`TAIL_BLOCK`] for new ones.
    pub async fn read_after(
        &self,
        conn: &mut MultiplexedConnection,
        after: u64,
        count: usize,
    ) -> Result<Vec<Event>, RedisError> {
        let reply: Option<StreamReadReply> = redis::cmd("XREAD")
            .arg("COUNT")
            .arg(count)
            .arg("BLOCK")
            .arg(TAIL_BLOCK.as_millis() as u64)
            .arg("STREAMS")
            .arg(&self.key)
            .arg(format!("{after}-0"))
            .query_async(conn)
            .await?;
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
