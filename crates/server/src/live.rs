//! The live WebSocket: `hello`, then the view's messages, with commands answered on the same
//! socket. Each connection runs a reader (this task) and a writer task; when either ends, both do.
//!
//! The writer only ever waits on this one socket: every view message is serialised once by the
//! hub and shared, a connection that falls more than a queue behind is resynced with a snapshot,
//! and one whose writes stall is closed, so a viewer who never reads cannot slow anyone else or
//! grow the server's memory.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket, WebSocketUpgrade};
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use futures_util::stream::SplitSink;
use futures_util::{SinkExt, StreamExt};
use makerpulse_core::protocol::{
    ClientMessage, ServerMessage, CLOSE_IDLE, CLOSE_PROTOCOL, CLOSE_RECONNECT, CLOSE_UNAUTHORIZED,
};
use makerpulse_core::{Actor, ChallengeId, Command, CommandId, DomainError, Parts, Role};
use tokio::sync::{broadcast, mpsc};
use tracing::Instrument;

use crate::app::AppState;
use crate::cheers::{self, RecentIds};
use crate::http::error::ApiError;
use crate::http::ClientIp;
use crate::hub::{Answer, Hub, Msg, Start};
use crate::limits::{Bucket, Connection};

/// The largest message a client may send, in bytes; larger ones get an error.
pub const MAX_INBOUND: usize = 64 * 1024;
/// Frames above this are refused by the WebSocket layer itself, closing the connection.
const MAX_FRAME: usize = 1024 * 1024;
/// How long a client has to say `hello`.
const HELLO_TIMEOUT: Duration = Duration::from_secs(10);
/// How often the server pings.
const PING_EVERY: Duration = Duration::from_secs(20);
/// How long a connection may stay silent (pongs count) before it is closed.
const IDLE_TIMEOUT: Duration = Duration::from_secs(60);
/// How long one write may take before the connection is closed as stalled; every connection's
/// writes are held to it ([`crate::accept::Guarded`]).
pub const WRITE_TIMEOUT: Duration = Duration::from_secs(10);

/// The live route.
pub fn router() -> Router<AppState> {
    Router::new().route("/api/challenges/{id}/live", get(upgrade))
}

async fn upgrade(
    State(state): State<AppState>,
    Path(id): Path<String>,
    ClientIp(ip): ClientIp,
    ws: WebSocketUpgrade,
) -> Response {
    let hub = match ChallengeId::new(id) {
        Ok(id) => state.hub(&id).await,
        Err(_) => None,
    };
    let Some(hub) = hub else {
        return ApiError::NotFound("challenge").into_response();
    };
    let slot = match ip {
        Some(ip) => match state.limits.connect(ip) {
            Some(slot) => Some(slot),
            None => {
                return ApiError::TooManyConnections(state.limits.max_connections()).into_response()
            }
        },
        None => None,
    };
    ws.max_message_size(MAX_FRAME)
        .max_frame_size(MAX_FRAME)
        // Frames wait in the write buffer until the writer flushes: one message at a time for a
        // connection that keeps up, several in one write for one that fell behind (`send_batch`).
        .write_buffer_size(BATCH_BYTES)
        // tungstenite's default read buffer is 128 KiB per connection, allocated up front and
        // zero-filled; viewers send almost nothing (a hello, pongs), so 512 bytes keeps an idle
        // connection at a few KiB. Larger messages (a team's post) are still read whole.
        .read_buffer_size(512)
        .on_upgrade(move |socket| connection(socket, state, hub, ip, slot))
}

