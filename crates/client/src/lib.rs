//! A typed async client of the makerpulse live protocol (see `makerpulse_core::protocol`): it
//! says hello, keeps its view up to date from snapshots and deltas, notices a gap and asks for a
//! snapshot, and sends commands and waits for their answers. Used by the end-to-end tests, the load
//! generator and partners.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use makerpulse_core::protocol::{ClientMessage, ServerMessage};
use makerpulse_core::{Envelope, Parts, Role, View};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

/// What can go wrong.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The WebSocket failed.
    #[error("websocket: {0}")]
    Ws(#[from] tokio_tungstenite::tungstenite::Error),
    /// The server closed the connection.
    #[error("closed by the server: {code} {reason}")]
    Closed {
        /// The close code.
        code: u16,
        /// Why.
        reason: String,
    },
    /// A message that is not valid protocol JSON.
    #[error("unreadable message: {0}")]
    Json(#[from] serde_json::Error),
    /// Nothing arrived in time.
    #[error("timed out")]
    Timeout,
    /// The server answered `hello` with something else than `welcome`.
    #[error("unexpected answer to hello: {0:?}")]
    Handshake(Box<ServerMessage>),
}

/// What a received message did to the client's view.
#[derive(Debug, PartialEq)]
pub enum Update {
    /// A snapshot replaced the view.
    Snapshot,
    /// A delta was applied.
    Delta {
        /// Its seq.
        seq: u64,
    },
    /// A delta showed that a message was lost; a snapshot was asked for.
    Gap {
        /// The client's last seq.
        last: u64,
        /// The delta's `prev_seq`.
        prev_seq: u64,
    },
    /// A delta at or below the last seq (already seen), ignored.
    Stale,
    /// Anything else (ack, error, cheered, welcome).
    Other(ServerMessage),
}

/// A live connection.
pub struct LiveClient {
    ws: WebSocketStream<MaybeTlsStream<TcpStream>>,
    /// The role the server gave this connection.
    pub role: Role,
    /// The view, once a snapshot arrived.
    pub view: Option<View>,
    /// The last seq the view holds.
    pub last_seq: u64,
    /// Every delta seq applied, in order (for tests that check ordering).
    pub applied: Vec<u64>,
    /// A snapshot was asked for and has not come yet: the server counts each request against
    /// the connection's rate of commands, so a gap asks once, not once per delta after it.
    resyncing: bool,
}

impl LiveClient {
    /// Connects to `base` (e.g. `ws://127.0.0.1:8080`), says hello and reads the welcome.
    pub async fn connect(
        base: &str,
        challenge: &str,
        token: Option<&str>,
        since: Option<u64>,
    ) -> Result<Self, ClientError> {
        Self::connect_to_parts(base, challenge, token, since, Parts::ALL).await
    }

    /// Connects as [`LiveClient::connect`] does, following only `parts` of the view: no message
    /// comes for an event that changes none of them.
    pub async fn connect_to_parts(
        base: &str,
        challenge: &str,
        token: Option<&str>,
        since: Option<u64>,
        parts: Parts,
    ) -> Result<Self, ClientError> {
        let url = format!("{base}/api/challenges/{challenge}/live");
        let (mut ws, _) = tokio_tungstenite::connect_async(url).await?;
        let hello = ClientMessage::Hello {
            token: token.map(str::to_owned),
            since,
            parts,
        };
        ws.send(Message::text(serde_json::to_string(&hello)?))
            .await?;
        let mut client = LiveClient {
            ws,
            role: Role::Audience,
            view: None,
            last_seq: since.unwrap_or(0),
            applied: Vec::new(),
            resyncing: false,
        };
        match client.recv().await? {
            ServerMessage::Welcome { role, .. } => client.role = role,
            other => return Err(ClientError::Handshake(Box::new(other))),
        }
        Ok(client)
    }

    /// Sends a protocol message.
    pub async fn send(&mut self, msg: &ClientMessage) -> Result<(), ClientError> {
        self.send_raw(&serde_json::to_string(msg)?).await
    }

    /// Sends any text, valid or not (for tests of bad input).
    pub async fn send_raw(&mut self, text: &str) -> Result<(), ClientError> {
        self.ws.send(Message::text(text)).await?;
        Ok(())
    }

    /// Sends a binary frame (for tests of bad input).
    pub async fn send_binary(&mut self, bytes: Vec<u8>) -> Result<(), ClientError> {
        self.ws.send(Message::binary(bytes)).await?;
        Ok(())
    }

    /// The next protocol message, answering pings on the way.
    pub async fn recv(&mut self) -> Result<ServerMessage, ClientError> {
        loop {
            let Some(frame) = self.ws.next().await else {
                return Err(ClientError::Closed {
                    code: 1006,
                    reason: "connection dropped".into(),
                });
            };
            match frame? {
                Message::Text(text) => return Ok(serde_json::from_str(text.as_str())?),
                Message::Close(frame) => {
                    let (code, reason) = frame.map_or((1005, String::new()), |f| {
                        (u16::from(f.code), f.reason.to_string())
                    });
                    return Err(ClientError::Closed { code, reason });
                }
                _ => continue,
            }
        }
    }

    /// The next message, applied to the view.
    pub async fn next_update(&mut self) -> Result<Update, ClientError> {
        let msg = self.recv().await?;
        self.accept(msg).await
    }

    /// Applies one message to the view; on a gap, asks for a snapshot.
    pub async fn accept(&mut self, msg: ServerMessage) -> Result<Update, ClientError> {
        match msg {
            ServerMessage::Snapshot { view } => {
                self.resyncing = false;
                self.last_seq = view.seq;
                self.view = Some(*view);
                Ok(Update::Snapshot)
            }
            ServerMessage::Delta(delta) => {
                if delta.seq <= self.last_seq {
                    return Ok(Update::Stale);
                }
                match &mut self.view {
                    Some(view) if delta.prev_seq <= self.last_seq => {
                        view.apply(&delta);
                        self.last_seq = delta.seq;
                        self.applied.push(delta.seq);
                        Ok(Update::Delta { seq: delta.seq })
                    }
                    // Without a view (a resume) the deltas still advance the position.
                    None if delta.prev_seq <= self.last_seq => {
                        self.last_seq = delta.seq;
                        self.applied.push(delta.seq);
                        Ok(Update::Delta { seq: delta.seq })
                    }
                    _ => {
                        let last = self.last_seq;
                        if !self.resyncing {
                            self.send(&ClientMessage::Snapshot).await?;
                            self.resyncing = true;
                        }
                        Ok(Update::Gap {
                            last,
                            prev_seq: delta.prev_seq,
                        })
                    }
                }
            }
            other => {
                // A snapshot request over the rate: the next gap asks again.
                if matches!(&other, ServerMessage::Error { id: None, code, .. } if code == "rate_limited")
                {
                    self.resyncing = false;
                }
                Ok(Update::Other(other))
            }
        }
    }

    /// Sends a command and waits for its answer (`ack`, `cheered` or `error` with its id),
    /// applying view messages that arrive meanwhile.
    pub async fn command(&mut self, envelope: Envelope) -> Result<ServerMessage, ClientError> {
        let id = envelope.id.clone();
        self.send(&ClientMessage::Command(envelope)).await?;
        loop {
            match self.next_update().await? {
                Update::Other(msg @ ServerMessage::Ack { .. })
                | Update::Other(msg @ ServerMessage::Cheered { .. })
                | Update::Other(msg @ ServerMessage::Error { .. }) => {
                    let answered = match &msg {
                        ServerMessage::Ack { id: got, .. }
                        | ServerMessage::Cheered { id: got, .. } => got == &id,
                        ServerMessage::Error { id: got, .. } => got.as_ref() == Some(&id),
                        _ => false,
                    };
                    if answered {
                        return Ok(msg);
                    }
                }
                _ => continue,
            }
        }
    }

    /// Applies messages until `done` holds for the view, or `timeout` passes.
    pub async fn wait_for(
        &mut self,
        timeout: Duration,
        mut done: impl FnMut(&View) -> bool,
    ) -> Result<(), ClientError> {
        let until = tokio::time::Instant::now() + timeout;
        loop {
            if self.view.as_ref().is_some_and(&mut done) {
                return Ok(());
            }
            match tokio::time::timeout_at(until, self.next_update()).await {
                Ok(update) => {
                    update?;
                }
                Err(_) => return Err(ClientError::Timeout),
            }
        }
    }

    /// Closes the connection politely.
    pub async fn close(mut self) -> Result<(), ClientError> {
        self.ws.close(None).await?;
        Ok(())
    }
}
