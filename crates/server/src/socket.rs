//! The server's side of a WebSocket (RFC 6455), written for ten thousand idle viewers.
//!
//! tungstenite copies every frame into a per-connection write buffer and never gives its
//! capacity back, so each connection kept a buffer the size of the largest frame it was ever
//! sent (the ~13 KB snapshot at join): 22 KiB per idle viewer. Here a frame is its header (at
//! most 10 bytes) and the message's shared [`Bytes`], written with one vectored write for all
//! that are queued; nothing is copied, and between messages a connection holds no buffer at all:
//! the queue and the read buffer are freed when they empty.
//!
//! Reading is the small part a server needs: masked frames from the client, fragmented messages
//! gathered, text checked as UTF-8, pings answered, and anything else refused with the close code
//! the RFC gives.

use std::collections::VecDeque;
use std::future::Future;
use std::io::{self, IoSlice};
use std::pin::Pin;
use std::task::{ready, Context, Poll};
use std::time::Duration;

use axum::body::Body;
use axum::extract::FromRequestParts;
use axum::http::header::{self, HeaderMap, HeaderValue};
use axum::http::request::Parts;
use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::time::Sleep;

/// The close code of a frame that breaks the protocol.
pub const CLOSE_PROTOCOL_ERROR: u16 = 1002;
/// The close code of a text message that is not UTF-8.
pub const CLOSE_INVALID_PAYLOAD: u16 = 1007;
/// The close code of a message over the size limit.
pub const CLOSE_TOO_BIG: u16 = 1009;
/// The close code of a normal close.
pub const CLOSE_NORMAL: u16 = 1000;

/// How many bytes may wait in the queue before [`WebSocket::has_room`] says no: a connection
/// that fell behind stops taking view messages until its writes catch up.
const ROOM: usize = 16 * 1024;
/// The most slices one vectored write carries (a header and a body per frame).
const SLICES: usize = 32;
/// How much one read takes at most into the stack when nothing is pending.
const FIRST_READ: usize = 1024;
/// How much one read of a frame in progress asks for at most.
const READ_CHUNK: usize = 64 * 1024;

/// A live connection as the live route gets it.
pub type Socket = WebSocket<TokioIo<hyper::upgrade::Upgraded>>;

/// An upgrade request to a WebSocket: extracted like axum's, answered with `101`.
pub struct Upgrade {
    key: HeaderValue,
    on_upgrade: hyper::upgrade::OnUpgrade,
}

/// Why a request could not be upgraded (the statuses and texts axum's own extractor gives).
#[derive(Debug)]
pub struct NotAnUpgrade(StatusCode, &'static str);

impl IntoResponse for NotAnUpgrade {
    fn into_response(self) -> Response {
        (self.0, self.1).into_response()
    }
}

fn header_is(headers: &HeaderMap, name: header::HeaderName, value: &str) -> bool {
    headers
        .get(name)
        .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(value.as_bytes()))
}

fn header_has(headers: &HeaderMap, name: header::HeaderName, token: &str) -> bool {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.to_ascii_lowercase().contains(token))
}

impl<S: Send + Sync> FromRequestParts<S> for Upgrade {
    type Rejection = NotAnUpgrade;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let refuse = |status, text| Err(NotAnUpgrade(status, text));
        if parts.method != Method::GET {
            return refuse(
                StatusCode::METHOD_NOT_ALLOWED,
                "Request method must be `GET`",
            );
        }
        if !header_has(&parts.headers, header::CONNECTION, "upgrade") {
            return refuse(
                StatusCode::BAD_REQUEST,
                "Connection header did not include 'upgrade'",
            );
        }
        if !header_is(&parts.headers, header::UPGRADE, "websocket") {
            return refuse(
                StatusCode::BAD_REQUEST,
                "`Upgrade` header did not include 'websocket'",
            );
        }
        let Some(key) = parts.headers.get(header::SEC_WEBSOCKET_KEY).cloned() else {
            return refuse(
                StatusCode::BAD_REQUEST,
                "`Sec-WebSocket-Key` header missing",
            );
        };
        if !header_is(&parts.headers, header::SEC_WEBSOCKET_VERSION, "13") {
            return refuse(
                StatusCode::BAD_REQUEST,
                "`Sec-WebSocket-Version` header did not include '13'",
            );
        }
        let Some(on_upgrade) = parts.extensions.remove::<hyper::upgrade::OnUpgrade>() else {
            return refuse(
                StatusCode::UPGRADE_REQUIRED,
                "WebSocket request couldn't be upgraded since no upgrade state was present",
            );
        };
        Ok(Upgrade { key, on_upgrade })
    }
}