/// What the reader asks the writer to do.
enum Out {
    /// Send this text.
    Text(Utf8Bytes),
    /// Send a fresh snapshot.
    Resync,
    /// Close with this code.
    Close(u16, &'static str),
}

fn text(msg: &ServerMessage) -> Utf8Bytes {
    Utf8Bytes::from(msg.to_json())
}

/// The socket's form of an error, from the one catalogue in [`ApiError`].
fn error_text(id: Option<CommandId>, error: impl Into<ApiError>) -> Utf8Bytes {
    text(&error.into().to_message(id))
}

async fn close(socket: &mut WebSocket, code: u16, reason: &'static str) {
    let frame = CloseFrame {
        code,
        reason: Utf8Bytes::from_static(reason),
    };
    let _ = socket.send(Message::Close(Some(frame))).await;
}

/// Reads the `hello` and authenticates it, then runs the connection: an audience connection on
/// the audience's runtime ([`crate::audience`]), a console here. `slot` is the address's
/// connection slot, held for as long as the connection runs.
async fn connection(
    mut socket: WebSocket,
    state: AppState,
    hub: Arc<Hub>,
    ip: Option<std::net::IpAddr>,
    slot: Option<Connection>,
) {
    let hello = tokio::time::timeout(HELLO_TIMEOUT, socket.recv()).await;
    let (token, since, parts) = match hello {
        Ok(Some(Ok(Message::Text(raw)))) => {
            match serde_json::from_str::<ClientMessage>(raw.as_str()) {
                Ok(ClientMessage::Hello {
                    token,
                    since,
                    parts,
                }) => (token, since, parts),
                _ => {
                    let reply = error_text(None, ApiError::ExpectedHello);
                    let _ = socket.send(Message::Text(reply)).await;
                    return close(&mut socket, CLOSE_PROTOCOL, "expected hello").await;
                }
            }
        }
        _ => return close(&mut socket, CLOSE_PROTOCOL, "expected hello").await,
    };
    let actor = match state.authenticate(Some(&hub), token.as_deref(), ip).await {
        Ok(Some(actor)) => actor,
        refused => {
            let error = refused.err().unwrap_or(ApiError::Unauthorized);
            let _ = socket.send(Message::Text(error_text(None, error))).await;
            return close(&mut socket, CLOSE_UNAUTHORIZED, "unauthorized").await;
        }
    };
    let span = tracing::info_span!("live", challenge = %hub.id(), role = actor.role_name());
    let audience = matches!(actor, Actor::Audience).then(|| state.audience.clone());
    let run = async move {
        session(socket, state, hub, actor, since, parts, ip).await;
        drop(slot);
    }
    .instrument(span);
    match audience {
        Some(runtime) => runtime.spawn(run),
        None => run.await,
    }
}

/// A connection after its `hello`: its reader here, its writer on a task of its own.
async fn session(
    socket: WebSocket,
    state: AppState,
    hub: Arc<Hub>,
    actor: Actor,
    since: Option<u64>,
    parts: Parts,
    ip: Option<IpAddr>,
) {
    let role = Role::of(&actor);
    let role_name = actor.role_name();
    state.metrics.connected(role_name, 1);
    hub.connected(&role, 1);
    tracing::debug!("connected");

    let (sink, mut stream) = socket.split();
    let (out_tx, out_rx) = mpsc::channel::<Out>(32);
    let writer = tokio::spawn(
        writer(
            sink,
            hub.clone(),
            role.clone(),
            parts,
            since,
            out_rx,
            state.clone(),
        )
        .in_current_span(),
    );

    let mut sender = Sender {
        actor,
        ip,
        rates: CommandRates::new(),
        cheers: cheers::connection_memory(),
    };
    loop {
        let frame = tokio::select! {
            frame = tokio::time::timeout(IDLE_TIMEOUT, stream.next()) => frame,
            _ = out_tx.closed() => break,
        };
        let msg = match frame {
            Err(_) => {
                let _ = out_tx.send(Out::Close(CLOSE_IDLE, "idle")).await;
                break;
            }
            Ok(None) | Ok(Some(Err(_))) | Ok(Some(Ok(Message::Close(_)))) => break,
            Ok(Some(Ok(msg))) => msg,
        };
        let raw = match msg {
            Message::Text(raw) => raw,
            Message::Binary(_) => {
                let reply = error_text(None, ApiError::BinaryUnsupported);
                if out_tx.send(Out::Text(reply)).await.is_err() {
                    break;
                }
                continue;
            }
            Message::Ping(_) | Message::Pong(_) => continue,
            Message::Close(_) => break,
        };
        let reply = handle(&state, &hub, &mut sender, raw.as_str()).await;
        if out_tx.send(reply).await.is_err() {
            break;
        }
    }
    drop(out_tx);
    let _ = writer.await;
    state.metrics.connected(role_name, -1);
    hub.connected(&role, -1);
    tracing::debug!("disconnected");
}

/// Who sends on one connection: the actor, its address, and what the connection keeps to limit
/// it (its rates, the ids of the cheers it had counted).
struct Sender {
    actor: Actor,
    ip: Option<IpAddr>,
    rates: CommandRates,
    cheers: RecentIds<CommandId>,
}

/// Answers one inbound message.
async fn handle(state: &AppState, hub: &Hub, sender: &mut Sender, raw: &str) -> Out {
    if raw.len() > MAX_INBOUND {
        return Out::Text(error_text(None, ApiError::MessageTooLarge(MAX_INBOUND)));
    }
    let msg = match serde_json::from_str::<ClientMessage>(raw) {
        Ok(msg) => msg,
        Err(e) => {
            let error = DomainError::Malformed {
                detail: e.to_string(),
            };
            return Out::Text(error_text(None, error));
        }
    };
    let envelope = match msg {
        // A snapshot is the largest answer the server gives (the whole view, serialised for this
        // one connection), so asking for one counts like a command: 10 a second, not thousands.
        ClientMessage::Snapshot if !sender.rates.allow(false) => {
            return Out::Text(error_text(None, ApiError::SocketRateLimited));
        }
        ClientMessage::Snapshot => return Out::Resync,
        ClientMessage::Hello { .. } => return Out::Text(error_text(None, ApiError::AlreadyHello)),
        ClientMessage::Command(envelope) => envelope,
    };
    let id = envelope.id.clone();
    let is_cheer = matches!(envelope.command, Command::Cheer { .. });
    if !sender.rates.allow(is_cheer) {
        return Out::Text(error_text(Some(id), ApiError::SocketRateLimited));
    }
    if let Err(error) = envelope.check_schema() {
        return Out::Text(error_text(Some(id), error));
    }
    let answer = if is_cheer {
        let memory = cheers::Memory::Connection(&mut sender.cheers);
        cheers::cheer(
            &state.cheers,
            hub,
            sender.actor.clone(),
            envelope,
            sender.ip,
            memory,
        )
        .await
    } else {
        hub.command(sender.actor.clone(), envelope)
            .await
            .map_err(ApiError::from)
    };
    let reply = match answer {
        Ok(Answer::Applied {
            first_seq,
            last_seq,
        }) => ServerMessage::Ack {
            id,
            first_seq,
            last_seq,
            repeated: false,
        },
        Ok(Answer::Repeated {
            first_seq,
            last_seq,
        }) => ServerMessage::Ack {
            id,
            first_seq,
            last_seq,
            repeated: true,
        },
        Ok(Answer::Cheered(team)) => ServerMessage::Cheered { id, team },
        Err(err) => err.to_message(Some(id)),
    };
    Out::Text(text(&reply))
}

/// The rates of commands one live connection may send, as token buckets: commands in general,
/// and cheers, which people tap fast.
struct CommandRates {
    commands: Bucket,
    cheers: Bucket,
}

impl CommandRates {
    fn new() -> Self {
        Self {
            commands: Bucket::new(10.0, 20.0),
            cheers: Bucket::new(5.0, 10.0),
        }
    }

