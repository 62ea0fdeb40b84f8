//! The writers of a run: judges scoring teams (and teams posting) on makerpulse, or a publisher
//! of fixed-size stamped payloads on a broadcast peer. Each publish notes its send time so that
//! receivers can measure delivery latency.

use std::net::IpAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use anyhow::Context;
use futures_util::stream::SplitSink;
use futures_util::{SinkExt, StreamExt};
use hmac::{Hmac, Mac};
use makerpulse_core::{Command, CriterionId, Envelope};
use md5::Digest;
use tokio::sync::Mutex;
use tokio_tungstenite::tungstenite::Message;

use crate::seed::{self, Seeded};
use crate::stats::{Counters, Step};
use crate::target::{self, Frame, Kind, Socket, PUSHER_CHANNEL};
use crate::viewer::Shared;

const CRITERIA: [&str; 5] = [
    "innovation",
    "execution",
    "completeness",
    "commercial",
    "presentation",
];

/// A payload of `size` bytes (at least the stamp) carrying its number and send time.
pub fn payload(n: u64, sent_ns: u64, size: usize) -> String {
    let head = format!(r#"{{"lgseq":{n},"lgts":{sent_ns},"pad":""#);
    let pad = size.saturating_sub(head.len() + 2);
    let mut s = String::with_capacity(head.len() + pad + 2);
    s.push_str(&head);
    s.extend(std::iter::repeat_n('x', pad));
    s.push_str("\"}");
    s
}

/// One writer of a run.
pub enum Publisher {
    /// makerpulse: judges submit scorecards, teams post progress, over HTTP.
    Makerpulse(MakerpulseWriter),
    /// A WebSocket publisher (`ws` and Socket.IO peers, the ceiling).
    Socket {
        /// The protocol (framing of each publish).
        kind: Kind,
        /// The last number sent and the sending half, behind a lock that also orders the
        /// numbers (the reader task answers pings through it too).
        sink: Arc<Mutex<(u64, SplitSink<Socket, Message>)>>,
        /// Payload size in bytes.
        size: usize,
    },
    /// Pusher's HTTP events API (Sockudo).
    Pusher(PusherWriter),
}

/// What the makerpulse writers hold.
pub struct MakerpulseWriter {
    http: String,
    challenge: String,
    judges: Vec<(reqwest::Client, String)>,
    teams: Vec<(reqwest::Client, makerpulse_core::TeamId, String)>,
    next: AtomicU64,
    /// The memory soak's mix ([`crate::Config::mixed`]).
    mixed: bool,
    /// Milestone ticks sent so far (mixed).
    ticks: AtomicU64,
}

/// What one command of the mixed soak is, by its place in each ten.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind10 {
    Scorecard,
    Post,
    Milestone,
    Cheer,
}

fn mixed_kind(i: u64) -> Kind10 {
    match i % 10 {
        0 | 2 | 5 | 7 => Kind10::Scorecard,
        1 | 4 | 8 => Kind10::Post,
        3 => Kind10::Milestone,
        _ => Kind10::Cheer,
    }
}

/// A paragraph as teams write them, in both languages, about 300 bytes.
fn post_text(i: u64, sent: u64) -> String {
    format!(
        "进展 #{i}：今天完成了原型的外壳和电源板，传感器校准还差两项，明天上午演示。\
         Progress #{i}: finished the prototype's case and power board; two sensor \
         calibrations left, demo tomorrow morning. lg-sent-ns={sent}"
    )
}

/// What the Pusher writer holds.
pub struct PusherWriter {
    http: String,
    app_id: String,
    key: String,
    secret: String,
    client: reqwest::Client,
    /// Publishes one at a time so that numbers arrive in order.
    n: Mutex<u64>,
    size: usize,
}

/// Source addresses for writers: past the viewers' range, one per writer, so that a server's
/// per-address command limit sees them as the separate people they stand for.
fn writer_ip(i: usize) -> IpAddr {
    IpAddr::from([127, 0, 1, (1 + i % 250) as u8])
}