impl Upgrade {
    /// Answers `101 Switching Protocols` and runs `callback` with the socket once the
    /// connection has switched.
    pub fn on_upgrade<C, F>(self, callback: C) -> Response
    where
        C: FnOnce(Socket) -> F + Send + 'static,
        F: Future<Output = ()> + Send + 'static,
    {
        let accept =
            tokio_tungstenite::tungstenite::handshake::derive_accept_key(self.key.as_bytes());
        let on_upgrade = self.on_upgrade;
        tokio::spawn(async move {
            if let Ok(upgraded) = on_upgrade.await {
                callback(WebSocket::new(TokioIo::new(upgraded))).await;
            }
        });
        let mut response = Response::new(Body::empty());
        *response.status_mut() = StatusCode::SWITCHING_PROTOCOLS;
        let headers = response.headers_mut();
        headers.insert(header::CONNECTION, HeaderValue::from_static("upgrade"));
        headers.insert(header::UPGRADE, HeaderValue::from_static("websocket"));
        if let Ok(accept) = HeaderValue::from_str(&accept) {
            headers.insert(header::SEC_WEBSOCKET_ACCEPT, accept);
        }
        response
    }
}

/// What the client sent.
#[derive(Debug, PartialEq, Eq)]
pub enum Inbound {
    /// A text message.
    Text(String),
    /// A binary message (its bytes are not kept: no route takes binary).
    Binary,
    /// A ping (already answered) or a pong: the client is there.
    Control,
    /// A close frame, with its code if it had one.
    Close(Option<u16>),
}

/// What [`WebSocket::next`] saw.
#[derive(Debug, PartialEq, Eq)]
pub enum Event {
    /// A message from the client.
    Inbound(Inbound),
    /// The queue was full ([`WebSocket::has_room`] said no) and has room again.
    Room,
}

/// Why a connection ends.
#[derive(Debug, PartialEq, Eq)]
pub enum Ended {
    /// The client is gone (it closed the connection, or it failed).
    Gone,
    /// A write made no progress for the write timeout.
    Stalled,
    /// The client broke the protocol: close with this code and reason.
    Protocol(u16, &'static str),
}

impl From<io::Error> for Ended {
    fn from(_: io::Error) -> Self {
        Ended::Gone
    }
}

/// A frame waiting to be written: its header and its body, shared with every other connection
/// that sends the same message.
struct Frame {
    head: [u8; 10],
    head_len: u8,
    body: Bytes,
    /// How many bytes of header and body are written already.
    written: usize,
}

impl Frame {
    fn new(opcode: u8, body: Bytes) -> Frame {
        let mut head = [0u8; 10];
        head[0] = 0x80 | opcode;
        let len = body.len();
        let head_len = if len < 126 {
            head[1] = len as u8;
            2
        } else if let Ok(short) = u16::try_from(len) {
            head[1] = 126;
            head[2..4].copy_from_slice(&short.to_be_bytes());
            4
        } else {
            head[1] = 127;
            head[2..10].copy_from_slice(&(len as u64).to_be_bytes());
            10
        };
        Frame {
            head,
            head_len,
            body,
            written: 0,
        }
    }

    fn len(&self) -> usize {
        usize::from(self.head_len) + self.body.len()
    }

