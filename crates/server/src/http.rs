//! The HTTP surface: the route table, the shared middleware, and the pieces every handler uses.

use std::sync::Arc;

use axum::extract::DefaultBodyLimit;
use axum::http::{header, HeaderMap, HeaderValue};
use axum::Router;
use tower_http::compression::predicate::{NotForContentType, Predicate};
use tower_http::compression::{CompressionLayer, CompressionLevel};
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::TraceLayer;

use crate::app::AppState;
use crate::http::error::ApiError;

pub mod access;
pub mod api;
pub mod error;
pub mod feed;
pub mod openapi;
pub mod ops;
pub mod origin;
pub mod photos;
pub mod replay;
pub mod snapshot;

/// The largest JSON body accepted, in bytes.
pub const MAX_BODY: usize = 64 * 1024;

/// The whole application.
pub fn router(state: AppState) -> Router {
    let origins = Arc::new(origin::AllowedOrigins::new(
        state
            .config
            .settings
            .allowed_origins
            .iter()
            .map(String::as_str),
        &state.config.public_url,
    ));
    Router::new()
        .merge(ops::router())
        .merge(api::router())
        .merge(replay::router())
        .merge(snapshot::router())
        .merge(feed::router())
        .merge(crate::live::router())
        .merge(openapi::router())
        .layer(DefaultBodyLimit::max(MAX_BODY))
        .merge(photos::router())
        .merge(crate::web::router())
        .layer(axum::middleware::from_fn_with_state(origins, origin::guard))
        .layer(axum::middleware::from_fn(retry_after))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            access::log,
        ))
        .layer(compression())
        .layer(SetResponseHeaderLayer::if_not_present(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::REFERRER_POLICY,
            HeaderValue::from_static("no-referrer"),
        ))
        .layer(
            TraceLayer::new_for_http().make_span_with(|req: &axum::extract::Request| {
                let route = req
                    .extensions()
                    .get::<axum::extract::MatchedPath>()
                    .map_or("unmatched", |p| p.as_str());
                // The URL is not logged whole: only the matched route, so nothing a client put in
                // a query string reaches the log.
                tracing::info_span!("http", method = %req.method(), route = %route)
            }),
        )
        .with_state(state)
}

/// gzip or Brotli, as the client prefers, for every response whose whole body is known when it is
/// answered (pages, static files, JSON reads, the admin's log), and never for a live stream: the
/// WebSocket, the NDJSON feed and Server-Sent Events have no length, and a compressor would hold
/// back each message until it had enough bytes to be worth a block. Images are compressed
/// already, and the static files once at the best quality (`crate::web`), which this layer
/// leaves as they are. Quality 4 for the rest: each is compressed per response, and the highest
/// qualities are made for files compressed once.
fn compression() -> CompressionLayer<impl Predicate> {
    CompressionLayer::new()
        .gzip(true)
        .br(true)
        .quality(CompressionLevel::Precise(4))
        .compress_when(
            WholeBody
                .and(NotForContentType::IMAGES)
                .and(NotForContentType::SSE),
        )
}

/// Compresses only a body whose length is known, of at least a few hundred bytes (under that the
/// framing outweighs the saving). A streamed body (a live feed) has none.
#[derive(Clone, Copy)]
struct WholeBody;

impl Predicate for WholeBody {
    fn should_compress<B: axum::body::HttpBody>(&self, response: &axum::http::Response<B>) -> bool {
        response
            .body()
            .size_hint()
            .exact()
            .is_some_and(|len| len >= MIN_COMPRESSED)
    }
}

/// The smallest body worth compressing, in bytes.
const MIN_COMPRESSED: u64 = 256;

/// Every 429 and 503 says when to come back. Each [`ApiError`] refusal sets its own
/// `Retry-After` ([`ApiError::retry_after`]: a rate limit's next token, a lockout's length); this
/// fills in any other — `/readyz` not ready, a refusal added later — with
/// [`DEFAULT_RETRY_AFTER`], so that no client or proxy retries at once in a loop.
async fn retry_after(
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let mut res = next.run(req).await;
    let status = res.status();
    if (status == axum::http::StatusCode::TOO_MANY_REQUESTS
        || status == axum::http::StatusCode::SERVICE_UNAVAILABLE)
        && !res.headers().contains_key(header::RETRY_AFTER)
    {
        res.headers_mut().insert(
            header::RETRY_AFTER,
            HeaderValue::from(DEFAULT_RETRY_AFTER.as_secs()),
        );
    }
    res
}

/// The wait a 429 or 503 names when nothing more precise is known.
pub const DEFAULT_RETRY_AFTER: std::time::Duration = std::time::Duration::from_secs(2);

/// The client's address, by which every per-address limit counts: the peer's, or behind a
/// trusted proxy the one it forwarded ([`crate::client_addr::TrustedProxies::client`]). `None`
/// only when the server was started without connection info (router tests that call the service
/// directly).
pub struct ClientIp(pub Option<std::net::IpAddr>);

impl axum::extract::FromRequestParts<AppState> for ClientIp {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let peer = parts
            .extensions
            .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
            .map(|info| info.0.ip());
        let proxies = &state.config.settings.trusted_proxies;
        Ok(ClientIp(
            peer.map(|peer| proxies.client(peer, &parts.headers)),
        ))
    }
}

/// Refuses a body not declared as JSON: a web page can post `text/plain` to any site without
/// asking it first, but never `application/json`, so this is also a guard against other pages.
pub fn require_json(headers: &HeaderMap) -> Result<(), ApiError> {
    let essence = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(str::trim);
    match essence {
        Some(essence) if essence.eq_ignore_ascii_case("application/json") => Ok(()),
        _ => Err(ApiError::NotJson),
    }
}

/// The bearer token of a request, if any. A malformed header is an error, not the audience.
pub fn bearer(headers: &HeaderMap) -> Result<Option<&str>, ApiError> {
    let Some(value) = headers.get(header::AUTHORIZATION) else {
        return Ok(None);
    };
    let value = value.to_str().map_err(|_| ApiError::Unauthorized)?;
    match value.split_once(' ') {
        Some((scheme, token))
            if scheme.eq_ignore_ascii_case("bearer") && !token.trim().is_empty() =>
        {
            Ok(Some(token.trim()))
        }
        _ => Err(ApiError::Unauthorized),
    }
}
