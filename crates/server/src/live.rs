//! The live WebSocket: `hello`, then the view's messages, with commands answered on the same
//! socket. Each connection is one task: it writes the view's messages, reads the client's, and
//! answers one command at a time while the view goes on.
//!
//! Every view message is serialised once by the hub and shared: a connection queues a reference
//! to it, never a copy ([`crate::socket`]), and holds no buffer between messages. A connection
//! that falls more than a queue behind is resynced with a snapshot, and one whose writes stall
//! is closed, so a viewer who never reads cannot slow anyone else or grow the server's memory.

use std::future::Future;
use std::net::IpAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::ws::Utf8Bytes;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use makerpulse_core::protocol::{
    ClientMessage, ServerMessage, CLOSE_IDLE, CLOSE_PROTOCOL, CLOSE_RECONNECT, CLOSE_UNAUTHORIZED,
};
use makerpulse_core::{Actor, ChallengeId, Command, CommandId, DomainError, Parts, Role};
use tokio::sync::broadcast;
use tokio::time::Instant;
use tracing::Instrument;

use crate::app::AppState;
use crate::cheers::{self, RecentIds};
use crate::http::error::ApiError;
use crate::http::ClientIp;
use crate::hub::{Answer, Hub, Start};
use crate::limits::{Bucket, Connection};
use crate::socket::{Ended, Event, Inbound, Socket, Upgrade, CLOSE_NORMAL};

/// The largest message a client may send, in bytes; larger ones get an error.
pub const MAX_INBOUND: usize = 64 * 1024;
/// Messages above this are refused by the WebSocket layer itself, closing the connection.
const MAX_FRAME: usize = 1024 * 1024;
/// How long a client has to say `hello`.
const HELLO_TIMEOUT: Duration = Duration::from_secs(10);
/// How often the server pings.
const PING_EVERY: Duration = Duration::from_secs(20);
/// How long a connection may stay silent (pongs count) before it is closed.
const IDLE_TIMEOUT: Duration = Duration::from_secs(60);
/// How long one write may wait without progress before the connection is closed as stalled;
/// every connection's writes are held to it ([`crate::accept::Guarded`], and the socket's own).
pub const WRITE_TIMEOUT: Duration = Duration::from_secs(10);

/// The live route.
pub fn router() -> Router<AppState> {
    Router::new().route("/api/challenges/{id}/live", get(upgrade))
}

async fn upgrade(
    State(state): State<AppState>,
    Path(id): Path<String>,
    ClientIp(ip): ClientIp,
    ws: Upgrade,
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
    ws.on_upgrade(move |socket| connection(socket.max_message(MAX_FRAME), state, hub, ip, slot))
}

/// What a command's handling asks the connection to do.
enum Out {
    /// Send this text.
    Text(Utf8Bytes),
    /// Send a fresh snapshot.
    Resync,
}

fn text(msg: &ServerMessage) -> Utf8Bytes {
    Utf8Bytes::from(msg.to_json())
}

/// The socket's form of an error, from the one catalogue in [`ApiError`].
fn error_text(id: Option<CommandId>, error: impl Into<ApiError>) -> Utf8Bytes {
    text(&error.into().to_message(id))
}