    fn allow(&mut self, cheer: bool) -> bool {
        if cheer {
            self.cheers.take()
        } else {
            self.commands.take()
        }
    }
}

type Sink = SplitSink<WebSocket, Message>;

/// Sends one message, or gives up when the client has stopped reading.
async fn send(sink: &mut Sink, msg: Message, state: &AppState) -> bool {
    match tokio::time::timeout(WRITE_TIMEOUT, sink.send(msg)).await {
        Ok(Ok(())) => true,
        Ok(Err(_)) => false,
        Err(_) => {
            state.metrics.slow_close();
            tracing::info!("closing a connection whose writes stalled");
            false
        }
    }
}

/// Sends the start of a subscription (the welcome, then a snapshot or the missed messages) with
/// one flush: a resume in a storm is one write, not one per missed message.
async fn send_all(sink: &mut Sink, texts: Vec<Utf8Bytes>, state: &AppState) -> bool {
    let count = texts.len() as u64;
    let all = async {
        for text in texts {
            sink.feed(Message::Text(text)).await?;
        }
        sink.flush().await
    };
    match tokio::time::timeout(WRITE_TIMEOUT, all).await {
        Ok(Ok(())) => {
            state.metrics.sent(count);
            true
        }
        Ok(Err(_)) => false,
        Err(_) => {
            state.metrics.slow_close();
            tracing::info!("closing a connection whose writes stalled");
            false
        }
    }
}

/// How many bytes of view messages one write may carry at most when a connection has fallen
/// behind. Also the write buffer's size (see [`upgrade`]): below it, frames wait in the buffer
/// until [`send_batch`] flushes them. tungstenite keeps the buffer's largest size for the life
/// of the connection, so this is also what a connection that once lagged keeps (32 KiB cost
/// ~40 KB per viewer after a burst at 10k viewers); 16 KiB still carries two of today's 7.5 KB
/// audience deltas, or a dozen progress posts, per write.
const BATCH_BYTES: usize = 16 * 1024;

/// How a batch of view messages went.
enum Batch {
    Sent,
    Failed,
    /// The connection fell more than the queue behind while the batch was gathered.
    Lagged,
}

/// Writes `first` and every view message already queued behind it, up to [`BATCH_BYTES`], with
/// one flush: still one WebSocket frame per message, in order, but one `write` for all of them.
///
/// On loopback and on real networks alike, most of what a send costs the server is paid per
/// write (the syscall, one TCP segment through the stack, waking the reader), not per byte: a
/// connection that fell behind during a burst catches up with a few large writes instead of
/// many small ones, so the cost per viewer stays flat as the event rate climbs. A connection
/// that keeps up sends one message per write, exactly as before. The write buffer keeps the
/// capacity of the largest batch, so the cap also bounds a lagging connection's memory.
async fn send_batch(
    sink: &mut Sink,
    first: Msg,
    rx: &mut broadcast::Receiver<Msg>,
    state: &AppState,
) -> Batch {
    let gather = async {
        let mut bytes = first.text.len();
        let mut count = 1;
        sink.feed(Message::Text(first.text)).await?;
        while bytes < BATCH_BYTES {
            match rx.try_recv() {
                Ok(msg) => {
                    bytes += msg.text.len();
                    count += 1;
                    sink.feed(Message::Text(msg.text)).await?;
                }
                Err(broadcast::error::TryRecvError::Lagged(_)) => {
                    sink.flush().await?;
                    state.metrics.sent(count);
                    return Ok(Batch::Lagged);
                }
                Err(_) => break,
            }
        }
        sink.flush().await?;
        state.metrics.sent(count);
        Ok::<_, axum::Error>(Batch::Sent)
    };
    match tokio::time::timeout(WRITE_TIMEOUT, gather).await {
        Ok(Ok(batch)) => batch,
        Ok(Err(_)) => Batch::Failed,
        Err(_) => {
            state.metrics.slow_close();
            tracing::info!("closing a connection whose writes stalled");
            Batch::Failed
        }
    }
}

async fn writer(
    mut sink: Sink,
    hub: Arc<Hub>,
    role: Role,
    parts: Parts,
    since: Option<u64>,
    mut out: mpsc::Receiver<Out>,
    state: AppState,
) {
    let mut shutdown = state.shutdown.clone();
    let mut presence = hub.presence();
    let mut since = since;
    let mut welcome = true;
    'subscribe: loop {
        let sub = hub.subscribe(&role, parts, since);
        let mut rx = sub.rx;
        let mut first = Vec::new();
        if welcome {
            let hello = ServerMessage::Welcome {
                challenge: hub.id().clone(),
                role: role.clone(),
                seq: sub.seq,
            };
            first.push(text(&hello));
            welcome = false;
        }
        match sub.start {
            Start::Snapshot(text) => first.push(text),
            Start::Replay(msgs) => first.extend(msgs.into_iter().map(|m| m.text)),
        }
        if !send_all(&mut sink, first, &state).await {
            return;
        }
        let mut ping =
            tokio::time::interval_at(tokio::time::Instant::now() + PING_EVERY, PING_EVERY);
        loop {
            tokio::select! {
                () = crate::app::stopped(&mut shutdown) => {
                    let frame = CloseFrame { code: CLOSE_RECONNECT, reason: Utf8Bytes::from_static("server restarting; reconnect with since") };
                    let _ = send(&mut sink, Message::Close(Some(frame)), &state).await;
                    return;
                }
                direct = out.recv() => match direct {
                    Some(Out::Text(text)) => {
                        if !send(&mut sink, Message::Text(text), &state).await {
                            return;
                        }
                    }
                    Some(Out::Resync) => {
                        since = None;
                        continue 'subscribe;
                    }
                    Some(Out::Close(code, reason)) => {
                        let frame = CloseFrame { code, reason: Utf8Bytes::from_static(reason) };
                        let _ = send(&mut sink, Message::Close(Some(frame)), &state).await;
                        return;
                    }
                    None => return,
                },
                received = rx.recv() => match received {
                    Ok(msg) => match send_batch(&mut sink, msg, &mut rx, &state).await {
                        Batch::Sent => {}
                        Batch::Failed => return,
                        Batch::Lagged => {
                            state.metrics.resynced();
                            since = None;
                            continue 'subscribe;
                        }
                    },
                    Err(broadcast::error::RecvError::Lagged(_)) => {
                        state.metrics.resynced();
                        since = None;
                        continue 'subscribe;
                    }
                    Err(broadcast::error::RecvError::Closed) => return,
                },
                changed = presence.changed() => {
                    if changed.is_err() {
                        return;
                    }
                    let text = presence.borrow_and_update().clone();
                    if !send(&mut sink, Message::Text(text), &state).await {
                        return;
                    }
                }
                _ = ping.tick() => {
                    if !send(&mut sink, Message::Ping(Default::default()), &state).await {
                        return;
                    }
                }
            }
        }
    }
}