    /// What is left to write: the rest of the header, then the rest of the body.
    fn rest(&self) -> (&[u8], &[u8]) {
        let head_len = usize::from(self.head_len);
        if self.written < head_len {
            (&self.head[self.written..head_len], &self.body)
        } else {
            (&[], &self.body[self.written - head_len..])
        }
    }
}

/// One frame's header, once enough bytes have arrived to read it.
struct Header {
    fin: bool,
    opcode: u8,
    mask: [u8; 4],
    /// Where the payload starts.
    start: usize,
    len: usize,
}

/// Reads a client frame's header from the start of `buf`: `Ok(None)` until enough bytes are
/// there, an error for a frame the protocol or the size limit refuses.
fn header(buf: &[u8], max: usize) -> Result<Option<Header>, Ended> {
    let [b0, b1, ..] = *buf else {
        return Ok(None);
    };
    if b0 & 0x70 != 0 {
        return Err(Ended::Protocol(CLOSE_PROTOCOL_ERROR, "reserved bits set"));
    }
    if b1 & 0x80 == 0 {
        return Err(Ended::Protocol(CLOSE_PROTOCOL_ERROR, "unmasked frame"));
    }
    let fin = b0 & 0x80 != 0;
    let opcode = b0 & 0x0f;
    let (len, at) = match b1 & 0x7f {
        126 => match buf.get(2..4) {
            Some(b) => (u64::from(u16::from_be_bytes([b[0], b[1]])), 4),
            None => return Ok(None),
        },
        127 => match buf.get(2..10) {
            Some(b) => {
                let mut be = [0u8; 8];
                be.copy_from_slice(b);
                (u64::from_be_bytes(be), 10)
            }
            None => return Ok(None),
        },
        short => (u64::from(short), 2),
    };
    if opcode & 0x08 != 0 && (!fin || len > 125) {
        return Err(Ended::Protocol(
            CLOSE_PROTOCOL_ERROR,
            "fragmented or oversized control frame",
        ));
    }
    let len = match usize::try_from(len) {
        Ok(len) if len <= max => len,
        _ => return Err(Ended::Protocol(CLOSE_TOO_BIG, "message too big")),
    };
    let Some(mask) = buf.get(at..at + 4) else {
        return Ok(None);
    };
    Ok(Some(Header {
        fin,
        opcode,
        mask: [mask[0], mask[1], mask[2], mask[3]],
        start: at + 4,
        len,
    }))
}

/// What one parsed frame gave.
enum Parsed {
    /// More bytes are needed.
    More,
    /// A frame went into a message still being gathered.
    Gathered,
    /// A whole message or a control frame.
    Inbound(Inbound),
}

/// A server's WebSocket over `S`.
pub struct WebSocket<S> {
    io: S,
    /// Bytes read and not yet parsed; unallocated between messages.
    inbuf: Vec<u8>,
    /// A fragmented message being gathered: whether it is text, and its bytes so far.
    partial: Option<(bool, Vec<u8>)>,
    /// The frames to write, in order; unallocated when nothing waits.
    out: VecDeque<Frame>,
    /// Their bytes not yet written.
    queued: usize,
    /// Whether [`WebSocket::has_room`] said no since the queue last had room.
    full: bool,
    /// Armed while a write waits, disarmed by any progress.
    stalled: Option<Pin<Box<Sleep>>>,
    write_timeout: Duration,
    /// The largest message the client may send.
    max_message: usize,
}

impl<S: AsyncRead + AsyncWrite + Unpin> WebSocket<S> {
    /// A socket over a connection whose handshake is done.
    pub fn new(io: S) -> Self {
        WebSocket {
            io,
            inbuf: Vec::new(),
            partial: None,
            out: VecDeque::new(),
            queued: 0,
            full: false,
            stalled: None,
            write_timeout: crate::live::WRITE_TIMEOUT,
            max_message: 1024 * 1024,
        }
    }

    /// The largest message (and frame) the client may send; a larger one closes the connection
    /// with 1009.
    pub fn max_message(mut self, max: usize) -> Self {
        self.max_message = max;
        self
    }

    /// How long a write may wait without progress before the connection is [`Ended::Stalled`].
    pub fn write_timeout(mut self, limit: Duration) -> Self {
        self.write_timeout = limit;
        self
    }

    /// Queues a text message (JSON the server made: UTF-8 already).
    pub fn send_text(&mut self, text: impl Into<Bytes>) {
        self.queue(Frame::new(0x1, text.into()));
    }

    /// Queues a ping.
    pub fn send_ping(&mut self) {
        self.queue(Frame::new(0x9, Bytes::new()));
    }

    /// Queues a close frame.
    pub fn send_close(&mut self, code: u16, reason: &str) {
        let mut body = Vec::with_capacity(2 + reason.len());
        body.extend_from_slice(&code.to_be_bytes());
        body.extend_from_slice(reason.as_bytes());
        self.queue(Frame::new(0x8, Bytes::from(body)));
    }