/// Reads the `hello` and authenticates it, then runs the connection: an audience connection on
/// the audience's runtime ([`crate::audience`]), a console here. `slot` is the address's
/// connection slot, held for as long as the connection runs.
async fn connection(
    mut socket: Socket,
    state: AppState,
    hub: Arc<Hub>,
    ip: Option<std::net::IpAddr>,
    slot: Option<Connection>,
) {
    let hello = tokio::time::timeout(HELLO_TIMEOUT, socket.recv()).await;
    let (token, follow) = match hello {
        Ok(Ok(Inbound::Text(raw))) => match serde_json::from_str::<ClientMessage>(&raw) {
            Ok(ClientMessage::Hello {
                token,
                since,
                parts,
            }) => (token, Follow { since, parts }),
            _ => {
                socket.send_text(error_text(None, ApiError::ExpectedHello));
                return socket.close(CLOSE_PROTOCOL, "expected hello").await;
            }
        },
        _ => return socket.close(CLOSE_PROTOCOL, "expected hello").await,
    };
    let actor = match state.authenticate(Some(&hub), token.as_deref(), ip).await {
        Ok(Some(actor)) => actor,
        refused => {
            let error = refused.err().unwrap_or(ApiError::Unauthorized);
            socket.send_text(error_text(None, error));
            return socket.close(CLOSE_UNAUTHORIZED, "unauthorized").await;
        }
    };
    let span = tracing::info_span!("live", challenge = %hub.id(), role = actor.role_name());
    // The session is the task's future itself, not wrapped in another async block: a block
    // keeps what it captures beside the future it awaits, which doubled every audience task.
    let held = Held {
        _slot: slot,
        _counted: None,
    };
    if matches!(actor, Actor::Audience) {
        let runtime = state.audience.clone();
        runtime.spawn(move |counted| {
            let held = Held {
                _counted: Some(counted),
                ..held
            };
            session(socket, state, hub, actor, follow, ip, held).instrument(span)
        });
    } else {
        session(socket, state, hub, actor, follow, ip, held)
            .instrument(span)
            .await;
    }
}

/// What the `hello` asked to follow: the parts of the view, from which seq.
struct Follow {
    since: Option<u64>,
    parts: Parts,
}

/// What a connection holds for as long as it runs: its address's connection slot and, on the
/// audience's runtime, its place in the count of connections there.
struct Held {
    _slot: Option<Connection>,
    _counted: Option<crate::audience::Counted>,
}

/// A connection after its `hello`, until it ends.
async fn session(
    mut socket: Socket,
    state: AppState,
    hub: Arc<Hub>,
    actor: Actor,
    follow: Follow,
    ip: Option<IpAddr>,
    _held: Held,
) {
    let role = Role::of(&actor);
    let role_name = actor.role_name();
    state.metrics.connected(role_name, 1);
    hub.connected(&role, 1);
    tracing::debug!("connected");

    let end = serve(&mut socket, &state, &hub, &role, actor, ip, follow).await;
    match end {
        End::Close(code, reason) => socket.close(code, reason).await,
        End::Echo(code) => socket.close(code.unwrap_or(CLOSE_NORMAL), "").await,
        End::Drop => {}
    }
    state.metrics.connected(role_name, -1);
    hub.connected(&role, -1);
    tracing::debug!("disconnected");
}