impl Publisher {
    /// makerpulse writers over a seeded challenge.
    pub fn makerpulse(
        http: &str,
        challenge: &str,
        seeded: &Seeded,
        mixed: bool,
    ) -> anyhow::Result<Self> {
        let mut judges = Vec::new();
        for (i, token) in seeded.judges.iter().enumerate() {
            judges.push((seed::http_client(Some(writer_ip(i)))?, token.clone()));
        }
        let mut teams = Vec::new();
        for (i, (id, token)) in seeded.teams.iter().enumerate() {
            let client = seed::http_client(Some(writer_ip(judges.len() + i)))?;
            teams.push((client, id.clone(), token.clone()));
        }
        Ok(Publisher::Makerpulse(MakerpulseWriter {
            http: http.trim_end_matches('/').to_owned(),
            challenge: challenge.to_owned(),
            judges,
            teams,
            next: AtomicU64::new(0),
            mixed,
            ticks: AtomicU64::new(0),
        }))
    }

    /// A WebSocket publisher on `url` (the viewers' URL; `pub=1` marks it as the publisher).
    pub async fn socket(kind: Kind, url: &str, size: usize) -> anyhow::Result<Self> {
        let url = match kind {
            Kind::Socketio => format!("{url}&pub=1"),
            _ => format!("{url}?pub=1"),
        };
        let ws = target::connect(&url, IpAddr::from([127, 0, 0, 1])).await?;
        let (sink, mut stream) = ws.split();
        let sink = Arc::new(Mutex::new((0u64, sink)));
        // Answer the protocol (Socket.IO's namespace connect and pings) and drain the rest.
        let answer = sink.clone();
        let (ready_tx, ready_rx) = tokio::sync::oneshot::channel::<()>();
        let mut ready_tx = Some(ready_tx);
        let needs_handshake = kind == Kind::Socketio;
        if !needs_handshake {
            if let Some(tx) = ready_tx.take() {
                let _ = tx.send(());
            }
        }
        tokio::spawn(async move {
            while let Some(Ok(msg)) = stream.next().await {
                let Message::Text(text) = msg else { continue };
                let reply = match kind.classify(text.as_str()) {
                    Frame::Reply(reply) => reply,
                    Frame::Snapshot(_) | Frame::Ignore if text.starts_with("40") => {
                        if let Some(tx) = ready_tx.take() {
                            let _ = tx.send(());
                        }
                        continue;
                    }
                    _ => continue,
                };
                let mut guard = answer.lock().await;
                if guard.1.send(Message::text(reply)).await.is_err() {
                    break;
                }
            }
        });
        tokio::time::timeout(std::time::Duration::from_secs(10), ready_rx)
            .await
            .context("the publisher was not connected in time")??;
        Ok(Publisher::Socket { kind, sink, size })
    }

    /// Pusher's HTTP API at `http` for app `app_id`.
    pub fn pusher(
        http: &str,
        app_id: &str,
        key: &str,
        secret: &str,
        size: usize,
    ) -> anyhow::Result<Self> {
        Ok(Publisher::Pusher(PusherWriter {
            http: http.trim_end_matches('/').to_owned(),
            app_id: app_id.to_owned(),
            key: key.to_owned(),
            secret: secret.to_owned(),
            client: seed::http_client(None)?,
            n: Mutex::new(0),
            size,
        }))
    }

