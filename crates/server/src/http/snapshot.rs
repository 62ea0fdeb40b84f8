//! The snapshot of a view at a seq over plain HTTP: what a joining client fetches before it
//! opens the socket from that seq (`hello` with `since`), so that the largest message of the
//! protocol travels once, as an ordinary JSON response that caches, revalidates and is compressed
//! by whatever sits in front (the server's own compression layer, a proxy, a CDN), instead of as a
//! WebSocket frame to every viewer.
//!
//! The body is the `view` of the socket's `snapshot` message at the same seq, byte for byte (the
//! same cached text); each caller gets the view of its own token, exactly as on the socket.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use makerpulse_core::{snapshot, Parts, Role, View};
use serde::Deserialize;
use utoipa::IntoParams;

use crate::app::AppState;
use crate::http::api::Caller;
use crate::http::error::{seq_param, ApiError, ApiQuery};
use crate::web::{compress_at, negotiate, Effort, Encoding};

/// The snapshot route.
pub fn router() -> Router<AppState> {
    Router::new().route("/api/challenges/{id}/snapshot", get(get_snapshot))
}

/// How long a snapshot named by its seq may be reused without asking again. A snapshot at a seq
/// never changes but for one thing: hiding a post hides it in the past too, so a year-long
/// `immutable` would keep a hidden post's text in caches. A minute covers any join storm and
/// bounds how long a hidden post can linger in a cache.
const SEQ_MAX_AGE: u32 = 60;

/// Which snapshot.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AtSnapshot {
    /// The seq of the snapshot; the current one when absent.
    #[param(minimum = 0, maximum = 9007199254740991_u64)]
    pub seq: Option<u64>,
}

/// A name for the view in the entity tag: each token's view is its own representation.
fn view_tag(role: &Role) -> String {
    match role {
        Role::Audience => "audience".to_owned(),
        Role::Admin => "admin".to_owned(),
        Role::Team(team) => format!("team-{team}"),
        Role::Judge(judge) => format!("judge-{judge}"),
    }
}

/// The caller's view of the challenge at a seq, as the socket's snapshot holds it: `seq` absent,
/// the current one (revalidated on every use: `no-cache`, with an `ETag` naming the seq); `seq`
/// given, that one, which does not change (cacheable for a minute). A client that holds it
/// opens the socket with `hello` `since` = its seq and gets only what came after. Compressed
/// like every JSON read when the client accepts it.
#[utoipa::path(get, path = "/api/challenges/{id}/snapshot", tag = "reads",
    params(("id" = String, Path, description = "Challenge id"), AtSnapshot,
        ("If-None-Match" = Option<String>, Header, description = "An `ETag` from an earlier answer: 304 when it still names this snapshot")),
    responses(
        (status = 200, body = View, description = "The view at the seq; `ETag` names seq and view, `Cache-Control` says how long it may be reused",
            headers(("ETag" = String), ("Cache-Control" = String))),
        (status = 304, description = "The snapshot named by `If-None-Match` is still this one"),
        (status = 400, description = "Malformed query", body = crate::http::error::ErrorBody),
        (status = 401, description = "An unknown or revoked token", body = crate::http::error::ErrorBody),
        (status = 429, description = "Too many wrong tokens from this address lately (`too_many_failures`); wait a minute", body = crate::http::error::ErrorBody),
        (status = 404, description = "No such challenge, or no such seq yet", body = crate::http::error::ErrorBody),
    ),
    security((), ("bearer" = [])))]
async fn get_snapshot(
    caller: Caller,
    ApiQuery(at): ApiQuery<AtSnapshot>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let role = Role::of(&caller.actor);
    let asked = seq_param("seq", at.seq)?;
    let (seq, text) = caller.hub.snapshot(&role, Parts::ALL);
    let body = match asked {
        Some(asked) if asked > seq => return Err(ApiError::NotFound("seq")),
        Some(asked) if asked < seq => {
            let role = role.clone();
            // As `/view?at=`: hiding a post hides it in the past too, but for the organizers.
            let hidden = role != Role::Admin;
            let past = caller
                .hub
                .at(asked, hidden, move |past| {
                    serde_json::to_vec(&snapshot(&past, &role))
                })
                .await?
                .ok_or(ApiError::NotFound("seq"))?;
            Bytes::from(past.map_err(|e| ApiError::Internal(Box::new(e)))?)
        }
        _ => view_of(text.into()),
    };
    let current = asked.is_none_or(|asked| asked == seq);
    let seq = asked.unwrap_or(seq);
    // The audience's current snapshot is what a join storm asks for, ten thousand times the same
    // bytes: compressed once per seq and coding, not once per request by the compression layer
    // (which leaves a response that names its coding alone).
    let coded = match negotiate(&headers, body.len()) {
        encoding @ (Encoding::Gzip | Encoding::Br) if current && role == Role::Audience => Some((
            encoding,
            packed(caller.hub.packed_snapshots(), seq, encoding, &body).await?,
        )),
        _ => None,
    };
    let coding = match coded {
        Some((Encoding::Br, _)) => "-br",
        Some(_) => "-gzip",
        None => "",
    };
    let etag = format!("\"{seq}-{}{coding}\"", view_tag(&role));
    let scope = if role == Role::Audience {
        "public"
    } else {
        "private"
    };
    let cache = match asked {
        Some(_) => format!("{scope}, max-age={SEQ_MAX_AGE}, immutable"),
        None => format!("{scope}, no-cache"),
    };
    let mut answer_headers = HeaderMap::new();
    answer_headers.insert(header::CACHE_CONTROL, header_value(&cache));
    answer_headers.insert(header::ETAG, header_value(&etag));
    answer_headers.insert(
        header::VARY,
        HeaderValue::from_static("authorization, accept-encoding"),
    );
    let matched = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|tags| tags.split(',').any(|t| t.trim() == etag || t.trim() == "*"));
    if matched {
        return Ok((StatusCode::NOT_MODIFIED, answer_headers).into_response());
    }
    answer_headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    let body = match coded {
        Some((encoding, packed)) => {
            let name = if encoding == Encoding::Br {
                "br"
            } else {
                "gzip"
            };
            answer_headers.insert(header::CONTENT_ENCODING, HeaderValue::from_static(name));
            packed
        }
        None => body,
    };
    Ok((answer_headers, body).into_response())
}