    fn queue(&mut self, frame: Frame) {
        self.queued += frame.len();
        self.out.push_back(frame);
    }

    /// Whether the queue has room for more view messages; when it says no, [`WebSocket::next`]
    /// gives [`Event::Room`] once it has.
    pub fn has_room(&mut self) -> bool {
        let room = self.queued < ROOM;
        self.full |= !room;
        room
    }

    /// Writes what is queued and, when `read`, reads: the next message from the client, or
    /// [`Event::Room`]. Cancel-safe: everything lives in the socket.
    pub async fn next(&mut self, read: bool) -> Result<Event, Ended> {
        std::future::poll_fn(|cx| self.poll_next(cx, read)).await
    }

    /// The next message from the client (answering pings on the way).
    pub async fn recv(&mut self) -> Result<Inbound, Ended> {
        loop {
            match self.next(true).await? {
                Event::Inbound(Inbound::Control) | Event::Room => {}
                Event::Inbound(inbound) => return Ok(inbound),
            }
        }
    }

    /// Writes everything queued.
    pub async fn flush(&mut self) -> Result<(), Ended> {
        std::future::poll_fn(|cx| self.poll_write(cx)).await
    }

    /// Sends a close frame and ends the connection (at most the write timeout).
    pub async fn close(mut self, code: u16, reason: &str) {
        self.send_close(code, reason);
        let _ = tokio::time::timeout(self.write_timeout, self.flush()).await;
        let _ = tokio::time::timeout(
            self.write_timeout,
            std::future::poll_fn(|cx| Pin::new(&mut self.io).poll_shutdown(cx)),
        )
        .await;
    }

    fn poll_next(&mut self, cx: &mut Context<'_>, read: bool) -> Poll<Result<Event, Ended>> {
        if let Poll::Ready(Err(ended)) = self.poll_write(cx) {
            return Poll::Ready(Err(ended));
        }
        if self.full && self.queued < ROOM {
            self.full = false;
            return Poll::Ready(Ok(Event::Room));
        }
        if !read {
            return Poll::Pending;
        }
        loop {
            match self.parse()? {
                Parsed::Inbound(inbound) => return Poll::Ready(Ok(Event::Inbound(inbound))),
                Parsed::Gathered => continue,
                Parsed::More => {}
            }
            if ready!(self.poll_fill(cx))? == 0 {
                return Poll::Ready(Err(Ended::Gone));
            }
        }
    }