    /// Sends one event and notes when; on makerpulse, judges score (and, every `post_every`-th
    /// event, a team posts instead, when teams write).
    pub async fn publish(
        &self,
        shared: &Shared,
        step: &Step,
        post_every: u64,
    ) -> anyhow::Result<()> {
        match self {
            Publisher::Makerpulse(w) => w.publish(shared, step, post_every).await,
            Publisher::Socket { kind, sink, size } => {
                let mut guard = sink.lock().await;
                let n = guard.0 + 1;
                let sent = shared.clock.now_ns();
                let body = payload(n, sent, *size);
                let frame = match kind {
                    Kind::Socketio => format!(r#"42["pub",{body}]"#),
                    _ => body,
                };
                guard.1.send(Message::text(frame)).await?;
                guard.0 = n;
                Counters::inc(&step.events);
                Ok(())
            }
            Publisher::Pusher(w) => w.publish(shared, step).await,
        }
    }
}

impl MakerpulseWriter {
    async fn publish(&self, shared: &Shared, step: &Step, post_every: u64) -> anyhow::Result<()> {
        let i = self.next.fetch_add(1, Ordering::Relaxed);
        let sent = shared.clock.now_ns();
        if self.mixed {
            return self.publish_mixed(shared, step, i, sent).await;
        }
        let post = post_every > 0 && !self.teams.is_empty() && i % post_every == post_every - 1;
        // The send stamp rides in the text too, for anyone reading the log; latency is measured
        // by the seq the answer names, since the audience never sees a judge's comment.
        let (client, token, command) = if post {
            let (client, _, token) = &self.teams[(i / post_every) as usize % self.teams.len()];
            let command = Command::PostProgress {
                text: format!("进展 progress #{i} lg-sent-ns={sent}"),
                photos: vec![],
                links: vec![],
                percent: Some((i % 101) as u8),
            };
            (client, token.as_str(), command)
        } else {
            // Judges here revise the same scorecards over and over, and a revision needs a reason.
            self.revision(
                shared,
                i as usize,
                format!("lg-sent-ns={sent}"),
                "load test",
            )
        };
        self.send(shared, step, client, token, command, sent).await
    }

    /// The `n`th scorecard of the judges: over every judges × teams consecutive values of `n`
    /// each (judge, team) pair comes once, with one point more on every criterion than in the
    /// round before (10 wraps to 1), so every revision moves the team's score and the audience's
    /// board — one scorecard, one message to every viewer.
    fn revision(
        &self,
        shared: &Shared,
        n: usize,
        comment: String,
        reason: &str,
    ) -> (&reqwest::Client, &str, Command) {
        let (client, token) = &self.judges[n % self.judges.len()];
        let team_count = shared.expect_teams.max(1);
        let team =
            makerpulse_core::TeamId::new(format!("t{}", 1 + (n / self.judges.len()) % team_count))
                .expect("a valid id");
        let points = 1 + ((n / (self.judges.len() * team_count)) % 10) as u32;
        let scores = CRITERIA
            .iter()
            .map(|id| (CriterionId::new(*id).expect("a valid id"), points))
            .collect();
        let command = Command::SubmitScorecard {
            team,
            scores,
            comment,
            reason: reason.to_owned(),
        };
        (client, token.as_str(), command)
    }

    /// Sends one command that appends events, and notes their seqs' send time.
    async fn send(
        &self,
        shared: &Shared,
        step: &Step,
        client: &reqwest::Client,
        token: &str,
        command: Command,
        sent: u64,
    ) -> anyhow::Result<()> {
        let envelope = Envelope::new(seed::command_id("w"), command);
        let asked = std::time::Instant::now();
        let (status, body) =
            seed::command(client, &self.http, &self.challenge, token, &envelope).await?;
        // Any shard will do: the send stamp spreads the writers over them.
        step.answers
            .record(sent as usize, asked.elapsed().as_micros() as u64);
        anyhow::ensure!(
            status == 200,
            "{} answered {status} {body}",
            envelope.command.name()
        );
        let first = body["first_seq"].as_u64().context("first_seq")?;
        let last = body["last_seq"].as_u64().context("last_seq")?;
        for seq in first..=last {
            shared.sends.record(seq, sent);
        }
        Counters::inc(&step.events);
        Ok(())
    }

