//! The servers a run can target and how each speaks: where a viewer connects, what it says
//! first, and what each text frame means. Frames are read by scanning a few fields, not parsed
//! whole, so that the load generator spends its CPU on sockets, not on JSON.

use std::net::{IpAddr, SocketAddr};

use anyhow::Context;
use tokio::net::{TcpSocket, TcpStream};
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::WebSocketStream;

/// Which protocol the target speaks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// makerpulse's live protocol: hello, welcome, snapshot, numbered deltas.
    Makerpulse,
    /// A plain WebSocket broadcast (the ceiling, the Node `ws` server): every text frame a
    /// publisher sends on `?pub=1` goes to every other connection.
    Ws,
    /// Socket.IO v4 over a raw WebSocket (Engine.IO 4): the publisher emits `pub`, viewers get `m`.
    Socketio,
    /// The Pusher protocol (Sockudo): viewers subscribe to a channel; the publisher uses the
    /// HTTP events API.
    Pusher,
}

/// The channel every Pusher viewer subscribes to.
pub const PUSHER_CHANNEL: &str = "bench";

/// What a received text frame means.
#[derive(Debug, PartialEq, Eq)]
pub enum Frame {
    /// makerpulse `welcome` at this seq.
    Welcome(u64),
    /// A whole view (makerpulse) or the subscription's first message (peers).
    Snapshot(u64),
    /// A numbered makerpulse delta.
    Delta {
        /// Its seq.
        seq: u64,
        /// The seq of the view's previous message.
        prev_seq: u64,
    },
    /// A broadcast payload: its number and the send stamp it carries.
    Payload {
        /// The publisher's number, 1, 2, 3…
        n: u64,
        /// When it was sent (ns on the run's clock).
        sent_ns: u64,
    },
    /// The protocol wants this text sent back (a pong, a subscribe, a namespace connect).
    Reply(String),
    /// An error from the server.
    Error,
    /// Presence and other messages that change nothing measured.
    Ignore,
}

/// The first number after `key` in `text`, skipping the few characters between them (`":`, or
/// `\":` inside an escaped JSON string).
pub fn number_after(text: &str, key: &str) -> Option<u64> {
    let at = text.find(key)? + key.len();
    let rest = &text.as_bytes()[at..];
    let start = rest.iter().take(6).position(u8::is_ascii_digit)?;
    let digits = &rest[start..];
    let end = digits
        .iter()
        .position(|b| !b.is_ascii_digit())
        .unwrap_or(digits.len());
    std::str::from_utf8(&digits[..end]).ok()?.parse().ok()
}

fn payload(text: &str) -> Option<Frame> {
    let n = number_after(text, "lgseq")?;
    let sent_ns = number_after(text, "lgts")?;
    Some(Frame::Payload { n, sent_ns })
}

impl Kind {
    /// The WebSocket URL a viewer opens under `base` (`ws://host:port`).
    pub fn viewer_url(self, base: &str, challenge: &str, app_key: &str) -> String {
        let base = base.trim_end_matches('/');
        match self {
            Kind::Makerpulse => format!("{base}/api/challenges/{challenge}/live"),
            Kind::Ws => format!("{base}/"),
            Kind::Socketio => format!("{base}/socket.io/?EIO=4&transport=websocket"),
            Kind::Pusher => format!("{base}/app/{app_key}?protocol=7&client=loadgen&version=1.0"),
        }
    }