    /// Writes the queue: `Ready(Ok)` once it is empty.
    fn poll_write(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Ended>> {
        while !self.out.is_empty() {
            let mut slices = [IoSlice::new(&[]); SLICES];
            let mut count = 0;
            for frame in &self.out {
                if count + 2 > SLICES {
                    break;
                }
                let (head, body) = frame.rest();
                for part in [head, body] {
                    if !part.is_empty() {
                        slices[count] = IoSlice::new(part);
                        count += 1;
                    }
                }
            }
            match Pin::new(&mut self.io).poll_write_vectored(cx, &slices[..count]) {
                Poll::Ready(Ok(0)) => return Poll::Ready(Err(Ended::Gone)),
                Poll::Ready(Ok(written)) => {
                    self.stalled = None;
                    self.advance(written);
                }
                Poll::Ready(Err(_)) => return Poll::Ready(Err(Ended::Gone)),
                Poll::Pending => {
                    let limit = self.write_timeout;
                    let timer = self
                        .stalled
                        .get_or_insert_with(|| Box::pin(tokio::time::sleep(limit)));
                    return match timer.as_mut().poll(cx) {
                        Poll::Ready(()) => Poll::Ready(Err(Ended::Stalled)),
                        Poll::Pending => Poll::Pending,
                    };
                }
            }
        }
        if self.out.capacity() > 0 {
            // Nothing waits: give the queue's memory back (an idle viewer holds none).
            self.out = VecDeque::new();
            ready!(Pin::new(&mut self.io).poll_flush(cx))?;
        }
        Poll::Ready(Ok(()))
    }

    /// Counts `written` bytes off the front of the queue.
    fn advance(&mut self, mut written: usize) {
        self.queued -= written;
        while let Some(frame) = self.out.front_mut() {
            let left = frame.len() - frame.written;
            if written < left {
                frame.written += written;
                return;
            }
            written -= left;
            self.out.pop_front();
        }
    }

    /// Reads more bytes into `inbuf`: how many (0 at the end of the stream).
    fn poll_fill(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<usize>> {
        if self.inbuf.is_empty() {
            // Between messages the first read goes to the stack, so that an idle connection
            // waiting to read holds no buffer.
            let mut stack = [0u8; FIRST_READ];
            let mut buf = ReadBuf::new(&mut stack);
            ready!(Pin::new(&mut self.io).poll_read(cx, &mut buf))?;
            self.inbuf.extend_from_slice(buf.filled());
            return Poll::Ready(Ok(buf.filled().len()));
        }
        let want = match header(&self.inbuf, self.max_message) {
            Ok(Some(h)) => (h.start + h.len).saturating_sub(self.inbuf.len()),
            _ => 14,
        };
        let len = self.inbuf.len();
        self.inbuf.resize(len + want.clamp(1, READ_CHUNK), 0);
        let mut buf = ReadBuf::new(&mut self.inbuf[len..]);
        let poll = Pin::new(&mut self.io).poll_read(cx, &mut buf);
        let read = buf.filled().len();
        self.inbuf.truncate(len + read);
        ready!(poll)?;
        Poll::Ready(Ok(read))
    }

    /// Takes one frame off `inbuf`, if a whole one is there.
    fn parse(&mut self) -> Result<Parsed, Ended> {
        let Some(h) = header(&self.inbuf, self.max_message)? else {
            return Ok(Parsed::More);
        };
        let end = h.start + h.len;
        if self.inbuf.len() < end {
            return Ok(Parsed::More);
        }
        let payload: Vec<u8> = self.inbuf[h.start..end]
            .iter()
            .enumerate()
            .map(|(i, byte)| byte ^ h.mask[i % 4])
            .collect();
        if self.inbuf.len() == end {
            // Between messages the read buffer goes back to the allocator.
            self.inbuf = Vec::new();
        } else {
            self.inbuf.drain(..end);
        }
        let message = |text: bool, bytes: Vec<u8>| {
            if !text {
                return Ok(Parsed::Inbound(Inbound::Binary));
            }
            String::from_utf8(bytes)
                .map(|text| Parsed::Inbound(Inbound::Text(text)))
                .map_err(|_| Ended::Protocol(CLOSE_INVALID_PAYLOAD, "text is not UTF-8"))
        };
        match h.opcode {
            0x0 => {
                let Some((text, mut gathered)) = self.partial.take() else {
                    return Err(Ended::Protocol(
                        CLOSE_PROTOCOL_ERROR,
                        "continuation without a message",
                    ));
                };
                if gathered.len() + payload.len() > self.max_message {
                    return Err(Ended::Protocol(CLOSE_TOO_BIG, "message too big"));
                }
                gathered.extend_from_slice(&payload);
                if h.fin {
                    message(text, gathered)
                } else {
                    self.partial = Some((text, gathered));
                    Ok(Parsed::Gathered)
                }
            }
            0x1 | 0x2 => {
                if self.partial.is_some() {
                    return Err(Ended::Protocol(
                        CLOSE_PROTOCOL_ERROR,
                        "a new message inside a fragmented one",
                    ));
                }
                let text = h.opcode == 0x1;
                if h.fin {
                    message(text, payload)
                } else {
                    self.partial = Some((text, payload));
                    Ok(Parsed::Gathered)
                }
            }
            0x8 => match payload.as_slice() {
                [] => Ok(Parsed::Inbound(Inbound::Close(None))),
                [_] => Err(Ended::Protocol(
                    CLOSE_PROTOCOL_ERROR,
                    "truncated close code",
                )),
                [hi, lo, reason @ ..] => {
                    let code = u16::from_be_bytes([*hi, *lo]);
                    if std::str::from_utf8(reason).is_err() {
                        return Err(Ended::Protocol(
                            CLOSE_INVALID_PAYLOAD,
                            "close reason is not UTF-8",
                        ));
                    }
                    if !matches!(code, 1000..=1003 | 1007..=1014 | 3000..=4999) {
                        return Err(Ended::Protocol(CLOSE_PROTOCOL_ERROR, "invalid close code"));
                    }
                    Ok(Parsed::Inbound(Inbound::Close(Some(code))))
                }
            },
            0x9 => {
                self.queue(Frame::new(0xA, Bytes::from(payload)));
                Ok(Parsed::Inbound(Inbound::Control))
            }
            0xA => Ok(Parsed::Inbound(Inbound::Control)),
            _ => Err(Ended::Protocol(CLOSE_PROTOCOL_ERROR, "unknown opcode")),
        }
    }
}

#[cfg(test)]
mod tests {
    use futures_util::{SinkExt, StreamExt};
    use tokio::io::{AsyncReadExt, AsyncWriteExt, DuplexStream};
    use tokio_tungstenite::tungstenite::protocol::{frame::coding::CloseCode, Role};
    use tokio_tungstenite::tungstenite::Message;
    use tokio_tungstenite::WebSocketStream;

    use super::*;

    /// A server socket and a tungstenite client on the two ends of a pipe.
    async fn pair(capacity: usize) -> (WebSocket<DuplexStream>, WebSocketStream<DuplexStream>) {
        let (near, far) = tokio::io::duplex(capacity);
        let client = WebSocketStream::from_raw_socket(far, Role::Client, None).await;
        (WebSocket::new(near).max_message(1000), client)
    }

    #[tokio::test]
    async fn frames_of_every_size_reach_a_standard_client_in_order() {
        let (mut server, mut client) = pair(1 << 20).await;
        let sizes = [0usize, 1, 125, 126, 65_535, 65_536, 200_000];
        for size in sizes {
            server.send_text("é".repeat(size / 2) + &"x".repeat(size % 2));
        }
        server.send_ping();
        let writer = tokio::spawn(async move {
            server.flush().await.unwrap();
            server
        });
        for size in sizes {
            match client.next().await.unwrap().unwrap() {
                Message::Text(text) => assert_eq!(text.len(), size),
                other => panic!("{other:?}"),
            }
        }
        assert!(matches!(client.next().await, Some(Ok(Message::Ping(_)))));
        let server = writer.await.unwrap();
        // Once written, nothing is kept.
        assert_eq!(server.out.capacity(), 0);
        assert_eq!(server.queued, 0);
    }

    #[tokio::test]
    async fn messages_fragments_and_pings_from_the_client_are_read() {
        let (mut server, mut client) = pair(1 << 16).await;
        client.send(Message::text("hello")).await.unwrap();
        client.send(Message::binary(vec![1, 2, 3])).await.unwrap();
        client
            .send(Message::Ping(Bytes::from_static(b"p")))
            .await
            .unwrap();
        client.send(Message::text("中".repeat(100))).await.unwrap();
        assert_eq!(server.recv().await, Ok(Inbound::Text("hello".into())));
        assert_eq!(server.recv().await, Ok(Inbound::Binary));
        assert_eq!(server.recv().await, Ok(Inbound::Text("中".repeat(100))));
        // The ping was answered.
        server.flush().await.unwrap();
        assert_eq!(
            client.next().await.unwrap().unwrap(),
            Message::Pong(Bytes::from_static(b"p"))
        );
        // A fragmented message, by hand: "ab" then "cd".
        let (mut server, mut raw) = {
            let (near, far) = tokio::io::duplex(1024);
            (WebSocket::new(near), far)
        };
        raw.write_all(&[0x01, 0x82, 0, 0, 0, 0, b'a', b'b'])
            .await
            .unwrap();
        raw.write_all(&[0x89, 0x80, 0, 0, 0, 0]).await.unwrap();
        raw.write_all(&[0x80, 0x82, 1, 1, 1, 1, b'c' ^ 1, b'd' ^ 1])
            .await
            .unwrap();
        assert_eq!(server.recv().await, Ok(Inbound::Text("abcd".into())));
        assert!(server.inbuf.capacity() == 0 && server.partial.is_none());
        server.flush().await.unwrap();
        let mut pong = [0u8; 2];
        raw.read_exact(&mut pong).await.unwrap();
        assert_eq!(pong, [0x8A, 0x00]);
    }

    #[tokio::test]
    async fn frames_the_protocol_refuses_end_the_connection_with_the_rfc_code() {
        let cases: [(&[u8], Ended); 7] = [
            (
                &[0x81, 0x01, b'x'],
                Ended::Protocol(CLOSE_PROTOCOL_ERROR, "unmasked frame"),
            ),
            (
                &[0xC1, 0x80, 0, 0, 0, 0],
                Ended::Protocol(CLOSE_PROTOCOL_ERROR, "reserved bits set"),
            ),
            (
                &[0x83, 0x80, 0, 0, 0, 0],
                Ended::Protocol(CLOSE_PROTOCOL_ERROR, "unknown opcode"),
            ),
            (
                &[0x80, 0x80, 0, 0, 0, 0],
                Ended::Protocol(CLOSE_PROTOCOL_ERROR, "continuation without a message"),
            ),
            (
                &[0x09, 0x80, 0, 0, 0, 0],
                Ended::Protocol(
                    CLOSE_PROTOCOL_ERROR,
                    "fragmented or oversized control frame",
                ),
            ),
            (
                &[0x81, 0xFE, 0x03, 0xE9, 0, 0, 0, 0],
                Ended::Protocol(CLOSE_TOO_BIG, "message too big"),
            ),
            (
                &[0x81, 0x82, 0, 0, 0, 0, 0xC3, 0x28],
                Ended::Protocol(CLOSE_INVALID_PAYLOAD, "text is not UTF-8"),
            ),
        ];
        for (bytes, expected) in cases {
            let (near, mut far) = tokio::io::duplex(1024);
            let mut server = WebSocket::new(near).max_message(1000);
            far.write_all(bytes).await.unwrap();
            assert_eq!(server.recv().await, Err(expected), "{bytes:?}");
        }
        // Fragments that add up to more than the limit.
        let (near, mut far) = tokio::io::duplex(4096);
        let mut server = WebSocket::new(near).max_message(1000);
        let mut frames = vec![0x01, 0xFE, 0x02, 0x58, 0, 0, 0, 0];
        frames.extend([b'a'; 600]);
        frames.extend([0x80, 0xFE, 0x02, 0x58, 0, 0, 0, 0]);
        frames.extend([b'a'; 600]);
        far.write_all(&frames).await.unwrap();
        assert_eq!(
            server.recv().await,
            Err(Ended::Protocol(CLOSE_TOO_BIG, "message too big"))
        );
    }

    #[tokio::test]
    async fn a_close_reaches_the_client_with_its_code_and_reason() {
        let (mut server, mut client) = pair(1024).await;
        client
            .send(Message::Close(Some(
                tokio_tungstenite::tungstenite::protocol::CloseFrame {
                    code: CloseCode::Away,
                    reason: "bye".into(),
                },
            )))
            .await
            .unwrap();
        assert_eq!(server.recv().await, Ok(Inbound::Close(Some(1001))));
        server.close(4001, "idle").await;
        match client.next().await {
            Some(Ok(Message::Close(Some(frame)))) => {
                assert_eq!(u16::from(frame.code), 4001);
                assert_eq!(frame.reason.as_str(), "idle");
            }
            other => panic!("{other:?}"),
        }
    }

    #[tokio::test]
    async fn a_full_queue_refuses_more_until_it_drains_and_a_stalled_write_ends() {
        let (near, mut far) = tokio::io::duplex(1024);
        let mut server = WebSocket::new(near).write_timeout(Duration::from_millis(200));
        server.send_text(Bytes::from(vec![b'x'; ROOM]));
        assert!(!server.has_room());
        let reader = tokio::spawn(async move {
            let mut all = vec![0u8; ROOM + 4];
            far.read_exact(&mut all).await.unwrap();
            far
        });
        // Room again once less than the limit waits; the rest goes out as the reader reads.
        assert_eq!(server.next(false).await, Ok(Event::Room));
        assert!(server.has_room());
        server.flush().await.unwrap();
        let _far = reader.await.unwrap();
        // Nobody reads any more: the write waits, then the connection is stalled.
        server.send_text(Bytes::from(vec![b'y'; 4096]));
        let started = tokio::time::Instant::now();
        assert_eq!(server.next(true).await, Err(Ended::Stalled));
        assert!(started.elapsed() >= Duration::from_millis(200));
    }
}