/// One compressed snapshot: the seq it is of, and its bytes once made.
type Packed = (u64, Arc<tokio::sync::OnceCell<Bytes>>);

/// A challenge's audience snapshot compressed in each coding, at the latest seq asked (one entry
/// per coding, replaced when the seq moves on: a few tens of KB each). Each hub holds its own, so
/// a seq names one snapshot.
#[derive(Default)]
pub struct PackedSnapshots(Mutex<HashMap<Encoding, Packed>>);

/// `body` (the audience's snapshot of the hub's challenge at `seq`) in `encoding`, compressed by
/// the first request for that seq on a blocking thread while the others wait for its bytes.
async fn packed(
    cache: &PackedSnapshots,
    seq: u64,
    encoding: Encoding,
    body: &Bytes,
) -> Result<Bytes, ApiError> {
    let cell = {
        let mut packed = cache.0.lock().unwrap_or_else(|e| e.into_inner());
        let entry = packed
            .entry(encoding)
            .or_insert_with(|| (seq, Arc::default()));
        if entry.0 < seq {
            *entry = (seq, Arc::default());
        }
        if entry.0 == seq {
            entry.1.clone()
        } else {
            // A request that read the snapshot just before a newer one was cached: its own.
            Arc::default()
        }
    };
    let body = body.clone();
    cell.get_or_try_init(|| async move {
        tokio::task::spawn_blocking(move || Bytes::from(compress_at(encoding, &body, Effort::Fast)))
            .await
            .map_err(|e| ApiError::Internal(Box::new(e)))
    })
    .await
    .cloned()
}

fn header_value(text: &str) -> HeaderValue {
    HeaderValue::from_str(text).expect("tags and directives are visible ASCII")
}

/// The `view` inside a `snapshot` message's text, without copying it.
fn view_of(message: Bytes) -> Bytes {
    const HEAD: &[u8] = br#"{"type":"snapshot","view":"#;
    assert!(
        message.starts_with(HEAD) && message.ends_with(b"}"),
        "a snapshot message is its view in a fixed envelope"
    );
    message.slice(HEAD.len()..message.len() - 1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use makerpulse_core::protocol::ServerMessage;

    #[test]
    fn the_view_inside_a_snapshot_message_is_the_view_serialised_alone() {
        let view = snapshot(&makerpulse_core::State::default(), &Role::Audience);
        let message = ServerMessage::Snapshot {
            view: Box::new(view.clone()),
        }
        .to_json();
        let inside = view_of(Bytes::from(message));
        assert_eq!(inside, serde_json::to_vec(&view).unwrap());
    }

    /// Two challenges of one id at one seq (two servers in one process) are two hubs with a
    /// cache each: each gets its own bytes compressed, never the other's.
    #[tokio::test]
    async fn a_compressed_snapshot_is_reused_only_by_its_own_hub() {
        let decoded = |packed: Bytes| {
            let mut plain = Vec::new();
            std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(&packed[..]), &mut plain)
                .unwrap();
            plain
        };
        let one = Bytes::from_static(br#"{"challenge":{"started_at":"one"}}"#);
        let other = Bytes::from_static(br#"{"challenge":{"started_at":"other"}}"#);
        let (mine, theirs) = (PackedSnapshots::default(), PackedSnapshots::default());
        let first = packed(&mine, 7, Encoding::Gzip, &one).await.unwrap();
        assert_eq!(decoded(first.clone()), one);
        assert_eq!(
            packed(&mine, 7, Encoding::Gzip, &one)
                .await
                .unwrap()
                .as_ptr(),
            first.as_ptr(),
            "the same snapshot is compressed once"
        );
        assert_eq!(
            decoded(packed(&theirs, 7, Encoding::Gzip, &other).await.unwrap()),
            other
        );
        assert_eq!(
            decoded(packed(&mine, 7, Encoding::Gzip, &one).await.unwrap()),
            one
        );
    }
}