/// How a connection ends.
enum End {
    /// With a close frame of the server's.
    Close(u16, &'static str),
    /// Answering the client's close frame.
    Echo(Option<u16>),
    /// Without a word: the client is gone or stopped reading.
    Drop,
}

/// A command being handled, which gives its connection's [`Sender`] back with the answer.
type Handling<'a> = Pin<Box<dyn Future<Output = (Out, Sender)> + Send + 'a>>;

/// Runs a connection: subscribes to its view, then sends the view's messages, the presence and
/// the pings, and answers what the client sends, one command at a time (the next message is
/// read once the last one is answered), until one side ends it.
async fn serve(
    socket: &mut Socket,
    state: &AppState,
    hub: &Arc<Hub>,
    role: &Role,
    actor: Actor,
    ip: Option<IpAddr>,
    follow: Follow,
) -> End {
    let mut shutdown = state.shutdown.clone();
    let mut presence = hub.presence();
    let Follow { mut since, parts } = follow;
    let mut welcome = true;
    // Idle between commands; taken by the command being handled (boxed: most connections never
    // send one, and the box keeps the rare path out of every connection's task).
    let mut sender = Some(Sender {
        actor,
        ip,
        rates: CommandRates::new(),
        cheers: cheers::connection_memory(),
    });
    let mut handling: Option<Handling<'_>> = None;
    // One timer for the pings and the idle limit.
    let mut heard = Instant::now();
    let mut ping_at = heard + PING_EVERY;
    let timer = tokio::time::sleep_until(ping_at);
    tokio::pin!(timer);
    'subscribe: loop {
        let sub = hub.subscribe(role, parts, since);
        let mut rx = sub.rx;
        let mut count = 0;
        if welcome {
            let hello = ServerMessage::Welcome {
                challenge: hub.id().clone(),
                role: role.clone(),
                seq: sub.seq,
            };
            socket.send_text(text(&hello));
            count += 1;
            welcome = false;
        }
        // The welcome and the start of the subscription go out in one write.
        match sub.start {
            Start::Snapshot(text) => {
                socket.send_text(text);
                count += 1;
            }
            Start::Replay(msgs) => {
                for msg in msgs {
                    socket.send_text(msg.text);
                    count += 1;
                }
            }
        }
        state.metrics.sent(count);
        loop {
            tokio::select! {
                () = crate::app::stopped(&mut shutdown) => {
                    return End::Close(CLOSE_RECONNECT, "server restarting; reconnect with since");
                }
                event = socket.next(sender.is_some()) => match event {
                    Ok(Event::Room) => {}
                    Ok(Event::Inbound(inbound)) => {
                        heard = Instant::now();
                        match inbound {
                            Inbound::Text(raw) => {
                                if let Some(mut idle) = sender.take() {
                                    handling = Some(Box::pin(async move {
                                        let out = handle(state, hub, &mut idle, &raw).await;
                                        (out, idle)
                                    }));
                                }
                            }
                            Inbound::Binary => {
                                socket.send_text(error_text(None, ApiError::BinaryUnsupported));
                            }
                            Inbound::Control => {}
                            Inbound::Close(code) => return End::Echo(code),
                        }
                    }
                    Err(Ended::Protocol(code, reason)) => return End::Close(code, reason),
                    Err(Ended::Stalled) => {
                        state.metrics.slow_close();
                        tracing::info!("closing a connection whose writes stalled");
                        return End::Drop;
                    }
                    Err(Ended::Gone) => return End::Drop,
                },
                (out, idle) = std::future::poll_fn(|cx| match &mut handling {
                    Some(command) => command.as_mut().poll(cx),
                    None => std::task::Poll::Pending,
                }), if handling.is_some() => {
                    handling = None;
                    sender = Some(idle);
                    match out {
                        Out::Text(text) => socket.send_text(text),
                        Out::Resync => {
                            since = None;
                            continue 'subscribe;
                        }
                    }
                }
                received = rx.recv(), if socket.has_room() => match received {
                    Ok(msg) => {
                        // Every message already queued behind it goes out in the same write,
                        // up to the queue's room: a connection that fell behind in a burst
                        // catches up with a few large writes instead of many small ones.
                        socket.send_text(msg.text);
                        let mut count = 1;
                        while socket.has_room() {
                            match rx.try_recv() {
                                Ok(msg) => {
                                    socket.send_text(msg.text);
                                    count += 1;
                                }
                                Err(broadcast::error::TryRecvError::Lagged(_)) => {
                                    state.metrics.sent(count);
                                    state.metrics.resynced();
                                    since = None;
                                    continue 'subscribe;
                                }
                                Err(_) => break,
                            }
                        }
                        state.metrics.sent(count);
                    }
                    Err(broadcast::error::RecvError::Lagged(_)) => {
                        state.metrics.resynced();
                        since = None;
                        continue 'subscribe;
                    }
                    Err(broadcast::error::RecvError::Closed) => return End::Drop,
                },
                changed = presence.changed() => {
                    if changed.is_err() {
                        return End::Drop;
                    }
                    let text = presence.borrow_and_update().clone();
                    socket.send_text(text);
                }
                () = &mut timer => {
                    let now = Instant::now();
                    if now >= heard + IDLE_TIMEOUT {
                        return End::Close(CLOSE_IDLE, "idle");
                    }
                    if now >= ping_at {
                        socket.send_ping();
                        ping_at = now + PING_EVERY;
                    }
                    timer.as_mut().reset(ping_at.min(heard + IDLE_TIMEOUT));
                }
            }
        }
    }
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