    /// One command of the mixed soak. Scorecards, posts and ticks are events that every viewer
    /// receives; a cheer is only counted (its tally reaches the log every few seconds, and
    /// viewers see the tallies as messages that are not the run's own), so it is not an event of
    /// the step.
    async fn publish_mixed(
        &self,
        shared: &Shared,
        step: &Step,
        i: u64,
        sent: u64,
    ) -> anyhow::Result<()> {
        let teams = self.teams.len().max(1) as u64;
        let mut kind = mixed_kind(i);
        let mut tick = 0;
        if kind == Kind10::Milestone {
            tick = self.ticks.fetch_add(1, Ordering::Relaxed);
            if tick / teams >= seed::SOAK_MILESTONES as u64 {
                kind = Kind10::Post;
            }
        }
        match kind {
            Kind10::Scorecard => {
                let (client, token, command) = self.revision(
                    shared,
                    i as usize,
                    format!("第 {i} 次修改 revision {i} lg-sent-ns={sent}"),
                    "复核 re-checked",
                );
                self.send(shared, step, client, token, command, sent).await
            }
            Kind10::Post => {
                let (client, _, token) = &self.teams[(i % teams) as usize];
                let command = Command::PostProgress {
                    text: post_text(i, sent),
                    photos: vec![],
                    links: vec![],
                    percent: Some((i % 101) as u8),
                };
                self.send(shared, step, client, token, command, sent).await
            }
            Kind10::Milestone => {
                let (client, _, token) = &self.teams[(tick % teams) as usize];
                let command = Command::ReachMilestone {
                    milestone: makerpulse_core::MilestoneId::new(format!("m{}", 1 + tick / teams))
                        .expect("a valid id"),
                    note: format!("完成 done lg-sent-ns={sent}"),
                };
                self.send(shared, step, client, token, command, sent).await
            }
            Kind10::Cheer => {
                let (client, team, _) = &self.teams[(i % teams) as usize];
                let envelope =
                    Envelope::new(seed::command_id("c"), Command::Cheer { team: team.clone() });
                // The audience sends no token.
                let res = client
                    .post(format!(
                        "{}/api/challenges/{}/commands",
                        self.http, self.challenge
                    ))
                    .header("content-type", "application/json")
                    .body(serde_json::to_string(&envelope)?)
                    .send()
                    .await?;
                let status = res.status().as_u16();
                let body = res.text().await.unwrap_or_default();
                // A cheer over the address's budget is refused with 429 and changes nothing;
                // the soak's rate stays under it, so any other answer is a failure.
                anyhow::ensure!(status == 200, "cheer answered {status} {body}");
                Ok(())
            }
        }
    }
}

type HmacSha256 = Hmac<sha2::Sha256>;

impl PusherWriter {
    async fn publish(&self, shared: &Shared, step: &Step) -> anyhow::Result<()> {
        let mut n = self.n.lock().await;
        // A number is spent even when the API answers with an error: if the event went out
        // anyway, viewers must not see it twice; if it did not, they see the gap.
        *n += 1;
        let next = *n;
        let sent = shared.clock.now_ns();
        let body = serde_json::json!({
            "name": "m",
            "channels": [PUSHER_CHANNEL],
            "data": payload(next, sent, self.size),
        })
        .to_string();
        let path = format!("/apps/{}/events", self.app_id);
        let timestamp = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)?
            .as_secs();
        let md5 = hex(&md5::Md5::digest(body.as_bytes()));
        let query = format!(
            "auth_key={}&auth_timestamp={timestamp}&auth_version=1.0&body_md5={md5}",
            self.key
        );
        let mut mac = HmacSha256::new_from_slice(self.secret.as_bytes())?;
        mac.update(format!("POST\n{path}\n{query}").as_bytes());
        let signature = hex(&mac.finalize().into_bytes());
        let res = self
            .client
            .post(format!(
                "{}{path}?{query}&auth_signature={signature}",
                self.http
            ))
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await?;
        let status = res.status();
        if !status.is_success() {
            let body = res.text().await.unwrap_or_default();
            anyhow::bail!("pusher events API answered {status}: {body}");
        }
        Counters::inc(&step.events);
        Ok(())
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payloads_have_the_size_asked_and_parse_back() {
        let p = payload(42, 123_456, 512);
        assert_eq!(p.len(), 512);
        let v: serde_json::Value = serde_json::from_str(&p).unwrap();
        assert_eq!(v["lgseq"], 42);
        assert_eq!(
            Kind::Ws.classify(&p),
            Frame::Payload {
                n: 42,
                sent_ns: 123_456
            }
        );
    }
}
