//! Partner feeds of the audience view over plain HTTP: newline-delimited JSON with keepalive
//! newlines while idle (in the spirit of the ICPC contest event feed), and Server-Sent Events.
//! Both carry exactly the messages an audience WebSocket gets, byte for byte.
//!
//! A feed is a live connection like a socket: it takes one of its address's connection slots for
//! as long as it is open, its queue is bounded (`QUEUE`, then the hub's ring, then a fresh
//! snapshot), and a reader who stops reading is closed once the writes have stalled for
//! [`crate::live::WRITE_TIMEOUT`] ([`crate::accept::Guarded`]).

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::http::{header, HeaderMap};
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use futures_util::stream::{self, Stream};
use makerpulse_core::{Parts, Role};
use tokio::sync::{broadcast, mpsc, watch};

use crate::app::AppState;
use crate::http::api::{Caller, Since};
use crate::http::error::{seq_param, ApiError, ApiQuery};
use crate::http::ClientIp;
use crate::hub::{Hub, Start};
use crate::limits::Connection;
use crate::metrics::Metrics;

/// How long a feed may stay silent before a keepalive.
const KEEPALIVE: Duration = Duration::from_secs(15);
/// Messages waiting between a feed's pump and its response body.
const QUEUE: usize = 64;

/// The feed routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/challenges/{id}/events", get(ndjson))
        .route("/api/challenges/{id}/sse", get(sse))
}

/// One message of the feed: its seq and its JSON.
struct Item {
    seq: u64,
    text: axum::extract::ws::Utf8Bytes,
}

/// Follows the audience view from `since` into `tx` until the reader goes away or the server
/// stops. A reader that falls behind gets a fresh snapshot, never a partial replay.
async fn pump(
    hub: Arc<Hub>,
    since: Option<u64>,
    tx: mpsc::Sender<Item>,
    mut shutdown: watch::Receiver<bool>,
    metrics: Arc<Metrics>,
) {
    let mut since = since;
    loop {
        let sub = hub.subscribe(&Role::Audience, Parts::ALL, since);
        let mut rx = sub.rx;
        let first: Vec<Item> = match sub.start {
            Start::Snapshot(text) => vec![Item { seq: sub.seq, text }],
            Start::Replay(msgs) => msgs
                .into_iter()
                .map(|m| Item {
                    seq: m.seq,
                    text: m.text,
                })
                .collect(),
        };
        for item in first {
            if tx.send(item).await.is_err() {
                return;
            }
            metrics.sent(1);
        }
        loop {
            tokio::select! {
                received = rx.recv() => match received {
                    Ok(msg) => {
                        if tx.send(Item { seq: msg.seq, text: msg.text }).await.is_err() {
                            return;
                        }
                        metrics.sent(1);
                    }
                    Err(broadcast::error::RecvError::Lagged(_)) => {
                        metrics.resynced();
                        since = None;
                        break;
                    }
                    Err(broadcast::error::RecvError::Closed) => return,
                },
                _ = tx.closed() => return,
                () = crate::app::stopped(&mut shutdown) => return,
            }
        }
    }
}

/// Opens a feed for `ip`: takes a connection slot (429 when the address has none left) and
/// starts the pump. The slot is held by the response body, so it is given back when the
/// connection ends, however it ends.
fn start(
    state: &AppState,
    caller: &Caller,
    ip: Option<std::net::IpAddr>,
    since: Option<u64>,
) -> Result<(mpsc::Receiver<Item>, Option<Connection>), ApiError> {
    let slot = match ip {
        Some(ip) => Some(
            state
                .limits
                .connect(ip)
                .ok_or(ApiError::TooManyConnections(state.limits.max_connections()))?,
        ),
        None => None,
    };
    let (tx, rx) = mpsc::channel(QUEUE);
    tokio::spawn(pump(
        caller.hub.clone(),
        since,
        tx,
        state.shutdown.clone(),
        state.metrics.clone(),
    ));
    Ok((rx, slot))
}