    /// The first message a viewer sends, if any (makerpulse's `hello`, resuming from `since`).
    pub fn hello(self, since: Option<u64>) -> Option<String> {
        match self {
            Kind::Makerpulse => Some(match since {
                Some(since) => format!(r#"{{"type":"hello","since":{since}}}"#),
                None => r#"{"type":"hello"}"#.to_owned(),
            }),
            _ => None,
        }
    }

    /// What a text frame means.
    pub fn classify(self, text: &str) -> Frame {
        match self {
            Kind::Makerpulse => {
                if text.starts_with(r#"{"type":"delta""#) {
                    match (
                        number_after(text, r#""seq":"#),
                        number_after(text, r#""prev_seq":"#),
                    ) {
                        (Some(seq), Some(prev_seq)) => Frame::Delta { seq, prev_seq },
                        _ => Frame::Error,
                    }
                } else if text.starts_with(r#"{"type":"snapshot""#) {
                    number_after(text, r#""seq":"#).map_or(Frame::Error, Frame::Snapshot)
                } else if text.starts_with(r#"{"type":"welcome""#) {
                    number_after(text, r#""seq":"#).map_or(Frame::Error, Frame::Welcome)
                } else if text.starts_with(r#"{"type":"error""#) {
                    Frame::Error
                } else {
                    Frame::Ignore
                }
            }
            Kind::Ws => {
                if let Some(frame) = payload(text) {
                    frame
                } else if text.starts_with(r#"{"type":"snapshot""#) {
                    Frame::Snapshot(0)
                } else {
                    Frame::Ignore
                }
            }
            Kind::Socketio => {
                // Engine.IO packet types: 0 open, 2 ping, 4 message; Socket.IO inside: 0
                // connect, 2 event.
                if text == "2" {
                    Frame::Reply("3".to_owned())
                } else if text.starts_with("0{") {
                    Frame::Reply("40".to_owned())
                } else if text.starts_with("42") {
                    if text.starts_with(r#"42["snapshot""#) {
                        Frame::Snapshot(0)
                    } else {
                        payload(text).unwrap_or(Frame::Ignore)
                    }
                } else if text.starts_with("44") {
                    Frame::Error
                } else {
                    Frame::Ignore
                }
            }
            Kind::Pusher => {
                if text.contains("pusher:connection_established") {
                    Frame::Reply(format!(
                        r#"{{"event":"pusher:subscribe","data":{{"channel":"{PUSHER_CHANNEL}"}}}}"#
                    ))
                } else if text.contains("pusher_internal:subscription_succeeded") {
                    Frame::Snapshot(0)
                } else if text.contains("pusher:ping") {
                    Frame::Reply(r#"{"event":"pusher:pong","data":{}}"#.to_owned())
                } else if text.contains("pusher:error") {
                    Frame::Error
                } else {
                    payload(text).unwrap_or(Frame::Ignore)
                }
            }
        }
    }
}

/// The client side of one viewer's WebSocket.
pub type Socket = WebSocketStream<TcpStream>;

/// Small buffers: the load generator holds up to ~20k of these on one machine.
pub fn client_config() -> WebSocketConfig {
    WebSocketConfig::default()
        .read_buffer_size(8 * 1024)
        .write_buffer_size(0)
        .max_message_size(Some(16 << 20))
}

/// `host:port` of a `ws://` URL.
pub fn socket_addr(url: &str) -> anyhow::Result<SocketAddr> {
    let rest = url
        .strip_prefix("ws://")
        .or_else(|| url.strip_prefix("http://"))
        .context("only ws:// and http:// URLs on loopback are supported")?;
    let authority = rest.split('/').next().unwrap_or(rest);
    let addr: SocketAddr = authority
        .parse()
        .with_context(|| format!("{authority} is not IP:PORT"))?;
    anyhow::ensure!(
        addr.ip().is_loopback(),
        "load tests only target 127.0.0.0/8 or ::1, not {addr}"
    );
    Ok(addr)
}

/// Opens a WebSocket to `url` from the source address `from`.
pub async fn connect(url: &str, from: IpAddr) -> anyhow::Result<Socket> {
    let stream = connect_tcp(url, from).await?;
    upgrade(url, stream).await
}

/// Opens a TCP connection to the host of `url` from the source address `from`.
pub async fn connect_tcp(url: &str, from: IpAddr) -> anyhow::Result<TcpStream> {
    let addr = socket_addr(url)?;
    let socket = if addr.is_ipv4() {
        TcpSocket::new_v4()?
    } else {
        TcpSocket::new_v6()?
    };
    if addr.is_ipv4() == from.is_ipv4() {
        socket.bind(SocketAddr::new(from, 0))?;
    }
    socket.set_nodelay(true)?;
    Ok(socket.connect(addr).await?)
}

/// The WebSocket handshake for `url` on an open connection (a new one, or one whose earlier
/// requests have all been answered).
pub async fn upgrade(url: &str, stream: TcpStream) -> anyhow::Result<Socket> {
    let (ws, _) =
        tokio_tungstenite::client_async_with_config(url, stream, Some(client_config())).await?;
    Ok(ws)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn makerpulse_frames_are_read_by_their_prefix() {
        let k = Kind::Makerpulse;
        assert_eq!(
            k.classify(r#"{"type":"delta","schema":1,"seq":58,"prev_seq":57,"patches":[]}"#),
            Frame::Delta {
                seq: 58,
                prev_seq: 57
            }
        );
        assert_eq!(
            k.classify(r#"{"type":"welcome","challenge":"b","role":{"role":"audience"},"seq":7}"#),
            Frame::Welcome(7)
        );
        assert_eq!(
            k.classify(r#"{"type":"snapshot","view":{"schema":1,"seq":9,"role":{}}}"#),
            Frame::Snapshot(9)
        );
        assert_eq!(
            k.classify(r#"{"type":"presence","online":{"audience":3}}"#),
            Frame::Ignore
        );
    }

    #[test]
    fn broadcast_payloads_carry_their_number_and_stamp() {
        let plain = r#"{"lgseq":12,"lgts":3456,"pad":"xx"}"#;
        let expect = Frame::Payload {
            n: 12,
            sent_ns: 3456,
        };
        assert_eq!(Kind::Ws.classify(plain), expect);
        assert_eq!(
            Kind::Socketio.classify(&format!(r#"42["m",{plain}]"#)),
            expect
        );
        let escaped = r#"{"event":"m","channel":"bench","data":"{\"lgseq\":12,\"lgts\":3456}"}"#;
        assert_eq!(Kind::Pusher.classify(escaped), expect);
        assert_eq!(Kind::Socketio.classify("2"), Frame::Reply("3".into()));
    }

    #[test]
    fn only_loopback_is_a_target() {
        assert!(socket_addr("ws://127.0.0.1:8080/x").is_ok());
        assert!(socket_addr("ws://10.0.0.1:8080/x").is_err());
    }
}