/// The audience view as NDJSON: a `snapshot` line or the missed `delta` lines after `since`,
/// then every new message; an empty line every 15 s while idle.
#[utoipa::path(get, path = "/api/challenges/{id}/events", tag = "feeds",
    params(("id" = String, Path, description = "Challenge id"), Since),
    responses(
        (status = 200, content_type = "application/x-ndjson", description = "One server message (snapshot or delta) per line", body = makerpulse_core::protocol::ServerMessage),
        (status = 400, description = "Malformed query", body = crate::http::error::ErrorBody),
        (status = 401, description = "An unknown or revoked token", body = crate::http::error::ErrorBody),
        (status = 404, description = "No such challenge", body = crate::http::error::ErrorBody),
        (status = 429, description = "Too many live connections from this address", body = crate::http::error::ErrorBody),
    ))]
async fn ndjson(
    axum::extract::State(state): axum::extract::State<AppState>,
    caller: Caller,
    ClientIp(ip): ClientIp,
    ApiQuery(since): ApiQuery<Since>,
) -> Result<Response, ApiError> {
    let feed = start(&state, &caller, ip, seq_param("since", since.since)?)?;
    let body = stream::unfold(feed, |(mut rx, slot)| async move {
        match tokio::time::timeout(KEEPALIVE, rx.recv()).await {
            Ok(Some(item)) => {
                let mut line = Vec::with_capacity(item.text.len() + 1);
                line.extend_from_slice(item.text.as_str().as_bytes());
                line.push(b'\n');
                Some((Ok::<_, Infallible>(Bytes::from(line)), (rx, slot)))
            }
            Ok(None) => None,
            Err(_) => Some((Ok(Bytes::from_static(b"\n")), (rx, slot))),
        }
    });
    Ok((
        [
            (header::CONTENT_TYPE, "application/x-ndjson"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        Body::from_stream(body),
    )
        .into_response())
}

/// The audience view as Server-Sent Events: `snapshot` and `delta` events whose id is the seq, so
/// a browser's automatic reconnect resumes with `Last-Event-ID`.
#[utoipa::path(get, path = "/api/challenges/{id}/sse", tag = "feeds",
    params(("id" = String, Path, description = "Challenge id"), Since),
    responses(
        (status = 200, content_type = "text/event-stream", description = "snapshot and delta events", body = makerpulse_core::protocol::ServerMessage),
        (status = 400, description = "Malformed query", body = crate::http::error::ErrorBody),
        (status = 401, description = "An unknown or revoked token", body = crate::http::error::ErrorBody),
        (status = 404, description = "No such challenge", body = crate::http::error::ErrorBody),
        (status = 429, description = "Too many live connections from this address", body = crate::http::error::ErrorBody),
    ))]
async fn sse(
    axum::extract::State(state): axum::extract::State<AppState>,
    caller: Caller,
    ClientIp(ip): ClientIp,
    ApiQuery(since): ApiQuery<Since>,
    headers: HeaderMap,
) -> Result<Sse<impl Stream<Item = Result<SseEvent, Infallible>>>, ApiError> {
    let last_event_id = headers
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok());
    let feed = start(
        &state,
        &caller,
        ip,
        seq_param("since", last_event_id.or(since.since))?,
    )?;
    let events = stream::unfold(feed, |(mut rx, slot)| async move {
        let item = rx.recv().await?;
        let kind = if item.text.as_str().starts_with(r#"{"type":"snapshot""#) {
            "snapshot"
        } else {
            "delta"
        };
        let event = SseEvent::default()
            .id(item.seq.to_string())
            .event(kind)
            .data(item.text.as_str());
        Some((Ok(event), (rx, slot)))
    });
    Ok(Sse::new(events).keep_alive(KeepAlive::new().interval(KEEPALIVE)))
}
